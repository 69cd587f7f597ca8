/**
 * The RFC 4475 torture messages that exercise a registrar, as the registrar sees them (files copied byte-exact
 * from the RFC's Appendix A into ./vectors/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { parseMessage } from '../../registrar/sip/message/parse.ts';
import { LocationService } from '../../registrar/location/bindings.ts';
import { Registrar } from '../../registrar/location/registrar.ts';
import { routeTargets } from '../../registrar/location/route.ts';
import { DigestAuthenticator } from '../../registrar/sip/auth/digest.ts';
import { MapUserDirectory } from '../../registrar/sip/auth/users.ts';
import { SOURCE, contactsOf, parseRequest, vector } from './helpers.ts';

function setup() {
  const clock = new ManualClock();
  const location = new LocationService({ clock, sweepIntervalMs: 0 });
  const registrar = new Registrar({ location, clock, domain: 'example.com' });
  const handle = (name: string) => registrar.handleRegister(parseRequest(vector(name)), { source: SOURCE });
  return { clock, location, registrar, handle };
}

test('§3.1.1.4 escnull: %00 user parts do not truncate the AOR; two distinct bindings', () => {
  const { handle, location } = setup();
  const res = handle('escnull');
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.getAll('contact'),
    ['<sip:%00@host5.example.com>;expires=3600', '<sip:%00%00@host5.example.com>;expires=3600'],
  );
  const b = location.lookup('sip:null-\u0000-null@example.com');
  assert.equal(b.length, 2);
  assert.equal(location.lookup('sip:null-@example.com').length, 0);
});

test('§3.3.12 cparam01: an unbracketed Contact\'s ;unknownparam is a header parameter, never a URI parameter', () => {
  const { handle, location } = setup();
  const res = handle('cparam01');
  assert.equal(res.status, 200);
  assert.deepEqual(res.getAll('contact'), ['<sip:+19725552222@gw1.example.net>;unknownparam;expires=3600']);
  const [c] = contactsOf(res);
  assert.equal(c!.uri.params.has('unknownparam'), false);
  assert.equal(c!.params.get('unknownparam'), null);
  const [b] = location.lookup('sip:watson@example.com');
  assert.equal(b!.contact.uri.raw, 'sip:+19725552222@gw1.example.net');
  assert.equal(routeTargets([b!])[0]!.requestUri, 'sip:+19725552222@gw1.example.net');
});

test('§3.3.13 cparam02: a bracketed ;unknownparam stays a URI parameter', () => {
  const { handle, location } = setup();
  const res = handle('cparam02');
  assert.equal(res.status, 200);
  assert.deepEqual(res.getAll('contact'), ['<sip:+19725552222@gw1.example.net;unknownparam>;expires=3600']);
  const [c] = contactsOf(res);
  assert.equal(c!.uri.params.get('unknownparam'), null);
  const [b] = location.lookup('sip:watson@example.com');
  assert.equal(routeTargets([b!])[0]!.requestUri, 'sip:+19725552222@gw1.example.net;unknownparam');
});

test('cparam01 then cparam02: equal contact URIs under §19.1.4, so the second refreshes the first', () => {
  const { handle, location } = setup();
  handle('cparam01');
  handle('cparam02');
  // uri-parameters other than user/ttl/method/maddr/transport are compared only when present in both, so the
  // two Contact URIs are equal: cparam02 (another Call-ID) replaces cparam01's binding.
  const b = location.lookup('sip:watson@example.com');
  assert.equal(b.length, 1);
  assert.equal(b[0]!.contact.uri.raw, 'sip:+19725552222@gw1.example.net;unknownparam');
});

test('§3.3.14 regescrt: the escaped ?Route header stays in the registered URI', () => {
  const { handle, location } = setup();
  const res = handle('regescrt');
  assert.equal(res.status, 200);
  assert.deepEqual(res.getAll('contact'), ['<sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=3600']);
  const [b] = location.lookup('sip:user@example.com');
  assert.deepEqual(b!.contact.uri.headers, [['Route', '<sip:sip.example.com>']]);
  const [t] = routeTargets([b!]);
  assert.equal(t!.requestUri, 'sip:user@example.com');
  assert.deepEqual(t!.uriHeaders, [['Route', '<sip:sip.example.com>']]);
});

test('§3.3.4 unksm2: a To that is not a SIP URI → 400, nothing stored', () => {
  const { handle, location } = setup();
  const res = handle('unksm2');
  assert.equal(res.status, 400);
  assert.equal(location.aorCount, 0);
});

test('§3.1.2.4 scalar02: the parser answers 400; with legal CSeq and Max-Forwards the out-of-range expiries mean 3600', () => {
  const raw = vector('scalar02');
  const parsed = parseMessage(raw);
  assert.equal(parsed.ok, false);
  if (!parsed.ok) assert.equal(parsed.status ?? 400, 400);
  // What would reach the registrar if only the expiry values were out of range (RFC 4475: "treat them as if
  // they contained the default values for expiration (3600 in this case)").
  // (The parser also refuses its Max-Forwards: 300, so both are made legal here.)
  const fixed = Buffer.from(
    raw
      .toString('latin1')
      .replace('CSeq: 36893488147419103232 REGISTER', 'CSeq: 3 REGISTER')
      .replace('Max-Forwards: 300', 'Max-Forwards: 70'),
    'latin1',
  );
  const { registrar, location } = setup();
  const res = registrar.handleRegister(parseRequest(fixed), { source: SOURCE });
  assert.equal(res.status, 200);
  assert.deepEqual(res.getAll('contact'), ['<sip:user@host129.example.com>;expires=3600']);
  assert.equal(location.lookup('sip:user@example.com').length, 1);
});

test('§3.3.7 regaut01: unknown auth scheme — with digest on → 401 challenge; an open registrar answers the query', () => {
  const { registrar, clock } = setup();
  const req = parseRequest(vector('regaut01'));
  const auth = new DigestAuthenticator({ realm: 'example.com', users: new MapUserDirectory({ 'j.user': 'pw' }), clock });
  const v = auth.verify(req);
  assert.equal(v.ok, false);
  if (v.ok) return;
  const res = auth.reject(req, v, { toTag: 't1' });
  assert.equal(res.status, 401);
  assert.equal(res.headers.filter((h) => h.name === 'www-authenticate').length, 2);
  // Without authentication the REGISTER (which has no Contact) is a query: 200 with no bindings.
  const open = registrar.handleRegister(req, { source: SOURCE });
  assert.equal(open.status, 200);
  assert.deepEqual(open.getAll('contact'), []);
});
