/**
 * The writer's side of the bus: publishes every changed tick (one message, whatever the number of
 * edges or users) and a beat per tick interval, keeps the latest frame and the canvas description
 * under keys, and answers the edges' forwarded requests through the same authority that serves its
 * own clients, batched per edge and per loop turn. Redis being down never stops the writer: its own
 * clients keep placing, and the keys are written again when Redis is back.
 */
import type { Registry } from 'prom-client';
import { ErrorCode } from '../../protocol/messages.ts';
import type { Logger } from '../ops/log.ts';
import type { Authority } from '../placement/authority.ts';
import type { Frame, TickOutput } from '../streams/frame.ts';
import {
  type Answer,
  type AnswerEntry,
  type BusKeys,
  STORED_ANSWER_TTL_S,
  type CanvasMeta,
  decodePresence,
  decodeRequests,
  encodeBus,
  type FrameMsg,
  type Request,
} from './bus-messages.ts';
import { BusMetrics } from './bus-metrics.ts';
import { connectRedis, onMessages, type RedisLink, whenReady } from './redis-link.ts';

export interface WriterBusOptions {
  url: string;
  keys: BusKeys;
  /** The canvas the edges serve, and the identity secret. */
  meta: CanvasMeta;
  /** Answers the edges' forwarded requests: the same authority that serves this process's clients. */
  authority: Authority;
  /** This leader's lease epoch (bus/lease.ts), carried by every message it publishes. */
  epoch: number;
  /** False once the lease may have passed to another writer: nothing more is published. */
  leading: () => boolean;
  registry: Registry;
  log: Logger;
}

export interface WriterBusStart {
  /** The frame the keys hold until the first tick. */
  frame: Frame;
  tickMs: number;
  /** This process's own WebSocket clients (the beat's online count adds the edges'). */
  ownClients: () => number;
}

export class WriterBus {
  readonly metrics: BusMetrics;
  private readonly keys: BusKeys;
  private readonly meta: CanvasMeta;
  private readonly authority: Authority;
  private readonly log: Logger;
  private readonly pub: RedisLink;
  private readonly sub: RedisLink;
  private readonly outgoing = new Map<string, AnswerEntry[]>();
  /** Answers larger than this are stored under a key instead of published (see pubsubLimit). */
  private largeAnswerBytes = DEFAULT_LARGE_ANSWER_BYTES;
  private flushScheduled = false;
  private beatTimer: NodeJS.Timeout | undefined;
  private latest: FrameMsg | undefined;
  private closed = false;
  /** Subscribed to requests: only then may edges find the canvas (and start forwarding). */
  private listening = false;
  /** Each edge's last reported client count, and when (performance.now()). */
  private readonly edgeCounts = new Map<string, { n: number; at: number }>();
  private tickMs = 1000;
  private ownClients: () => number = () => 0;
  private readonly epoch: number;
  private readonly leading: () => boolean;
  private checkingKeys = false;

  constructor(opts: WriterBusOptions) {
    const { url, keys, log } = opts;
    this.keys = keys;
    this.epoch = opts.epoch;
    this.leading = opts.leading;
    this.meta = opts.meta;
    this.authority = opts.authority;
    this.log = log;
    this.metrics = new BusMetrics(opts.registry, {
      redisUp: () => this.redisUp,
      writerUp: () => true,
      epoch: () => this.epoch,
    });
    // Redis may have restarted empty: put the keys back whenever the connection is (re)established.
    this.pub = connectRedis(url, 'canvas-writer', log, () => this.writeKeys());
    this.sub = connectRedis(url, 'canvas-writer-sub', log);
    onMessages(this.sub, log, (channel, message) =>
      channel === keys.presence ? this.onPresence(message) : this.onRequests(message),
    );
  }

  get redisUp(): boolean {
    return this.pub.up && this.sub.up;
  }

  /** Connects, writes the keys with `frame`, subscribes to requests, starts the beat. */
  async start({ frame, tickMs, ownClients }: WriterBusStart): Promise<void> {
    this.latest = frameMessage(this.epoch, this.meta, frame, Date.now(), undefined, undefined);
    this.tickMs = tickMs;
    this.ownClients = ownClients;
    await Promise.all([whenReady(this.pub), whenReady(this.sub)]);
    // ioredis subscribes again by itself after a reconnect (autoResubscribe).
    await this.sub.redis.subscribe(this.keys.requests, this.keys.presence);
    this.largeAnswerBytes = largeAnswerBytes(await pubsubLimit(this.pub));
    this.listening = true;
    await this.writeKeys();
    this.beatTimer = setInterval(() => this.beat(), tickMs);
  }

  /**
   * Publishes one tick: the frame key and the channel get the same bytes (encoded once) in one
   * transaction, so no edge sees one without the other. The key keeps the delta too: an edge that
   * resyncs from it uses the delta only when it starts at that edge's seq, like a channel message.
   */
  publishTick(out: TickOutput): void {
    // The bus hop starts now: the tick's capture and encode before it are the tick's own cost
    // (canvas_tick_seconds, canvas_png_encode_seconds), the same on every role.
    const resizes = (out.resizes ?? []).map(({ seq, width, height, left, top }) => ({ seq, width, height, left, top }));
    if (resizes.length > 0) {
      // Edges starting from now, and an edge that missed this tick, read the list from the meta key
      // (set with this tick, below).
      this.meta.width = out.frame.width;
      this.meta.height = out.frame.height;
      this.meta.resizes = [...(this.meta.resizes ?? []), ...resizes];
    }
    this.latest = frameMessage(this.epoch, this.meta, out.frame, Date.now(), out.delta, out.progress);
    if (resizes.length > 0) this.latest.resizes = resizes;
    if (!this.pub.up || !this.leading()) return this.metrics.publishFailures.inc();
    const bytes = encodeBus(this.latest);
    const multi = this.pub.redis.multi();
    if (resizes.length > 0) multi.set(this.keys.meta, encodeBus(this.meta));
    multi
      .set(this.keys.frame, bytes)
      .publish(this.keys.ticks, bytes)
      .exec()
      .then(
        () => this.metrics.published.inc({ kind: 'tick' }),
        (err: unknown) => this.failed(err, 'tick'),
      );
  }

  private beat(): void {
    const latest = this.latest;
    if (!latest || !this.pub.up || !this.leading()) return;
    this.healKeys();
    const beat = encodeBus({
      k: 'beat',
      epoch: this.epoch,
      canvasId: latest.canvasId,
      seq: latest.seq,
      at: Date.now(),
      online: this.online(),
    });
    this.pub.redis.publish(this.keys.ticks, beat).then(
      () => this.metrics.published.inc({ kind: 'beat' }),
      (err: unknown) => this.failed(err, 'beat'),
    );
  }

  /** Clients of the whole deployment: this process's, plus every edge heard from lately. */
  online(): number {
    // An edge that stopped reporting (killed) drops out after three intervals.
    const fresh = performance.now() - 3 * this.tickMs;
    let n = this.ownClients();
    for (const [edge, c] of this.edgeCounts) {
      if (c.at < fresh) this.edgeCounts.delete(edge);
      else n += c.n;
    }
    return n;
  }

  private onPresence(message: Buffer): void {
    const m = decodePresence(message);
    if (m) this.edgeCounts.set(m.edge, { n: m.n, at: performance.now() });
  }

  /**
   * Puts the keys back when Redis lost them (FLUSHALL, eviction, a restart the connection did not
   * notice): one EXISTS per beat, so a new edge waits at most a tick interval or so.
   */
  private healKeys(): void {
    if (this.checkingKeys) return;
    this.checkingKeys = true;
    this.pub.redis
      .exists(this.keys.meta, this.keys.frame)
      .then((n) => {
        if (n === 2) return;
        this.log.warn({ key: this.keys.meta }, 'canvas keys missing from Redis: written again');
        return this.writeKeys();
      })
      .catch((err: unknown) => this.failed(err, 'keys check'))
      .finally(() => {
        this.checkingKeys = false;
      });
  }

  private async writeKeys(): Promise<void> {
    const latest = this.latest;
    if (!latest || this.closed || !this.listening || !this.leading()) return;
    try {
      const bytes = encodeBus(latest);
      await this.pub.redis
        .multi()
        .set(this.keys.meta, encodeBus(this.meta))
        .set(this.keys.frame, bytes)
        .publish(this.keys.ticks, bytes)
        .exec();
    } catch (err) {
      this.failed(err, 'keys');
    }
  }

  private failed(err: unknown, what: string): void {
    this.metrics.publishFailures.inc();
    this.log.debug({ err, what }, 'redis publish failed');
  }

  private onRequests(message: Buffer): void {
    const batch = decodeRequests(message);
    if (!batch) {
      this.log.warn('dropped a malformed request batch from the bus');
      return;
    }
    const { edge, reqs, bad, unnumbered } = batch;
    this.metrics.batchesIn.inc();
    // Sent to an older leader: the edge gives these up as it hears this one (edge-bus.ts
    // abandonOlder), so running them would place what its client was told may not have been placed
    // and then placed again on its retry.
    if (batch.epoch !== undefined && batch.epoch < this.epoch) {
      this.log.info({ edge, epoch: batch.epoch, requests: reqs.length }, 'ignored requests sent to an older writer');
      return;
    }
    if (bad.length > 0 || unnumbered > 0) {
      this.log.warn(
        { edge, bad: bad.length, unnumbered, reason: bad[0]?.reason },
        'refused malformed forwarded requests',
      );
    }
    // Each malformed request fails alone: the well-formed ones of its batch run as usual.
    for (const { i, reason } of bad) {
      this.answer(edge, i, {
        ok: false,
        code: ErrorCode.INVALID_FIELD,
        message: `malformed forwarded request: ${reason}`,
      });
    }
    for (const req of reqs) {
      try {
        this.run(edge, req);
      } catch (err) {
        // One bad request must not lose the others of its batch.
        this.log.error({ err, edge }, 'forwarded request failed');
      }
    }
  }

  private run(edge: string, req: Request): void {
    const answer = (r: Answer) => this.answer(edge, req.i, r);
    this.metrics.requestsIn.inc({ kind: req.k });
    switch (req.k) {
      case 'place':
        return this.authority.place(req, { x: req.x, y: req.y, color: req.c, pow: req.pow }, answer);
      case 'standing':
        return this.authority.standing(req, answer);
      case 'pixel':
        return this.authority.pixel(req.x, req.y, answer);
      case 'admin':
        return this.authority.admin(req.a, answer);
      case 'history':
        return this.authority.history(req.r, answer);
      case 'stats':
        return this.authority.stats(answer);
      case 'statsOf':
        return this.authority.statsOf(req.id, answer);
      case 'tile':
        return this.authority.tile({ level: req.level, tx: req.tx, ty: req.ty }, answer);
      case 'name':
        return this.authority.setName(req, req.name, answer);
      case 'projects':
        return this.authority.projects(req.r, answer);
    }
  }

  /** Answers go out once per loop turn per edge: a commit batch of placements is one message. */
  private answer(edge: string, i: number, r: Answer): void {
    let entry: AnswerEntry = { i, r };
    if (typeof r === 'object' && 'body' in r && r.body.length > this.largeAnswerBytes && this.pub.up) {
      // Same connection as the publish below: Redis stores it before the edge hears of it.
      const key = this.keys.storedAnswer(edge, i);
      this.pub.redis
        .set(key, encodeBus(r), 'EX', STORED_ANSWER_TTL_S)
        .catch((err: unknown) => this.failed(err, 'stored answer'));
      entry = { i, stored: key };
    }
    const list = this.outgoing.get(edge);
    if (list) list.push(entry);
    else this.outgoing.set(edge, [entry]);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [edge, ans] of this.outgoing) {
      if (!this.pub.up) {
        // The edge times these out and says `unavailable`; the placements themselves were committed.
        this.metrics.publishFailures.inc();
        continue;
      }
      this.pub.redis.publish(this.keys.answers(edge), encodeBus({ epoch: this.epoch, ans })).then(
        () => this.metrics.published.inc({ kind: 'answers' }),
        (err: unknown) => this.failed(err, 'answers'),
      );
    }
    this.outgoing.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.beatTimer) clearInterval(this.beatTimer);
    if (this.flushScheduled) this.flush();
    // quit() sends what is queued first (the last answers), then closes.
    await Promise.allSettled([this.pub.close(), this.sub.close()]);
  }
}

/** Without a readable limit (CONFIG disabled, as on managed Redis): far below the 32 MB default. */
const DEFAULT_LARGE_ANSWER_BYTES = 1 << 20;

/**
 * The smaller of Redis's pub/sub output-buffer limits (hard, and soft: passing it for its seconds
 * also disconnects), in bytes; 0 when there is none or CONFIG GET is not allowed.
 */
async function pubsubLimit(link: RedisLink): Promise<number> {
  try {
    const reply = (await link.redis.config('GET', 'client-output-buffer-limit')) as string[];
    const words = (reply[1] ?? '').split(/\s+/);
    const at = words.indexOf('pubsub');
    const limits = [words[at + 1], words[at + 2]].map(Number).filter((n) => n > 0);
    return at < 0 || limits.length === 0 ? 0 : Math.min(...limits);
  } catch {
    return 0;
  }
}

/** A quarter of the limit, so a batch of answers beside a large one stays under it too; 1 KiB..1 MiB. */
function largeAnswerBytes(limit: number): number {
  return limit === 0 ? DEFAULT_LARGE_ANSWER_BYTES : Math.max(1024, Math.min(DEFAULT_LARGE_ANSWER_BYTES, limit / 4));
}

function frameMessage(
  epoch: number,
  meta: CanvasMeta,
  frame: Frame,
  at: number,
  delta: TickOutput['delta'],
  progress: TickOutput['progress'],
): FrameMsg {
  const { seq, etag, width, height } = frame;
  const resizeCount = meta.resizes?.length ?? 0;
  const msg: FrameMsg = { k: 'tick', epoch, canvasId: meta.canvasId, seq, etag, width, height, at, resizeCount };
  if (frame.image) msg.png = frame.image.png;
  if (delta) msg.delta = { fromSeq: delta.fromSeq, toSeq: delta.toSeq, count: delta.count, message: delta.message };
  // The packed records as they are: each edge encodes the `progress` its own watchers need.
  if (progress) msg.progress = progress.bytes;
  return msg;
}
