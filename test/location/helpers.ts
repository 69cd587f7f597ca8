/** Shared helpers for the registrar / location tests: literal REGISTER text → SipRequest, a fixed source. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseMessage } from '../../registrar/sip/message/parse.ts';
import { parseNameAddr } from '../../registrar/sip/message/name-addr.ts';
import type { NameAddr, SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import type { Source } from '../../registrar/sip/transport/types.ts';

export const SOURCE: Source = {
  protocol: 'udp',
  address: '198.51.100.7',
  port: 40312,
  local: { protocol: 'udp', address: '192.0.2.1', port: 5060 },
};

export interface RegisterOpts {
  ruri?: string;
  to?: string;
  callId?: string;
  cseq?: number;
  contacts?: string[];
  expires?: string | number;
  extra?: string[];
}

/** A REGISTER built from literal text and parsed by the real parser. */
export function register(o: RegisterOpts = {}): SipRequest {
  const lines = [
    `REGISTER ${o.ruri ?? 'sip:sipmeet.test'} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKnashds7',
    'Max-Forwards: 70',
    `To: ${o.to ?? 'Alice <sip:alice@sipmeet.test>'}`,
    `From: ${o.to ?? 'Alice <sip:alice@sipmeet.test>'};tag=456248`,
    `Call-ID: ${o.callId ?? '843817637684230@998sdasdh09'}`,
    `CSeq: ${o.cseq ?? 1826} REGISTER`,
    ...(o.contacts ?? ['<sip:alice@192.168.1.20:5060>']).map((c) => `Contact: ${c}`),
    ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
    ...(o.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseRequest(Buffer.from(lines.join('\r\n')));
}

export function parseRequest(buf: Buffer): SipRequest {
  const r = parseMessage(buf);
  assert.ok(r.ok, `test message must parse: ${r.ok ? '' : r.error}`);
  assert.equal(r.message.kind, 'request');
  return r.message as SipRequest;
}

export function vector(name: string): Buffer {
  return readFileSync(new URL(`./vectors/${name}.sip`, import.meta.url));
}

/** The Contact values of a response, each parsed. */
export function contactsOf(res: SipResponse): NameAddr[] {
  return res.getAll('contact').map((v) => {
    const r = parseNameAddr(v);
    assert.ok(r.ok, `response Contact must parse: ${v}`);
    return r.value;
  });
}

/** uri → granted expires, from a response's Contacts. */
export function grants(res: SipResponse): Map<string, number> {
  return new Map(contactsOf(res).map((c) => [c.uri.raw, Number(c.params.get('expires'))]));
}
