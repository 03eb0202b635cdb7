/**
 * Reading a small JSON request body with uWebSockets.js. uWS rules: `onData` chunks are detached when
 * the callback returns (copy them), `onAborted` must be attached before returning from the handler,
 * and the response may only be written while not aborted (the caller checks `aborted`).
 */
import type { HttpResponse } from 'uWebSockets.js';
import { endBounded } from './http-send.ts';

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: string; reason: string };

export interface BodyState {
  aborted: boolean;
}

/** Collects up to `limit` bytes, parses JSON, then calls `done` (not called if the client went away). */
export function readJsonBody(res: HttpResponse, limit: number, state: BodyState, done: (r: BodyResult) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  res.onAborted(() => {
    state.aborted = true;
  });
  res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (size > limit) {
      finished = true;
      done({ ok: false, status: '413 Payload Too Large', reason: `body over ${limit} bytes` });
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0))); // copy: the ArrayBuffer is detached after this call
    if (!isLast) return;
    finished = true;
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      done({ ok: false, status: '400 Bad Request', reason: 'body is not valid JSON' });
      return;
    }
    done({ ok: true, value });
  });
}

/** Writes a JSON response (inside cork, since callers answer from later callbacks). */
export function sendJson(res: HttpResponse, state: BodyState, status: string, body: unknown, headers: Record<string, string> = {}): void {
  if (state.aborted) return;
  res.cork(() => {
    res.writeStatus(status);
    res.writeHeader('Content-Type', 'application/json');
    res.writeHeader('Cache-Control', 'no-store');
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    endBounded(res, JSON.stringify(body));
  });
}

/** An integer from an untrusted JSON value (numbers only, as on the WebSocket), or undefined. */
export function jsonInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** An integer from a query-string value, or undefined. */
export function queryInt(text: string | undefined): number | undefined {
  return text !== undefined && /^-?\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** A field of a parsed JSON body, if the body is an object (own properties only). */
export function bodyField(body: unknown, key: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return Object.prototype.hasOwnProperty.call(body, key) ? (body as Record<string, unknown>)[key] : undefined;
}
