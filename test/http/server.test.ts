/**
 * The HTTP API on 127.0.0.1 (port 0) against a fake focus: every route and status, the JSON shapes, Basic auth on
 * and off, bad bodies, 405/404/413, /healthz, /metrics, bind errors.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { CancelOutcome, CreateOutcome, FocusApi } from '../../registrar/focus/api.ts';
import type { MeetingView } from '../../registrar/focus/views.ts';
import { silentLogger } from '../../registrar/log.ts';
import { Metrics } from '../../registrar/http/metrics.ts';
import { startHttpServer, type HttpServerHandle } from '../../registrar/http/server.ts';
import { usersBasicAuth } from '../../registrar/http/basic-auth.ts';
import { MapUserDirectory } from '../../registrar/sip/auth/users.ts';
import { computeHa1 } from '../../registrar/sip/auth/hash.ts';

/** The collaborator: just enough of a focus to answer the API (meeting ids like conf-42). */
class FakeFocus implements FocusApi {
  readonly meetings = new Map<string, MeetingView>();
  readonly ended = new Set<string>();
  failList = false;
  private next = 1;

  onRosterChange(): void {}
  async list(): Promise<MeetingView[]> {
    if (this.failList) throw new Error('boom');
    return [...this.meetings.values()];
  }
  async get(id: string): Promise<MeetingView | undefined> {
    return this.meetings.get(id);
  }
  create(opts: { id?: string; creator: { aor: string; displayName?: string } }): CreateOutcome {
    const id = opts.id ?? `conf-${this.next++}`;
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) return { ok: false, status: 400, reason: `bad meeting id ${id}` };
    if (this.ended.has(id)) return { ok: false, status: 410, reason: `meeting ${id} has ended` };
    if (this.meetings.has(id)) return { ok: false, status: 409, reason: `meeting ${id} exists` };
    const meeting: MeetingView = {
      id, uri: `sip:${id}@example.com`,
      creator: { aor: opts.creator.aor, displayName: opts.creator.displayName ?? '' },
      createdAt: '2026-01-01T00:00:00.000Z', state: 'waiting', mode: 'cs', p2p: 'off', switches: [], participants: [],
    };
    this.meetings.set(id, meeting);
    return { ok: true, meeting };
  }
  setP2pPolicy(id: string, policy: 'auto' | 'off'): boolean {
    const m = this.meetings.get(id);
    if (!m) return false;
    this.meetings.set(id, { ...m, p2p: policy });
    return true;
  }
  async cancel(id: string, by: { aor: string }): Promise<CancelOutcome> {
    if (this.ended.has(id)) return 'already-ended';
    const m = this.meetings.get(id);
    if (!m) return 'not-found';
    if (m.creator.aor !== by.aor) return 'forbidden';
    this.meetings.delete(id);
    this.ended.add(id);
    return 'ended';
  }
  counters() {
    return { meetings: this.meetings.size, participants: 5, meetingsCreated: 7, meetingsEnded: this.ended.size, chatMessages: 11 };
  }
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One HTTP exchange on a fresh connection (so a server closing after 413 cannot disturb the next test). */
function call(port: number, method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string>; chunks?: Buffer[] } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    // Content-Length set explicitly: node's client sends a DELETE body without any framing otherwise.
    const headers = { ...opts.headers, ...(opts.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}) };
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}

const jsonHeaders = { 'Content-Type': 'application/json' };
const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('HTTP API without auth (the caller is trusted)', () => {
  const focus = new FakeFocus();
  const metrics = new Metrics({ focus });
  let server: HttpServerHandle;
  before(async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, focus, metrics, logger: silentLogger() });
  });
  after(() => server.close());

  test('GET /healthz → 200 {"status":"ok"}', async () => {
    const r = await call(server.port, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.deepEqual(r.json, { status: 'ok' });
  });

  test('POST creates a meeting: 201, Location, the MeetingView; the list and GET by id show it', async () => {
    const r = await call(server.port, 'POST', '/api/conferences', {
      headers: jsonHeaders, body: JSON.stringify({ id: 'conf-7', creator: 'sip:alice@example.com', displayName: 'Alice' }),
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers['location'], '/api/conferences/conf-7');
    assert.equal(r.json.id, 'conf-7');
    assert.equal(r.json.uri, 'sip:conf-7@example.com');
    assert.deepEqual(r.json.creator, { aor: 'sip:alice@example.com', displayName: 'Alice' });
    assert.equal(r.json.mode, 'cs');
    assert.deepEqual(r.json.participants, []);

    const all = await call(server.port, 'GET', '/api/conferences');
    assert.equal(all.status, 200);
    assert.ok(Array.isArray(all.json));
    assert.deepEqual(all.json.map((m: MeetingView) => m.id), ['conf-7']);

    const one = await call(server.port, 'GET', '/api/conferences/conf-7');
    assert.equal(one.status, 200);
    assert.equal(one.json.creator.aor, 'sip:alice@example.com');
    const slash = await call(server.port, 'GET', '/api/conferences/conf-7/');
    assert.equal(slash.status, 200);
  });

  test('POST without an id: the focus picks one', async () => {
    const r = await call(server.port, 'POST', '/api/conferences', { body: JSON.stringify({ creator: 'sip:bob@example.com' }) });
    assert.equal(r.status, 201);
    assert.match(r.json.id, /^conf-\d+$/);
    assert.equal(r.headers['location'], `/api/conferences/${r.json.id}`);
  });

  test("POST: the focus's refusals keep their status (400 bad id, 409 exists, 410 ended)", async () => {
    const bad = await call(server.port, 'POST', '/api/conferences', { body: JSON.stringify({ id: 'Bad Id!', creator: 'sip:a@x' }) });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /bad meeting id/);
    const dup = await call(server.port, 'POST', '/api/conferences', { body: JSON.stringify({ id: 'conf-7', creator: 'sip:a@x' }) });
    assert.equal(dup.status, 409);
    assert.match(dup.json.error, /exists/);
    focus.ended.add('conf-gone');
    const gone = await call(server.port, 'POST', '/api/conferences', { body: JSON.stringify({ id: 'conf-gone', creator: 'sip:a@x' }) });
    assert.equal(gone.status, 410);
    assert.match(gone.json.error, /ended/);
  });

  test('POST: missing or non-SIP creator, non-string fields, bad JSON, non-object JSON → 400', async () => {
    const cases: Array<[string, RegExp]> = [
      ['', /creator is required/],
      ['{}', /creator is required/],
      [JSON.stringify({ creator: 'alice' }), /SIP address/],
      [JSON.stringify({ creator: 'http://example.com/' }), /SIP address/],
      [JSON.stringify({ creator: 'sip:a@x', id: 42 }), /id must be a string/],
      [JSON.stringify({ creator: 'sip:a@x', displayName: ['x'] }), /displayName must be a string/],
      ['{"creator": "sip:a@x",', /not valid JSON/],
      ['[1,2]', /JSON object/],
    ];
    for (const [body, error] of cases) {
      const r = await call(server.port, 'POST', '/api/conferences', { headers: jsonHeaders, body });
      assert.equal(r.status, 400, body);
      assert.match(r.json.error, error, body);
    }
    assert.equal(focus.meetings.size, 2, 'nothing was created by a bad request');
  });

  test('POST bodies over 64 KiB → 413, declared or chunked; the server carries on', async () => {
    const big = Buffer.alloc(64 * 1024 + 1, 0x20);
    const declared = await call(server.port, 'POST', '/api/conferences', { body: big, headers: jsonHeaders });
    assert.equal(declared.status, 413);
    assert.match(declared.json.error, /larger than 65536 bytes/);
    const chunked = await call(server.port, 'POST', '/api/conferences', { chunks: [big.subarray(0, 40000), big.subarray(40000)] });
    assert.equal(chunked.status, 413);
    const exact = await call(server.port, 'POST', '/api/conferences', {
      body: Buffer.concat([Buffer.from(JSON.stringify({ creator: 'sip:c@x' })), Buffer.alloc(64 * 1024 - 30, 0x20)]),
    });
    assert.equal(exact.status, 201, 'a body of at most 64 KiB is read');
    assert.equal((await call(server.port, 'GET', '/healthz')).status, 200);
  });

  test('GET /api/conferences/:id of an unknown meeting → 404 JSON; bad %-encoding → 400', async () => {
    const r = await call(server.port, 'GET', '/api/conferences/conf-999');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { error: 'no meeting conf-999' });
    const bad = await call(server.port, 'GET', '/api/conferences/%E0%A4');
    assert.equal(bad.status, 400);
  });

  test('DELETE: 403 for someone else, 204 for the creator (query or body), then 410; 404 unknown; 400 no caller', async () => {
    await call(server.port, 'POST', '/api/conferences', { body: JSON.stringify({ id: 'conf-del', creator: 'sip:carol@example.com' }) });
    const other = await call(server.port, 'DELETE', `/api/conferences/conf-del?creator=${encodeURIComponent('sip:mallory@example.com')}`);
    assert.equal(other.status, 403);
    assert.match(other.json.error, /only the creator/);
    const none = await call(server.port, 'DELETE', '/api/conferences/conf-del');
    assert.equal(none.status, 400);
    assert.match(none.json.error, /creator is required/);
    const ok = await call(server.port, 'DELETE', `/api/conferences/conf-del?creator=${encodeURIComponent('sip:carol@example.com')}`);
    assert.equal(ok.status, 204);
    assert.equal(ok.text, '');
    const again = await call(server.port, 'DELETE', '/api/conferences/conf-del', { body: JSON.stringify({ creator: 'sip:carol@example.com' }) });
    assert.equal(again.status, 410);
    const unknown = await call(server.port, 'DELETE', '/api/conferences/conf-nope?creator=sip:a@x');
    assert.equal(unknown.status, 404);

    await call(server.port, 'POST', '/api/conferences', { body: JSON.stringify({ id: 'conf-del2', creator: 'sip:carol@example.com' }) });
    const byBody = await call(server.port, 'DELETE', '/api/conferences/conf-del2', { headers: jsonHeaders, body: JSON.stringify({ creator: 'sip:carol@example.com' }) });
    assert.equal(byBody.status, 204);
    assert.equal((await call(server.port, 'GET', '/api/conferences/conf-del2')).status, 404);
  });

  test('unknown routes → 404, wrong methods → 405 with Allow, malformed requests → 400', async () => {
    const nf = await call(server.port, 'GET', '/api/nothing');
    assert.equal(nf.status, 404);
    assert.match(nf.json.error, /no such resource/);
    const put = await call(server.port, 'PUT', '/api/conferences', { body: '{}' });
    assert.equal(put.status, 405);
    assert.equal(put.headers['allow'], 'GET, HEAD, POST');
    const del = await call(server.port, 'DELETE', '/healthz');
    assert.equal(del.status, 405);
    assert.equal(del.headers['allow'], 'GET, HEAD');
    const post = await call(server.port, 'POST', '/api/conferences/conf-7');
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD, DELETE, PATCH');
    const head = await call(server.port, 'HEAD', '/healthz');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = connect(server.port, '127.0.0.1', () => sock.write('NOT HTTP AT ALL\r\n\r\n'));
      let got = '';
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /\{"error":"malformed HTTP request"\}/);
  });

  test('a focus that throws → 500 JSON, and the server keeps serving', async () => {
    focus.failList = true;
    try {
      const r = await call(server.port, 'GET', '/api/conferences');
      assert.equal(r.status, 500);
      assert.deepEqual(r.json, { error: 'internal error' });
    } finally {
      focus.failList = false;
    }
    assert.equal((await call(server.port, 'GET', '/api/conferences')).status, 200);
  });

  test('GET /metrics: Prometheus text with the focus gauges, SIP counters (bounded labels), media packets, process metrics', async () => {
    metrics.countRequest('INVITE');
    metrics.countRequest('INVITE');
    metrics.countRequest('XYZZY');
    metrics.countResponse('INVITE', 200);
    metrics.countResponse('INVITE', 486);
    metrics.countResponse('INVITE', 499);
    metrics.countResponse('BOGUS', 1000);
    metrics.setMediaCollector(() => ({ packetsIn: 1234, packetsOut: 4321 }));
    const r = await call(server.port, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const t = r.text;
    const c = focus.counters();
    assert.match(t, new RegExp(`^sipmeet_meetings ${c.meetings}$`, 'm'));
    assert.match(t, /^sipmeet_participants 5$/m);
    assert.match(t, /^sipmeet_meetings_created_total 7$/m);
    assert.match(t, new RegExp(`^sipmeet_meetings_ended_total ${c.meetingsEnded}$`, 'm'));
    assert.match(t, /^sipmeet_chat_messages_total 11$/m);
    assert.match(t, /^sipmeet_sip_requests_total\{method="INVITE"\} 2$/m);
    assert.match(t, /^sipmeet_sip_requests_total\{method="other"\} 1$/m);
    assert.doesNotMatch(t, /XYZZY/);
    assert.match(t, /^sipmeet_sip_responses_total\{method="INVITE",status="200"\} 1$/m);
    assert.match(t, /^sipmeet_sip_responses_total\{method="INVITE",status="486"\} 1$/m);
    assert.match(t, /^sipmeet_sip_responses_total\{method="INVITE",status="4xx"\} 1$/m);
    assert.match(t, /^sipmeet_sip_responses_total\{method="other",status="other"\} 1$/m);
    assert.match(t, /^sipmeet_media_packets_total\{direction="in"\} 1234$/m);
    assert.match(t, /^sipmeet_media_packets_total\{direction="out"\} 4321$/m);
    assert.match(t, /^sipmeet_process_cpu_user_seconds_total \d/m);
    assert.match(t, /^sipmeet_nodejs_heap_size_used_bytes \d/m);
  });
});

describe('HTTP API with a users file (Basic auth on mutations)', () => {
  const focus = new FakeFocus();
  const users = new MapUserDirectory({ alice: 'wonder land', bob: 'builder' });
  let server: HttpServerHandle;
  before(async () => {
    server = await startHttpServer({
      host: '127.0.0.1', port: 0, focus, metrics: new Metrics({ focus, defaultMetrics: false }), logger: silentLogger(),
      auth: { domain: 'example.com', ...usersBasicAuth(users, 'sipmeet') },
    });
  });
  after(() => server.close());

  test('POST without credentials or with a wrong password → 401 with the Basic challenge; nothing created', async () => {
    const none = await call(server.port, 'POST', '/api/conferences', { body: JSON.stringify({ creator: 'sip:alice@example.com' }) });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="sipmeet"');
    assert.match(none.json.error, /authentication required/);
    const wrong = await call(server.port, 'POST', '/api/conferences', { headers: basic('alice', 'nope'), body: '{}' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['www-authenticate'], 'Basic realm="sipmeet"');
    const stranger = await call(server.port, 'POST', '/api/conferences', { headers: basic('eve', 'x'), body: '{}' });
    assert.equal(stranger.status, 401);
    const garbage = await call(server.port, 'POST', '/api/conferences', { headers: { Authorization: 'Basic !!!' }, body: '{}' });
    assert.equal(garbage.status, 401);
    assert.equal(focus.meetings.size, 0);
  });

  test('POST with Basic auth: the creator is sip:<user>@<domain>, the body creator is ignored', async () => {
    const r = await call(server.port, 'POST', '/api/conferences', {
      headers: basic('alice', 'wonder land'), body: JSON.stringify({ id: 'conf-a', creator: 'sip:mallory@evil.example' }),
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.json.creator, { aor: 'sip:alice@example.com', displayName: 'alice' });
    const named = await call(server.port, 'POST', '/api/conferences', { headers: basic('bob', 'builder'), body: JSON.stringify({ displayName: 'Bob B.' }) });
    assert.equal(named.status, 201);
    assert.deepEqual(named.json.creator, { aor: 'sip:bob@example.com', displayName: 'Bob B.' });
  });

  test('reads need no credentials', async () => {
    const r = await call(server.port, 'GET', '/api/conferences');
    assert.equal(r.status, 200);
    assert.ok(r.json.some((m: MeetingView) => m.id === 'conf-a'));
    assert.equal((await call(server.port, 'GET', '/api/conferences/conf-a')).status, 200);
  });

  test('DELETE: 401 unauthenticated (a claimed creator does not count), 403 for bob, 204 for alice', async () => {
    const claim = await call(server.port, 'DELETE', `/api/conferences/conf-a?creator=${encodeURIComponent('sip:alice@example.com')}`);
    assert.equal(claim.status, 401);
    assert.equal(claim.headers['www-authenticate'], 'Basic realm="sipmeet"');
    const bob = await call(server.port, 'DELETE', '/api/conferences/conf-a', { headers: basic('bob', 'builder') });
    assert.equal(bob.status, 403);
    const alice = await call(server.port, 'DELETE', '/api/conferences/conf-a', { headers: basic('alice', 'wonder land') });
    assert.equal(alice.status, 204);
    assert.equal((await call(server.port, 'DELETE', '/api/conferences/conf-a', { headers: basic('alice', 'wonder land') })).status, 410);
  });
});

test('usersBasicAuth: cleartext passwords and HA1-only users (checked by hashing for the realm)', () => {
  const users = new MapUserDirectory({
    alice: { password: 'secret:with:colons' },
    carol: { ha1: { 'SHA-256': computeHa1('SHA-256', 'carol', 'sipmeet', 'secret') } },
    dave: { ha1: { MD5: computeHa1('MD5', 'dave', 'sipmeet', 'pw').toUpperCase() } },
  });
  const auth = usersBasicAuth(users, 'sipmeet');
  assert.equal(auth.check('alice', 'secret:with:colons'), true);
  assert.equal(auth.check('alice', 'secret'), false);
  assert.equal(auth.check('carol', 'secret'), true);
  assert.equal(auth.check('carol', 'Secret'), false);
  assert.equal(auth.check('dave', 'pw'), true);
  assert.equal(auth.check('nobody', 'pw'), false);
});

test('a port already in use → rejects with one line naming the port and host', async () => {
  const focus = new FakeFocus();
  const metrics = new Metrics({ focus, defaultMetrics: false });
  const first = await startHttpServer({ host: '127.0.0.1', port: 0, focus, metrics, logger: silentLogger() });
  try {
    await assert.rejects(
      startHttpServer({ host: '127.0.0.1', port: first.port, focus, metrics, logger: silentLogger() }),
      { message: `HTTP port ${first.port} is already in use on 127.0.0.1` },
    );
  } finally {
    await first.close();
  }
});

test('PATCH /api/conferences/:id sets the peer-to-peer policy; bad values are 400, unknown meetings 404', async () => {
  const focus = new FakeFocus();
  focus.create({ id: 'conf-9', creator: { aor: 'sip:a@example.com' } });
  const srv = await startHttpServer({ host: '127.0.0.1', port: 0, focus, metrics: new Metrics({ focus, defaultMetrics: false }), logger: silentLogger() });
  try {
    const url = `http://127.0.0.1:${srv.port}/api/conferences`;
    const ok = await fetch(`${url}/conf-9`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"p2p":"auto"}' });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { p2p: string }).p2p, 'auto');
    const bad = await fetch(`${url}/conf-9`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"p2p":"sometimes"}' });
    assert.equal(bad.status, 400);
    const none = await fetch(`${url}/conf-404`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"p2p":"off"}' });
    assert.equal(none.status, 404);
  } finally {
    await srv.close();
  }
});
