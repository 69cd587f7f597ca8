/**
 * Real messages from Linphone 5.1 and baresip 1.0 (test/vectors/peers, captured with CRLF line ends):
 * parse → serialize → parse keeps start line, header list and body; the peers' quirks come through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseMessage, serialize, type SipMessage } from '../../registrar/sip/message/index.ts';

const dir = new URL('../vectors/peers/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const load = (f: string): Buffer => readFileSync(new URL(f, dir));

function parsed(buf: Buffer): SipMessage {
  const r = parseMessage(buf);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.message;
}

const startLine = (m: SipMessage): string =>
  m.kind === 'request' ? `${m.method} ${m.uri.raw} ${m.version}` : `${m.version} ${m.status} ${m.reason}`;
const headerList = (m: SipMessage): Array<[string, string]> =>
  m.headers.filter((h) => h.name !== 'content-length').map((h) => [h.name, h.value]);

/** The same message with bare LF line ends in the header section (body untouched, so Content-Length holds). */
function lfOnly(buf: Buffer): Buffer {
  const end = buf.indexOf('\r\n\r\n');
  const head = buf.subarray(0, end).toString('latin1').replaceAll('\r\n', '\n');
  return Buffer.concat([Buffer.from(head + '\n\n', 'latin1'), buf.subarray(end + 4)]);
}

test('the captures use CRLF line ends throughout the header section', () => {
  assert.equal(files.length, 8);
  for (const f of files) {
    const buf = load(f);
    const head = buf.subarray(0, buf.indexOf('\r\n\r\n')).toString('latin1');
    assert.equal(head.replaceAll('\r\n', '').includes('\n'), false, `${f}: bare LF`);
  }
});

for (const f of files) {
  test(`${f}: parse → serialize → parse round-trips`, () => {
    const a = parsed(load(f));
    const wire = serialize(a);
    const b = parsed(wire);
    assert.equal(startLine(b), startLine(a));
    assert.deepEqual(headerList(b), headerList(a));
    assert.deepEqual(b.body, a.body);
    assert.equal(b.contentLength, a.body.length);
    assert.deepEqual(serialize(b), wire, 'serialize is stable');
    // Declared Content-Length matched the body in the capture.
    assert.equal(Number(a.get('content-length')), a.body.length);
  });

  test(`${f}: the LF-only form parses to the same message`, () => {
    const a = parsed(load(f));
    const b = parsed(lfOnly(load(f)));
    assert.equal(startLine(b), startLine(a));
    assert.deepEqual(headerList(b), headerList(a));
    assert.deepEqual(b.body, a.body);
  });
}

test('baresip: the empty Supported header is kept as an empty value and lists nothing', () => {
  const m = parsed(load('baresip-invite-offer-default.txt'));
  assert.equal(m.has('supported'), true);
  assert.equal(m.get('supported'), '');
  assert.deepEqual(m.getAll('k'), []);
  assert.match(serialize(m).toString(), /\r\nSupported:\r\n/);
  const c = m.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.equal(c.value.contacts[0]!.uri.user, 'alice-0x5639876abe10');
  assert.deepEqual(m.getAll('allow').length, 10);
});

test('Linphone: +sip.instance Contact parameter keeps its quoted <urn:…>; To is a bare addr-spec', () => {
  const m = parsed(load('linphone-invite-offer-default.txt'));
  assert.ok(m.kind === 'request');
  const c = m.contacts();
  assert.ok(c.ok && !c.value.star);
  const contact = c.value.contacts[0]!;
  assert.equal(contact.params.get('+sip.instance'), '"<urn:uuid:3ea70acb-a510-0006-bd11-da6bd34a5f42>"');
  assert.equal(contact.uri.user, undefined);
  assert.equal(contact.uri.host, '127.0.0.1');
  assert.equal(contact.uri.port, 5062);
  assert.equal(contact.uri.params.get('transport'), 'udp');
  assert.equal(m.to.uri.raw, 'sip:bob@127.0.0.1');
  assert.equal(m.from.displayName, 'alice');
  assert.equal(m.via[0]!.params.get('rport'), null);
  assert.equal(m.via[0]!.branch, 'z9hG4bK.7QZbeCXmM');
  assert.deepEqual(m.getAll('supported'), ['replaces', 'outbound', 'gruu']);
  assert.equal(m.contentType, 'application/sdp');
});

test('200 answers from both peers: status, reason, To tag', () => {
  const l = parsed(load('linphone-200-answer-default.txt'));
  assert.ok(l.kind === 'response');
  assert.deepEqual([l.status, l.reason, l.toTag], [200, 'Ok', 'waw7TM6']);
  const b = parsed(load('baresip-200-answer-default.txt'));
  assert.ok(b.kind === 'response');
  assert.deepEqual([b.status, b.reason, b.toTag], [200, 'Answering', '912faf698e866bb4']);
  assert.equal(b.via[0]!.params.get('received'), '127.0.0.1');
  assert.equal(b.via[0]!.params.get('rport'), '5072');
});
