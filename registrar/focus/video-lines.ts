/**
 * One video line per publisher for participants that can show several videos (the bundled client and its GUI).
 *
 * Such a participant marks its Contact with the RFC 3840 feature tag `+sipmeet.video-streams`. Whenever the set of
 * publishers in its meeting changes (someone joins or leaves, a camera goes off or on), the focus re-INVITEs it
 * (RFC 3261 §14, RFC 3264 §8) with its current m= lines plus one `a=sendonly` video line per other publisher,
 * labelled with the publisher's participant id (RFC 4574 a=label, tied to the roster); a publisher that went away
 * keeps its line with port 0 (§8.2: m= lines are never removed). Each such line is a relay endpoint with
 * `videoRole: { subscribeTo }`. Phones (no feature tag) get the active speaker on their single video line instead.
 */
import type { MediaRelayApi } from '../../media-relay/api.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../sip/clock.ts';
import type { DialogLayer } from '../sip/dialog/dialog-layer.ts';
import {
  type CodecSpec,
  createOffer,
  extmapsOf,
  type MediaDescription,
  nextVersion,
  type OfferedMedia,
  parseSdp,
  processAnswer,
  type Rtpmap,
  writeSdp,
} from '../../sdp/index.ts';
import type { Meeting } from './meeting.ts';
import type { MediaLine, Participant } from './participant.ts';
import { mirror, remoteOf } from './media-session.ts';

export const MULTI_VIDEO_FEATURE = '+sipmeet.video-streams';

export interface VideoLinesContext {
  dialogs: DialogLayer;
  relay: MediaRelayApi;
  clock: Clock;
  logger: Logger;
  mediaAddress: string;
  changed: (meetingId: string) => void;
}

/** The codecs of one of our m= sections, to offer them again unchanged (same PTs, §8.3.2). */
function sameCodecs(m: MediaDescription): { codecs: CodecSpec[]; payloadTypes: Array<{ pt: number; codec: Rtpmap }> } {
  const withMap = m.payloads.filter((p) => p.rtpmap !== undefined);
  return {
    codecs: withMap.map((p) => ({
      encoding: p.rtpmap!.encoding,
      clockRate: p.rtpmap!.clockRate,
      ...(p.rtpmap!.channels !== undefined ? { channels: p.rtpmap!.channels } : {}),
      ...(p.fmtp !== undefined ? { fmtp: p.fmtp } : {}),
      rtcpFb: p.rtcpFb,
    })),
    payloadTypes: withMap.map((p) => ({ pt: p.pt, codec: p.rtpmap! })),
  };
}

/** The codec(s) a publisher agreed on its camera line (our answer to it), or undefined when it has none. */
function publisherCodecs(pub: Participant): ReturnType<typeof sameCodecs> | undefined {
  const main = pub.mainVideo();
  const desc = main && pub.localSdp?.media[main.index];
  if (!desc) return undefined;
  const c = sameCodecs(desc);
  return c.codecs.length ? c : undefined;
}

/** Bring `p`'s per-publisher video lines in line with the meeting; one re-INVITE at a time per participant. */
export async function syncVideoLines(ctx: VideoLinesContext, meeting: Meeting, p: Participant): Promise<void> {
  if (!p.multiVideo || p.state !== 'connected' || !p.dialog || !p.localSdp || !p.localOrigin) return;
  if (p.syncing) {
    p.syncAgain = true;
    return;
  }
  const main = p.mainVideo();
  if (!main) return;
  const publishers = meeting.present().filter((o) => o !== p && o.state === 'connected' && o.publishesVideo());
  const wanted = new Set(publishers.map((o) => o.id));
  const have = new Set(p.lines.filter((l) => l.subscribeTo !== undefined && l.endpointId !== undefined).map((l) => l.subscribeTo!));
  if (wanted.size === have.size && [...wanted].every((id) => have.has(id))) return;

  p.syncing = true;
  const log = ctx.logger.child({ component: 'focus', meeting: meeting.id, participant: p.id });
  const fresh: string[] = [];
  try {
    const prev = p.localSdp;
    const mainDesc = prev.media[main.index]!;
    const videoCodecs = sameCodecs(mainDesc);
    const offered: OfferedMedia[] = [];
    const plan: MediaLine[] = [];
    prev.media.forEach((m, i) => {
      const line = p.lines.find((l) => l.index === i);
      const c = sameCodecs(m);
      if (line?.subscribeTo !== undefined && !wanted.has(line.subscribeTo)) {
        // A publisher that left or turned its camera off: the line stays, disabled (§8.2).
        offered.push({ type: m.type, port: 0, codecs: c.codecs.length ? c.codecs : videoCodecs.codecs, label: line.subscribeTo });
        plan.push({ ...line, endpointId: undefined, rtpPort: undefined, codec: undefined, direction: 'inactive' });
        return;
      }
      offered.push({
        type: m.type,
        port: m.port,
        codecs: c.codecs.length ? c.codecs : videoCodecs.codecs,
        payloadTypes: c.payloadTypes,
        direction: m.direction ?? 'sendrecv',
        ...(m.label !== undefined ? { label: m.label } : {}),
        // The lines that stay keep their RFC 8285 extensions (the audio line's RFC 6464 level).
        extmaps: extmapsOf(m),
      });
      plan.push(line ?? { index: i, kind: m.type, label: m.label, endpointId: undefined, rtpPort: undefined, codec: undefined, direction: 'inactive' });
    });
    for (const pub of publishers) {
      if (have.has(pub.id)) continue;
      const alloc = await ctx.relay.allocateEndpoint({ meetingId: meeting.id, participantId: p.id, kind: 'video', videoRole: { subscribeTo: pub.id }, rtcpMux: false });
      fresh.push(alloc.endpointId);
      // The relay forwards without transcoding: offer the codec the publisher actually sends (its main line's
      // agreed codec, e.g. baresip's H.264), not the receiver's own camera codec.
      const pubCodecs = publisherCodecs(pub) ?? videoCodecs;
      offered.push({ type: 'video', port: alloc.rtpPort, codecs: pubCodecs.codecs, payloadTypes: pubCodecs.payloadTypes, direction: 'sendonly', label: pub.id });
      plan.push({ index: offered.length - 1, kind: 'video', label: pub.id, endpointId: alloc.endpointId, rtpPort: alloc.rtpPort, codec: undefined, direction: 'recvonly', subscribeTo: pub.id });
    }
    const origin = nextVersion(p.localOrigin);
    const offer = createOffer({ origin, address: ctx.mediaAddress, media: offered, previous: prev });
    const res = await ctx.dialogs.request(p.dialog, 'INVITE', { body: writeSdp(offer), contentType: 'application/sdp' });
    if (res.status < 200 || res.status >= 300) {
      for (const id of fresh) await ctx.relay.releaseEndpoint(id).catch(() => undefined);
      fresh.length = 0;
      log.info({ status: res.status }, 'video line re-INVITE refused');
      // §14.1: on 491 the UAS of the dialog (not the Call-ID owner) retries after 0–2 s.
      if (res.status === 491) p.syncAgain = true;
      return;
    }
    const answer = parseSdp(res.body);
    const agreed = answer.ok ? processAnswer(offer, answer.value) : undefined;
    if (!answer.ok || !agreed?.ok) {
      log.warn({ why: answer.ok ? agreed?.ok === false ? agreed.error : '' : answer.error }, 'unusable answer to our video re-INVITE');
      return;
    }
    for (const m of agreed.value) {
      const line = plan[m.index]!;
      if (!m.accepted) {
        if (line.endpointId) await ctx.relay.releaseEndpoint(line.endpointId).catch(() => undefined);
        plan[m.index] = { ...line, endpointId: undefined, rtpPort: undefined, codec: undefined, direction: 'inactive' };
        continue;
      }
      if (line.subscribeTo === undefined || !line.endpointId) continue;
      line.codec = m.codec.encoding;
      line.direction = mirror(m.direction);
      await ctx.relay.setRemote(line.endpointId, remoteOf(m, line.direction));
    }
    // Endpoints of publishers whose lines were disabled.
    for (const old of p.lines) {
      if (old.subscribeTo !== undefined && old.endpointId && !plan.some((l) => l.endpointId === old.endpointId)) {
        await ctx.relay.releaseEndpoint(old.endpointId).catch(() => undefined);
      }
    }
    fresh.length = 0;
    p.lines = plan;
    p.localSdp = offer;
    p.localOrigin = origin;
    if (answer.ok) p.remoteSdp = answer.value;
    log.info({ video: plan.filter((l) => l.subscribeTo && l.endpointId).map((l) => l.subscribeTo) }, 'video lines updated');
    ctx.changed(meeting.id);
  } catch (err) {
    for (const id of fresh) await ctx.relay.releaseEndpoint(id).catch(() => undefined);
    log.warn({ err: (err as Error).message }, 'video line sync failed');
  } finally {
    p.syncing = false;
    if (p.syncAgain) {
      p.syncAgain = false;
      const delay = 100 + Math.floor(Math.random() * 1900);
      ctx.clock.setTimer(delay, () => void syncVideoLines(ctx, meeting, p));
    }
  }
}
