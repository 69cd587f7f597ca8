/**
 * A scripted SIP phone for tests: builds its own requests as a UA would (its own tags, CSeq, Via with rport), sends
 * them over a real UDP socket, answers in-dialog requests it receives with 200 (as Linphone does for MESSAGE and
 * BYE), and keeps the dialog it establishes so it can send in-dialog requests.
 */
import { UdpPeer, uniq } from './udp-peer.ts';
import type { SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import { parseSdp } from '../../sdp/index.ts';

export class TestPhone {
  readonly peer: UdpPeer;
  readonly user: string;
  readonly name: string;
  private cseq = 1;
  callId = '';
  fromTag = '';
  remoteTag = '';
  remoteTarget = '';
  /** Requests received inside the dialog (MESSAGE, BYE, re-INVITE, NOTIFY), answered 200 automatically. */
  readonly inbox: SipRequest[] = [];
  /** Answer these methods with another status instead of 200 (e.g. OPTIONS: 481, a phone that forgot the call). */
  readonly answerWith: Record<string, number> = {};

  private constructor(peer: UdpPeer, user: string, name: string, private readonly server: { host: string; port: number }) {
    this.peer = peer;
    this.user = user;
    this.name = name;
    peer.socket.on('message', () => {
      // Answer requests as they come (after UdpPeer parsed them).
      for (const m of peer.received) {
        if (m.kind !== 'request' || this.inbox.includes(m)) continue;
        this.inbox.push(m);
        if (m.method !== 'ACK') {
          const st = this.answerWith[m.method] ?? 200;
          // A re-INVITE with an offer gets an answer; one without (RFC 3725 third-party call control) gets this
          // phone's own offer again, and the answer comes in the ACK.
          const answer =
            st === 200 && m.method === 'INVITE' ? (m.body.length > 0 ? this.answerFor(m.body) : this.lastOffer) : undefined;
          this.reply(m, st, st === 200 ? 'OK' : 'Call/Transaction Does Not Exist', answer);
        }
      }
    });
  }

  static async open(user: string, name: string, server: { host: string; port: number }): Promise<TestPhone> {
    return new TestPhone(await UdpPeer.open(), user, name, server);
  }

  get port(): number {
    return this.peer.port;
  }

  get aor(): string {
    return `sip:${this.user}@${this.server.host}`;
  }

  private via(): string {
    return `SIP/2.0/UDP 127.0.0.1:${this.peer.port};branch=z9hG4bK${uniq()};rport`;
  }

  /** An SDP offer like Linphone's, with this phone's media port. */
  sdp(opts: { port?: number; direction?: string; codecs?: 'opus' | 'pcmu'; video?: { port: number; direction?: string } } = {}): string {
    const port = opts.port ?? 7078;
    const dir = opts.direction ? `a=${opts.direction}\r\n` : '';
    const audio =
      opts.codecs === 'pcmu'
        ? `m=audio ${port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n`
        : `m=audio ${port} RTP/AVP 96 0 8 101\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\na=rtpmap:101 telephone-event/8000\r\n`;
    const video = opts.video
      ? `m=video ${opts.video.port} RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n${opts.video.direction ? `a=${opts.video.direction}\r\n` : ''}`
      : '';
    return `v=0\r\no=${this.user} 1 1 IN IP4 127.0.0.1\r\ns=Talk\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${audio}${dir}${video}`;
  }

  send(text: string): void {
    this.peer.send(text, this.server.port);
  }

  /** INVITE `uri` and wait for the final response (ACKing a 2xx and learning the dialog). */
  /** Extra Contact parameters (e.g. `;+sipmeet.video-streams`). */
  contactParams = '';
  /** The SDP this phone offered in its INVITE (offered again in answer to an offer-less re-INVITE). */
  lastOffer = '';
  /** For an INVITE without SDP: the answer to put in the ACK, given the offer in the 2xx (default: answerFor). */
  lateAnswer: ((offer: Buffer) => string) | undefined;
  /** The SDP of the initial 2xx (the focus's answer). */
  firstAnswer: SipResponse | undefined;

  /**
   * Where this phone should send its media now: the address in the latest description it got from the focus
   * (the 2xx answer, a re-INVITE's offer, or the answer in an ACK after an offer-less re-INVITE).
   */
  mediaTarget(index = 0): { address: string; port: number } | undefined {
    const bodies = [
      ...(this.firstAnswer ? [this.firstAnswer.body] : []),
      ...this.inbox.filter((m) => (m.method === 'INVITE' || m.method === 'ACK') && m.callId === this.callId && m.body.length > 0).map((m) => m.body),
    ];
    const last = bodies.at(-1);
    if (!last) return undefined;
    const sdp = parseSdp(last);
    if (!sdp.ok) return undefined;
    const m = sdp.value.media[index];
    if (!m || m.port === 0) return undefined;
    return { address: (m.connection ?? sdp.value.connection)!.address, port: m.port };
  }

  async invite(uri: string, body: string | undefined = this.sdp(), extraHeaders = ''): Promise<SipResponse> {
    this.callId = uniq('call');
    this.fromTag = uniq('ft');
    const seq = this.cseq++;
    const b = body ?? '';
    this.lastOffer = b;
    this.send(
      `INVITE ${uri} SIP/2.0\r\nVia: ${this.via()}\r\nMax-Forwards: 70\r\nFrom: "${this.name}" <${this.aor}>;tag=${this.fromTag}\r\nTo: <${uri}>\r\n` +
        `Call-ID: ${this.callId}\r\nCSeq: ${seq} INVITE\r\nContact: <sip:${this.user}@127.0.0.1:${this.peer.port}>${this.contactParams}\r\n${extraHeaders}` +
        (b ? 'Content-Type: application/sdp\r\n' : '') +
        `Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
    );
    const res = await this.peer.waitFor(
      (m) => m.kind === 'response' && m.callId === this.callId && m.cseq.seq === seq && m.status >= 200,
      5000,
      `final response to INVITE ${uri}`,
    );
    if (res.kind !== 'response') throw new Error('unreachable');
    if (res.status < 300) {
      this.firstAnswer = res;
      this.remoteTag = res.toTag ?? '';
      const c = res.contacts();
      this.remoteTarget = c.ok && !c.value.star && c.value.contacts[0] ? c.value.contacts[0].uri.raw : uri;
      // RFC 3261 §13.2.1: an INVITE without an offer gets one in the 2xx, answered in the ACK.
      this.ack(res, b === '' && res.body.length > 0 ? (this.lateAnswer ?? ((o: Buffer) => this.answerFor(o)))(res.body) : '');
    }
    return res;
  }

  ack(res: SipResponse, body = ''): void {
    this.send(
      `ACK ${this.remoteTarget} SIP/2.0\r\nVia: ${this.via()}\r\nMax-Forwards: 70\r\nFrom: "${this.name}" <${this.aor}>;tag=${this.fromTag}\r\n` +
        `To: ${res.get('to')}\r\nCall-ID: ${this.callId}\r\nCSeq: ${res.cseq.seq} ACK\r\n` +
        (body ? 'Content-Type: application/sdp\r\n' : '') +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  /** Send an in-dialog request and wait for its final response. */
  async inDialog(method: string, body = '', contentType = 'text/plain', extraHeaders = ''): Promise<SipResponse> {
    const seq = this.cseq++;
    this.send(
      `${method} ${this.remoteTarget} SIP/2.0\r\nVia: ${this.via()}\r\nMax-Forwards: 70\r\nFrom: "${this.name}" <${this.aor}>;tag=${this.fromTag}\r\n` +
        `To: <${this.remoteTarget}>;tag=${this.remoteTag}\r\nCall-ID: ${this.callId}\r\nCSeq: ${seq} ${method}\r\n` +
        `Contact: <sip:${this.user}@127.0.0.1:${this.peer.port}>\r\n${extraHeaders}` +
        (body ? `Content-Type: ${contentType}\r\n` : '') +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const res = await this.peer.waitFor((m) => m.kind === 'response' && m.callId === this.callId && m.cseq.seq === seq && m.status >= 200, 5000, `final response to ${method}`);
    return res as SipResponse;
  }

  /** An out-of-dialog MESSAGE (Linphone's chat to a meeting URI). */
  async message(uri: string, text: string): Promise<SipResponse> {
    const callId = uniq('msg');
    this.send(
      `MESSAGE ${uri} SIP/2.0\r\nVia: ${this.via()}\r\nMax-Forwards: 70\r\nFrom: "${this.name}" <${this.aor}>;tag=${uniq()}\r\nTo: <${uri}>\r\n` +
        `Call-ID: ${callId}\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
    return (await this.peer.waitFor((m) => m.kind === 'response' && m.callId === callId && m.status >= 200, 5000, 'MESSAGE response')) as SipResponse;
  }

  /** Wait for a request received in the dialog (e.g. a relayed chat MESSAGE or the focus's BYE). */
  async received(method: string, pred: (r: SipRequest) => boolean = () => true, ms = 5000): Promise<SipRequest> {
    return this.peer.request(method, ms, pred);
  }

  /** Offers received in re-INVITEs (the focus adding video lines), in order. */
  readonly offers: SipRequest[] = [];
  /** Base port for the media lines this phone answers (each accepted line gets base + 2*index). */
  mediaBase = 7078;

  /** Answer an offer as a simple phone does: each live line accepted with its first format, direction mirrored. */
  private answerFor(body: Buffer): string {
    const offer = parseSdp(body);
    if (!offer.ok) return '';
    const lines = [`v=0`, `o=${this.user} 2 2 IN IP4 127.0.0.1`, `s=-`, `c=IN IP4 127.0.0.1`, `t=0 0`];
    offer.value.media.forEach((m, i) => {
      if (m.port === 0) {
        lines.push(`m=${m.type} 0 ${m.proto} ${m.formats.join(' ')}`);
        return;
      }
      const f = m.payloads[0]!;
      lines.push(`m=${m.type} ${this.mediaBase + 2 * i} ${m.proto} ${f.pt}`);
      if (f.rtpmap) lines.push(`a=rtpmap:${f.pt} ${f.rtpmap.encoding}/${f.rtpmap.clockRate}${f.rtpmap.channels ? `/${f.rtpmap.channels}` : ''}`);
      const d = m.direction ?? 'sendrecv';
      lines.push(`a=${d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d}`);
      if (m.label) lines.push(`a=label:${m.label}`);
    });
    return lines.join('\r\n') + '\r\n';
  }

  reply(req: SipRequest, status: number, reason: string, sdp?: string): void {
    const top = req.via[0]!;
    const vias = req.getAll('via').map((v) => `Via: ${v}`).join('\r\n');
    const to = req.get('to')! + (req.toTag === undefined ? `;tag=${uniq('tt')}` : '');
    if (sdp !== undefined) this.offers.push(req);
    const body = sdp ?? '';
    const extra =
      (req.method === 'INVITE' && status < 300 ? `Contact: <sip:${this.user}@127.0.0.1:${this.peer.port}>\r\n` : '') +
      (body ? 'Content-Type: application/sdp\r\n' : '');
    this.peer.send(
      `SIP/2.0 ${status} ${reason}\r\n${vias}\r\nFrom: ${req.get('from')}\r\nTo: ${to}\r\nCall-ID: ${req.callId}\r\nCSeq: ${req.cseq.seq} ${req.cseq.method}\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      Number(top.params.get('rport') ?? top.port ?? 5060),
      top.params.get('received') ?? top.host,
    );
  }

  close(): void {
    this.peer.close();
  }
}
