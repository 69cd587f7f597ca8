/**
 * Header handling (RFC 3261 §7.3): compact forms, folding, case-insensitive names, comma lists spread over one or
 * several lines, commas inside quoted strings and <URIs>, and the mandatory/single-valued header checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, splitTopLevelCommas, type SipRequest } from '../../registrar/sip/message/index.ts';

const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKunit1', // §20.42
  'From: <sip:alice@example.com>;tag=a1', // §20.20
  'To: <sip:bob@example.com>', // §20.39
  'Call-ID: unit-1@192.0.2.1', // §20.8
  'CSeq: 1 OPTIONS', // §20.16
  'Max-Forwards: 70', // §20.22
];

/** An OPTIONS request with BASE headers (minus any named in `drop`) plus `extra`, CRLF line ends. */
function options(extra: string[], drop: string[] = []): Buffer {
  const lines = BASE.filter((l) => !drop.some((d) => l.startsWith(d + ':')));
  return Buffer.from(['OPTIONS sip:bob@example.com SIP/2.0', ...lines, ...extra, 'Content-Length: 0', '', ''].join('\r\n'));
}

function req(buf: Buffer): SipRequest {
  const r = parseMessage(buf);
  assert.ok(r.ok && r.message.kind === 'request', r.ok ? '' : r.error);
  return r.message;
}

test('compact forms (§7.3.3) map to long names, in any case', () => {
  const m = req(
    Buffer.from(
      [
        'OPTIONS sip:bob@example.com SIP/2.0',
        'v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1', // Via
        'F: <sip:alice@example.com>;tag=x', // From (upper-case compact)
        't: sip:bob@example.com', // To
        'i: compact@x', // Call-ID
        'CSeq: 7 OPTIONS',
        'm: <sip:alice@192.0.2.1>', // Contact
        'k: path', // Supported
        'o: presence', // Event
        'u: dialog', // Allow-Events
        'x: 1800', // Session-Expires
        'c: text/plain', // Content-Type
        'e: gzip', // Content-Encoding
        's: hi', // Subject
        'l: 0', // Content-Length
        '',
        '',
      ].join('\r\n'),
    ),
  );
  assert.equal(m.callId, 'compact@x');
  assert.equal(m.get('call-id'), 'compact@x');
  assert.equal(m.get('I'), 'compact@x', 'lookup by compact name too');
  assert.equal(m.get('supported'), 'path');
  assert.equal(m.get('event'), 'presence');
  assert.equal(m.get('allow-events'), 'dialog');
  assert.equal(m.get('session-expires'), '1800');
  assert.equal(m.contentType, 'text/plain');
  assert.equal(m.get('content-encoding'), 'gzip');
  assert.equal(m.get('subject'), 'hi');
  assert.deepEqual(
    m.headers.map((h) => h.name),
    [
      'via',
      'from',
      'to',
      'call-id',
      'cseq',
      'contact',
      'supported',
      'event',
      'allow-events',
      'session-expires',
      'content-type',
      'content-encoding',
      'subject',
      'content-length',
    ],
  );
});

test('folding (§7.3.1): continuation lines join with one SP; names are case-insensitive', () => {
  const m = req(options(['X-Long: first', ' second', '\t third', 'SUBJECT:   spaced   ']));
  assert.equal(m.get('x-long'), 'first second third');
  assert.equal(m.get('Subject'), 'spaced', 'leading/trailing LWS removed, inner kept');
});

test('a continuation line before any header is a 400 with the request kept', () => {
  const buf = Buffer.from(['OPTIONS sip:bob@example.com SIP/2.0', ' folded-too-early', ...BASE, '', ''].join('\r\n'));
  const r = parseMessage(buf);
  assert.ok(!r.ok && r.request);
  assert.match(r.error, /Malformed header line/);
});

test('a header line without a colon is a 400', () => {
  const r = parseMessage(options(['This is not a header']));
  assert.ok(!r.ok && r.request);
  assert.match(r.error, /Malformed header line/);
});

test('multi-value headers: one line with commas ≡ several lines (§7.3.1)', () => {
  const one = req(options(['Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>']));
  const two = req(options(['Route: <sip:p1.example.com;lr>', 'Route: <sip:p2.example.com;lr>']));
  for (const m of [one, two]) {
    assert.deepEqual(m.getAll('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    const r = m.nameAddrs('Route');
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.map((n) => n.uri.host),
      ['p1.example.com', 'p2.example.com'],
    );
    assert.equal(r.value[0]!.uri.params.get('lr'), null);
  }
  // Via values spread over lines and commas, in order.
  const v = req(options(['Via: SIP/2.0/UDP b.example.com;branch=z9hG4bKb, SIP/2.0/TCP c.example.com;branch=z9hG4bKc']));
  assert.deepEqual(
    v.via.map((x) => x.host),
    ['192.0.2.1', 'b.example.com', 'c.example.com'],
  );
});

test('commas inside quoted strings and <URIs> do not split a list', () => {
  const m = req(
    options([
      'Contact: "Doe, John" <sip:john,doe@example.com>;expires=60, <sip:j2@example.com>;q="0.5,x"',
    ]),
  );
  const c = m.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.equal(c.value.contacts.length, 2);
  assert.equal(c.value.contacts[0]!.displayName, 'Doe, John');
  assert.equal(c.value.contacts[0]!.uri.user, 'john,doe');
  assert.equal(c.value.contacts[0]!.params.get('expires'), '60');
  assert.equal(c.value.contacts[1]!.params.get('q'), '"0.5,x"');
  assert.deepEqual(splitTopLevelCommas('"a,\\"b" <sip:x>, c'), ['"a,\\"b" <sip:x>', 'c']);
  // Non-list headers are never split (Date has a comma; WWW-Authenticate's commas separate auth-params).
  const d = req(options(['Date: Sat, 13 Nov 2010 23:29:00 GMT', 'Authorization: Digest username="a", realm="b"']));
  assert.deepEqual(d.getAll('date'), ['Sat, 13 Nov 2010 23:29:00 GMT']);
  assert.equal(d.getAll('authorization').length, 1);
});

test("Contact '*' (§10.2.2) and '*' mixed with addresses", () => {
  const star = req(options(['Contact: *', 'Expires: 0']));
  assert.deepEqual(star.contacts(), { ok: true, value: { star: true } });
  assert.deepEqual(star.expires(), { ok: true, value: 0 });
  const mixed = parseMessage(options(['Contact: *', 'Contact: <sip:a@b>']));
  assert.ok(!mixed.ok && mixed.request, 'Contact is checked by the parser');
  assert.match(mixed.error, /Contact/);
});

test('missing mandatory headers (§8.1.1): each named in the reason; Max-Forwards may be absent', () => {
  for (const [name, label] of [
    ['From', 'From'],
    ['To', 'To'],
    ['Call-ID', 'Call-ID'],
    ['CSeq', 'CSeq'],
  ] as const) {
    const r = parseMessage(options([], [name]));
    assert.ok(!r.ok && r.request, `${name} missing must still be answerable`);
    assert.equal(r.error, `Bad Request - Missing ${label} header`);
  }
  const noVia = parseMessage(options([], ['Via']));
  assert.ok(!noVia.ok && noVia.request === undefined, 'no Via: nowhere to answer');
  assert.equal(req(options([], ['Max-Forwards'])).maxForwards, undefined);
});

test('duplicated single-valued headers are 400 (RFC 4475 §3.3.8)', () => {
  for (const dup of ['To: <sip:carol@example.com>', 'Call-ID: other', 'CSeq: 2 OPTIONS', 'Max-Forwards: 69']) {
    const r = parseMessage(options([dup]));
    assert.ok(!r.ok && r.request);
    assert.match(r.error, /Duplicate/);
  }
});

test('CSeq: 32-bit range, method must match, LWS required', () => {
  const max = req(options(['CSeq: 4294967295 OPTIONS'], ['CSeq']));
  assert.equal(max.cseq.seq, 4294967295);
  for (const bad of ['CSeq: 4294967296 OPTIONS', 'CSeq: OPTIONS', 'CSeq: 1OPTIONS', 'CSeq: -1 OPTIONS', 'CSeq: 1']) {
    const r = parseMessage(options([bad], ['CSeq']));
    assert.ok(!r.ok && r.request, bad);
    assert.match(r.error, /CSeq/);
  }
  const mismatch = parseMessage(options(['CSeq: 1 INVITE'], ['CSeq']));
  assert.ok(!mismatch.ok);
  assert.equal(mismatch.error, 'Bad Request - CSeq method does not match request method');
});

test('Max-Forwards: 0–255 (§20.22)', () => {
  assert.equal(req(options(['Max-Forwards: 255'], ['Max-Forwards'])).maxForwards, 255);
  for (const bad of ['Max-Forwards: 256', 'Max-Forwards: x']) {
    const r = parseMessage(options([bad], ['Max-Forwards']));
    assert.ok(!r.ok && r.request);
    assert.match(r.error, /Max-Forwards/);
  }
});

test('Expires: delta-seconds up to 2^32-1, anything else an error result', () => {
  assert.deepEqual(req(options(['Expires: 3600'])).expires(), { ok: true, value: 3600 });
  assert.deepEqual(req(options([])).expires(), { ok: true, value: undefined });
  assert.equal(req(options(['Expires: 4294967296'])).expires().ok, false);
  assert.equal(req(options(['Expires: soon'])).expires().ok, false);
});

test('Content-Type: media type lowercased, parameters dropped', () => {
  assert.equal(req(options(['Content-Type: Application/SDP ; charset=utf-8'])).contentType, 'application/sdp');
  assert.equal(req(options([])).contentType, undefined);
});

test('UTF-8 display names survive; a BOM or NBSP inside a value is data, not whitespace', () => {
  const m = req(options(['Contact: "Jörg Müller 日本" <sip:joerg@example.com>', 'X-Data: \u00a0x\ufeff']));
  const c = m.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.equal(c.value.contacts[0]!.displayName, 'Jörg Müller 日本');
  assert.equal(m.get('x-data'), '\u00a0x\ufeff');
});

test('start line: extra SP tolerated, bad versions, bad status codes', () => {
  const spaced = Buffer.from(options([]).toString().replace('OPTIONS sip:bob@example.com SIP/2.0', 'OPTIONS  sip:bob@example.com  SIP/2.0 '));
  assert.equal(req(spaced).method, 'OPTIONS');
  const v1 = parseMessage(Buffer.from(options([]).toString().replace(' SIP/2.0\r\n', ' SIP/1.0\r\n')));
  assert.ok(!v1.ok && v1.status === 505 && v1.request);
  const garbage = parseMessage(Buffer.from(options([]).toString().replace(' SIP/2.0\r\n', ' HTTP/1.1\r\n')));
  assert.ok(!garbage.ok && garbage.status === 400 && garbage.request);
  const resp = (line: string) =>
    parseMessage(Buffer.from([line, ...BASE.slice(0, 5), 'Content-Length: 0', '', ''].join('\r\n')));
  assert.ok(resp('SIP/2.0 180 Ringing').ok);
  assert.ok(resp('SIP/2.0 200 OK with spaces').ok);
  for (const bad of ['SIP/2.0 99 Low', 'SIP/2.0 700 High', 'SIP/2.0 2000 OK', 'SIP/2.0 abc OK', 'SIP/3.0 200 OK']) {
    const r = resp(bad);
    assert.ok(!r.ok && r.request === undefined, bad);
  }
  assert.equal(parseMessage(Buffer.from('\r\n\r\n')).ok, false, 'keep-alive is not a message');
  assert.equal(parseMessage(Buffer.alloc(0)).ok, false);
});
