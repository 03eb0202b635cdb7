/**
 * Wires the parts together: store -> canvas -> committer -> tick -> HTTP + WebSocket on one uWS app.
 * `startServer` resolves once listening; `close` is the graceful shutdown.
 */
import { readFileSync } from 'node:fs';
import type { us_listen_socket, WebSocket } from 'uWebSockets.js';
import { CloseCode } from '../protocol/messages.ts';
import { Canvas } from './canvas/canvas.ts';
import type { Config } from './config/config.ts';
import { HttpGuard, Router } from './http/guard.ts';
import { registerHttpRoutes } from './http/routes.ts';
import type { Logger } from './ops/log.ts';
import { PlacementCommitter } from './placement/committer.ts';
import { PngEncoder } from './canvas/png-encoder.ts';
import { Store } from './store/store.ts';
import { Ticker } from './tick/ticker.ts';
import { FALLBACK_MESSAGE, listenExclusive, listenPort, uws, uwsBackend } from './ops/uws-backend.ts';
import { DeltaLog } from './tick/delta-log.ts';
import { Metrics } from './ops/metrics.ts';
import { registerMetricsRoute } from './ops/metrics-route.ts';
import { startPprofServer, type PprofServer } from './ops/pprof-server.ts';
import { Subscribers } from './tick/fanout.ts';
import { watchStalls } from './ws/stall-watch.ts';
import { registerWebSocket, type Conn } from './ws/handlers.ts';
import { publishTick } from './tick/publish.ts';
import { registerAdminRoutes } from './http/admin-routes.ts';
import { imageSource } from './http/bench-image-modes.ts';
import { registerApiRoutes } from './http/api-routes.ts';
import { IdentityIssuer } from './identity/tokens.ts';
import { Moderation } from './moderation/moderation.ts';
import { ModerationStore } from './store/moderation-store.ts';
import { History } from './store/history.ts';
import { PlacementService } from './placement/service.ts';
import { makeRequestIdentity } from './identity/request-identity.ts';
import { ipRangeList } from './identity/client-address.ts';
import { SendBudget } from './ws/send-budget.ts';

export interface RunningServer {
  port: number;
  url: string;
  canvas: Canvas;
  backend: string;
  /** Port of the 127.0.0.1 pprof listener, when enabled. */
  pprofPort: number | undefined;
  /** Stop listening, flush placements, close sockets with 1001, snapshot, close the database. */
  close(): Promise<void>;
}

/** A startup failure the operator fixes (port in use, bad path, fallback backend): one line, exit 1. */
export class StartupError extends Error {}

const DELTA_LOG_BYTES = 16 << 20;

const indexHtml = readFileSync(new URL('../client/index.html', import.meta.url));

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  if (uwsBackend === 'fallback' && !config.allowUwsFallback) throw new StartupError(FALLBACK_MESSAGE);
  if (uwsBackend === 'fallback') log.warn('running on the uWebSockets.js pure-JS fallback: expect low throughput');

  const store = Store.open({
    path: config.db,
    width: config.width,
    height: config.height,
    paletteSize: config.palette.length,
    synchronous: config.synchronous,
    busyTimeoutMs: config.busyTimeoutMs,
  });
  let loaded: ReturnType<Store['load']>;
  try {
    loaded = store.load(config.width, config.height, config.palette.length);
  } catch (err) {
    store.close();
    throw err;
  }
  const canvas = new Canvas(
    config.width,
    config.height,
    config.palette.length,
    loaded.grid,
    loaded.seq,
    loaded.lastSeq,
  );
  log.info({ seq: loaded.seq, replayed: loaded.replayed, db: config.db }, 'canvas restored');

  const app = uws.App();
  // Every route and WebSocket callback is registered through the guard (http-guard.ts).
  const router = new Router(app, new HttpGuard(log));
  const subscribers = new Subscribers();
  const sockets = new Set<WebSocket<Conn>>();
  const metrics = new Metrics({
    connections: () => sockets.size,
    subscribers: (stream) => subscribers.count(stream),
    seq: () => canvas.seq,
    bufferedBytes: () => {
      let n = 0;
      for (const ws of sockets) n += ws.getBufferedAmount() + ws.getUserData().outbox.queuedBytes;
      return n;
    },
    backend: uwsBackend,
  });
  const budget = new SendBudget(sockets, config.maxBufferedTotal, config.maxBackpressure, {
    evicted: (count, bytes) => {
      metrics.evictedSockets.inc(count);
      log.warn(
        { count, bytes, cap: config.maxBufferedTotal },
        'dropped slow WebSocket readers: buffered bytes over --max-buffered-total',
      );
    },
  });
  const committerOptions = {
    commitDelayMs: config.commitDelayMs,
    commitBatch: config.commitBatch,
    snapshotEvery: config.snapshotEvery,
    replayed: loaded.replayed,
  };
  const committer = new PlacementCommitter(store, canvas, committerOptions, {
    commitFailed: (err, count) =>
      count === 0
        ? log.error({ err }, 'snapshot failed: startup will replay more history; retrying with backoff')
        : log.error({ err, count }, 'commit failed: placements rejected'),
    committed: (count, seconds) => {
      metrics.commitSeconds.observe(seconds);
      metrics.commitBatch.observe(count);
    },
    callbackFailed: (err) => log.error({ err }, 'placement callback failed'),
  });
  const modStore = new ModerationStore(store.db);
  const history = new History(store.db);
  const identify = makeRequestIdentity(new IdentityIssuer(store.identitySecret(config.secret)), {
    trustedProxies: ipRangeList(config.trustedProxies),
    ipv4Prefix: config.ipv4Prefix,
    ipv6Prefix: config.ipv6Prefix,
  });
  const placements = new PlacementService(
    canvas,
    committer,
    metrics,
    config.cooldownMs,
    modStore.bannedIds(),
    history.runningCooldowns(Date.now(), config.cooldownMs),
  );
  const moderation = new Moderation(canvas, committer, modStore, history, placements);

  const encoder = new PngEncoder(config.width, config.height, config.palette, config.pngLevel);
  // The log keeps at most DELTA_LOG_BYTES of messages so a burst of huge ticks cannot grow memory.
  const deltaLog = new DeltaLog(config.deltaRing, DELTA_LOG_BYTES);
  const ticker = new Ticker(
    canvas,
    encoder,
    store.canvasId,
    Math.floor((config.width * config.height * config.deltaMaxPercent) / 100),
    async (out) => {
      metrics.encodeSeconds.observe(out.encodeSeconds);
      metrics.pngBytes.set(out.frame.png.length);
      await publishTick(subscribers, deltaLog, metrics, budget, out);
      metrics.tickSeconds.observe((performance.now() - out.startedAt) / 1000);
    },
    (err) => log.error({ err }, 'tick encode failed'),
  );
  metrics.pngBytes.set((await ticker.run()).frame.png.length);
  const frame = () => ticker.frame;
  const image = imageSource(config.benchImageMode, frame, canvas, encoder, store);
  if (config.benchImageMode !== 'cached')
    log.warn({ mode: config.benchImageMode }, 'benchmark-only /image mode: every request encodes');

  registerWebSocket(router, {
    canvas,
    palette: config.palette,
    tickMs: config.tickMs,
    cooldownMs: config.cooldownMs,
    maxBackpressure: config.maxBackpressure,
    placements,
    identify,
    frame,
    deltaLog,
    log,
    sockets,
    subscribers,
    budget,
    allowedOrigins: config.allowedOrigins,
  });
  registerMetricsRoute(router, metrics, log);
  registerApiRoutes(router, { canvas, placements, history, identify });
  registerAdminRoutes(router, config.adminToken, moderation, identify);
  registerHttpRoutes(router, {
    frame: image,
    indexHtml,
    identify,
    health: () => ({ ok: true, seq: canvas.seq, backend: uwsBackend, subscribers: sockets.size }),
  });

  const listenSocket = await new Promise<us_listen_socket | false>((resolve) =>
    listenExclusive(app, config.host, config.port, (s) => resolve(s)),
  );
  if (!listenSocket) {
    store.close();
    throw new StartupError(`cannot listen on ${config.host}:${config.port} (address in use or not available)`);
  }
  let pprof: PprofServer | undefined;
  if (config.pprof) {
    try {
      pprof = await startPprofServer(config.pprofPort, log);
    } catch (err) {
      uws.us_listen_socket_close(listenSocket);
      store.close();
      throw new StartupError((err as Error).message);
    }
    log.info({ url: `http://127.0.0.1:${pprof.port}/debug/pprof/profile?seconds=30` }, 'pprof enabled');
  }
  const port = listenPort(listenSocket);
  ticker.start(config.tickMs);
  const stopStallWatch = watchStalls(sockets, config.stallMs, (count) => {
    metrics.stalledSockets.inc(count);
    log.warn({ count, stallMs: config.stallMs }, 'closed WebSockets that stopped reading');
  });
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // us_listen_socket_close only stops accepting; open sockets are closed one by one below.
      uws.us_listen_socket_close(listenSocket);
      pprof?.close();
      await ticker.stop();
      stopStallWatch();
      committer.close(); // flushes pending placements: their acks go out before the close frames
      placements.close();
      for (const ws of [...sockets]) {
        ws.cork(() => ws.end(CloseCode.GOING_AWAY, 'server shutting down'));
      }
      store.close();
      log.info({ seq: canvas.seq }, 'shut down');
    })());

  return { port, url, canvas, backend: uwsBackend, pprofPort: pprof?.port, close };
}
