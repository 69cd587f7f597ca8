/**
 * Deterministic mutation fuzzing of parseMessage: thousands of byte-level mutations of every vector (RFC 4475,
 * RFC 5118, peers) with a seeded PRNG. For every input: no throw (and no internal throw caught by the guard);
 * whatever comes back is usable — accessors, Contact/Route parsing, createResponse and serialize work, and an
 * accepted message survives serialize → parse. Crashers found are kept in test/vectors/fuzz/ and replayed here.
 *
 * More iterations: FUZZ_ITERATIONS=200000 node --import tsx --test test/message/fuzz.test.ts
 * (FUZZ_SAVE=1 writes new crashers into test/vectors/fuzz/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  createResponse,
  parseMessage,
  parserStats,
  serialize,
  type ParseResult,
  type SipMessage,
} from '../../registrar/sip/message/index.ts';

const vectors = new URL('../vectors/', import.meta.url);
const corpus: Buffer[] = [];
for (const sub of ['rfc4475', 'rfc5118', 'peers']) {
  const dir = new URL(`${sub}/`, vectors);
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.sip') || f.endsWith('.txt')) corpus.push(readFileSync(new URL(f, dir)));
  }
}
const fuzzDir = new URL('fuzz/', vectors);
const crashers = readdirSync(fuzzDir).filter((f) => f.endsWith('.bin')).sort();

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes that matter to the grammar, so mutations hit separators rather than letters. */
const SPECIAL = Buffer.from(' \t\r\n:;,<>"\\%[]@?=/0123456789\x00\xff\xc3');

function mutate(src: Buffer, rnd: () => number): Buffer {
  const pick = (n: number) => Math.floor(rnd() * n);
  let b = Buffer.from(src);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length + 1);
    switch (pick(7)) {
      case 0: // overwrite one byte with a grammar byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = SPECIAL[pick(SPECIAL.length)]!;
        break;
      case 1: // insert grammar bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from([SPECIAL[pick(SPECIAL.length)]!, SPECIAL[pick(SPECIAL.length)]!]), b.subarray(at)]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(20)))]);
        break;
      case 3: // duplicate a range (repeated headers, doubled separators)
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + pick(60)), b.subarray(at)]);
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: // random byte anywhere
        if (b.length > 0) b[Math.min(at, b.length - 1)] = pick(256);
        break;
      default: {
        // swap two lines
        const text = b.toString('latin1').split('\r\n');
        const i = pick(text.length);
        const j = pick(text.length);
        [text[i], text[j]] = [text[j]!, text[i]!];
        b = Buffer.from(text.join('\r\n'), 'latin1');
      }
    }
  }
  return b;
}

/** Use everything a caller might use; none of it may throw. */
function exercise(m: SipMessage): void {
  void m.via.length;
  void m.from.uri.host;
  void m.to.params;
  void [m.fromTag, m.toTag, m.callId, m.cseq.seq, m.contentLength, m.contentType];
  m.contacts();
  m.nameAddrs('route');
  m.nameAddrs('record-route');
  m.expires();
  for (const h of m.headers) m.getAll(h.name);
  if (m.kind === 'request') {
    void m.maxForwards;
    serialize(createResponse(m, 400, 'Bad Request', { toTag: 'fz' }));
    m.edit({ topVia: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfz;received=192.0.2.2' });
  }
  serialize(m);
}

function check(input: Buffer, label: string): ParseResult {
  const before = parserStats.unexpectedThrows;
  let r: ParseResult;
  try {
    r = parseMessage(input);
    parseMessage(input, { stream: true });
    if (r.ok) exercise(r.message);
    else if (r.request) exercise(r.request);
    if (r.ok) {
      const again = parseMessage(serialize(r.message));
      assert.ok(again.ok, `${label}: accepted message does not survive serialize → parse (${again.ok ? '' : again.error})`);
    }
  } catch (e) {
    if (process.env.FUZZ_SAVE) writeFileSync(new URL(`crash-${Date.now()}.bin`, fuzzDir), input);
    throw e;
  }
  if (parserStats.unexpectedThrows !== before && process.env.FUZZ_SAVE) {
    writeFileSync(new URL(`crash-${Date.now()}.bin`, fuzzDir), input);
  }
  assert.equal(parserStats.unexpectedThrows, before, `${label}: the parser threw internally`);
  return r;
}

test('fuzz corpus: every vector is present', () => {
  assert.ok(corpus.length >= 49 + 14 + 8, `corpus has ${corpus.length}`);
});

test('kept crashers replay without throwing', () => {
  for (const f of crashers) check(readFileSync(new URL(f, fuzzDir)), f);
});

test('seeded mutations of every vector never throw and stay usable', () => {
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 4000);
  const rnd = prng(Number(process.env.FUZZ_SEED ?? 0x5151_4475));
  let accepted = 0;
  let answerable = 0;
  for (let i = 0; i < iterations; i++) {
    const src = corpus[i % corpus.length]!;
    const r = check(mutate(src, rnd), `mutation #${i}`);
    if (r.ok) accepted++;
    else if (r.request) answerable++;
  }
  // The mutations must reach both sides of the parser, or the loop tests nothing.
  assert.ok(accepted > iterations / 10, `accepted ${accepted}`);
  assert.ok(answerable > iterations / 20, `answerable ${answerable}`);
});
