/**
 * Building and writing messages: createRequest (§8.1.1), createResponse (§8.2.6), serialize, edit(), identifiers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRequest,
  createResponse,
  defaultReason,
  newBranch,
  newCallId,
  newTag,
  parseMessage,
  serialize,
  type SipRequest,
} from '../../registrar/sip/message/index.ts';

/** A REGISTER as Linphone sends it, with a compact and a folded header. */
const REGISTER = Buffer.from(
  [
    'REGISTER sip:example.com SIP/2.0',
    'v: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK.abc;rport',
    'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1',
    'From:   <sip:alice@example.com>;tag=f1',
    'To: "Alice"',
    ' <sip:alice@example.com>',
    'CSeq: 20 REGISTER',
    'Call-ID: reg-1',
    'Max-Forwards: 70',
    'Contact: <sip:alice@192.0.2.7:5062>;expires=600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

function register(): SipRequest {
  const r = parseMessage(REGISTER);
  assert.ok(r.ok && r.message.kind === 'request');
  return r.message;
}

test('createResponse copies Via (all, in order), From, To, Call-ID, CSeq as the request text, adds the To tag', () => {
  const res = createResponse(register(), 200, undefined, {
    toTag: 'srv1',
    headers: [['Contact', '<sip:alice@192.0.2.7:5062>;expires=600']],
  });
  assert.equal(
    serialize(res).toString(),
    [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK.abc;rport', // compact 'v' written long
      'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1',
      'From: <sip:alice@example.com>;tag=f1',
      'To: "Alice" <sip:alice@example.com>;tag=srv1',
      'CSeq: 20 REGISTER',
      'Call-ID: reg-1',
      'Contact: <sip:alice@192.0.2.7:5062>;expires=600',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  assert.equal(res.toTag, 'srv1');
  assert.equal(res.to.displayName, 'Alice');
  assert.equal(res.via.length, 2);
  assert.equal(res.via[0]!.branch, 'z9hG4bK.abc');
  assert.deepEqual(res.cseq, { seq: 20, method: 'REGISTER' });
  assert.equal(res.callId, 'reg-1');
  // The response parses back as the same thing.
  const back = parseMessage(serialize(res));
  assert.ok(back.ok && back.message.kind === 'response');
  assert.equal(back.message.toTag, 'srv1');
  assert.equal(back.message.get('contact'), '<sip:alice@192.0.2.7:5062>;expires=600');
});

test('createResponse: no tag on 100 Trying; an existing To tag is kept; reasons default per §21', () => {
  const trying = createResponse(register(), 100, undefined, { toTag: 'x' });
  assert.equal(trying.toTag, undefined);
  assert.equal(trying.reason, 'Trying');
  const inDialog = parseMessage(Buffer.from(REGISTER.toString().replace(' <sip:alice@example.com>\r\n', ' <sip:alice@example.com>;tag=old\r\n')));
  assert.ok(inDialog.ok && inDialog.message.kind === 'request');
  const res = createResponse(inDialog.message, 200, undefined, { toTag: 'new' });
  assert.equal(res.toTag, 'old');
  assert.equal(createResponse(register(), 486).reason, 'Busy Here');
  assert.equal(createResponse(register(), 499).reason, 'Client Error');
  assert.equal(createResponse(register(), 404, 'Nobody Here').reason, 'Nobody Here');
  assert.throws(() => createResponse(register(), 99), TypeError);
});

test('createResponse with a body: Content-Length is the byte length (UTF-8)', () => {
  const res = createResponse(register(), 200, undefined, {
    headers: [['Content-Type', 'text/plain']],
    body: 'héllo',
  });
  const wire = serialize(res);
  assert.match(wire.toString(), /\r\nContent-Length: 6\r\n\r\nhéllo$/);
  assert.equal(res.contentType, 'text/plain');
});

test('createRequest: builds, checks mandatory headers, serializes with Content-Length', () => {
  const branch = newBranch();
  const req = createRequest({
    method: 'OPTIONS',
    uri: 'sip:bob@[2001:db8::1]:5070',
    headers: [
      ['Via', `SIP/2.0/UDP 192.0.2.1:5060;branch=${branch}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:alice@example.com>;tag=${newTag()}`],
      ['To', '<sip:bob@example.com>'],
      ['Call-ID', newCallId()],
      ['CSeq', '1 OPTIONS'],
      ['Content-Length', '999'],
    ],
    body: 'ping',
  });
  assert.equal(req.via[0]!.branch, branch);
  assert.equal(req.uri.host, '[2001:db8::1]');
  assert.equal(req.maxForwards, 70);
  const wire = serialize(req).toString();
  assert.ok(wire.startsWith('OPTIONS sip:bob@[2001:db8::1]:5070 SIP/2.0\r\nVia: '));
  assert.ok(wire.endsWith('\r\nContent-Length: 4\r\n\r\nping'), 'stale Content-Length replaced');
  const back = parseMessage(Buffer.from(wire));
  assert.ok(back.ok && back.message.kind === 'request');
  assert.equal(back.message.body.toString(), 'ping');

  const base = { method: 'OPTIONS', uri: 'sip:bob@example.com' };
  const hs: Array<[string, string]> = [
    ['Via', 'SIP/2.0/UDP h;branch=z9hG4bKx'],
    ['From', '<sip:a@b>;tag=1'],
    ['To', '<sip:b@b>'],
    ['Call-ID', 'c'],
    ['CSeq', '1 OPTIONS'],
  ];
  assert.throws(() => createRequest({ ...base, uri: 'not a uri', headers: hs }), TypeError);
  assert.throws(() => createRequest({ ...base, headers: hs.slice(1) }), TypeError, 'no Via');
  assert.throws(() => createRequest({ ...base, headers: hs.filter((h) => h[0] !== 'Call-ID') }), TypeError);
  assert.throws(() => createRequest({ ...base, method: 'INFO', headers: hs }), TypeError, 'CSeq method differs');
});

test('edit(): top Via replaced (received/rport), prepend/remove/append, new URI and body', () => {
  const req = register();
  const edited = req.edit({ topVia: 'SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK.abc;rport=5062;received=198.51.100.1' });
  assert.equal(edited.via[0]!.params.get('received'), '198.51.100.1');
  assert.equal(edited.via[0]!.params.get('rport'), '5062');
  assert.equal(edited.via.length, 2);
  assert.equal(req.via[0]!.params.get('received'), undefined, 'the original is unchanged');
  const reply = serialize(createResponse(edited, 200)).toString();
  assert.match(reply, /\r\nVia: SIP\/2.0\/UDP 192.0.2.7:5062;branch=z9hG4bK.abc;rport=5062;received=198.51.100.1\r\n/);

  const popped = req.edit({ popVia: true });
  assert.deepEqual(
    popped.via.map((v) => v.host),
    ['proxy.example.com'],
  );
  assert.equal(popped.getAll('via').length, 1);

  const relayed = req.edit({
    prepend: [['Record-Route', '<sip:focus.example.com;lr>']],
    remove: ['max-forwards', 'm'],
    append: [['Max-Forwards', '69']],
    uri: 'sip:alice@192.0.2.7:5062',
    body: Buffer.from('x'),
  });
  assert.equal(relayed.headers[0]!.name, 'record-route');
  assert.equal(relayed.maxForwards, 69);
  assert.equal(relayed.has('contact'), false);
  assert.equal(relayed.uri.host, '192.0.2.7');
  const wire = serialize(relayed).toString();
  assert.ok(wire.startsWith('REGISTER sip:alice@192.0.2.7:5062 SIP/2.0\r\nRecord-Route: <sip:focus.example.com;lr>\r\n'));
  assert.ok(wire.endsWith('Max-Forwards: 69\r\nContent-Length: 1\r\n\r\nx'));
  // Via in a comma list: only the first value is replaced.
  const top = 'SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK.abc;rport';
  const listed = parseMessage(Buffer.from(REGISTER.toString().replace(`v: ${top}\r\nVia:`, `Via: ${top},`)));
  assert.ok(listed.ok && listed.message.kind === 'request');
  const l2 = listed.message.edit({ topVia: 'SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK.abc;received=1.2.3.4' });
  assert.equal(
    l2.get('via'),
    'SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK.abc;received=1.2.3.4, SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1',
  );
  assert.equal(l2.via[1]!.host, 'proxy.example.com');
});

test('serialize: folded input comes out on one line, compact names expanded, the rest as written', () => {
  const wire = serialize(register()).toString();
  assert.match(wire, /\r\nTo: "Alice" <sip:alice@example.com>\r\n/);
  assert.match(wire, /^REGISTER sip:example.com SIP\/2.0\r\nVia: SIP\/2.0\/UDP 192.0.2.7:5062/);
  assert.match(wire, /\r\nFrom: <sip:alice@example.com>;tag=f1\r\n/);
  assert.ok(wire.endsWith('Content-Length: 0\r\n\r\n'));
});

test('identifiers: branch has the magic cookie, all are unique and token-safe', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const b = newBranch();
    assert.match(b, /^z9hG4bK[0-9a-f]{20}$/);
    seen.add(b);
    seen.add(newTag());
    seen.add(newCallId());
  }
  assert.equal(seen.size, 3000);
  assert.match(newTag(), /^[0-9a-f]{16}$/);
  assert.match(newCallId(), /^[0-9a-f]{32}$/);
  assert.equal(defaultReason(481), 'Call/Transaction Does Not Exist');
  assert.equal(defaultReason(505), 'Version Not Supported');
});
