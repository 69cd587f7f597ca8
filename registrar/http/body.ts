/**
 * Request bodies of the HTTP API: read with a size cap, parsed as a JSON object. Untrusted input: every failure is
 * a result (400 / 413), never a throw.
 */
import type { IncomingMessage } from 'node:http';

/** Largest request body accepted (the API's bodies are a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly status: 400 | 413; readonly error: string };

/**
 * Read the whole body, at most `limit` bytes. A declared Content-Length over the limit is refused before any of
 * the body is read; a chunked body is refused as soon as it passes the limit. In both cases the rest of the body
 * is drained and discarded (the caller answers 413 and closes the connection).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, error: `request body larger than ${limit} bytes` } as const;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish(tooLarge);
        req.resume(); // keep draining without keeping the bytes
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish({ ok: true, body: Buffer.concat(chunks, size) }));
    req.on('error', () => finish({ ok: false, status: 400, error: 'request body could not be read' }));
    req.on('aborted', () => finish({ ok: false, status: 400, error: 'request body aborted' }));
  });
}

export type JsonObjectResult =
  | { readonly ok: true; readonly value: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly error: string };

/**
 * An empty (or all-whitespace) body is `{}`: every field of the API's bodies is optional somewhere. Anything else
 * must be a JSON object. The Content-Type is not checked (`curl -d '{…}'` sends form-urlencoded).
 */
export function parseJsonObject(body: Buffer): JsonObjectResult {
  const text = body.toString('utf8');
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `body is not valid JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'body must be a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
