import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer, type FrameSink, type FramingError } from '../../registrar/sip/transport/stream-framer.ts';

class Collect implements FrameSink {
  frames: string[] = [];
  pings = 0;
  errors: Array<{ reason: FramingError; head: string | undefined }> = [];
  frame(m: Buffer): void { this.frames.push(m.toString('latin1')); }
  ping(): void { this.pings++; }
  error(reason: FramingError, head: Buffer | undefined): void {
    this.errors.push({ reason, head: head?.toString('latin1') });
  }
}

function msg(body = '', extra = ''): string {
  return `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

test('two messages in one chunk come out as two frames', () => {
  const f = new StreamFramer(65535);
  const s = new Collect();
  const a = msg('hello');
  const b = msg('');
  assert.equal(f.push(Buffer.from(a + b), s), true);
  assert.deepEqual(s.frames, [a, b]);
  assert.equal(f.buffered, 0);
});

test('a message split byte by byte through the header, then the body in two parts, is framed once', () => {
  const f = new StreamFramer(65535);
  const s = new Collect();
  const m = msg('0123456789');
  const headEnd = m.indexOf('\r\n\r\n') + 4;
  for (let i = 0; i < headEnd; i++) f.push(Buffer.from(m[i]!, 'latin1'), s);
  assert.equal(s.frames.length, 0);
  f.push(Buffer.from(m.slice(headEnd, headEnd + 4)), s);
  assert.equal(s.frames.length, 0);
  f.push(Buffer.from(m.slice(headEnd + 4)), s);
  assert.deepEqual(s.frames, [m]);
});

test('CRLFCRLF between messages is a ping; a single CRLF is skipped', () => {
  const f = new StreamFramer(65535);
  const s = new Collect();
  const a = msg();
  f.push(Buffer.from(`\r\n\r\n${a}\r\n${a}\r\n\r\n`), s);
  assert.equal(s.pings, 2);
  assert.deepEqual(s.frames, [a, a]);
});

test('a ping split across two chunks is still one ping', () => {
  const f = new StreamFramer(65535);
  const s = new Collect();
  f.push(Buffer.from('\r\n'), s);
  assert.equal(s.pings, 0);
  f.push(Buffer.from('\r\n'), s);
  assert.equal(s.pings, 1);
});

test('compact l: header and whitespace around the colon are understood', () => {
  const f = new StreamFramer(65535);
  const s = new Collect();
  const m = 'MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl :  3 \r\n\r\nabc';
  f.push(Buffer.from(m + msg()), s);
  assert.deepEqual(s.frames, [m, msg()]);
});

test('missing Content-Length is a framing error with the head for a 400', () => {
  const f = new StreamFramer(65535);
  const s = new Collect();
  const head = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n';
  assert.equal(f.push(Buffer.from(head + 'junk'), s), false);
  assert.deepEqual(s.errors, [{ reason: 'missing-content-length', head }]);
  // After an error everything is ignored.
  assert.equal(f.push(Buffer.from(msg()), s), false);
  assert.equal(s.frames.length, 0);
});

test('a non-numeric or conflicting Content-Length is a framing error', () => {
  for (const extra of ['Content-Length: abc\r\n', 'Content-Length: -5\r\n', 'Content-Length: 10\r\n']) {
    const f = new StreamFramer(65535);
    const s = new Collect();
    f.push(Buffer.from(msg('', extra)), s);
    assert.equal(s.errors[0]?.reason, 'bad-content-length', extra);
    assert.equal(s.frames.length, 0);
  }
});

test('a message larger than the limit (by Content-Length or by an endless header) is oversize', () => {
  const a = new Collect();
  new StreamFramer(200).push(Buffer.from(msg('x'.repeat(300))), a);
  assert.deepEqual(a.errors, [{ reason: 'oversize', head: undefined }]);

  const b = new Collect();
  const f = new StreamFramer(200);
  f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n'), b);
  for (let i = 0; i < 20 && b.errors.length === 0; i++) f.push(Buffer.from('X-Filler: yyyyyyyyyyyyyyyy\r\n'), b);
  assert.deepEqual(b.errors, [{ reason: 'oversize', head: undefined }]);
});

test('a header named like Content-Length is not taken for it', () => {
  const f = new StreamFramer(65535);
  const s = new Collect();
  const m = msg('', 'Content-Lengthy: 99\r\nLocation: x\r\n');
  f.push(Buffer.from(m), s);
  assert.deepEqual(s.frames, [m]);
});
