/**
 * The GUI's local HTTP server without a browser: what it serves (the bundle, with a CSP), whom it refuses (another
 * Host, another Origin, a non-JSON POST), the event stream's first events, the lobby's meeting list from the
 * server's HTTP API, and the readable failures of a join (not a meeting address; server unreachable → back in the
 * lobby with a notice).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../registrar/log.ts';
import { type RunningGui, startGui } from '../../softclient/gui/gui-command.ts';
import type { GuiState } from '../../softclient/gui/protocol.ts';
import { parseGuiArgs } from '../../softclient/gui/settings.ts';
import { freePortBlock } from '../interop/ports.ts';
import { startTestServer, type TestServer } from '../softclient/helpers.ts';
import { until } from './harness.ts';

let srv: TestServer;
let gui: RunningGui;
before(async () => {
  const base = await freePortBlock(20);
  srv = await startTestServer(`${base}-${base + 19}`);
  gui = await startGui(parseGuiArgs(['--server', srv.hostPort, '--api', srv.api, '--name', 'Eve Example', '--no-open']), silentLogger());
});
after(async () => {
  await gui.close();
  await srv.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(path, gui.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const post = (path: string, body: object, headers: Record<string, string> = {}) =>
  call('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

async function state(): Promise<GuiState> {
  return JSON.parse((await call('GET', '/api/state')).body) as GuiState;
}

test('serves the bundle on 127.0.0.1 with a content security policy, nothing else', async () => {
  assert.match(gui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await call('GET', '/');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /text\/html/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  assert.match(page.body, /<script type="module" src="\/app.js">/);
  assert.equal((await call('GET', '/app.js')).status, 200);
  assert.equal((await call('GET', '/app.css')).status, 200);
  assert.equal((await call('GET', '/../package.json')).status, 404);
  assert.equal((await call('GET', '/bundle.ts')).status, 404);
});

test('refuses other hosts (DNS rebinding), other origins and non-JSON commands', async () => {
  assert.equal((await call('GET', '/api/state', { headers: { host: 'evil.example:80' } })).status, 403);
  assert.equal((await post('/api/chat', { text: 'x' }, { origin: 'http://evil.example' })).status, 403);
  const form = await call('POST', '/api/join', { body: 'target=conf-1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 415);
  assert.equal((await state()).phase, 'lobby', 'nothing happened');
});

test('the event stream starts with the state and the meeting list; the list shows a meeting and its people', async () => {
  const created = await fetch(`${srv.api}/api/conferences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'conf-lobby', creator: 'sip:host@127.0.0.1' }) });
  assert.equal(created.status, 201);
  const events: Array<{ name: string; data: unknown }> = [];
  const ac = new AbortController();
  const res = await fetch(new URL('/api/events', gui.url), { signal: ac.signal });
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  try {
    await until(async () => {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
      for (const block of text.split('\n\n')) {
        const name = /^event: (\w+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data && !events.some((e) => e.data === data)) events.push({ name, data: JSON.parse(data) as unknown });
      }
      const lists = events.filter((e) => e.name === 'meetings').map((e) => e.data as { meetings: Array<{ id: string; participants: number; creator: string }> });
      return lists.some((l) => l.meetings.some((m) => m.id === 'conf-lobby'));
    }, 6000, 'the meeting in the lobby list');
  } finally {
    ac.abort();
  }
  assert.equal(events[0]!.name, 'state');
  const s = events[0]!.data as GuiState;
  assert.deepEqual([s.phase, s.name, s.aor, s.server], ['lobby', 'Eve Example', 'sip:eve-example@127.0.0.1', srv.hostPort]);
  const list = events.filter((e) => e.name === 'meetings').at(-1)!.data as { meetings: Array<{ id: string; participants: number; uri: string }> };
  const m = list.meetings.find((x) => x.id === 'conf-lobby')!;
  assert.equal(m.participants, 0);
  assert.equal(m.uri, srv.uri('conf-lobby'));
});

test('join: a bad address is refused at once; an unreachable server sends the page back to the lobby with a notice', async () => {
  const bad = await post('/api/join', { target: 'not a meeting!' });
  assert.equal(bad.status, 409);
  assert.match(JSON.parse(bad.body).error, /not a meeting/);

  const closed = await freePortBlock(2, { tcp: true });
  assert.equal((await post('/api/settings', { server: `127.0.0.1:${closed}` })).status, 200);
  assert.equal((await post('/api/join', { target: 'conf-nowhere' })).status, 200);
  const s = await until(async () => {
    const x = await state();
    return x.phase === 'lobby' && x.notice ? x : undefined;
  }, 10_000, 'back in the lobby with a notice');
  assert.equal(s.notice!.kind, 'unreachable');
  assert.match(s.notice!.text, new RegExp(`127\\.0\\.0\\.1:${closed}`));
  assert.equal((await post('/api/settings', { server: srv.hostPort })).status, 200);
  assert.equal((await post('/api/settings', { name: '' })).status, 409, 'an empty name is refused');
});
