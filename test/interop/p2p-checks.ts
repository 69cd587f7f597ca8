/**
 * Helpers for the peer-to-peer interop tests (issue 8): wait for a meeting's media mode, prove that the relay forwards
 * nothing for the meeting while the phones keep talking, mark positions in live recordings at each switch and report
 * the silence around them, and pick the focus's re-INVITEs to a peer out of the server's SIP trace.
 *
 * A live recording (linphonec's `record`, baresip's sndfile dump) grows as the phone writes it; its length when a
 * switch happened is the switch's position in that recording (within the writer's buffering, well under a second),
 * which is more reliable than mapping wall-clock times: linphonec does not start its file at the 200 OK.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { rms } from '../audio/spectrum.ts';
import { windows, SILENT_RMS } from './audio-check.ts';
import type { InteropServer, TracedMessage } from './harness.ts';
import { readWav } from './wav.ts';

export type Mode = 'cs' | 'p2p';

/** Wait until the meeting's mode is `mode` (polling the focus's view); fails with the view. Returns ms waited. */
export async function waitMode(srv: InteropServer, id: string, mode: Mode, ms = 8000): Promise<number> {
  const start = Date.now();
  for (;;) {
    const v = await srv.server.focus.get(id);
    if (v?.mode === mode) return Date.now() - start;
    if (Date.now() - start > ms) {
      assert.fail(`meeting ${id} did not reach mode ${mode} within ${ms} ms: ${JSON.stringify(v && { mode: v.mode, p2p: v.p2p, switches: v.switches, participants: v.participants.map((p) => [p.displayName, p.state]) })}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The relay's counters for the meeting over `ms`: `still` when packetsIn and packetsOut did not move.
 */
export async function relayCounters(srv: InteropServer, id: string, ms = 1200): Promise<{ still: boolean; before: { in: number; out: number }; after: { in: number; out: number } }> {
  const s1 = await srv.server.relay.stats(id);
  await new Promise((r) => setTimeout(r, ms));
  const s2 = await srv.server.relay.stats(id);
  return {
    still: s1.packetsIn === s2.packetsIn && s1.packetsOut === s2.packetsOut,
    before: { in: s1.packetsIn, out: s1.packetsOut },
    after: { in: s2.packetsIn, out: s2.packetsOut },
  };
}

/** A recording that a phone is writing now. */
export class LiveRecording {
  constructor(
    readonly who: string,
    private readonly path: () => string | undefined,
    /** The format while the header is not written yet (linphonec: the codec's rate, mono). */
    private readonly assume?: { sampleRate: number; channels: number },
  ) {}

  /** The samples written so far (rate from the header). */
  read(): { samples: Int16Array; rate: number } {
    const p = this.path();
    assert.ok(p, `${this.who}: no recording file yet`);
    const w = readWav(p, { live: true, ...(this.assume ? { assume: this.assume } : {}) });
    return { samples: w.samples, rate: w.sampleRate };
  }

  /** Seconds written so far. */
  position(): number {
    const r = this.read();
    return r.samples.length / r.rate;
  }

  /** Bytes in the file now (cheap). */
  size(): number {
    const p = this.path();
    return p ? statSync(p).size : 0;
  }

  /** The last `seconds` written, ending `marginS` before the end (what the phone heard just now). */
  last(seconds: number, marginS = 0.3): { samples: Int16Array; rate: number } {
    const r = this.read();
    const end = Math.max(0, r.samples.length - Math.round(marginS * r.rate));
    return { samples: r.samples.subarray(Math.max(0, end - Math.round(seconds * r.rate)), end), rate: r.rate };
  }
}

export interface SwitchMark {
  readonly label: string;
  /** Position (s) of the switch in each recording. */
  readonly at: ReadonlyMap<LiveRecording, number>;
}

/** Note where each recording is at a switch. */
export function markSwitch(label: string, recs: readonly LiveRecording[]): SwitchMark {
  return { label, at: new Map(recs.map((r) => [r, r.position()])) };
}

export interface GapReport {
  /** Silent 1-s windows (RMS < SILENT_RMS) within ±`aroundS` of the switch. */
  readonly silentWindows: number;
  /** Longest run of silent 20-ms frames within ±`aroundS`, ms (an estimate of the audio lost at the switch). */
  readonly longestSilenceMs: number;
  readonly text: string;
}

/**
 * Silence in `rec` within ±`aroundS` of the switch `mark` (call once the recording has `aroundS` more). The window
 * is clipped to the recording, so keep `aroundS` below the time from the call's start to the first switch: a
 * phone's first few hundred ms of a call are silent whatever the server does.
 */
export function gapAround(rec: LiveRecording, mark: SwitchMark, tones: readonly number[], aroundS = 1): GapReport {
  const { samples, rate } = rec.read();
  const at = mark.at.get(rec) ?? 0;
  const from = Math.max(0, Math.round((at - aroundS) * rate));
  const to = Math.min(samples.length, Math.round((at + aroundS) * rate));
  const span = samples.subarray(from, to);
  const ws = windows(span, rate, tones);
  const silent = ws.filter((w) => w.rms < SILENT_RMS).length;
  const frame = Math.round(rate * 0.02);
  let run = 0;
  let longest = 0;
  let longestEnd = 0;
  for (let o = 0; o + frame <= span.length; o += frame) {
    if (rms(span.subarray(o, o + frame)) < SILENT_RMS) {
      run++;
      if (run > longest) {
        longest = run;
        longestEnd = o + frame;
      }
    } else run = 0;
  }
  const rel = (i: number) => ((from + i) / rate - at).toFixed(2);
  const where = longest > 0 ? ` (from ${rel(longestEnd - longest * frame)} s to ${rel(longestEnd)} s)` : '';
  const table = ws
    .map((w) => `t=${(from / rate + w.t - at).toFixed(1)}s rms=${w.rms.toFixed(0)} ${[...w.tones].map(([f, a]) => `${f}Hz=${a.toFixed(0)}`).join(' ')}${w.rms < SILENT_RMS ? ' SILENT' : ''}`)
    .join(' | ');
  return {
    silentWindows: silent,
    longestSilenceMs: longest * 20,
    text: `${rec.who} around "${mark.label}" (${at.toFixed(1)} s into its recording): ${silent} silent 1-s windows in ±${aroundS} s, longest silence ${longest * 20} ms${where}; ${table}`,
  };
}

/** The body of a traced message ('' when none). */
export function bodyOf(m: TracedMessage): string {
  const i = m.text.search(/\r?\n\r?\n/);
  return i < 0 ? '' : m.text.slice(i).replace(/^\r?\n\r?\n/, '');
}

export interface ReInvite {
  /** The re-INVITE the focus sent. */
  readonly request: TracedMessage;
  /** The peer's final response to it, if any. */
  readonly response: TracedMessage | undefined;
  /** The ACK the focus sent for it, if any. */
  readonly ack: TracedMessage | undefined;
  readonly offerless: boolean;
}

/** The re-INVITEs the focus sent to `port` (INVITEs out, with a To tag), their final responses and ACKs. */
export function focusReInvites(srv: InteropServer, port: number): ReInvite[] {
  const mine = srv.trace.withPort(port);
  const seen = new Set<string>();
  const out: ReInvite[] = [];
  for (const m of mine) {
    if (m.dir !== 'out' || !m.startLine.startsWith('INVITE ')) continue;
    const key = `${m.callId} ${m.cseq}`;
    if (seen.has(key)) continue; // a retransmission
    seen.add(key);
    const seq = m.cseq.split(' ')[0];
    const response = mine.find((r) => r.dir === 'in' && r.callId === m.callId && r.cseq === m.cseq && /^SIP\/2\.0 [2-6]\d\d/.test(r.startLine));
    const ack = mine.find((r) => r.dir === 'out' && r.startLine.startsWith('ACK ') && r.callId === m.callId && r.cseq === `${seq} ACK`);
    out.push({ request: m, response, ack, offerless: bodyOf(m).trim() === '' });
  }
  return out;
}

/** The a=sendonly / a=inactive / a=recvonly lines of an SDP body (none toward Linphone from a focus). */
export function holdDirections(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => /^a=(sendonly|inactive|recvonly)$/.test(l.trim()));
}

/** `c=` and the audio port of an SDP body, e.g. `127.0.0.1:20456`. */
export function audioAddress(sdp: string): string {
  const at = sdp.search(/^m=audio /m);
  if (at < 0) return '(no audio line)';
  const section = sdp.slice(at).split(/\r?\n(?=m=)/)[0]!;
  const c = /^c=IN IP[46] (\S+)/m.exec(section)?.[1] ?? /^c=IN IP[46] (\S+)/m.exec(sdp.slice(0, at))?.[1] ?? '?';
  return `${c}:${/^m=audio (\d+)/.exec(section)?.[1] ?? '?'}`;
}
