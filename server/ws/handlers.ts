/**
 * WebSocket /ws: the upgrade (origin, query, identity), then hello and the stream through the
 * streams (streams/streams.ts, which send every byte), placements in and their answers out.
 * uWS lifetime rules that apply here:
 * - `req` is valid only inside `upgrade`: everything is read from it before `res.upgrade`.
 * - `message` ArrayBuffers are detached when the handler returns; the codec copies what it keeps
 *   (plain numbers), so nothing refers to the buffer afterwards.
 * - acks are sent later, from the commit timer, i.e. outside any uWS callback: the outbox sends only
 *   while the socket is open (sending on a closed socket throws in uWS.js v20.30.0).
 */
import type { WebSocket } from 'uWebSockets.js';
import { encodeMessage, parseClientMessage, parseStreamQuery } from '../../protocol/codec.ts';
import {
  CloseCode,
  ErrorCode,
  type AckMsg,
  type ErrorMsg,
  MAX_CLIENT_FRAME_BYTES,
  MsgType,
  PROTOCOL_VERSION,
  Stream,
  type SubscribeMsg,
  type TileRegion,
} from '../../protocol/messages.ts';
import { noIdentityAnswer, sendError, writeAnswer } from '../http/answer.ts';
import type { Router } from '../http/guard.ts';
import { HttpCode } from '../http/status.ts';
import type { RequestIdentity } from '../identity/request-identity.ts';
import type { Logger } from '../ops/log.ts';
import type { Authority, Standing } from '../placement/authority.ts';
import { inCorkedCallback } from '../streams/outbox.ts';
import type { TileLayout } from '../tiles/tile-layout.ts';
import type { SizeEvent } from '../canvas/canvas-size.ts';
import type { ChallengeIssuer } from '../defence/challenges.ts';
import type { PlaceResult } from '../placement/service.ts';

type Refusal = Extract<PlaceResult, { ok: false }>;
import type { Conn, Greeting, Streams } from '../streams/streams.ts';

/** The region a `subscribe` asked for (the codec gave all four fields or none). */
function regionOf(msg: SubscribeMsg): TileRegion | undefined {
  const { tx, ty, tw, th } = msg;
  return tx === undefined || ty === undefined || tw === undefined || th === undefined ? undefined : { tx, ty, tw, th };
}

function tilesOnCanvas(r: TileRegion, layout: TileLayout): boolean {
  return r.tx + r.tw <= layout.across(0) && r.ty + r.th <= layout.down(0);
}

/** Frames above this are cut by uWS itself (connection dropped, 1006); see PROTOCOL.md. */
export const HARD_FRAME_LIMIT_BYTES = 64 * 1024;

/** The canvas as clients see it in `hello`: the writer's, on every role. */
export interface CanvasShape {
  width: number;
  height: number;
  palette: readonly number[];
  tickMs: number;
  cooldownMs: number;
  /** The canvas's resizes, oldest first (GET /api/canvas). */
  resizes: SizeEvent[];
}

export interface WebSocketOptions {
  shape: CanvasShape;
  /** The canvas's tiles (GET /tiles): a region subscription must lie within level 0's. */
  layout: TileLayout;
  streams: Streams;
  /** Answers placements and the remaining cooldown: this process, or the writer over the bus. */
  authority: Authority;
  identify: RequestIdentity;
  /** Issues the challenge a `challenge_required` or `challenge_invalid` error carries. */
  challenges: ChallengeIssuer;
  /** Origins whose pages may open a socket, as `https://host[:port]` in lower case; empty: any. */
  allowedOrigins: readonly string[];
  /** Bytes uWS may buffer per socket (--max-backpressure; the outbox keeps it from being reached). */
  maxBackpressure: number;
  log: Logger;
  /** Whether accounts are offered (hello.login); absent when --login off. */
  login?: 'optional' | 'required';
}

function errorMsg(code: ErrorCode, message: string, id?: number, refusal?: Refusal): Uint8Array {
  const msg: ErrorMsg = { t: MsgType.ERROR, code, message };
  if (id !== undefined) msg.id = id;
  if (refusal) {
    if (refusal.wait !== undefined) msg.wait = refusal.wait;
    if (refusal.limit !== undefined) msg.limit = refusal.limit;
    if (refusal.challenge !== undefined) msg.challenge = refusal.challenge;
  }
  return encodeMessage(msg);
}

export function registerWebSocket(router: Router, opts: WebSocketOptions): void {
  const { streams, authority, log, shape } = opts;
  const allowedOrigins = new Set(opts.allowedOrigins);
  const greeting = (conn: Conn, standing: Standing): Greeting => ({
    v: PROTOCOL_VERSION,
    width: shape.width,
    height: shape.height,
    palette: [...shape.palette],
    tickMs: shape.tickMs,
    cooldownMs: shape.cooldownMs,
    streams: [Stream.PNG, Stream.DELTA],
    you: conn.identityId,
    ...standing,
    ...(opts.login === undefined ? {} : { login: opts.login }),
    ...(conn.account ? { account: true as const } : {}),
  });

  router.ws<Conn>('/ws', {
    // uWS.js v20.30.0 drops a connection over maxPayloadLength without a close frame (the client sees 1006), so
    // the hard cap sits above the protocol limit and the handler closes with 1009 in between.
    maxPayloadLength: HARD_FRAME_LIMIT_BYTES,
    // The outbox hands uWS a frame only when it holds nothing for the socket, so this limit (on what
    // uWS buffers) is never reached; the outbox applies --max-backpressure to what it queues.
    maxBackpressure: opts.maxBackpressure,
    // uWS pings a quiet client and closes it when nothing comes back within this many seconds. A
    // reader that stopped reading never answers, so it is gone within 32 s even while its kernel
    // buffers still take bytes (--stall-ms only starts once they are full: 50 s at 1 tick/s and the
    // default 4 MiB tcp_wmem, perf/RESULTS.md). Browsers answer pings in background tabs too.
    idleTimeout: 32,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      // Browsers send Origin on every WebSocket upgrade and scripts cannot change it, so checking it
      // stops other sites' pages from connecting with the user's cookie. Clients without the header
      // are not browsers (nothing of a user's to protect there) and are let through.
      const origin = req.getHeader('origin').toLowerCase();
      if (allowedOrigins.size > 0 && origin !== '' && !allowedOrigins.has(origin)) {
        sendError(res, HttpCode.FORBIDDEN_ORIGIN, 'Origin not allowed (see --allowed-origins)');
        return;
      }
      const request = parseStreamQuery(req.getQuery() ?? '');
      if (!request.ok) {
        sendError(res, HttpCode.BAD_REQUEST, request.message);
        return;
      }
      const client = opts.identify(res, req, req.getQuery('token'));
      if (!client.identity) {
        writeAnswer(res, noIdentityAnswer(client));
        return;
      }
      const { identity } = client;
      const conn = streams.conn({
        identityId: identity.id,
        addressKey: client.addressKey,
        ...(identity.account ? { account: true } : {}),
        ...(identity.bot === undefined ? {} : { bot: identity.bot }),
        freshToken: identity.fresh ? identity.token : undefined,
        stream: request.stream,
        since: request.since,
        online: request.online,
        resize: request.resize,
      });
      res.upgrade(
        conn,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },

    // open, message and drain run corked: what they send must fit uWS's cork buffer (outbox.ts).
    open: (ws) =>
      inCorkedCallback(() => {
        streams.open(ws);
        const conn = ws.getUserData();
        // hello says how long this identity (and address) must still wait, so a reloaded page shows
        // the running cooldown instead of "ready" and a refused first pixel. On an edge that is the
        // writer's answer: hello and the snapshot follow it (at once when the writer is known down).
        authority.standing(conn, (standing) => {
          if (!conn.closed) streams.greet(ws, greeting(conn, standing));
        });
      }),

    message: (ws, message, isBinary) => inCorkedCallback(() => onMessage(ws, message, isBinary)),

    // uWS took bytes off the socket's buffer: the next fragments or queued messages can go.
    drain: (ws) =>
      inCorkedCallback(() => {
        const conn = ws.getUserData();
        const now = performance.now();
        conn.outbox.progressAt = now;
        if (!conn.closed) conn.outbox.pump(ws, now);
      }),

    close: (ws, code) => {
      streams.closed(ws);
      log.debug({ conn: ws.getUserData().id, code }, 'ws closed');
    },
  });

  function onMessage(ws: WebSocket<Conn>, message: ArrayBuffer, isBinary: boolean): void {
    const conn = ws.getUserData();
    if (!isBinary) {
      ws.end(CloseCode.UNSUPPORTED_DATA, 'binary MessagePack frames only');
      return;
    }
    if (message.byteLength > MAX_CLIENT_FRAME_BYTES) {
      ws.end(CloseCode.TOO_BIG, `frame over ${MAX_CLIENT_FRAME_BYTES} bytes`);
      return;
    }
    const parsed = parseClientMessage(new Uint8Array(message));
    if (!parsed.ok) return streams.send(ws, errorMsg(parsed.code, parsed.message, parsed.id));
    const msg = parsed.msg;
    switch (msg.t) {
      case MsgType.PLACE:
        // Refusals answer inside this callback, acks later from the commit timer; either way
        // behind whatever the outbox is still sending.
        return authority.place(
          conn,
          { x: msg.x, y: msg.y, color: msg.c, pow: msg.pow },
          opts.challenges.answering(conn.identityId, msg.pow, (r) => {
            if (conn.closed) return;
            if (!r.ok) return streams.send(ws, errorMsg(r.code, r.message, msg.id, r));
            const ack: AckMsg = { t: MsgType.ACK, id: msg.id, seq: r.seq, next: r.next };
            if (r.charges) ack.charges = r.charges;
            if (r.challenge) ack.challenge = r.challenge;
            streams.send(ws, encodeMessage(ack));
          }),
        );
      case MsgType.SUBSCRIBE: {
        const region = regionOf(msg);
        if (region && !tilesOnCanvas(region, opts.layout))
          return streams.send(
            ws,
            errorMsg(
              ErrorCode.OUT_OF_BOUNDS,
              `the region's tiles lie outside the canvas's ${opts.layout.across(0)} x ${opts.layout.down(0)} tiles of level 0`,
            ),
          );
        return streams.resubscribe(ws, msg.stream, msg.since, region);
      }
      case MsgType.RESYNC:
        return streams.resync(ws);
      case MsgType.WATCH:
        return streams.watch(ws, msg.project);
    }
  }
  // uWS (v20.30.0) passes a GET /ws that is not an upgrade on to the next matching route.
  router.route('/ws', {
    get: (res) =>
      sendError(res, HttpCode.UPGRADE_REQUIRED, 'this path speaks WebSocket only (see protocol/PROTOCOL.md)', {
        Upgrade: 'websocket',
        Connection: 'Upgrade',
      }),
  });
}
