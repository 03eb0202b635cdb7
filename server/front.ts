/**
 * The client-facing half of every role: one uWS app with `/ws` (both streams), `GET /image`, the
 * HTTP API, `/metrics`, `/healthz`, the tick fan-out and the slow-reader guards. What differs by
 * role is behind three things it is given: the latest frame, the authority that answers placements
 * and lookups (this process, or the writer over the bus), and the identity check.
 */
import { readFileSync } from 'node:fs';
import type { us_listen_socket, WebSocket } from 'uWebSockets.js';
import { CloseCode } from '../protocol/messages.ts';
import type { Config } from './config/config.ts';
import { HttpGuard, Router } from './http/guard.ts';
import { registerHttpRoutes } from './http/routes.ts';
import { registerApiRoutes } from './http/api-routes.ts';
import { registerAdminRoutes } from './http/admin-routes.ts';
import { registerHistoryRoutes } from './http/history-routes.ts';
import type { Logger } from './ops/log.ts';
import { Metrics } from './ops/metrics.ts';
import { registerMetricsRoute } from './ops/metrics-route.ts';
import { listen, listenPort, uws, uwsBackend } from './ops/uws-backend.ts';
import type { Authority } from './placement/authority.ts';
import { ipRangeList } from './identity/client-address.ts';
import { makeRequestIdentity } from './identity/request-identity.ts';
import { IdentityIssuer } from './identity/tokens.ts';
import { DeltaLog } from './tick/delta-log.ts';
import { Subscribers } from './tick/fanout.ts';
import { OnlineCount } from './tick/online.ts';
import { publishTick } from './tick/publish.ts';
import type { Frame, TickOutput } from './tick/ticker.ts';
import { registerWebSocket, type Conn } from './ws/handlers.ts';
import { SendBudget } from './ws/send-budget.ts';
import { watchStalls } from './ws/stall-watch.ts';

/** The delta log keeps at most this many bytes of messages so a burst of huge ticks cannot grow memory. */
const DELTA_LOG_BYTES = 16 << 20;

const indexHtml = readFileSync(new URL('../client/index.html', import.meta.url));

/** The canvas as clients see it in `hello`: the writer's, on every role. */
export interface CanvasShape {
  width: number;
  height: number;
  palette: readonly number[];
  tickMs: number;
  cooldownMs: number;
}

export interface ServeOptions {
  shape: CanvasShape;
  authority: Authority;
  /** HMAC key of identity tokens: the writer's on every role, so a token is valid everywhere. */
  identitySecret: Buffer;
  /** The latest frame (set before `listen`). */
  frame: () => Frame;
  /** Role-specific fields of `/healthz`. */
  health: () => Record<string, unknown>;
  /** How many watch the canvas in the whole deployment (default: this process's sockets). */
  online?: () => number;
}

export class Front {
  readonly app = uws.App();
  // Every route and WebSocket callback is registered through the guard (http/guard.ts).
  readonly router: Router;
  readonly subscribers = new Subscribers();
  readonly sockets = new Set<WebSocket<Conn>>();
  readonly metrics: Metrics;
  readonly budget: SendBudget<Conn>;
  readonly deltaLog: DeltaLog;
  private listenSocket: us_listen_socket | undefined;
  private online: OnlineCount | undefined;
  private stopStallWatch: (() => void) | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    /** The latest seq this process knows: the canvas's (writer), the latest frame's (edge). */
    private readonly seq: () => number,
  ) {
    this.router = new Router(this.app, new HttpGuard(log));
    const { sockets, subscribers } = this;
    this.metrics = new Metrics({
      connections: () => sockets.size,
      subscribers: (stream) => subscribers.count(stream),
      seq,
      bufferedBytes: () => {
        let n = 0;
        for (const ws of sockets) n += ws.getBufferedAmount() + ws.getUserData().outbox.queuedBytes;
        return n;
      },
      backend: uwsBackend,
      role: config.role,
    });
    this.budget = new SendBudget(sockets, config.maxBufferedTotal, config.maxBackpressure, {
      evicted: (count, bytes) => {
        this.metrics.evictedSockets.inc(count);
        log.warn(
          { count, bytes, cap: config.maxBufferedTotal },
          'dropped slow WebSocket readers: buffered bytes over --max-buffered-total',
        );
      },
    });
    this.deltaLog = new DeltaLog(config.deltaRing, DELTA_LOG_BYTES);
  }

  /** Sends one tick to both streams; resolves when every subscriber's turn has come. */
  fanOut(out: TickOutput): Promise<void> {
    return publishTick(this.subscribers, this.deltaLog, this.metrics, this.budget, out);
  }

  /** Registers every route and starts listening; resolves to the port, or undefined when it is taken. */
  async listen(opts: ServeOptions): Promise<number | undefined> {
    const { config, router } = this;
    const { shape } = opts;
    const identify = makeRequestIdentity(new IdentityIssuer(opts.identitySecret), {
      trustedProxies: ipRangeList(config.trustedProxies),
      ipv4Prefix: config.ipv4Prefix,
      ipv6Prefix: config.ipv6Prefix,
    });
    const online = new OnlineCount(this.subscribers, opts.online ?? (() => this.sockets.size));
    this.online = online;
    registerWebSocket(router, {
      width: shape.width,
      height: shape.height,
      palette: shape.palette,
      tickMs: shape.tickMs,
      cooldownMs: shape.cooldownMs,
      maxBackpressure: config.maxBackpressure,
      authority: opts.authority,
      identify: identify,
      frame: opts.frame,
      deltaLog: this.deltaLog,
      log: this.log,
      sockets: this.sockets,
      subscribers: this.subscribers,
      budget: this.budget,
      allowedOrigins: config.allowedOrigins,
      online: online.count,
    });
    registerMetricsRoute(router, this.metrics, this.log);
    registerApiRoutes(router, { authority: opts.authority, identify: identify });
    registerAdminRoutes(router, config.adminToken, opts.authority, identify);
    registerHistoryRoutes(router, opts.authority);
    registerHttpRoutes(router, {
      frame: opts.frame,
      indexHtml,
      identify: identify,
      health: () => ({
        ok: true,
        role: config.role,
        seq: this.seq(),
        backend: uwsBackend,
        subscribers: this.sockets.size,
        ...opts.health(),
      }),
    });
    const socket = await new Promise<us_listen_socket | false>((resolve) =>
      listen(this.app, config.host, config.port, config.reusePort, resolve),
    );
    if (!socket) return undefined;
    this.listenSocket = socket;
    online.start(shape.tickMs);
    this.stopStallWatch = watchStalls(this.sockets, config.stallMs, (count) => {
      this.metrics.stalledSockets.inc(count);
      this.log.warn({ count, stallMs: config.stallMs }, 'closed WebSockets that stopped reading');
    });
    return listenPort(socket);
  }

  /** Stops accepting; open sockets stay until `closeSockets`. */
  stopListening(): void {
    // us_listen_socket_close only stops accepting; open sockets are closed one by one below.
    if (this.listenSocket) uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.stopStallWatch?.();
    this.online?.stop();
  }

  closeSockets(): void {
    for (const ws of [...this.sockets]) ws.cork(() => ws.end(CloseCode.GOING_AWAY, 'server shutting down'));
  }
}
