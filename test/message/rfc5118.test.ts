/**
 * RFC 5118 IPv6 torture messages (re-typed, see test/vectors/rfc5118/README.md): parse outcome of each, and the
 * IPv6 fields a registrar and transport rely on (bracketed hosts, ports, received=).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseMessage, parseUri, type SipRequest } from '../../registrar/sip/message/index.ts';

const dir = new URL('../vectors/rfc5118/', import.meta.url);
const manifest: Array<{ file: string; section: string; expect: 'ok' | 'reject:400' | 'drop' }> = JSON.parse(
  readFileSync(new URL('manifest.json', dir), 'utf8'),
);
const parse = (file: string) => parseMessage(readFileSync(new URL(`${file}.sip`, dir)));
function ok(file: string): SipRequest {
  const r = parse(file);
  assert.ok(r.ok && r.message.kind === 'request', `${file}: ${r.ok ? '' : r.error}`);
  return r.message;
}

for (const m of manifest) {
  test(`RFC 5118 ${m.section} ${m.file}: ${m.expect}`, () => {
    const r = parse(m.file);
    if (m.expect === 'ok') assert.ok(r.ok, r.ok ? '' : r.error);
    else if (m.expect === 'reject:400') {
      assert.ok(!r.ok && r.request, 'answerable 400');
      assert.equal(r.status ?? 400, 400);
    } else assert.ok(!r.ok && r.request === undefined, 'dropped: no usable top Via');
  });
}

test('§4.1: bracketed IPv6 Request-URI, Via sent-by and Contact host keep their brackets', () => {
  const req = ok('ipv6-good');
  assert.equal(req.uri.host, '[2001:db8::10]');
  assert.equal(req.uri.port, undefined);
  assert.equal(req.via[0]!.host, '[2001:db8::9:1]');
  const c = req.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.equal(c.value.contacts[0]!.uri.host, '[2001:db8::1]');
});

test('§4.2: an unbracketed IPv6 Request-URI is a 400', () => {
  const r = parse('ipv6-bad');
  assert.ok(!r.ok);
  assert.match(r.error, /Request-URI/);
});

test('§4.3 / §4.4: [2001:db8::10:5070] has no port; [2001:db8::10]:5070 has port 5070', () => {
  const a = ok('port-ambiguous').uri;
  assert.equal(a.host, '[2001:db8::10:5070]');
  assert.equal(a.port, undefined);
  const b = ok('port-unambiguous').uri;
  assert.equal(b.host, '[2001:db8::10]');
  assert.equal(b.port, 5070);
});

test('§4.5: received= with or without brackets is kept as written', () => {
  assert.equal(ok('via-received-brackets').via[0]!.params.get('received'), '[2001:db8::9:255]');
  assert.equal(ok('via-received-nobrackets').via[0]!.params.get('received'), '2001:db8::9:255');
  assert.equal(ok('via-received-nobrackets').via[0]!.branch, 'z9hG4bKas3-111');
});

test('§4.6 / §4.7 / §4.9: SDP body, mixed-family Vias, IPv4-mapped addresses with ports', () => {
  assert.match(ok('sdp-ipv6').body.toString(), /c=IN IP6 2001:db8::20/);
  assert.deepEqual(
    ok('mixed-via').via.map((v) => [v.host, v.port]),
    [
      ['[2001:db8::9:ffff]', 5060],
      ['192.0.2.1', undefined],
      ['[2001:db8::9:255]', undefined],
    ],
  );
  const m = ok('ipv4-mapped');
  assert.equal(m.via[0]!.host, '[::ffff:192.0.2.10]');
  assert.equal(m.via[0]!.port, 19823);
  const c = m.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.equal(c.value.contacts[0]!.uri.host, '[::ffff:192.0.2.2]');
});

test('§4.10: full eight-group form and IPv4-tail forms are valid references', () => {
  const req = ok('ipv6-full-forms');
  assert.equal(req.uri.host, '[2001:db8:0:0:0:0:0:10]');
  assert.equal(req.via[0]!.host, '[::192.0.2.9]');
  const c = req.contacts();
  assert.ok(c.ok && !c.value.star);
  assert.equal(c.value.contacts[0]!.uri.host, '[2001:db8::192.0.2.1]');
  assert.equal(c.value.contacts[0]!.uri.port, 5062);
});

test('IPv6 URI edge cases: hosts are lowercased, brackets required, no zone id', () => {
  const u = parseUri('sip:alice@[2001:DB8::A]:5070;transport=tcp');
  assert.ok(u.ok);
  assert.equal(u.value.host, '[2001:db8::a]');
  assert.equal(u.value.port, 5070);
  assert.equal(parseUri('sip:alice@2001:db8::a').ok, false);
  assert.equal(parseUri('sip:alice@[2001:db8::a').ok, false, 'unterminated reference');
  assert.equal(parseUri('sip:[fe80::1%25eth0]').ok, false);
  assert.equal(parseUri('sip:[::1]:99999').ok, false, 'port out of range');
});
