/**
 * The one way an HTTP answer is written: routes, the guard, health, metrics, pprof and the WebSocket
 * upgrade refusals all build an `HttpAnswer` (status, headers, body) and hand it to `writeAnswer`.
 * Errors carry the JSON body `{"error": code, "message": text}` with the status the one table gives
 * the code (status.ts). An answer is plain data, so the writer can build one and an edge write it.
 */
import type { HttpResponse } from 'uWebSockets.js';
import { type Aborted, endBounded, endWithoutBodyDeferred } from './send.ts';
import { type AnyCode, HttpCode, statusOf } from './status.ts';

/** An HTTP answer as data: what a route writes, whichever process built it. */
export interface HttpAnswer {
  status: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** HEAD: the headers and the body's length, no body. */
  head?: boolean;
  /** Set-Cookie values, one header each (`headers` holds one value per name; sign-in sets two cookies). */
  cookies?: readonly string[];
}

const EMPTY = Buffer.alloc(0);

/** A JSON answer that no cache may keep. */
export function jsonAnswer(status: string, value: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/** `{"error": code, "message": text, ...extra}` with the status the table gives `code`. */
export function errorAnswer(
  code: AnyCode,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): HttpAnswer {
  return jsonAnswer(statusOf(code), { error: code, message, ...extra }, headers);
}

/** 429: the client's address prefix minted its share of identities (identity/mint-limit.ts). */
export function identityLimitAnswer(retryMs: number): HttpAnswer {
  const retryS = Math.ceil(retryMs / 1000);
  return errorAnswer(
    HttpCode.IDENTITY_LIMIT,
    `too many new identities from this network: retry in ${retryS} s, or keep the token you have`,
    { 'Retry-After': String(retryS) },
  );
}

/**
 * The answer to a request that got no identity: its network minted its share, or it carried a bot
 * token that does not verify (401: no fresh identity for it, identity/request-identity.ts).
 */
export function noIdentityAnswer(client: { mintRetryMs?: number; refused?: string }): HttpAnswer {
  if (client.refused !== undefined)
    return errorAnswer(HttpCode.UNAUTHORIZED, client.refused, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  return identityLimitAnswer(client.mintRetryMs ?? 0);
}

/** 302 to `location` (a path on this server, or the provider's authorization URL). */
export function redirectAnswer(location: string, cookies: readonly string[] = []): HttpAnswer {
  return { status: '302 Found', headers: { Location: location, 'Cache-Control': 'no-store' }, body: EMPTY, cookies };
}

/** An answer with no body (304). */
export function emptyAnswer(status: string, headers: Record<string, string>): HttpAnswer {
  return { status, headers, body: EMPTY };
}

/**
 * Writes `a` inside `res.cork` (required by uWS when answering outside the request's own callback,
 * harmless inside it). An answer written later (after an await, from a timer) passes the response's
 * abort flag: nothing is written once the client went away (uWS: `res` is invalid then). Bodies go through
 * `endBounded` (a client that does not read holds one answer at most); answers without a body end
 * one loop turn later (send.ts says why).
 */
export function writeAnswer(res: HttpResponse, a: HttpAnswer, state?: Aborted): void {
  if (state?.aborted) return;
  const write = () => {
    res.writeStatus(a.status);
    for (const [k, v] of Object.entries(a.headers)) res.writeHeader(k, v);
    for (const c of a.cookies ?? []) res.writeHeader('Set-Cookie', c);
    if (a.head) {
      // endWithoutBody(length) aborts the process in uWS.js v20.30.0; the explicit header is portable.
      res.writeHeader('Content-Length', String(a.body.length));
      endWithoutBodyDeferred(res);
    } else if (a.status.startsWith('304')) {
      endWithoutBodyDeferred(res);
    } else {
      endBounded(res, a.body);
    }
  };
  res.cork(write);
}

/** Writes an error answer in the request's own callback (guard, refusals, unknown paths). */
export function sendError(
  res: HttpResponse,
  code: AnyCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  writeAnswer(res, errorAnswer(code, message, headers));
}

/** Writes a JSON answer later, unless the client went away (`state`). */
export function sendJson(
  res: HttpResponse,
  state: Aborted,
  status: string,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  writeAnswer(res, jsonAnswer(status, value, headers), state);
}

/** Writes an error answer later, unless the client went away (`state`). */
export function sendCode(
  res: HttpResponse,
  state: Aborted,
  code: AnyCode,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): void {
  writeAnswer(res, errorAnswer(code, message, headers, extra), state);
}
