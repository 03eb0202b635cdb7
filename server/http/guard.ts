/**
 * The boundary between uWebSockets.js and our code. uWS.js (v20.30.0) treats an exception that
 * leaves one of its callbacks as fatal: the process exits. Before this guard, a moderation action
 * while the database was locked, full or immutable threw out of `onData` and killed the server.
 * Every HTTP route and WebSocket callback is registered through here:
 * - an unexpected failure becomes one log line and a 5xx with a stable code: `503 store_failed` when
 *   SQLite refused (locked, full, read-only), `500 internal` otherwise; a WebSocket whose callback
 *   failed is closed with 1011;
 * - a known path answers any method it does not serve with `405` and `Allow` (`route`);
 * - requests whose length is ambiguous are refused before routing (`refuseAmbiguousFraming`).
 */
import Database from 'better-sqlite3';
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { ErrorCode } from '../../protocol/messages.ts';
import { errorAnswer, sendError } from './answer.ts';
import { trackAborted } from './send.ts';
import { HttpCode, type AnyCode } from './status.ts';
import type { Logger } from '../ops/log.ts';

export type Handler = (res: HttpResponse, req: HttpRequest) => void;

/** Methods a route may serve, as uWS names its registration functions. */
export type Method = 'get' | 'head' | 'post';

/** WebSocket close code for "the server hit an unexpected condition" (RFC 6455 7.4.1). */
const CLOSE_INTERNAL_ERROR = 1011;

/** True for failures of the database (better-sqlite3 throws SqliteError with SQLite's code). */
export function isStoreError(err: unknown): boolean {
  return err instanceof Database.SqliteError;
}

/**
 * Refuses a request with two Content-Length headers, or Content-Length with Transfer-Encoding.
 * uWS v20.30.0 takes the first Content-Length and parses what follows the body it measured as the
 * next request, so a proxy that honours the last one and this server disagree on where a request
 * ends: request smuggling. The answer (400, then close) is written one loop turn later on purpose:
 * while this response is pending, uWS closes the connection at the next pipelined request instead of
 * routing it (a 400 written now would be followed by the smuggled request's answer). Returns true
 * when it took over the response.
 */
function refuseAmbiguousFraming(res: HttpResponse, req: HttpRequest): boolean {
  // Two header reads per request: the hot path (GET /image) carries neither header.
  const hasLength = req.getHeader('content-length') !== '';
  if (!hasLength) return false;
  let lengths = 0;
  let chunked = false;
  req.forEach((key) => {
    if (key === 'content-length') lengths++;
    else if (key === 'transfer-encoding') chunked = true;
  });
  if (lengths < 2 && !chunked) return false;
  const state = trackAborted(res);
  setImmediate(() => {
    if (state.aborted) return;
    const a = errorAnswer(
      HttpCode.BAD_REQUEST,
      'ambiguous body length: repeated Content-Length or Content-Length with Transfer-Encoding',
    );
    res.cork(() => {
      res.writeStatus(a.status);
      for (const [k, v] of Object.entries(a.headers)) res.writeHeader(k, v);
      res.end(a.body, true); // and close: what follows on this connection cannot be trusted
    });
  });
  return true;
}

export class HttpGuard {
  constructor(private readonly log: Logger) {}

  /** Answers an unexpected failure while handling `res` (if it can still be answered) and logs it. */
  fail(res: HttpResponse, err: unknown, url: string): void {
    const store = isStoreError(err);
    const code: AnyCode = store ? ErrorCode.STORE_FAILED : HttpCode.INTERNAL;
    this.log.error({ err, url, code }, store ? 'request refused: the database failed' : 'request handler failed');
    try {
      sendError(
        res,
        code,
        store ? `the database refused the operation: ${(err as Error).message}; retry later` : 'internal error',
      );
    } catch {
      // The response was already answered or the client went away: the log line is all that is left.
    }
  }

  /** Wraps a route handler: framing check first, then the handler under the guard. */
  wrap(handler: Handler): Handler {
    return (res, req) => {
      if (refuseAmbiguousFraming(res, req)) return;
      try {
        handler(res, req);
      } catch (err) {
        this.fail(res, err, req.getUrl());
      }
    };
  }

  /**
   * Wraps a callback that answers `res` later (a body's `onData`, a commit's outcome), so a failure
   * there is answered like one in the handler. `url` is only for the log line (req is gone by then).
   */
  later<A extends unknown[]>(res: HttpResponse, url: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        fn(...args);
      } catch (err) {
        this.fail(res, err, url);
      }
    };
  }

  /** Wraps every callback of a WebSocket behaviour: the upgrade like a route, the rest closing with 1011. */
  webSocket<T>(behavior: WebSocketBehavior<T>): WebSocketBehavior<T> {
    const log = this.log;
    const socketCallback = <A extends unknown[]>(
      name: string,
      fn: ((ws: WebSocket<T>, ...args: A) => void) | undefined,
      closeOnFailure: boolean,
    ) =>
      fn === undefined
        ? undefined
        : (ws: WebSocket<T>, ...args: A) => {
            try {
              fn(ws, ...args);
            } catch (err) {
              log.error({ err, callback: name }, 'WebSocket callback failed');
              if (!closeOnFailure) return;
              try {
                ws.end(CLOSE_INTERNAL_ERROR, 'internal error');
              } catch {
                // Already closed: nothing to tell the client.
              }
            }
          };
    const { upgrade, open, message, drain, close } = behavior;
    return {
      ...behavior,
      ...(upgrade && { upgrade: (res, req, context) => this.wrap((r, q) => upgrade(r, q, context))(res, req) }),
      ...(open && { open: socketCallback('open', open, true) }),
      ...(message && { message: socketCallback('message', message, true) }),
      ...(drain && { drain: socketCallback('drain', drain, false) }),
      ...(close && { close: socketCallback('close', close, false) }),
    };
  }
}

/**
 * Route registration through the guard. `route` registers a path with the methods it serves and
 * answers every other method with 405 and `Allow` (HEAD is listed only when registered).
 */
export class Router {
  constructor(
    readonly app: TemplatedApp,
    readonly guard: HttpGuard,
  ) {}

  route(pattern: string, handlers: Partial<Record<Method, Handler>>): void {
    const allow = (Object.keys(handlers) as Method[]).map((m) => m.toUpperCase()).join(', ');
    for (const [method, handler] of Object.entries(handlers) as Array<[Method, Handler]>) {
      this.app[method](pattern, this.guard.wrap(handler));
    }
    this.app.any(
      pattern,
      this.guard.wrap((res, req) =>
        sendError(
          res,
          HttpCode.METHOD_NOT_ALLOWED,
          `${req.getCaseSensitiveMethod()} not allowed on ${pattern}; use ${allow}`,
          { Allow: allow },
        ),
      ),
    );
  }

  /** A catch-all (e.g. `/*`) for every method. */
  any(pattern: string, handler: Handler): void {
    this.app.any(pattern, this.guard.wrap(handler));
  }

  ws<T>(pattern: string, behavior: WebSocketBehavior<T>): void {
    this.app.ws<T>(pattern, this.guard.webSocket(behavior));
  }
}
