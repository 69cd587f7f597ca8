import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { LocationService } from '../../registrar/location/bindings.ts';
import { Registrar, type RegistrarOptions } from '../../registrar/location/registrar.ts';
import { parseUri } from '../../registrar/sip/message/uri.ts';
import { SOURCE, contactsOf, grants, register } from './helpers.ts';

const AOR = 'sip:alice@sipmeet.test';

function setup(opts: Partial<RegistrarOptions> & { maxBindingsPerAor?: number } = {}) {
  const clock = new ManualClock(5_000);
  const location = new LocationService({ clock, maxBindingsPerAor: opts.maxBindingsPerAor ?? 10, sweepIntervalMs: 30_000 });
  const registrar = new Registrar({
    location,
    clock,
    domain: 'sipmeet.test',
    isLocalDomain: (h) => h === '192.0.2.1' || h === 'sipmeet.test',
    ...opts,
  });
  const send = (o: Parameters<typeof register>[0] = {}, authUser?: string) =>
    registrar.handleRegister(register(o), { source: SOURCE, ...(authUser !== undefined ? { authUser } : {}) });
  return { clock, location, registrar, send };
}

test('a REGISTER creates a binding: 200 lists it with expires=3600, a Date and a To tag', () => {
  const { send, location, registrar } = setup();
  const res = send();
  assert.equal(res.status, 200);
  assert.deepEqual([...grants(res)], [['sip:alice@192.168.1.20:5060', 3600]]);
  assert.equal(res.get('date'), 'Thu, 01 Jan 2026 00:00:05 GMT');
  assert.ok(res.toTag, 'To tag added');
  const b = location.lookup(AOR);
  assert.equal(b.length, 1);
  assert.equal(b[0]!.contact.uri.raw, 'sip:alice@192.168.1.20:5060');
  assert.equal(b[0]!.callId, '843817637684230@998sdasdh09');
  assert.equal(b[0]!.cseq, 1826);
  assert.deepEqual(b[0]!.source, SOURCE);
  // The proxy finds it from a Request-URI with parameters and our IP as host (mapped to the domain).
  const target = parseUri('sip:alice@192.0.2.1;user=phone');
  assert.ok(target.ok);
  assert.equal(registrar.lookup(target.value).length, 1);
});

test('refresh with a higher CSeq and Expires: 600 keeps one binding with the new expiry', () => {
  const { send, location, clock } = setup();
  send();
  clock.advance(100_000);
  const res = send({ cseq: 1827, expires: 600 });
  assert.equal(res.status, 200);
  assert.deepEqual([...grants(res)], [['sip:alice@192.168.1.20:5060', 600]]);
  assert.equal(location.lookup(AOR).length, 1);
});

test('several contacts: all listed; lookup orders by q, highest first', () => {
  const { send, location } = setup();
  const res = send({
    contacts: ['<sip:alice@192.168.1.20:5060>;q=0.1', '<sip:alice@192.168.1.21:5060>;q=0.9, <sip:alice@192.168.1.22>;q=0.5'],
  });
  assert.equal(res.status, 200);
  assert.equal(contactsOf(res).length, 3);
  assert.deepEqual(
    location.lookup(AOR).map((b) => [b.contact.uri.host, b.q]),
    [['192.168.1.21', 0.9], ['192.168.1.22', 0.5], ['192.168.1.20', 0.1]],
  );
  // Another device (another Call-ID) adds its binding; the 200 shows all four.
  const res2 = send({ callId: 'other-device', cseq: 1, contacts: ['<sip:alice@203.0.113.9>'] });
  assert.equal(contactsOf(res2).length, 4);
  assert.equal(location.lookup(AOR)[0]!.contact.uri.host, '203.0.113.9', 'q defaults to 1.0');
});

test('expires=0 on one contact removes only that binding', () => {
  const { send, location } = setup();
  send({ contacts: ['<sip:alice@192.168.1.20:5060>', '<sip:alice@192.168.1.21:5060>'] });
  const res = send({ cseq: 1827, contacts: ['<sip:alice@192.168.1.20:5060>;expires=0'] });
  assert.equal(res.status, 200);
  assert.deepEqual([...grants(res).keys()], ['sip:alice@192.168.1.21:5060']);
  assert.equal(location.lookup(AOR).length, 1);
});

test('Contact: * with Expires: 0 removes all bindings; misuse of * is 400', () => {
  const { send, location } = setup();
  send({ contacts: ['<sip:alice@192.168.1.20:5060>', '<sip:alice@192.168.1.21:5060>'] });
  send({ callId: 'other-device', cseq: 7, contacts: ['<sip:alice@203.0.113.9>'] });
  assert.equal(send({ cseq: 1827, contacts: ['*'] }).status, 400, '* without Expires: 0');
  assert.equal(send({ cseq: 1827, contacts: ['*'], expires: 3600 }).status, 400, '* with Expires: 3600');
  // (`*` next to another Contact is already refused by the parser with 400: it never reaches the registrar.)
  assert.equal(location.lookup(AOR).length, 3, 'nothing changed by the failed requests');
  const res = send({ cseq: 1828, contacts: ['*'], expires: 0 });
  assert.equal(res.status, 200);
  assert.equal(contactsOf(res).length, 0);
  assert.equal(location.lookup(AOR).length, 0);
});

test('Contact: * with the same Call-ID and an old CSeq fails with 500 and removes nothing', () => {
  const { send, location } = setup();
  send({ cseq: 10 });
  assert.equal(send({ cseq: 10, contacts: ['*'], expires: 0 }).status, 500);
  assert.equal(location.lookup(AOR).length, 1);
});

test('an interval below Min-Expires → 423 with Min-Expires, nothing stored', () => {
  const { send, location } = setup();
  const res = send({ expires: 30 });
  assert.equal(res.status, 423);
  assert.equal(res.reason, 'Interval Too Brief');
  assert.equal(res.get('min-expires'), '60');
  assert.equal(location.lookup(AOR).length, 0);
  const res2 = send({ contacts: ['<sip:alice@192.168.1.20>;expires=59', '<sip:alice@192.168.1.21>'] });
  assert.equal(res2.status, 423, 'one brief contact fails the whole request');
  assert.equal(location.lookup(AOR).length, 0);
  assert.equal(send({ cseq: 1900, expires: 60 }).status, 200);
});

test('bindings expire with the clock: gone from lookup after their interval, and swept without a lookup', () => {
  const { send, location, clock } = setup();
  send({ expires: 60 });
  send({ callId: 'b', contacts: ['<sip:alice@192.168.1.30>'], expires: 120 });
  clock.advance(59_000);
  assert.equal(location.lookup(AOR).length, 2);
  const q = send({ callId: 'c', contacts: [] });
  assert.deepEqual(grants(q), new Map([['sip:alice@192.168.1.20:5060', 1], ['sip:alice@192.168.1.30', 61]]));
  clock.advance(1_000);
  assert.deepEqual(location.lookup(AOR).map((b) => b.contact.uri.host), ['192.168.1.30']);
  // The periodic sweep (every 30 s) drops the second one without anybody looking it up.
  assert.equal(location.bindingCount, 1);
  clock.advance(61_000);
  assert.equal(location.bindingCount, 0);
  assert.equal(location.aorCount, 0);
});

test('same Call-ID with a CSeq not higher than the stored one → 500, binding unchanged', () => {
  const { send, location } = setup();
  send({ cseq: 100, expires: 3600 });
  const res = send({ cseq: 100, expires: 120 });
  assert.equal(res.status, 500);
  assert.equal(send({ cseq: 99, expires: 120 }).status, 500);
  const b = location.lookup(AOR);
  assert.equal(b.length, 1);
  assert.equal(b[0]!.cseq, 100);
  assert.equal(b[0]!.expiresAt, 5_000 + 3_600_000);
  // A different Call-ID (the UA rebooted) may update it with any CSeq.
  assert.equal(send({ callId: 'rebooted', cseq: 1, expires: 120 }).status, 200);
  assert.equal(location.lookup(AOR)[0]!.callId, 'rebooted');
});

test('a REGISTER without Contact is a query: 200 with the current bindings, nothing changed', () => {
  const { send, location } = setup();
  assert.deepEqual(contactsOf(send({ contacts: [] })), []);
  send({ contacts: ['<sip:alice@192.168.1.20>', '<sip:alice@192.168.1.21>;q=0.3'] });
  const res = send({ cseq: 1900, contacts: [] });
  assert.equal(res.status, 200);
  assert.equal(contactsOf(res).length, 2);
  assert.equal(location.lookup(AOR).length, 2);
});

test('Path (RFC 3327): stored always, echoed in the 200 only with Supported: path', () => {
  const { send, location } = setup();
  const path = ['Path: <sip:edge1.example.net;lr>', 'Path: <sip:edge2.example.net;lr>'];
  const res = send({ extra: [...path, 'Supported: replaces, path'] });
  assert.equal(res.status, 200);
  assert.deepEqual(res.getAll('path'), ['<sip:edge1.example.net;lr>', '<sip:edge2.example.net;lr>']);
  assert.deepEqual(location.lookup(AOR)[0]!.path, ['<sip:edge1.example.net;lr>', '<sip:edge2.example.net;lr>']);
  const res2 = send({ cseq: 1900, extra: path });
  assert.deepEqual(res2.getAll('path'), []);
  assert.equal(location.lookup(AOR)[0]!.path.length, 2);
});

test('domain and identity checks: 404 for foreign domains, 403 for another user, 420 for unknown Require', () => {
  const { send, location } = setup();
  assert.equal(send({ ruri: 'sip:elsewhere.example' }).status, 404);
  assert.equal(send({ to: '<sip:alice@elsewhere.example>' }).status, 404);
  assert.equal(send({}, 'bob').status, 403);
  const r420 = send({ extra: ['Require: path, foo'] });
  assert.equal(r420.status, 420);
  assert.equal(r420.get('unsupported'), 'foo');
  assert.equal(location.aorCount, 0);
  assert.equal(send({}, 'alice').status, 200);
  // Our own IP in the Request-URI and To is the same domain and AOR.
  assert.equal(send({ ruri: 'sip:192.0.2.1', to: '<sip:alice@192.0.2.1>', cseq: 1900 }).status, 200);
  assert.equal(location.lookup(AOR).length, 1);
});

test('expiry sources: contact param, else Expires header, else 3600; malformed or huge → default; capped at 7200', () => {
  const { send } = setup();
  const g = grants(
    send({
      expires: 1800,
      contacts: [
        '<sip:alice@192.168.1.1>;expires=120',
        '<sip:alice@192.168.1.2>',
        '<sip:alice@192.168.1.3>;expires=99999',
        '<sip:alice@192.168.1.4>;expires=4294967296',
        '<sip:alice@192.168.1.5>;expires=soon',
      ],
    }),
  );
  assert.deepEqual(
    [...g],
    [
      ['sip:alice@192.168.1.1', 120],
      ['sip:alice@192.168.1.2', 1800],
      ['sip:alice@192.168.1.3', 7200],
      ['sip:alice@192.168.1.4', 1800],
      ['sip:alice@192.168.1.5', 1800],
    ],
  );
  const { send: send2 } = setup();
  assert.deepEqual([...grants(send2({ expires: 'tomorrow' })).values()], [3600]);
  const { send: send3 } = setup();
  assert.deepEqual([...grants(send3({ expires: '1'.padEnd(40, '0') })).values()], [3600]);
});

test('an invalid q value → 400', () => {
  const { send, location } = setup();
  assert.equal(send({ contacts: ['<sip:alice@192.168.1.20>;q=1.5'] }).status, 400);
  assert.equal(send({ contacts: ['<sip:alice@192.168.1.20>;q=high'] }).status, 400);
  assert.equal(location.aorCount, 0);
});

test('at the per-AOR cap the least recently refreshed binding is replaced', () => {
  const { send, location, clock } = setup({ maxBindingsPerAor: 2 });
  send({ callId: 'a', contacts: ['<sip:alice@192.168.1.1>'] });
  clock.advance(1_000);
  send({ callId: 'b', contacts: ['<sip:alice@192.168.1.2>'] });
  clock.advance(1_000);
  send({ callId: 'a', cseq: 1827, contacts: ['<sip:alice@192.168.1.1>'] }); // refresh: now .2 is the oldest
  clock.advance(1_000);
  const res = send({ callId: 'c', contacts: ['<sip:alice@192.168.1.3>'] });
  assert.equal(res.status, 200);
  assert.deepEqual([...grants(res).keys()].sort(), ['sip:alice@192.168.1.1', 'sip:alice@192.168.1.3']);
  assert.equal(location.lookup(AOR).length, 2);
});

test('the same +sip.instance and reg-id from a new address replaces the old binding (RFC 5626 §6)', () => {
  const { send, location } = setup();
  const inst = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1';
  send({ contacts: [`<sip:alice@192.168.1.20:5060;transport=udp>${inst}`] });
  const res = send({ callId: 'after-reboot', cseq: 1, contacts: [`<sip:alice@192.168.1.20:34567;transport=udp>${inst}`] });
  assert.equal(res.status, 200);
  const b = location.lookup(AOR);
  assert.equal(b.length, 1);
  assert.equal(b[0]!.contact.uri.port, 34567);
  assert.equal(b[0]!.instanceId, '<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>');
  assert.equal(b[0]!.regId, 1);
  assert.match(res.get('contact') ?? '', /;\+sip\.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1;expires=3600$/);
});

test('the AOR is canonical: To display name, URI parameters and host case do not matter', () => {
  const { send, location } = setup();
  send({ to: '"Alice A." <sip:alice@SIPMEET.test;user=phone>' });
  assert.equal(location.lookup(AOR).length, 1);
  assert.equal(location.aorCount, 1);
});

test('a To that is not a SIP URI, or has no user, → 400', () => {
  const { send } = setup();
  assert.equal(send({ to: '<tel:+15551234567>' }).status, 400);
  assert.equal(send({ to: '<sip:sipmeet.test>' }).status, 400);
});

test('change events report the AOR and its live bindings', () => {
  const { send, location, clock } = setup();
  const seen: Array<[string, number]> = [];
  location.on('change', (aor: string, list: readonly unknown[]) => seen.push([aor, list.length]));
  send({ expires: 60 });
  clock.advance(90_000); // the binding lapses at 65 s; the sweep (every 30 s from 5 s) drops it at 65 s
  assert.deepEqual(seen, [[AOR, 1], [AOR, 0]]);
});
