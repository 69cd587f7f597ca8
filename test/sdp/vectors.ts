/** Test helpers: load SDP vectors from test/sdp/vectors/. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSdp } from '../../sdp/session.ts';
import type { SessionDescription } from '../../sdp/model.ts';

const DIR = fileURLToPath(new URL('./vectors/', import.meta.url));

/** The raw text of a vector file. */
export function vectorText(path: string): string {
  return readFileSync(DIR + path, 'utf8');
}

/** The SDP body of a captured SIP message (after the first blank line). */
export function sipBody(path: string): string {
  const text = vectorText(path);
  const at = text.indexOf('\r\n\r\n');
  assert.ok(at > 0, `${path} has no blank line`);
  return text.slice(at + 4);
}

/** Parses SDP text, failing the test on an error. */
export function mustParse(text: string): SessionDescription {
  const r = parseSdp(text);
  if (!r.ok) assert.fail(`parse failed: ${r.error}`);
  return r.value;
}
