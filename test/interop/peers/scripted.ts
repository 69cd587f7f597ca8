/**
 * The scripted phone of the interop tests (standing in for the bundled client): a SIP UA over one UDP socket that
 * answers digest challenges (so it can create a meeting and `/end` it when the server has a users file), talks
 * PCMU with a tone of its own (RtpTone), answers every request the focus sends it inside the dialog with 200
 * (MESSAGE, NOTIFY, BYE, re-INVITE with its SDP), and keeps them for the test to inspect.
 */
import { UdpPeer, uniq } from '../../helpers/udp-peer.ts';
import type { SipRequest, SipResponse } from '../../../registrar/sip/message/types.ts';
import { parseSdp } from '../../../sdp/index.ts';
import { authorize, pickChallenge } from './digest-client.ts';
import { RtpTone } from './rtp-tone.ts';

export interface ScriptedPhoneOptions {
  user: string;
  displayName: string;
  password?: string;
  server: { host: string; port: number };
  /** The tone it sends once in a call. */
  toneHz: number;
}

export class ScriptedPhone {
  readonly o: ScriptedPhoneOptions;
  readonly sip: UdpPeer;
  readonly media: RtpTone;
  /** Requests received (answered automatically). */
  readonly inbox: SipRequest[] = [];
  private cseq = 1;
  private nc = 1;
  callId = '';
  private fromTag = '';
  private remoteTag = '';
  private remoteTarget = '';
  private meetingUri = '';
  relay: { address: string; port: number } | undefined;

  private constructor(o: ScriptedPhoneOptions, sip: UdpPeer, media: RtpTone) {
    this.o = o;
    this.sip = sip;
    this.media = media;
    sip.socket.on('message', () => {
      for (const m of sip.received) {
        if (m.kind !== 'request' || this.inbox.includes(m)) continue;
        this.inbox.push(m);
        if (m.method === 'ACK') continue;
        if (m.method === 'INVITE') this.reply(m, 200, 'OK', this.sdp(), 'application/sdp');
        else this.reply(m, 200, 'OK');
      }
    });
  }

  static async open(o: ScriptedPhoneOptions): Promise<ScriptedPhone> {
    return new ScriptedPhone(o, await UdpPeer.open(), await RtpTone.open());
  }

  get aor(): string {
    return `sip:${this.o.user}@${this.o.server.host}`;
  }

  get sipPort(): number {
    return this.sip.port;
  }

  private via(branch = `z9hG4bK${uniq()}`): string {
    return `SIP/2.0/UDP 127.0.0.1:${this.sip.port};branch=${branch};rport`;
  }

  private contact(): string {
    return `<sip:${this.o.user}@127.0.0.1:${this.sip.port}>`;
  }

  /** PCMU-only offer (as a basic desk phone would make), with telephone-event. */
  sdp(): string {
    return (
      `v=0\r\no=${this.o.user} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
      `m=audio ${this.media.port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n`
    );
  }

  private send(text: string): void {
    this.sip.send(text, this.o.server.port, this.o.server.host);
  }

  private async request(method: string, uri: string, headers: string, body: string, contentType: string, inDialog: boolean): Promise<{ res: SipResponse; branch: string; seq: number }> {
    const seq = this.cseq++;
    const branch = `z9hG4bK${uniq()}`;
    const to = inDialog ? `<${this.meetingUri}>;tag=${this.remoteTag}` : `<${uri}>`;
    this.send(
      `${method} ${uri} SIP/2.0\r\nVia: ${this.via(branch)}\r\nMax-Forwards: 70\r\n` +
        `From: "${this.o.displayName}" <${this.aor}>;tag=${this.fromTag}\r\nTo: ${to}\r\nCall-ID: ${this.callId}\r\n` +
        `CSeq: ${seq} ${method}\r\nContact: ${this.contact()}\r\nUser-Agent: sipmeet-interop-scripted\r\n${headers}` +
        (body ? `Content-Type: ${contentType}\r\n` : '') +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const res = (await this.sip.waitFor(
      (m) => m.kind === 'response' && m.callId === this.callId && m.cseq.seq === seq && m.cseq.method === method && m.status >= 200,
      8000,
      `final response to ${method} ${uri}`,
    )) as SipResponse;
    return { res, branch, seq };
  }

  /** Send `method`; on 401/407 answer the challenge once (needs a password). */
  private async authedRequest(method: string, uri: string, body: string, contentType: string, inDialog: boolean, extra = ''): Promise<SipResponse> {
    let r = await this.request(method, uri, extra, body, contentType, inDialog);
    if ((r.res.status === 401 || r.res.status === 407) && this.o.password !== undefined) {
      if (method === 'INVITE') this.ackNon2xx(uri, r.res, r.branch, r.seq);
      const ch = pickChallenge({ www: r.res.getAll('www-authenticate'), proxy: r.res.getAll('proxy-authenticate') });
      if (!ch) throw new Error(`${this.o.user}: no usable digest challenge in ${r.res.status}: ${r.res.getAll('www-authenticate').join(' | ')}`);
      const [name, value] = authorize(ch, this.o.user, this.o.password, method, uri, this.nc++);
      r = await this.request(method, uri, `${extra}${name}: ${value}\r\n`, body, contentType, inDialog);
      if (method === 'INVITE' && r.res.status >= 300) this.ackNon2xx(uri, r.res, r.branch, r.seq);
    } else if (method === 'INVITE' && r.res.status >= 300) {
      this.ackNon2xx(uri, r.res, r.branch, r.seq);
    }
    return r.res;
  }

  /** RFC 3261 §17.1.1.3: the ACK for a non-2xx final response reuses the INVITE's branch and Request-URI. */
  private ackNon2xx(uri: string, res: SipResponse, branch: string, seq: number): void {
    this.send(
      `ACK ${uri} SIP/2.0\r\nVia: ${this.via(branch)}\r\nMax-Forwards: 70\r\nFrom: "${this.o.displayName}" <${this.aor}>;tag=${this.fromTag}\r\n` +
        `To: ${res.get('to')}\r\nCall-ID: ${this.callId}\r\nCSeq: ${seq} ACK\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  /** INVITE `uri` with the PCMU offer (authenticating if challenged); on 200: ACK, learn the relay, start the tone. */
  async join(uri: string): Promise<SipResponse> {
    this.callId = uniq('scripted');
    this.fromTag = uniq('ft');
    this.meetingUri = uri;
    const res = await this.authedRequest('INVITE', uri, this.sdp(), 'application/sdp', false);
    if (res.status >= 300) return res;
    this.remoteTag = res.toTag ?? '';
    const c = res.contacts();
    this.remoteTarget = c.ok && !c.value.star && c.value.contacts[0] ? c.value.contacts[0].uri.raw : uri;
    this.send(
      `ACK ${this.remoteTarget} SIP/2.0\r\nVia: ${this.via()}\r\nMax-Forwards: 70\r\nFrom: "${this.o.displayName}" <${this.aor}>;tag=${this.fromTag}\r\n` +
        `To: ${res.get('to')}\r\nCall-ID: ${this.callId}\r\nCSeq: ${res.cseq.seq} ACK\r\nContent-Length: 0\r\n\r\n`,
    );
    const answer = parseSdp(res.body);
    if (!answer.ok) throw new Error(`${this.o.user}: unparsable SDP answer: ${answer.error}`);
    const m = answer.value.media[0];
    if (!m || m.port === 0) throw new Error(`${this.o.user}: audio rejected in the answer`);
    const address = m.connection?.address ?? answer.value.connection?.address ?? this.o.server.host;
    this.relay = { address, port: m.port };
    this.media.start(this.relay, this.o.toneHz);
    return res;
  }

  /** In-dialog MESSAGE (text/plain), authenticating if challenged (the `/end` command is). */
  async chat(text: string): Promise<SipResponse> {
    return this.authedRequest('MESSAGE', this.remoteTarget, text, 'text/plain', true);
  }

  async bye(): Promise<SipResponse> {
    this.media.stop();
    return (await this.request('BYE', this.remoteTarget, '', '', '', true)).res;
  }

  /** A request received from the focus (now or later) matching `pred`. */
  async waitRequest(method: string, pred: (r: SipRequest) => boolean = () => true, ms = 5000): Promise<SipRequest> {
    return this.sip.request(method, ms, pred);
  }

  private reply(req: SipRequest, status: number, reason: string, body = '', contentType = ''): void {
    const top = req.via[0]!;
    const vias = req.getAll('via').map((v) => `Via: ${v}`).join('\r\n');
    const to = req.get('to')! + (req.toTag === undefined ? `;tag=${uniq('tt')}` : '');
    this.sip.send(
      `SIP/2.0 ${status} ${reason}\r\n${vias}\r\nFrom: ${req.get('from')}\r\nTo: ${to}\r\nCall-ID: ${req.callId}\r\n` +
        `CSeq: ${req.cseq.seq} ${req.cseq.method}\r\nContact: ${this.contact()}\r\n` +
        (body ? `Content-Type: ${contentType}\r\n` : '') +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      Number(top.params.get('rport') || top.port || 5060),
      top.params.get('received') ?? top.host,
    );
  }

  get label(): string {
    return `scripted phone ${this.o.user}`;
  }

  /** What a failure report shows: media counters and the requests it received. */
  tails(): string {
    const inbox = this.inbox.map((r) => `${r.method} ${r.body.toString('utf8').slice(0, 120).replace(/\r?\n/g, ' ')}`);
    return `sent ${this.media.sent} RTP packets to ${this.relay ? `${this.relay.address}:${this.relay.port}` : '(no relay)'}, ` +
      `received ${this.media.received.length} PCMU + ${this.media.otherPackets} other; requests received:\n  ${inbox.join('\n  ')}`;
  }

  async stop(): Promise<void> {
    this.close();
  }

  private closed = false;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.media.close();
    this.sip.close();
  }
}
