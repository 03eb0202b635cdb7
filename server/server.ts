/**
 * Wires the standalone and writer roles: store -> canvas -> committer -> tick -> the client-facing
 * front (front.ts), and for a writer the Redis bus the edges follow (bus/writer-bus.ts; the edge
 * role is edge.ts). `startServer` resolves once listening; `close` is the graceful shutdown.
 */
import { Canvas } from './canvas/canvas.ts';
import type { Config } from './config/config.ts';
import type { Logger } from './ops/log.ts';
import { PlacementCommitter } from './placement/committer.ts';
import { PngEncoder } from './canvas/png-encoder.ts';
import { Store } from './store/store.ts';
import { Ticker } from './tick/ticker.ts';
import { FALLBACK_MESSAGE, uwsBackend } from './ops/uws-backend.ts';
import { startPprofServer, type PprofServer } from './ops/pprof-server.ts';
import { Moderation } from './moderation/moderation.ts';
import { ModerationStore } from './store/moderation-store.ts';
import { History } from './store/history.ts';
import { PlacementService } from './placement/service.ts';
import { Front } from './front.ts';
import { LocalAuthority } from './placement/authority.ts';
import { WriterBus } from './bus/writer-bus.ts';
import { busKeys } from './bus/bus-messages.ts';
import { BusMetrics } from './bus/bus-metrics.ts';
import { Keyframes } from './history/keyframes.ts';
import { HistoryService } from './history/history-service.ts';
import { HistoryAnswers } from './history/history-answers.ts';

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

/** How often new placements are folded into keyframes (history/keyframes.ts). */
const KEYFRAME_CATCH_UP_MS = 10_000;

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

  const front = new Front(config, log, () => canvas.seq);
  const { metrics } = front;
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
  const secret = store.identitySecret(config.secret);
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
  // History workers open the database file read-only: none for an in-memory database.
  const pastCanvases =
    config.db === ':memory:'
      ? undefined
      : {
          keyframes: new Keyframes(store.db, config.width, config.height),
          service: new HistoryService(store.db, {
            dbPath: config.db,
            width: config.width,
            height: config.height,
            palette: config.palette,
            pngLevel: config.pngLevel,
          }),
        };
  const authority = new LocalAuthority(
    canvas,
    placements,
    history,
    moderation,
    pastCanvases && new HistoryAnswers({ history: pastCanvases.service, canvasId: store.canvasId, canvas }),
  );
  // Keyframes (so any past canvas is a keyframe plus a bounded replay) are written off the commit
  // path, in chunks: at startup for the whole history, then every KEYFRAME_CATCH_UP_MS.
  const catchUp = () => {
    pastCanvases?.keyframes.catchUp().catch((err: unknown) => log.error({ err }, 'keyframe catch-up failed'));
  };
  catchUp();
  const keyframeTimer = setInterval(catchUp, KEYFRAME_CATCH_UP_MS).unref();
  const bus: WriterBus | undefined =
    config.role === 'writer'
      ? new WriterBus(
          config.redis,
          busKeys(config.redisPrefix),
          {
            canvasId: store.canvasId,
            width: config.width,
            height: config.height,
            palette: [...config.palette],
            tickMs: config.tickMs,
            cooldownMs: config.cooldownMs,
            secret: secret.toString('hex'),
          },
          authority,
          new BusMetrics(metrics.registry, { redisUp: (): boolean => bus?.redisUp ?? false, writerUp: () => true }),
          log,
          () => front.sockets.size,
        )
      : undefined;
  const ticker = new Ticker(
    canvas,
    encoder,
    store.canvasId,
    Math.floor((config.width * config.height * config.deltaMaxPercent) / 100),
    async (out) => {
      metrics.encodeSeconds.observe(out.encodeSeconds);
      metrics.pngBytes.set(out.frame.png.length);
      bus?.publishTick(out);
      await front.fanOut(out);
      metrics.tickSeconds.observe((performance.now() - out.startedAt) / 1000);
    },
    (err) => log.error({ err }, 'tick encode failed'),
  );
  metrics.pngBytes.set((await ticker.run()).frame.png.length);
  const frame = () => ticker.frame;

  const port = await front.listen({
    shape: config,
    authority,
    identitySecret: secret,
    frame,
    health: () => (bus ? { redis: bus.redisUp, writer: true } : {}),
    online: () => (bus ? bus.online() : front.sockets.size),
  });
  if (port === undefined) {
    store.close();
    throw new StartupError(`cannot listen on ${config.host}:${config.port} (address in use or not available)`);
  }
  let pprof: PprofServer | undefined;
  if (config.pprof) {
    try {
      pprof = await startPprofServer(config.pprofPort, log);
    } catch (err) {
      front.stopListening();
      store.close();
      throw new StartupError((err as Error).message);
    }
    log.info({ url: `http://127.0.0.1:${pprof.port}/debug/pprof/profile?seconds=30` }, 'pprof enabled');
  }
  ticker.start(config.tickMs);
  // Not awaited: a writer serves its own clients while Redis is still unreachable.
  bus?.start(ticker.frame, config.tickMs).catch((err: unknown) => log.error({ err }, 'bus start failed'));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      front.stopListening();
      pprof?.close();
      await ticker.stop();
      committer.close(); // flushes pending placements: their acks go out before the close frames
      placements.close();
      front.closeSockets();
      await bus?.close(); // after the flush: the edges' last answers go out first
      clearInterval(keyframeTimer);
      await pastCanvases?.keyframes.stop();
      await pastCanvases?.service.close();
      store.close();
      log.info({ seq: canvas.seq }, 'shut down');
    })());

  return { port, url: shownUrl(config.host, port), canvas, backend: uwsBackend, pprofPort: pprof?.port, close };
}

/** The URL to print: a wildcard listen address is shown as localhost. */
export function shownUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `http://${shown}:${port}`;
}
