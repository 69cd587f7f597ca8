import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { LocationService } from '../../registrar/location/bindings.ts';
import { Registrar } from '../../registrar/location/registrar.ts';
import { isPrivateAddress, routeTargets } from '../../registrar/location/route.ts';
import type { Source } from '../../registrar/sip/transport/types.ts';
import { SOURCE, register } from './helpers.ts';

const AOR = 'sip:alice@sipmeet.test';

function targetsAfter(contact: string, source: Source, extra: string[] = []) {
  const clock = new ManualClock();
  const location = new LocationService({ clock, sweepIntervalMs: 0 });
  const registrar = new Registrar({ location, clock, domain: 'sipmeet.test' });
  const res = registrar.handleRegister(register({ contacts: [contact], extra }), { source });
  assert.equal(res.status, 200);
  return routeTargets(location.lookup(AOR));
}

test('a Contact with a private address behind a NAT is reached at the source it registered from', () => {
  const [t] = targetsAfter('<sip:alice@192.168.1.20:5060>', SOURCE);
  assert.equal(t!.requestUri, 'sip:alice@192.168.1.20:5060');
  assert.equal(t!.natted, true);
  assert.deepEqual(t!.destination, { protocol: 'udp', address: '198.51.100.7', port: 40312 });
  assert.deepEqual(t!.route, []);
});

test('a NAT that rewrote only the port is detected too', () => {
  const [t] = targetsAfter('<sip:alice@198.51.100.7:5060>', SOURCE);
  assert.equal(t!.natted, true);
  assert.equal(t!.destination?.port, 40312);
});

test('a Contact equal to its source address (no NAT) is used as it is', () => {
  const [t] = targetsAfter('<sip:alice@198.51.100.7:40312>', SOURCE);
  assert.equal(t!.natted, false);
  assert.equal(t!.destination, undefined);
  const [d] = targetsAfter('<sip:alice@pc.example.org>', SOURCE);
  assert.equal(d!.destination, undefined, 'a DNS name is resolved normally');
});

test('an IPv4 peer seen on a dual-stack socket (::ffff:a.b.c.d) matches its IPv4 Contact', () => {
  const [t] = targetsAfter('<sip:alice@198.51.100.7:40312>', { ...SOURCE, address: '::ffff:198.51.100.7' });
  assert.equal(t!.natted, false);
  assert.equal(t!.destination, undefined);
});

test('over TCP the request goes back on the registering connection', () => {
  const tcp: Source = { ...SOURCE, protocol: 'tcp', connectionId: 17 };
  const [t] = targetsAfter('<sip:alice@198.51.100.7:40312;transport=tcp>', tcp);
  assert.deepEqual(t!.destination, { protocol: 'tcp', address: '198.51.100.7', port: 40312, connectionId: 17 });
});

test('a .invalid Contact (WebSocket client) is reached at its source', () => {
  const [t] = targetsAfter('<sip:x8s7d@df7jal23ls0d.invalid;transport=ws>', SOURCE);
  assert.equal(t!.destination?.address, '198.51.100.7');
});

test('with a Path the request goes through it (preloaded Route), not straight to the source', () => {
  const [t] = targetsAfter('<sip:alice@192.168.1.20:5060>', SOURCE, ['Path: <sip:edge.example.net;lr>']);
  assert.deepEqual(t!.route, ['<sip:edge.example.net;lr>']);
  assert.equal(t!.destination, undefined);
});

test('non-SIP contacts are not routing targets', () => {
  assert.deepEqual(targetsAfter('<mailto:alice@example.org>', SOURCE), []);
});

test('isPrivateAddress', () => {
  for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '100.64.0.1', '127.0.0.1', '169.254.1.1', 'fd00::1', '[fe80::1]', '::1']) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['8.8.8.8', '172.32.0.1', '198.51.100.7', '2001:db8::1', 'example.com']) {
    assert.equal(isPrivateAddress(a), false, a);
  }
});
