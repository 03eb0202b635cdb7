/**
 * The client-facing half of every role: one uWS app with `/ws`, `GET /image`, the HTTP API,
 * `/metrics` and `/healthz`, all registered through the guard (http/guard.ts). What differs by role
 * comes in as parts: the streams (which the writer's ticker or the edge's bus feeds), the authority
 * that answers placements and lookups (this process, or the writer over the bus), the identity
 * secret, and the role's own health fields.
 */
import { readFileSync } from 'node:fs';
import type { us_listen_socket } from 'uWebSockets.js';
import { CloseCode } from '../protocol/messages.ts';
import type { Config } from './config/config.ts';
import { registerAdminRoutes } from './http/admin-routes.ts';
import { registerApiRoutes } from './http/api-routes.ts';
import { HttpGuard, Router } from './http/guard.ts';
import { registerHistoryRoutes } from './http/history-routes.ts';
import { registerHttpRoutes } from './http/routes.ts';
import { registerLoginRoutes } from './http/login-routes.ts';
import { registerStatsRoutes } from './http/stats-routes.ts';
import { registerNameRoutes } from './http/name-routes.ts';
import { registerProjectRoutes } from './http/project-routes.ts';
import { registerTileRoutes } from './http/tile-routes.ts';
import { TileLayout } from './tiles/tile-layout.ts';
import { ipRangeList } from './identity/client-address.ts';
import { MintLimit } from './identity/mint-limit.ts';
import { OidcClient, type OidcSettings } from './identity/oidc-client.ts';
import { makeRequestIdentity } from './identity/request-identity.ts';
import { IdentityIssuer } from './identity/tokens.ts';
import type { Logger } from './ops/log.ts';
import type { Metrics } from './ops/metrics.ts';
import { guardFileDescriptors } from './ops/fd-guard.ts';
import { registerMetricsRoute } from './ops/metrics-route.ts';
import { OperatorError } from './ops/operator-error.ts';
import { listen, listenPort, uws, uwsBackend } from './ops/uws-backend.ts';
import type { Authority } from './placement/authority.ts';
import type { Streams } from './streams/streams.ts';
import { challengeIssuer } from './defence/challenges.ts';
import type { SizeEvent } from './canvas/canvas-size.ts';
import { type CanvasShape, registerWebSocket } from './ws/handlers.ts';

export type { CanvasShape };

const indexHtml = readFileSync(new URL('../client/index.html', import.meta.url));
const modHtml = readFileSync(new URL('../client/mod.html', import.meta.url));

export interface FrontOptions {
  config: Config;
  log: Logger;
  metrics: Metrics;
  streams: Streams;
  /** The canvas clients are told about in hello: the writer's, on every role. */
  shape: CanvasShape;
  /** The writer's canvas id (in /api/canvas's ETag, like /image's). */
  canvasId: string;
  authority: Authority;
  /** HMAC key of identity tokens: the writer's on every role, so a token is valid everywhere. */
  identitySecret: Buffer;
  /** The latest seq this process knows: the canvas's (writer), the latest frame's (edge). */
  seq: () => number;
  /** Role-specific fields of `/healthz`. */
  health: () => Record<string, unknown>;
  /** Accounts (--login): the writer's setting on every role; absent when off. */
  login?: { mode: 'optional' | 'required'; oidc: OidcSettings };
}

export class Front {
  private readonly app = uws.App();
  private listenSocket: us_listen_socket | undefined;
  private port = 0;
  private stopFdGuard: (() => void) | undefined;
  private readonly oidc: OidcClient | undefined;
  private readonly layout: TileLayout;

  constructor(private readonly opts: FrontOptions) {
    const { config, log, streams, authority } = opts;
    const router = new Router(this.app, new HttpGuard(log));
    let hopLogged = false;
    const mints = new MintLimit(config.mintPerMinute);
    const issuer = new IdentityIssuer(opts.identitySecret);
    const identify = makeRequestIdentity(
      issuer,
      {
        trustedProxies: ipRangeList(config.trustedProxies),
        ipv4Prefix: config.ipv4Prefix,
        ipv6Prefix: config.ipv6Prefix,
        unparsableHop: (hop) => {
          opts.metrics.unparsableHops.inc();
          if (hopLogged) return;
          hopLogged = true; // once: every request through such a proxy would log it
          log.warn(
            { hop: hop.slice(0, 100) },
            'X-Forwarded-For hop names no address: using the proxy address (counted in canvas_forwarded_for_unparsable_total)',
          );
        },
      },
      mints,
    );
    const challenges = challengeIssuer(config, opts.identitySecret);
    // One tile geometry for GET /tiles and the WebSocket's region subscriptions.
    const layout = new TileLayout(opts.shape.width, opts.shape.height);
    this.layout = layout;
    registerWebSocket(router, {
      shape: opts.shape,
      layout,
      streams,
      authority,
      identify,
      challenges,
      allowedOrigins: config.allowedOrigins,
      maxBackpressure: config.maxBackpressure,
      log,
      ...(opts.login ? { login: opts.login.mode } : {}),
    });
    if (opts.login) {
      this.oidc = new OidcClient(opts.login.oidc, log);
      registerLoginRoutes(router, { oidc: this.oidc, issuer, secret: opts.identitySecret, log });
    }
    registerMetricsRoute(router, opts.metrics, log);
    registerApiRoutes(router, { authority, identify, challenges });
    registerAdminRoutes(router, config.adminToken, authority, identify);
    registerHistoryRoutes(router, authority, identify);
    registerStatsRoutes(router, authority, identify);
    registerNameRoutes(router, authority, identify);
    registerProjectRoutes(router, authority, identify);
    registerTileRoutes(router, {
      authority,
      layout,
      canvasId: opts.canvasId,
      palette: opts.shape.palette,
      tickMs: opts.shape.tickMs,
      cooldownMs: opts.shape.cooldownMs,
      resizes: opts.shape.resizes,
      // The served frame's seq, not the live canvas's: the same answer on the writer and every edge.
      seq: () => streams.frame.seq,
    });
    registerHttpRoutes(router, {
      frame: () => streams.frame,
      indexHtml,
      modHtml,
      identify,
      health: () => ({
        ok: true,
        role: config.role,
        seq: opts.seq(),
        backend: uwsBackend,
        subscribers: streams.size,
        ...opts.health(),
      }),
    });
  }

  /** The size clients are told now (hello, /api/canvas). */
  get width(): number {
    return this.opts.shape.width;
  }

  get height(): number {
    return this.opts.shape.height;
  }

  /**
   * The canvas grew (a tick carrying resizes, on the writer or from the bus): hello, /api/canvas
   * (`all`: every resize, each at its own seq), the tile paths and region subscriptions use the new
   * size from now on.
   */
  resized(size: { width: number; height: number }, all: readonly SizeEvent[]): void {
    const { width, height } = size;
    this.opts.shape.width = width;
    this.opts.shape.height = height;
    const list = this.opts.shape.resizes;
    list.splice(
      0,
      list.length,
      ...all.map((r) => ({ seq: r.seq, width: r.width, height: r.height, left: r.left, top: r.top })),
    );
    this.layout.resize(width, height);
  }

  /** Starts listening and the streams' timers; resolves to the port. A taken port is the operator's to fix. */
  async listen(): Promise<number> {
    const { host, port, reusePort } = this.opts.config;
    const socket = await new Promise<us_listen_socket | false>((resolve) =>
      listen(this.app, host, port, reusePort, resolve),
    );
    if (!socket) throw new OperatorError(`cannot listen on ${host}:${port} (address in use or not available)`);
    this.listenSocket = socket;
    this.port = listenPort(socket);
    // Not awaited: the canvas serves while the provider is unreachable; /auth/login says so meanwhile.
    void this.oidc?.start();
    this.opts.streams.start();
    this.stopFdGuard = guardFileDescriptors({
      pause: () => this.closeListenSocket(),
      resume: () => this.listenAgain(),
      registry: this.opts.metrics.registry,
      log: this.opts.log,
    });
    return this.port;
  }

  private closeListenSocket(): void {
    // us_listen_socket_close only stops accepting; open sockets stay.
    if (this.listenSocket) uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  /** Listens again on the port it had (after the fd guard paused it); false when that failed. */
  private listenAgain(): boolean {
    const { host, reusePort } = this.opts.config;
    // uWS calls back synchronously from listen.
    listen(this.app, host, this.port, reusePort, (socket) => {
      if (socket) this.listenSocket = socket;
    });
    return this.listenSocket !== undefined;
  }

  /** Stops accepting; open sockets stay until `closeSockets`. */
  stopListening(): void {
    this.stopFdGuard?.();
    this.oidc?.close();
    this.closeListenSocket();
    this.opts.streams.stop();
  }

  closeSockets(): void {
    this.opts.streams.closeAll(CloseCode.GOING_AWAY, 'server shutting down');
  }
}
