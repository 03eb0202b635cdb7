/**
 * Wires the edge role: no database and no canvas of its own. The Redis bus (bus/edge-bus.ts) gives
 * the canvas description, the latest frame and every tick; the client-facing front (front.ts) serves
 * them exactly as the writer does, and forwards what needs the writer (bus/remote-authority.ts).
 */
import type { Config } from './config/config.ts';
import { Front } from './front.ts';
import { busKeys } from './bus/bus-messages.ts';
import { BusMetrics } from './bus/bus-metrics.ts';
import { EdgeBus } from './bus/edge-bus.ts';
import { RemoteAuthority } from './bus/remote-authority.ts';
import type { Logger } from './ops/log.ts';
import { FALLBACK_MESSAGE, uwsBackend } from './ops/uws-backend.ts';
import { shownUrl, StartupError } from './server.ts';

export interface RunningEdge {
  port: number;
  url: string;
  backend: string;
  /** Stop listening, close sockets with 1001, leave Redis. */
  close(): Promise<void>;
}

export async function startEdge(config: Config, log: Logger): Promise<RunningEdge> {
  if (uwsBackend === 'fallback' && !config.allowUwsFallback) throw new StartupError(FALLBACK_MESSAGE);
  const front: Front = new Front(config, log, (): number => bus.frame.seq);
  const metrics: BusMetrics = new BusMetrics(front.metrics.registry, {
    redisUp: () => bus.redisUp,
    writerUp: () => bus.writerUp,
  });
  const urls = config.redisReplica
    ? { primary: config.redis, replica: config.redisReplica }
    : { primary: config.redis };
  const bus: EdgeBus = new EdgeBus(urls, busKeys(config.redisPrefix), config.writerTimeoutMs, metrics, log, (out) =>
    front.fanOut(out),
  );
  const meta = await bus.start();
  const port = await front.listen({
    // The canvas is the writer's: size, palette and timings come from it, not from this process's flags.
    shape: meta,
    authority: new RemoteAuthority(bus),
    identitySecret: Buffer.from(meta.secret, 'hex'),
    frame: () => bus.frame,
    health: () => ({ edge: bus.id, redis: bus.redisUp, writer: bus.writerUp, busLagMs: bus.lastLagMs ?? null }),
    // Until the writer's first beat (or while it is away) an edge knows only its own clients.
    online: () => (bus.writerUp ? (bus.online ?? front.sockets.size) : front.sockets.size),
  });
  if (port === undefined) {
    await bus.close();
    throw new StartupError(`cannot listen on ${config.host}:${config.port} (address in use or not available)`);
  }
  bus.reportPresence(meta.tickMs, () => front.sockets.size);
  log.info({ edge: bus.id, canvas: meta.canvasId, seq: bus.frame.seq }, 'edge following the writer');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      front.stopListening();
      front.closeSockets();
      await bus.close();
      log.info('edge shut down');
    })());
  return { port, url: shownUrl(config.host, port), backend: uwsBackend, close };
}
