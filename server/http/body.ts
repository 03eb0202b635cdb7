/**
 * Reading a small JSON request body with uWebSockets.js. uWS rules: `onData` chunks are detached when
 * the callback returns (copy them), `onAborted` must be attached before returning from the handler,
 * and the response may only be written while not aborted (the caller checks `aborted`).
 */
import type { HttpResponse } from 'uWebSockets.js';
import type { Aborted } from './send.ts';
import { HttpCode } from './status.ts';

/** A parsed JSON body with what JSON.parse forgets about how its numbers were written. */
export interface JsonBody {
  value: unknown;
  /** Top-level keys whose value was a number literal other than a plain integer (see nonIntegerKeys). */
  nonIntegerKeys: ReadonlySet<string>;
}

export type BodyResult = ({ ok: true } & JsonBody) | { ok: false; code: HttpCode; reason: string };

/** The abort flag of a response (from trackAborted). */
export type BodyState = Aborted;

/** Collects up to `limit` bytes, parses JSON, then calls `done` (not called if the client went away). */
export function readJsonBody(res: HttpResponse, limit: number, done: (r: BodyResult) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  // The caller registered the onAborted uWS requires (trackAborted) and checks it before answering.
  res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (size > limit) {
      finished = true;
      done({ ok: false, code: HttpCode.BODY_TOO_LARGE, reason: `body over ${limit} bytes` });
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0))); // copy: the ArrayBuffer is detached after this call
    if (!isLast) return;
    finished = true;
    const text = Buffer.concat(chunks).toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      done({ ok: false, code: HttpCode.BAD_JSON, reason: 'body is not valid JSON' });
      return;
    }
    done({ ok: true, value, nonIntegerKeys: nonIntegerKeys(text) });
  });
}

/**
 * The integer under `key` of a JSON body, or undefined: a number written as a plain integer literal,
 * as a MessagePack client must send an integer type. `1.0`, `1e0` and `-0` are refused although
 * JSON.parse reads them as integers, like a float 1.0 on the WebSocket; so are strings and
 * integers beyond 2^53 (not exact).
 */
export function jsonInt(body: JsonBody, key: string): number | undefined {
  if (body.nonIntegerKeys.has(key)) return undefined;
  const value = bodyField(body.value, key);
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** JSON whitespace (RFC 8259): space, tab, line feed, carriage return. */
function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** The index just past the string literal opening at `i` (a backslash always escapes the next char). */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** The index just past the value starting at `i`: a string, a nested object or array, or a bare token. */
function valueEnd(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return stringEnd(text, i);
  if (first === '{' || first === '[') {
    // Iterative depth count (strings skipped whole, so brackets inside them do not count): deep
    // nesting cannot overflow the stack.
    let depth = 0;
    let j = i;
    do {
      const ch = text[j];
      if (ch === '"') {
        j = stringEnd(text, j);
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
      j++;
    } while (depth > 0 && j < text.length);
    return j;
  }
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j] as string)) j++;
  return j;
}

/** A JSON integer written as one: no fraction, no exponent, not `-0` (JSON allows no leading zeros). */
const PLAIN_INTEGER = /^(?:0|-?[1-9]\d*)$/;

/**
 * The top-level keys of a JSON object whose value is a number literal other than a plain integer
 * (`1.0`, `1e0`, `1E0`, `-0`, `10.5`). Only the outer object's own keys count, like the float keys of
 * protocol/msgpack-scan.ts; nested values are skipped whole. A key written twice is reported if any
 * of its values qualifies. Runs only on text JSON.parse accepted, so the grammar is not rechecked.
 *
 * Hand-written because JSON.parse hides the literal: the reviver's `context.source` (TC39 "JSON.parse
 * source text access") is absent in Node 20 (V8 11.3) unless started with
 * --harmony-json-parse-with-source; once the minimum Node ships it unflagged, a reviver can replace this.
 */
export function nonIntegerKeys(text: string): Set<string> {
  const out = new Set<string>();
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return out;
  i = skipSpace(text, i + 1);
  while (text[i] === '"') {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string; // a valid string literal: unescapes it
    i = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the ':'
    const start = i;
    i = valueEnd(text, i);
    const first = text[start] as string;
    if ((first === '-' || (first >= '0' && first <= '9')) && !PLAIN_INTEGER.test(text.slice(start, i))) out.add(key);
    i = skipSpace(text, i);
    if (text[i] !== ',') break;
    i = skipSpace(text, i + 1);
  }
  return out;
}

/** An integer from a query-string value, or undefined. */
export function queryInt(text: string | undefined): number | undefined {
  return text !== undefined && /^-?\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** A field of a parsed JSON body, if the body is an object (own properties only). */
export function bodyField(body: unknown, key: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return Object.hasOwn(body, key) ? (body as Record<string, unknown>)[key] : undefined;
}
