/**
 * Ending an HTTP response without unbounded buffering.
 *
 * `res.end(body)` hands uWS the whole body; when the client does not read, uWS (v20.30.0) keeps what the kernel
 * refused in user space, then goes on parsing pipelined requests and buffering their responses too.
 * In the reliability suite one connection that pipelined 20,000 `GET /image` without
 * reading drove the server to 3.7 GB. `tryEnd` writes only what the kernel takes and leaves the
 * response pending; the rest follows from `onWritable` as the client reads. While a response is
 * pending, uWS (v20.30.0) closes a connection that sends another request ("async pipelining" is refused), so a
 * client that does not read holds at most one response. When the kernel takes everything (the usual
 * case) this costs the same as `end`.
 *
 * Header-only answers (304, HEAD) have no body to hold back, and uWS.js does not expose a
 * connection's buffered amount; pipelined HEAD or conditional GETs grew RSS by about 3x the bytes of
 * requests sent, without limit. So they end one event-loop turn later (`endWithoutBodyDeferred`): a
 * request pipelined behind one then finds it pending and uWS closes the connection. Clients that wait
 * for each answer (every browser; HTTP/1.1 pipelining is off everywhere) see no difference.
 */
import type { HttpResponse, RecognizedString } from 'uWebSockets.js';

/** Set once the client went away: from then on `res` must not be touched (uWS throws, or worse). */
export interface Aborted {
  aborted: boolean;
}

/**
 * Watches `res` for the client going away. uWS requires an onAborted handler on every response left
 * pending past the callback that received it (uWS.js v20.30.0 terminates the process otherwise), and
 * keeps only the last one registered, so each pending response takes exactly one, through here.
 */
export function trackAborted(res: HttpResponse): Aborted {
  const state: Aborted = { aborted: false };
  res.onAborted(() => {
    state.aborted = true;
  });
  return state;
}

function bytesOf(body: RecognizedString): Uint8Array {
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof ArrayBuffer || body instanceof SharedArrayBuffer) return new Uint8Array(body);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * Writes `body` and ends the response (Content-Length is set by uWS), sending what the client does
 * not take yet as it drains. Call where `res.end(body)` would be called: inside the request handler
 * or inside `res.cork`.
 */
export function endBounded(res: HttpResponse, body: RecognizedString = ''): void {
  const bytes = bytesOf(body);
  const [ok, done] = res.tryEnd(bytes, bytes.length);
  if (ok || done) return;
  const state = trackAborted(res);
  res.onWritable((offset) => {
    if (state.aborted) return true;
    // offset = body bytes written so far; uWS calls again while this returns false.
    const [sent] = res.tryEnd(bytes.subarray(offset), bytes.length);
    return sent;
  });
}

/**
 * Ends a response whose status and headers are written, without a body (304, HEAD), at the next
 * turn of the event loop rather than now, so pipelined requests behind it close the connection.
 */
export function endWithoutBodyDeferred(res: HttpResponse): void {
  const state = trackAborted(res);
  setImmediate(() => {
    // Outside any uWS callback now: cork, and only while the client is still there.
    if (!state.aborted) res.cork(() => res.endWithoutBody());
  });
}
