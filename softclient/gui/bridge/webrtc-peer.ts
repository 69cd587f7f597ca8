/**
 * The local end of the page's WebRTC connection (werift RTCPeerConnection: ICE, DTLS-SRTP, RTCP — RFC 8829/8834/
 * 8827), over loopback only: no ICE servers, sockets bound to 127.0.0.1.
 *
 * The page offers a fixed set of m= lines, once per meeting (no renegotiation: camera and mic toggles replace
 * or stop the page's tracks, the SIP side renegotiates with the focus):
 *
 *   m=audio  sendrecv   page's microphone (Opus) → us → focus;  focus's mix (Opus) → us → page
 *   m=video  sendonly   page's camera (VP8) → us → focus
 *   m=video  recvonly   × slots: one remote participant's video each (VP8), assigned by the bridge
 *
 * Packets are passed through as they are: werift gives us the page's RTP packets and rewrites SSRC, payload type,
 * sequence number and timestamp of what we write into a track to the values it negotiated with the page (with
 * continuity when a slot changes source: `replaceRTP`).
 *
 * The microphone's loudness: we accept the page's RFC 6464 client-to-mixer audio level (RFC 8285 header extension,
 * `a=extmap:N urn:ietf:params:rtp-hdrext:ssrc-audio-level`, which Chromium and Firefox offer on audio) and hand
 * each mic packet's level on with it, so the focus's mixer can skip decoding us while we are quiet.
 */
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver, RtpPacket, useAudioLevelIndication } from 'werift';
import type { Logger } from '../../../registrar/log.ts';
import { AUDIO_LEVEL_URI } from '../../../media/rtp/audio-level.ts';

export interface WebRtcPeerEvents {
  /**
   * An RTP packet of the page's microphone (Opus), with its RFC 6464 level (−dBov 0…127) when the page sends
   * one under the agreed id, else undefined.
   */
  mic: (packet: RtpPacket, level: number | undefined) => void;
  /** An RTP packet of the page's camera (VP8). */
  camera: (packet: RtpPacket) => void;
  /** The page lost the picture of slot `slot` (RTCP PLI/FIR from the page): ask the publisher for a keyframe. */
  slotKeyframe: (slot: number) => void;
  /** The connection came up, or went away. */
  connection: (state: string) => void;
}

/** RFC 7587 Opus (always 48000/2 in SDP) and RFC 7741 VP8, with the feedback a browser expects (RFC 4585). */
const CODECS = {
  audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1' })],
  video: [
    new RTCRtpCodecParameters({
      mimeType: 'video/VP8',
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    }),
  ],
};

/**
 * RFC 8285 §7 (offer/answer): we answer the page's audio extmap for the RFC 6464 level under the page's id, and
 * no other extension; video gets none (none was ever negotiated there).
 */
const HEADER_EXTENSIONS = { audio: [useAudioLevelIndication()], video: [] };

/**
 * The RFC 6464 level in a packet's header extension elements (werift's parsed view, either RFC 8285 form), or
 * undefined when `id` is not agreed or the packet carries no such element. RFC 6464 §3: the element's first
 * octet is V|level; "level" is 0…127 −dBov. Never throws: the page's packets are untrusted.
 */
export function levelFromExtensions(extensions: ReadonlyArray<{ readonly id: number; readonly payload: Uint8Array }> | undefined, id: number | undefined): number | undefined {
  if (id === undefined || extensions === undefined) return undefined;
  const el = extensions.find((e) => e.id === id);
  if (el === undefined || el.payload.length < 1) return undefined;
  return el.payload[0]! & 0x7f;
}

/** Keep only our loopback candidates in the answer: werift lists every interface, but its sockets are on 127.0.0.1. */
function loopbackCandidatesOnly(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') || / 127\.0\.0\.1 /.test(l))
    .join('\r\n');
}

export class WebRtcPeer {
  private readonly pc: RTCPeerConnection;
  private readonly mixTrack = new MediaStreamTrack({ kind: 'audio' });
  private readonly slotTracks: MediaStreamTrack[];
  private audio: RTCRtpTransceiver | undefined;
  private camera: RTCRtpTransceiver | undefined;
  private slotTransceivers: RTCRtpTransceiver[] = [];
  private cameraSsrc: number | undefined;
  /** The RFC 8285 id the page sends its RFC 6464 mic level under (agreed in our answer), if any. */
  private micLevelId: number | undefined;
  answered = false;
  private closed = false;
  private readonly handlers: { [K in keyof WebRtcPeerEvents]?: WebRtcPeerEvents[K] } = {};
  private readonly log: Logger;

  constructor(
    readonly slots: number,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'gui-webrtc' });
    this.slotTracks = Array.from({ length: slots }, () => new MediaStreamTrack({ kind: 'video' }));
    this.pc = new RTCPeerConnection({
      // Loopback only: never a STUN/TURN server (werift's default is a public STUN host), no IPv6, no TCP.
      iceServers: [],
      iceUseIpv6: false,
      iceUseTcp: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      codecs: CODECS,
      headerExtensions: HEADER_EXTENSIONS,
    });
    this.pc.onTrack.subscribe((track) => {
      if (track.kind === 'audio') track.onReceiveRtp.subscribe((p) => this.handlers.mic?.(p, levelFromExtensions(p.header.extensions, this.micLevelId)));
      else {
        track.onReceiveRtp.subscribe((p) => {
          this.cameraSsrc = p.header.ssrc;
          this.handlers.camera?.(p);
        });
      }
    });
    this.pc.connectionStateChange.subscribe((s) => {
      this.log.info({ state: s }, 'page connection');
      this.handlers.connection?.(s);
    });
  }

  on<K extends keyof WebRtcPeerEvents>(event: K, handler: WebRtcPeerEvents[K]): void {
    this.handlers[event] = handler;
  }

  /** Answer the page's offer (once per meeting). Throws when the offer does not have the expected lines. */
  async answer(offer: string): Promise<string> {
    if (this.closed) throw new Error('the meeting is over');
    if (this.answered) throw new Error('this meeting already has a page connected');
    const kinds = offer.split(/\r?\n/).filter((l) => l.startsWith('m=')).map((l) => l.slice(2).split(' ')[0]);
    if (kinds[0] !== 'audio' || kinds.slice(1).some((k) => k !== 'video') || kinds.length !== 2 + this.slots) {
      throw new Error(`expected m=audio, m=video and ${this.slots} receiving m=video lines, got ${kinds.join(',')}`);
    }
    this.answered = true;
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const t = this.pc.getTransceivers();
    this.audio = t[0]!;
    this.camera = t[1]!;
    this.slotTransceivers = t.slice(2);
    // RFC 8285 §7: the answer keeps the offer's id. werift's transceiver holds the extensions it answers with (the
    // offer's, filtered by HEADER_EXTENSIONS).
    this.micLevelId = this.audio.headerExtensions.find((e) => e.uri === AUDIO_LEVEL_URI)?.id;
    this.log.debug({ micLevelId: this.micLevelId }, this.micLevelId === undefined ? 'the page sends no audio level' : 'the page sends its audio level');
    await this.audio.sender.replaceTrack(this.mixTrack);
    this.audio.setDirection('sendrecv');
    this.camera.setDirection('recvonly');
    for (let i = 0; i < this.slotTransceivers.length; i++) {
      const tr = this.slotTransceivers[i]!;
      await tr.sender.replaceTrack(this.slotTracks[i]!);
      tr.setDirection('sendonly');
      tr.sender.onPictureLossIndication.subscribe(() => this.handlers.slotKeyframe?.(i));
    }
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return loopbackCandidatesOnly(this.pc.localDescription!.sdp);
  }

  /** The focus's audio mix (an RTP packet from the SIP side) to the page. */
  sendMix(rtp: Buffer): void {
    if (!this.closed) this.mixTrack.writeRtp(rtp);
  }

  /** A remote participant's video packet to slot `slot`. */
  sendSlot(slot: number, rtp: Buffer): void {
    if (!this.closed) this.slotTracks[slot]?.writeRtp(rtp);
  }

  /** Slot `slot` now carries another publisher: keep its sequence numbers and timestamps continuous for the page. */
  newSource(slot: number): void {
    const tr = this.slotTransceivers[slot];
    tr?.sender.replaceRTP({ sequenceNumber: 0, timestamp: 0 }, true, 3000);
  }

  /** The meeting's sound now comes from another RTP source: continuous numbering for the page. */
  newMixSource(): void {
    this.audio?.sender.replaceRTP({ sequenceNumber: 0, timestamp: 0 }, true, 960);
  }

  /** Ask the page's camera for a keyframe (RFC 4585 §6.3.1 PLI), because the focus asked us. */
  requestCameraKeyframe(): void {
    if (this.closed || !this.camera || this.cameraSsrc === undefined) return;
    this.camera.receiver.sendRtcpPLI(this.cameraSsrc).catch(() => undefined);
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pc.close().catch(() => undefined);
  }
}
