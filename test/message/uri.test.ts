/**
 * URIs (RFC 3261 §19.1), name-addr (§20.10) and Via (§20.42) parsing in isolation, and §19.1.4 comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatUri,
  parseNameAddr,
  parseNameAddrList,
  parseUri,
  parseVia,
  uriEquals,
  type SipUri,
} from '../../registrar/sip/message/index.ts';

function uri(text: string): SipUri {
  const r = parseUri(text);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.error}`);
  return r.value;
}

test('SIP URI components: user, password, host (lowercased), port, params, headers', () => {
  const u = uri('SIP:Alice:secret@Atlanta.COM:5061;Transport=TCP;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'Alice', 'user stays case-sensitive');
  assert.equal(u.password, 'secret');
  assert.equal(u.host, 'atlanta.com');
  assert.equal(u.port, 5061);
  assert.deepEqual([...u.params], [
    ['transport', 'TCP'],
    ['lr', null],
    ['maddr', '239.255.255.1'],
  ]);
  assert.deepEqual(u.headers, [
    ['subject', 'project x'],
    ['priority', 'urgent'],
  ]);
  assert.equal(u.raw, 'SIP:Alice:secret@Atlanta.COM:5061;Transport=TCP;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  assert.equal(uri('sips:+1-212-555-1212;phone-context=x@gw.example.com;user=phone').user, '+1-212-555-1212;phone-context=x');
});

test('other schemes are opaque; broken URIs are errors, never throws', () => {
  for (const t of ['tel:+1-201-555-0123', 'urn:uuid:abc', 'http://www.example.com', 'isbn:2983792873']) {
    const u = uri(t);
    assert.equal(u.host, '');
    assert.equal(u.raw, t);
  }
  for (const bad of ['', 'sip:', 'sip:@host', 'sip:host:port', 'sip:host:70000', 'sip:a b@host', 'sip:host;=x', 'sip:host?x',
    'sip:%zz@host', '1sip:host', 'tel:', 'sip:host;p=%4', 'sip:<host>']) {
    assert.equal(parseUri(bad).ok, false, bad);
  }
});

test('formatUri escapes what must be escaped and round-trips through parseUri', () => {
  const u = uri('sip:I%20have%20spaces@example.net;n%61me=v%61lue%25%34%31?Route=%3Csip:x%3E');
  const text = formatUri(u);
  assert.equal(text, 'sip:I%20have%20spaces@example.net;name=value%2541?Route=%3Csip:x%3E');
  const again = uri(text);
  assert.equal(again.user, u.user);
  assert.deepEqual([...again.params], [...u.params]);
  assert.deepEqual(again.headers, u.headers);
  assert.equal(formatUri(uri('tel:+123')), 'tel:+123');
});

test('§19.1.4 comparison examples', () => {
  const eq = (a: string, b: string) => uriEquals(uri(a), uri(b));
  // Equivalent (from the RFC's list)
  assert.ok(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'));
  assert.ok(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'));
  assert.ok(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'));
  assert.ok(
    eq(
      'sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
      'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com',
    ),
  );
  assert.ok(
    eq(
      'sip:alice@atlanta.com?subject=project%20x&priority=urgent',
      'sip:alice@atlanta.com?priority=urgent&subject=project%20x',
    ),
  );
  // Not equivalent
  assert.ok(!eq('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'), 'user differs in case');
  assert.ok(!eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'), 'explicit port');
  assert.ok(!eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'), 'transport in one only');
  assert.ok(!eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'));
  assert.ok(!eq('sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'));
  assert.ok(!eq('sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'));
  assert.ok(!eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'));
  assert.ok(!eq('sip:a@b', 'sips:a@b'));
});

test('name-addr forms: quoted, token, none; addr-spec params belong to the header', () => {
  const q = parseNameAddr('"A \\"B\\" C" <sip:abc@example.com;transport=tcp>;tag=1;expires=60');
  assert.ok(q.ok);
  assert.equal(q.value.displayName, 'A "B" C');
  assert.equal(q.value.uri.params.get('transport'), 'tcp');
  assert.deepEqual([...q.value.params], [
    ['tag', '1'],
    ['expires', '60'],
  ]);
  const t = parseNameAddr('Bob Smith<sip:bob@example.com>');
  assert.ok(t.ok && t.value.displayName === 'Bob Smith');
  const a = parseNameAddr('sip:bob@example.com;transport=tcp;tag=9');
  assert.ok(a.ok);
  assert.equal(a.value.uri.params.size, 0);
  assert.equal(a.value.params.get('transport'), 'tcp');
  assert.equal(a.value.params.get('tag'), '9');
  for (const bad of ['"unterminated <sip:a@b>', '<sip:a@b', 'Bell, Al <sip:a@b>', '<sip:a@b>;;', 'sip:a@b?x=y', '<sip:a@b> junk',
    '<sip:a@b>;tag=', '']) {
    assert.equal(parseNameAddr(bad).ok, false, bad);
  }
  const list = parseNameAddrList('<sip:a@x>, "C, D" <sip:c@x>;q=0.1 ,sip:e@x');
  assert.ok(list.ok);
  assert.deepEqual(
    list.value.map((n) => n.uri.user),
    ['a', 'c', 'e'],
  );
  assert.equal(parseNameAddrList('<sip:a@x>,,<sip:b@x>').ok, false);
});

test('Via: LWS around separators, IPv6 sent-by, rport flag, received, unknown transport', () => {
  const v = parseVia('SIP / 2.0 / tcp  [2001:DB8::1] : 5070 ; branch = z9hG4bK1 ; rport ; received=2001:db8::2');
  assert.ok(v.ok);
  assert.deepEqual(
    [v.value.protocol, v.value.transport, v.value.host, v.value.port, v.value.branch],
    ['SIP/2.0', 'TCP', '[2001:db8::1]', 5070, 'z9hG4bK1'],
  );
  assert.equal(v.value.params.get('rport'), null);
  assert.equal(v.value.params.get('received'), '2001:db8::2');
  for (const bad of ['SIP/2.0/UDP', 'SIP/2.0 UDP host', 'SIP/2.0/UDP host:port', 'SIP/2.0/UDP 2001:db8::1;branch=z9hG4bKx',
    'SIP/2.0/UDP host;branch', 'SIP/2.0/UDP host;;', 'SIP/2.0/UDPhost']) {
    assert.equal(parseVia(bad).ok, false, bad);
  }
});
