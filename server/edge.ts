/**
 * Wires the edge role, in one direction: metrics, then the bus to the writer (which gives the
 * canvas description and the latest frame), then the streams it feeds, then the client-facing front
 * (front.ts), which serves exactly as the writer's does and forwards what needs the writer
 * (bus/remote-authority.ts). No database and no canvas of its own.
 */
import { busKeys } from './bus/bus-messages.ts';
import { EdgeBus } from './bus/edge-bus.ts';
import { RemoteAuthority } from './bus/remote-authority.ts';
import type { Config } from './config/config.ts';
import { Front } from './front.ts';
import type { Logger } from './ops/log.ts';
import { Metrics } from './ops/metrics.ts';
import { shownUrl } from './ops/operator-error.ts';
import { checkBackend, uwsBackend } from './ops/uws-backend.ts';
import { Streams } from './streams/streams.ts';

export interface RunningEdge {
  port: number;
  url: string;
  backend: string;
  /** Stop listening, close sockets with 1001, leave Redis. */
  close(): Promise<void>;
}

export async function startEdge(config: Config, log: Logger): Promise<RunningEdge> {
  checkBackend(config.allowUwsFallback, log);
  const metrics = new Metrics({ backend: uwsBackend, role: config.role });

  const bus = new EdgeBus({
    primary: config.redis,
    ...(config.redisReplica ? { replica: config.redisReplica } : {}),
    keys: busKeys(config.redisPrefix),
    timeoutMs: config.writerTimeoutMs,
    registry: metrics.registry,
    log,
  });
  // The canvas is the writer's: size, palette and timings come from it, not from this process's flags.
  const meta = await bus.start();
  if (config.login !== 'off' && config.login !== (meta.login ?? 'off'))
    log.warn(
      { own: config.login, writer: meta.login ?? 'off' },
      "--login is the writer's to set: this edge follows the writer's",
    );

  const streams: Streams = new Streams({
    maxBackpressure: config.maxBackpressure,
    maxBufferedTotal: config.maxBufferedTotal,
    stallMs: config.stallMs,
    deltaRing: config.deltaRing,
    onlineIntervalMs: meta.tickMs,
    // Until the writer's first beat (or while it is away) an edge knows only its own clients.
    online: (): number => (bus.writerUp && bus.online !== undefined ? bus.online : streams.size),
    registry: metrics.registry,
    log,
  });
  await streams.publish({ frame: bus.frame, delta: undefined, startedAt: performance.now(), encodeSeconds: 0 });
  bus.follow((out) => {
    // Every tick says the size; the list changes with a resize, or when a resync brought it up to date.
    const { width, height } = out.frame;
    if (out.resizes || width !== front.width || height !== front.height) front.resized(out.frame, bus.resizes);
    void streams.publish(out);
  });
  metrics.watchSeq(() => streams.frame.seq);

  const front = new Front({
    config,
    log,
    metrics,
    streams,
    // The frame's size and the resizes up to it (the bus took them from the meta key with the frame).
    shape: { ...meta, width: bus.frame.width, height: bus.frame.height, resizes: [...bus.resizes] },
    canvasId: meta.canvasId,
    authority: new RemoteAuthority(bus, () => streams.frame.seq),
    identitySecret: Buffer.from(meta.secret, 'hex'),
    seq: () => streams.frame.seq,
    // Accounts are the writer's to decide, like the canvas: this process's --login flags are ignored.
    ...(meta.login && meta.oidc ? { login: { mode: meta.login, oidc: meta.oidc } } : {}),
    health: () => ({ edge: bus.id, redis: bus.redisUp, writer: bus.writerUp, busLagMs: bus.lastLagMs ?? null }),
  });
  let port: number;
  try {
    port = await front.listen();
  } catch (err) {
    await bus.close();
    throw err;
  }
  bus.reportPresence(meta.tickMs, () => streams.size);
  log.info({ edge: bus.id, canvas: meta.canvasId, seq: streams.frame.seq }, 'edge following the writer');

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
