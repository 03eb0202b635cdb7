/**
 * The edge's side of the bus: follows the writer's ticks into the local fan-out, notices a missed
 * tick (a delta that does not start at our seq, a beat ahead of us, Redis reconnecting) and then
 * takes the frame from its key, and carries forwarded requests to the writer in batches (one
 * publish per loop turn) with their answers back. A request the writer does not answer within
 * --writer-timeout-ms fails with `unavailable`; while the writer is known to be down nothing is
 * forwarded at all.
 */
import { randomBytes } from 'node:crypto';
import { encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import type { Logger } from '../ops/log.ts';
import type { Frame, TickOutput } from '../tick/ticker.ts';
import { type Answer, type BusKeys, type CanvasMeta, decodeBus, encodeBus, type Request } from './bus-messages.ts';
import type { BusMetrics } from './bus-metrics.ts';
import { connectRedis, onMessages, type RedisLink, whenReady } from './redis-link.ts';

type Unnumbered<R> = R extends Request ? Omit<R, 'i'> : never;
export type Forward = Unnumbered<Request>;

interface Pending {
  /** performance.now() after which it fails as `unavailable`. */
  deadline: number;
  done: (r: Answer | undefined) => void;
}

/** How often unanswered requests are checked for their timeout. */
const SWEEP_MS = 250;

export class EdgeBus {
  readonly id = randomBytes(6).toString('hex');
  /** Publishes requests and presence (to the primary). */
  private readonly pub: RedisLink;
  /** Subscribes to ticks and answers, and (`read`) reads the keys: a replica when one is given. */
  private readonly sub: RedisLink;
  private readonly read: RedisLink;
  /** The frame being served (its fan-out has started). */
  private current: Frame | undefined;
  /** The newest seq taken from the writer (its fan-out may still wait for the previous one). */
  private acceptedSeq = -1;
  private canvasId = '';
  /** performance.now() of the last message from the writer. */
  private writerSeenAt = Number.NEGATIVE_INFINITY;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private queue: Request[] = [];
  private readonly sweeper: NodeJS.Timeout;
  /** Fan-out in progress, and the newest tick waiting for it. */
  private publishing = false;
  private waiting: TickOutput | undefined;
  private resyncing = false;
  private presenceTimer: NodeJS.Timeout | undefined;
  /** ms from the writer publishing the last tick to this edge starting its fan-out. */
  lastLagMs: number | undefined;
  /** Clients of the whole deployment as the writer's last beat counted them; undefined before one. */
  online: number | undefined;

  constructor(
    /** Redis primary, and optionally a replica to follow the writer from (docs/SCALING.md). */
    urls: { primary: string; replica?: string },
    private readonly keys: BusKeys,
    private readonly timeoutMs: number,
    private readonly metrics: BusMetrics,
    private readonly log: Logger,
    /** The local fan-out of one tick; the next waits for it. */
    private readonly onTick: (out: TickOutput) => Promise<void>,
  ) {
    this.pub = connectRedis(urls.primary, 'canvas-edge', log);
    // Redis replicates PUBLISH to its replicas, whose subscribers get every message: edges can
    // follow the writer from replicas, so the primary sends each tick once per replica, not per edge.
    const follow = urls.replica ?? urls.primary;
    this.read = urls.replica ? connectRedis(follow, 'canvas-edge-read', log) : this.pub;
    // Ticks published while Redis was away are lost: take the frame key when it is back.
    this.sub = connectRedis(follow, 'canvas-edge-sub', log, (first) => {
      if (!first) this.resync('reconnect');
    });
    onMessages(this.sub, log, (channel, message) => this.onMessage(channel, message));
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
  }

  get redisUp(): boolean {
    return this.pub.up && this.sub.up && this.read.up;
  }

  get writerUp(): boolean {
    return this.redisUp && performance.now() - this.writerSeenAt < this.timeoutMs;
  }

  /** Reports this edge's client count to the writer once per `intervalMs`. */
  reportPresence(intervalMs: number, count: () => number): void {
    this.presenceTimer = setInterval(() => {
      if (!this.pub.up) return;
      this.pub.redis
        .publish(this.keys.presence, encodeBus({ edge: this.id, n: count() }))
        .catch(() => this.metrics.publishFailures.inc());
    }, intervalMs);
  }

  /** The latest frame; valid once `start` resolved. */
  get frame(): Frame {
    if (!this.current) throw new Error('no frame from the writer yet');
    return this.current;
  }

  /** Waits for Redis and for the writer to have published the canvas; returns its description. */
  async start(): Promise<CanvasMeta> {
    await Promise.all([whenReady(this.pub), whenReady(this.sub), whenReady(this.read)]);
    await this.sub.redis.subscribe(this.keys.ticks, this.keys.answers(this.id));
    let warned = false;
    for (;;) {
      const [meta, frame] = await Promise.all([
        this.read.redis.getBuffer(this.keys.meta).catch(() => null),
        this.read.redis.getBuffer(this.keys.frame).catch(() => null),
      ]);
      const m = meta ? decodeBus(meta) : undefined;
      if (m && frame) {
        this.canvasId = String(m.canvasId);
        this.accept(frame, 'start');
        // Counted as up until a beat is overdue: if no writer listens, the first forward learns it
        // at once (Redis reports no subscriber).
        this.writerSeenAt = performance.now();
        if (this.current) return m as unknown as CanvasMeta;
      }
      if (!warned) this.log.warn({ key: this.keys.meta }, 'waiting for a writer to publish the canvas');
      warned = true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Sends `req` to the writer with the next batch; `done` gets its answer, or undefined
   * (unavailable): at once while the writer is known down, after `timeoutMs` (default
   * --writer-timeout-ms) without an answer, or as soon as the writer goes quiet.
   */
  forward(req: Forward, done: (r: Answer | undefined) => void, timeoutMs = this.timeoutMs): void {
    if (!this.writerUp) {
      this.metrics.forwardAnswers.inc({ result: 'refused' });
      return done(undefined);
    }
    const i = this.nextId++;
    this.pending.set(i, { deadline: performance.now() + timeoutMs, done });
    this.metrics.forwarded.inc({ kind: req.k });
    this.queue.push({ ...req, i } as Request);
    if (this.queue.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const reqs = this.queue;
    this.queue = [];
    if (reqs.length === 0) return;
    const failAll = () => {
      // Not delivered to any writer: these were never placed.
      for (const r of reqs) this.settle(r.i, undefined, 'refused');
    };
    if (!this.pub.up) return failAll();
    this.pub.redis.publish(this.keys.requests, encodeBus({ edge: this.id, reqs })).then(
      (receivers) => {
        this.metrics.published.inc({ kind: 'requests' });
        if (receivers > 0) return;
        // No writer is subscribed (it exited; Redis saw its connection close): down from now on,
        // until its next message, rather than until a beat is overdue.
        this.writerSeenAt = Number.NEGATIVE_INFINITY;
        failAll();
      },
      () => {
        this.metrics.publishFailures.inc();
        failAll();
      },
    );
  }

  private settle(i: number, r: Answer | undefined, result: 'answered' | 'refused' | 'timeout'): void {
    const p = this.pending.get(i);
    if (!p) return; // already timed out
    this.pending.delete(i);
    this.metrics.forwardAnswers.inc({ result });
    try {
      p.done(r);
    } catch (err) {
      // Answers arrive in Redis and timer callbacks: a throw here would end the process, and the
      // rest of the batch would go unanswered.
      this.log.error({ err, result }, 'forwarded answer handler failed');
    }
  }

  private sweep(): void {
    const now = performance.now();
    // A long request (a timelapse build) also ends when the writer stops beating.
    const writerGone = !this.writerUp;
    for (const [i, p] of this.pending) if (writerGone || p.deadline < now) this.settle(i, undefined, 'timeout');
  }

  private onMessage(channel: string, message: Buffer): void {
    if (channel === this.keys.ticks) return this.accept(message, 'channel');
    const batch = decodeBus(message);
    if (!batch || !Array.isArray(batch.ans)) return;
    this.writerSeenAt = performance.now();
    for (const a of batch.ans as Array<{ i: number; r: Answer }>) this.settle(a.i, a.r, 'answered');
  }

  /** A tick, beat or stored frame from the writer. */
  private accept(bytes: Buffer, via: 'channel' | 'start' | 'resync'): void {
    const m = decodeBus(bytes);
    if (!m || typeof m.seq !== 'number' || typeof m.canvasId !== 'string') {
      this.log.warn({ via }, 'dropped a malformed message from the writer');
      return;
    }
    if (via === 'channel') this.writerSeenAt = performance.now();
    const sameCanvas = m.canvasId === this.canvasId;
    if (m.k === 'beat') {
      if (typeof m.online === 'number') this.online = m.online;
      if (sameCanvas && m.seq > this.acceptedSeq) this.resync('missed tick');
      return;
    }
    if (sameCanvas && m.seq <= this.acceptedSeq) return; // already have it (start/resync race)
    const png = m.png as Uint8Array;
    const frame: Frame = {
      seq: m.seq,
      png: Buffer.from(png.buffer, png.byteOffset, png.byteLength),
      etag: String(m.etag),
      message: encodeMessage({ t: MsgType.PNG, seq: m.seq, png }),
    };
    const d = m.delta as { fromSeq: number; toSeq: number; count: number; message: Uint8Array } | undefined;
    // A delta is usable only when it starts where this edge is; otherwise the PNG resyncs everyone.
    const delta = d && sameCanvas && d.fromSeq === this.acceptedSeq ? d : undefined;
    this.canvasId = m.canvasId;
    this.acceptedSeq = m.seq;
    if (via === 'start') {
      this.current = frame;
      return;
    }
    this.lastLagMs = Math.max(0, Date.now() - Number(m.at));
    this.metrics.lagSeconds.observe(this.lastLagMs / 1000);
    this.enqueue({ frame, delta, startedAt: performance.now(), encodeSeconds: 0 });
  }

  /** One fan-out at a time; a tick that skips a waiting one loses its delta (clients get the PNG). */
  private enqueue(out: TickOutput): void {
    if (this.publishing) {
      this.waiting = this.waiting ? { ...out, delta: undefined } : out;
      return;
    }
    this.publishing = true;
    // Served from now on, as the writer's ticker does: new sockets get this frame, then the next tick.
    this.current = out.frame;
    this.onTick(out)
      .catch((err: unknown) => this.log.error({ err }, 'edge fan-out failed'))
      .finally(() => {
        this.publishing = false;
        const next = this.waiting;
        this.waiting = undefined;
        if (next) this.enqueue(next);
      });
  }

  private resync(reason: string): void {
    if (this.resyncing) return;
    this.resyncing = true;
    this.metrics.resyncs.inc({ reason });
    // The key is read on its own connection, which may come back after the subscriber that asked.
    whenReady(this.read)
      .then(() => this.read.redis.getBuffer(this.keys.frame))
      .then((bytes) => {
        if (bytes) this.accept(bytes, 'resync');
      })
      .catch((err: unknown) => this.log.debug({ err }, 'frame key read failed'))
      .finally(() => {
        this.resyncing = false;
      });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    for (const i of [...this.pending.keys()]) this.settle(i, undefined, 'refused');
    const links = new Set([this.pub, this.sub, this.read]);
    await Promise.allSettled([...links].map((l) => l.redis.quit()));
  }
}
