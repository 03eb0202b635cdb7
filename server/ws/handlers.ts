/**
 * WebSocket /ws: hello + current PNG on open, then the PNG topic; placements in, acks/errors out.
 * uWS lifetime rules that apply here:
 * - `message` ArrayBuffers are detached when the handler returns; the codec copies what it keeps
 *   (plain numbers), so nothing refers to the buffer afterwards.
 * - acks are sent later, from the commit timer, i.e. outside any uWS callback: they go inside
 *   `ws.cork`, and only while the socket is open (sending on a closed socket throws in uWS.js v20.30.0).
 */
import type { WebSocket } from 'uWebSockets.js';
import { encodeMessage, parseClientMessage, parseStreamQuery } from '../../protocol/codec.ts';
import {
  CloseCode,
  ErrorCode,
  MAX_CLIENT_FRAME_BYTES,
  MsgType,
  PROTOCOL_VERSION,
  Stream,
  type ErrorMsg,
  type PlaceMsg,
} from '../../protocol/messages.ts';
import { endBounded } from '../http/send.ts';
import { sendError as sendHttpError, type Router } from '../http/guard.ts';
import { HttpCode } from '../http/status.ts';
import type { DeltaLog } from '../tick/delta-log.ts';
import type { Logger } from '../ops/log.ts';
import type { Authority } from '../placement/authority.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import type { SendBudget } from './send-budget.ts';
import type { Conn } from './conn.ts';

export type { Conn };
import type { Subscribers } from '../tick/fanout.ts';
import { FRAGMENT_BYTES, Outbox, type OutKind, SMALL_FRAGMENT_BYTES } from './outbox.ts';
import type { Frame } from '../tick/ticker.ts';

/** Frames above this are cut by uWS itself (connection dropped, 1006); see PROTOCOL.md. */
export const HARD_FRAME_LIMIT_BYTES = 64 * 1024;

export interface WsDeps {
  width: number;
  height: number;
  palette: readonly number[];
  tickMs: number;
  cooldownMs: number;
  maxBackpressure: number;
  /** Answers placements and the remaining cooldown: this process, or the writer over the bus. */
  authority: Authority;
  identify: RequestIdentity;
  frame: () => Frame;
  deltaLog: DeltaLog;
  log: Logger;
  /** Open sockets, so shutdown can close each with 1001. */
  sockets: Set<WebSocket<Conn>>;
  /** Who receives each stream's ticks. */
  subscribers: Subscribers;
  /** The cap on bytes held for slow readers; every send outside the tick goes through it. */
  budget: SendBudget<Conn>;
  /** Origins whose pages may open a socket, as `https://host[:port]` in lower case; empty: any. */
  allowedOrigins: readonly string[];
  /** How many watch now (hello's `online`). */
  online: () => number;
}

function errorMsg(code: ErrorCode, message: string, id?: number, wait?: number): ErrorMsg {
  const msg: ErrorMsg = { t: MsgType.ERROR, code, message };
  if (id !== undefined) msg.id = id;
  if (wait !== undefined) msg.wait = wait;
  return msg;
}

/** PNG subscribers get a large message every tick; delta subscribers rarely (outbox.ts). */
function fragmentFor(stream: Stream): number {
  return stream === Stream.DELTA ? SMALL_FRAGMENT_BYTES : FRAGMENT_BYTES;
}

export function registerWebSocket(router: Router, deps: WsDeps): void {
  let nextId = 1;
  const { authority, log, budget } = deps;
  const allowedOrigins = new Set(deps.allowedOrigins);

  /**
   * Every send outside the tick, through the socket's outbox (outbox.ts: fragments, order), counted
   * against --max-buffered-total first (send-budget.ts).
   */
  function send(ws: WebSocket<Conn>, message: Uint8Array, kind: OutKind = 'other', fallback?: Uint8Array): void {
    const conn = ws.getUserData();
    if (conn.closed || !budget.willSend(ws, message.length)) return;
    conn.outbox.push(ws, message, kind, performance.now(), fallback);
  }

  function sendError(ws: WebSocket<Conn>, code: ErrorCode, message: string, id?: number): void {
    send(ws, encodeMessage(errorMsg(code, message, id)));
  }

  /**
   * Brings a socket on `stream` up to date: PNG subscribers get the current frame; delta subscribers
   * get the deltas after `since` when the log still has them, else the frame (a snapshot with its seq).
   */
  function sendCurrent(ws: WebSocket<Conn>, stream: Stream, since: number | undefined): void {
    const frame = deps.frame();
    if (stream === Stream.DELTA && since !== undefined) {
      const missing = deps.deltaLog.catchUp(since, frame.seq);
      if (missing) {
        // The catch-up run must arrive whole (a newer png may still supersede it).
        for (const m of missing) send(ws, m, 'delta', frame.message);
        return;
      }
    }
    send(ws, frame.message, 'png');
  }

  function subscribe(ws: WebSocket<Conn>, conn: Conn, stream: Stream, since: number | undefined): void {
    deps.subscribers.remove(ws);
    conn.stream = stream;
    conn.outbox.fragmentBytes = fragmentFor(stream);
    sendCurrent(ws, stream, since);
    if (!conn.closed) deps.subscribers.add(ws, stream); // closed: dropped by the send budget
  }

  function place(ws: WebSocket<Conn>, conn: Conn, msg: PlaceMsg): void {
    authority.place({ id: conn.who, addr: conn.addr }, msg.x, msg.y, msg.c, (r) => {
      if (conn.closed) return;
      const frame = r.ok
        ? encodeMessage({ t: MsgType.ACK, id: msg.id, seq: r.seq, next: r.next })
        : encodeMessage(errorMsg(r.code, r.message, msg.id, r.wait));
      // Refusals answer inside the message callback, acks later from the commit timer; either way
      // behind whatever the outbox is still sending.
      send(ws, frame);
    });
  }

  /** hello, then the state of the chosen stream, then the ticks. */
  function greet(ws: WebSocket<Conn>, conn: Conn, wait: number): void {
    const frame = deps.frame();
    send(
      ws,
      encodeMessage({
        t: MsgType.HELLO,
        v: PROTOCOL_VERSION,
        width: deps.width,
        height: deps.height,
        palette: [...deps.palette],
        seq: frame.seq,
        tickMs: deps.tickMs,
        cooldownMs: deps.cooldownMs,
        stream: conn.stream,
        streams: [Stream.PNG, Stream.DELTA],
        you: conn.who,
        wait,
        online: deps.online(),
        ...(conn.freshToken === undefined ? {} : { token: conn.freshToken }),
      }),
    );
    sendCurrent(ws, conn.stream, conn.since);
    conn.since = undefined;
    if (!conn.closed) deps.subscribers.add(ws, conn.stream); // closed: dropped by the send budget
  }

  router.ws<Conn>('/ws', {
    // uWS.js v20.30.0 drops a connection over maxPayloadLength without a close frame (the client sees 1006), so
    // the hard cap sits above the protocol limit and the handler closes with 1009 in between.
    maxPayloadLength: HARD_FRAME_LIMIT_BYTES,
    // The outbox hands uWS a frame only when it holds nothing for the socket, so this limit (on what
    // uWS buffers) is never reached; the outbox applies --max-backpressure to what it queues.
    maxBackpressure: deps.maxBackpressure,
    // uWS pings a quiet client and closes it when nothing comes back within this many seconds. A
    // reader that stopped reading never answers, so it is gone within 32 s even while its kernel
    // buffers still take bytes (--stall-ms only starts once they are full: 50 s at 1 tick/s and the
    // default 4 MiB tcp_wmem, perf/RESULTS.md). Browsers answer pings in background tabs too.
    idleTimeout: 32,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      // req is valid only in this synchronous callback: read everything before upgrading.
      // Browsers send Origin on every WebSocket upgrade and scripts cannot change it, so checking it
      // stops other sites' pages from connecting with the user's cookie. Clients without the header
      // are not browsers (nothing of a user's to protect there) and are let through.
      const origin = req.getHeader('origin').toLowerCase();
      if (allowedOrigins.size > 0 && origin !== '' && !allowedOrigins.has(origin)) {
        res.writeStatus('403 Forbidden');
        res.writeHeader('Content-Type', 'text/plain; charset=utf-8');
        endBounded(res, 'Origin not allowed (see --allowed-origins)\n');
        return;
      }
      const request = parseStreamQuery(req.getQuery() ?? '');
      if (!request.ok) {
        res.writeStatus('400 Bad Request');
        res.writeHeader('Content-Type', 'text/plain; charset=utf-8');
        endBounded(res, `${request.message}\n`);
        return;
      }
      const client = deps.identify(res, req, req.getQuery('token'));
      const conn: Conn = {
        id: nextId++,
        who: client.identity.id,
        addr: client.addr,
        freshToken: client.identity.fresh ? client.identity.token : undefined,
        closed: false,
        outbox: new Outbox(deps.maxBackpressure, performance.now(), fragmentFor(request.stream)),
        stream: request.stream,
        since: request.since,
        online: request.online,
      };
      res.upgrade(
        conn,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },

    open: (ws) => {
      deps.sockets.add(ws);
      const conn = ws.getUserData();
      // hello says how long this identity (and address) must still wait, so a reloaded page shows
      // the running cooldown instead of "ready" and a refused first pixel. On an edge that is the
      // writer's answer: hello and the snapshot follow it (at once when the writer is known down).
      authority.wait({ id: conn.who, addr: conn.addr }, (wait) => {
        if (!conn.closed) greet(ws, conn, wait);
      });
    },

    message: (ws, message, isBinary) => {
      const conn = ws.getUserData();
      if (!isBinary) {
        ws.end(CloseCode.UNSUPPORTED_DATA, 'binary MessagePack frames only');
        return;
      }
      if (message.byteLength > MAX_CLIENT_FRAME_BYTES) {
        ws.end(CloseCode.TOO_BIG, `frame over ${MAX_CLIENT_FRAME_BYTES} bytes`);
        return;
      }
      try {
        const parsed = parseClientMessage(new Uint8Array(message));
        if (!parsed.ok) return sendError(ws, parsed.code, parsed.message, parsed.id);
        switch (parsed.msg.t) {
          case MsgType.PLACE:
            return place(ws, conn, parsed.msg);
          case MsgType.SUBSCRIBE:
            return subscribe(ws, conn, parsed.msg.stream, parsed.msg.since);
          case MsgType.RESYNC:
            send(ws, deps.frame().message, 'png');
            return;
        }
      } catch (err) {
        // Never throw inside a uWS callback: report and keep the connection.
        log.error({ err, conn: conn.id }, 'message handler failed');
        sendError(ws, ErrorCode.BAD_MESSAGE, 'internal error handling the message');
      }
    },

    // uWS took bytes off the socket's buffer: the next fragments or queued messages can go.
    drain: (ws) => {
      const conn = ws.getUserData();
      const now = performance.now();
      conn.outbox.progressAt = now;
      if (!conn.closed) conn.outbox.pump(ws, now);
    },

    close: (ws, code) => {
      const conn = ws.getUserData();
      conn.closed = true;
      deps.sockets.delete(ws);
      deps.subscribers.remove(ws);
      log.debug({ conn: conn.id, code }, 'ws closed');
    },
  });
  // uWS (v20.30.0) passes a GET /ws that is not an upgrade on to the next matching route.
  router.route('/ws', {
    get: (res) =>
      sendHttpError(res, HttpCode.UPGRADE_REQUIRED, 'this path speaks WebSocket only (see protocol/PROTOCOL.md)', {
        Upgrade: 'websocket',
        Connection: 'Upgrade',
      }),
  });
}
