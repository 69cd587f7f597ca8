/**
 * The page's media: camera and microphone (getUserMedia), and one RTCPeerConnection to the local sipmeet
 * process, which bridges it to the meeting. The page offers, once per meeting:
 *
 *   m=audio sendrecv (mic; the meeting's mix back)   m=video sendonly (camera)   m=video recvonly × slots
 *
 * Toggles never renegotiate with the local process: the mic track is enabled/disabled, the camera track is
 * stopped (light off) and a new one replaces it when it comes back. The local process renegotiates with the
 * meeting's server (SIP re-INVITE).
 */
import { exchangeOffer } from './api.ts';

export interface CaptureResult {
  readonly mic: boolean;
  readonly camera: boolean;
  /** Why the camera (or the microphone) could not be opened, in words. */
  readonly problems: string[];
}

/** What the test suite and a curious person can read: `await window.sipmeet.stats()`. */
export interface PageStats {
  readonly connection: string;
  readonly slots: Array<{ slot: number; framesDecoded: number; packets: number; width: number | undefined; keyFrames: number; pli: number; nack: number; lost: number }>;
  readonly audio: { packets: number; level: number; energy: number };
  readonly sent: { audioPackets: number; videoPackets: number };
}

/** Enough for a tile of a 3×3 grid at 1280×720; 15 fps keeps several decoders light. */
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 15 } };

function describe(e: unknown, what: string): string {
  const name = (e as DOMException)?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return `The ${what} was refused: allow it in the browser to be seen/heard.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${what} found.`;
  if (name === 'NotReadableError') return `The ${what} is in use by another program.`;
  return `The ${what} could not be opened (${(e as Error)?.message ?? name}).`;
}

export class MediaController {
  local: MediaStream | undefined;
  private pc: RTCPeerConnection | undefined;
  private micTrack: MediaStreamTrack | undefined;
  private camTrack: MediaStreamTrack | undefined;
  private cameraSender: RTCRtpSender | undefined;
  readonly remoteAudio = new MediaStream();
  readonly slotStreams: MediaStream[] = [];
  private listeners = new Set<() => void>();
  private analyser: AnalyserNode | undefined;
  private audioCtx: AudioContext | undefined;

  /** Something the UI shows changed (a track arrived, the connection state, the camera preview). */
  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private changed(): void {
    for (const f of this.listeners) f();
  }

  get active(): boolean {
    return this.pc !== undefined;
  }

  get connectionState(): string {
    return this.pc?.connectionState ?? 'none';
  }

  /** Open the camera and microphone, each on its own so that one refusal does not cost the other. */
  async capture(): Promise<CaptureResult> {
    const problems: string[] = [];
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: VIDEO });
      this.micTrack = s.getAudioTracks()[0];
      this.camTrack = s.getVideoTracks()[0];
    } catch (e) {
      try {
        const a = await navigator.mediaDevices.getUserMedia({ audio: true });
        this.micTrack = a.getAudioTracks()[0];
      } catch (ea) {
        problems.push(describe(ea, 'microphone'));
      }
      try {
        const v = await navigator.mediaDevices.getUserMedia({ video: VIDEO });
        this.camTrack = v.getVideoTracks()[0];
      } catch (ev) {
        problems.push(describe(ev, 'camera'));
      }
      if (problems.length === 0) problems.push(describe(e, 'camera or microphone'));
    }
    this.local = new MediaStream([...(this.micTrack ? [this.micTrack] : []), ...(this.camTrack ? [this.camTrack] : [])]);
    this.watchLevel();
    this.changed();
    return { mic: this.micTrack !== undefined, camera: this.camTrack !== undefined, problems };
  }

  /** The local level (0..1) for the "you are speaking" highlight. */
  localLevel(): number {
    const a = this.analyser;
    if (!a || !this.micTrack?.enabled) return 0;
    const buf = new Float32Array(a.fftSize);
    a.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const x of buf) sum += x * x;
    return Math.sqrt(sum / buf.length);
  }

  private watchLevel(): void {
    if (!this.micTrack) return;
    try {
      this.audioCtx = new AudioContext();
      this.analyser = this.audioCtx.createAnalyser();
      this.analyser.fftSize = 512;
      this.audioCtx.createMediaStreamSource(new MediaStream([this.micTrack])).connect(this.analyser);
    } catch {
      this.analyser = undefined;
    }
  }

  /** Connect to the local process: offer, answer, ICE over loopback. */
  async connect(slots: number): Promise<void> {
    this.pc?.close();
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    this.slotStreams.length = 0;
    for (const t of this.remoteAudio.getTracks()) this.remoteAudio.removeTrack(t);
    pc.addTransceiver(this.micTrack ?? 'audio', { direction: 'sendrecv', streams: [] });
    this.cameraSender = pc.addTransceiver(this.camTrack ?? 'video', { direction: 'sendonly' }).sender;
    const receivers: RTCRtpTransceiver[] = [];
    for (let i = 0; i < slots; i++) receivers.push(pc.addTransceiver('video', { direction: 'recvonly' }));
    pc.ontrack = (e) => {
      if (e.track.kind === 'audio') {
        this.remoteAudio.addTrack(e.track);
      } else {
        const slot = receivers.indexOf(e.transceiver);
        if (slot >= 0) this.slotStreams[slot] = new MediaStream([e.track]);
      }
      this.changed();
    };
    pc.onconnectionstatechange = () => this.changed();
    await pc.setLocalDescription(await pc.createOffer());
    // Host candidates only, all gathered at once on loopback: wait for them rather than trickle (no server for that).
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const t = setTimeout(resolve, 2000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const answer = await exchangeOffer(pc.localDescription!.sdp);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  setMic(on: boolean): void {
    if (this.micTrack) this.micTrack.enabled = on;
  }

  /** Camera off: stop the track (the camera light goes off); on: open it again. Resolves with whether it is on. */
  async setCamera(on: boolean): Promise<{ on: boolean; problem?: string }> {
    if (!on) {
      this.camTrack?.stop();
      if (this.camTrack) this.local?.removeTrack(this.camTrack);
      this.camTrack = undefined;
      await this.cameraSender?.replaceTrack(null);
      this.changed();
      return { on: false };
    }
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: VIDEO });
      this.camTrack = s.getVideoTracks()[0]!;
      this.local?.addTrack(this.camTrack);
      await this.cameraSender?.replaceTrack(this.camTrack);
      this.changed();
      return { on: true };
    } catch (e) {
      return { on: false, problem: describe(e, 'camera') };
    }
  }

  get hasCamera(): boolean {
    return this.camTrack !== undefined && this.camTrack.readyState === 'live';
  }

  async stats(): Promise<PageStats> {
    const out: PageStats = { connection: this.connectionState, slots: [], audio: { packets: 0, level: 0, energy: 0 }, sent: { audioPackets: 0, videoPackets: 0 } };
    const pc = this.pc;
    if (!pc) return out;
    const receivers = pc.getTransceivers().slice(2);
    for (let i = 0; i < receivers.length; i++) {
      const r = await receivers[i]!.receiver.getStats();
      r.forEach((x: RTCStats & Record<string, unknown>) => {
        if (x.type === 'inbound-rtp') {
          out.slots.push({
            slot: i,
            framesDecoded: Number(x.framesDecoded ?? 0),
            packets: Number(x.packetsReceived ?? 0),
            width: x.frameWidth as number | undefined,
            keyFrames: Number(x.keyFramesDecoded ?? 0),
            pli: Number(x.pliCount ?? 0),
            nack: Number(x.nackCount ?? 0),
            lost: Number(x.packetsLost ?? 0),
          });
        }
      });
    }
    const all = await pc.getStats();
    all.forEach((x: RTCStats & Record<string, unknown>) => {
      if (x.type === 'inbound-rtp' && x.kind === 'audio') {
        out.audio.packets += Number(x.packetsReceived ?? 0);
        out.audio.level = Math.max(out.audio.level, Number(x.audioLevel ?? 0));
        out.audio.energy += Number(x.totalAudioEnergy ?? 0);
      }
      if (x.type === 'outbound-rtp') {
        if (x.kind === 'audio') out.sent.audioPackets += Number(x.packetsSent ?? 0);
        else out.sent.videoPackets += Number(x.packetsSent ?? 0);
      }
    });
    return out;
  }

  /** Hang up the page's side: the connection and the devices. */
  stop(): void {
    this.pc?.close();
    this.pc = undefined;
    for (const t of this.local?.getTracks() ?? []) t.stop();
    this.micTrack = undefined;
    this.camTrack = undefined;
    this.local = undefined;
    void this.audioCtx?.close().catch(() => undefined);
    this.audioCtx = undefined;
    this.analyser = undefined;
    this.slotStreams.length = 0;
    this.changed();
  }
}
