/**
 * The edge's side of the bus: follows the writer's ticks into the local streams, notices a missed
 * tick (a delta that does not start at our seq, a beat ahead of us, Redis reconnecting, a tick
 * counting more resizes than this edge knows) and then takes the frame and the canvas description
 * (with every resize) from their keys, and carries forwarded requests to the writer in batches (one
 * publish per loop turn) with their answers back. A request the writer does not answer within
 * --writer-timeout-ms fails with `unavailable`; while the writer is known to be down nothing is
 * forwarded at all. Everything read from Redis goes through the bus decoders (bus-messages.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import type { SizeEvent } from '../canvas/canvas-size.ts';
import type { Logger } from '../ops/log.ts';
import { type Frame, resizeMessage, type TickOutput } from '../streams/frame.ts';
import {
  type AnswerOf,
  type BusKeys,
  type CanvasMeta,
  decodeAnswer,
  decodeAnswers,
  decodeMeta,
  decodeStoredAnswer,
  decodeTicks,
  encodeBus,
  type Request,
  type RequestKind,
  type TickMsg,
} from './bus-messages.ts';
import { BusMetrics } from './bus-metrics.ts';
import { connectRedis, onMessages, type RedisLink, whenReady } from './redis-link.ts';

/** A request as the edge hands it over: the bus numbers it. */
export type Forward<K extends RequestKind> = Omit<Extract<Request, { k: K }>, 'i'>;

/**
 * Why a forwarded request got no answer: it never reached the writer (`not_forwarded`: nothing was
 * placed, a retry is safe), or it did and no answer came back (`unknown`: it may have been placed).
 */
export type NoAnswer = 'not_forwarded' | 'unknown';

interface Pending {
  kind: RequestKind;
  /** performance.now() after which it fails as `unknown`. */
  deadline: number;
  /** The writer epoch this edge followed when it forwarded the request. */
  epoch: number;
  /** Gets the checked answer, or why there is none. */
  done: (r: unknown, noAnswer: NoAnswer) => void;
}

/** How often unanswered requests are checked for their timeout. */
const SWEEP_MS = 250;

export interface EdgeBusOptions {
  /** Redis primary, and optionally a replica to follow the writer from (docs/SCALING.md). */
  primary: string;
  replica?: string;
  keys: BusKeys;
  /** --writer-timeout-ms: the writer counts as down after this long without a message from it. */
  timeoutMs: number;
  registry: Registry;
  log: Logger;
}

export class EdgeBus {
  readonly id = randomBytes(6).toString('hex');
  readonly metrics: BusMetrics;
  /** Publishes requests and presence (to the primary). */
  private readonly pub: RedisLink;
  /** Subscribes to ticks and answers, and (`read`) reads the keys: a replica when one is given. */
  private readonly sub: RedisLink;
  private readonly read: RedisLink;
  private readonly keys: BusKeys;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  /** The newest frame taken from the writer. */
  private current: Frame | undefined;
  /** The canvas's resizes as far as this edge followed them, oldest first (GET /api/canvas lists them). */
  private known: SizeEvent[] = [];
  private canvasId = '';
  /** performance.now() of the last message from the writer. */
  private writerSeenAt = Number.NEGATIVE_INFINITY;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private queue: Request[] = [];
  private readonly sweeper: NodeJS.Timeout;
  /** Where ticks go once `follow` was called (the streams). */
  private publish: ((out: TickOutput) => void) | undefined;
  private resyncing = false;
  /** Consecutive beats whose seq was below ours (see accept). */
  private behindBeats = 0;
  /** The highest writer lease epoch seen (bus/lease.ts), and when its writer was last heard. */
  private epoch = 0;
  private epochSeenAt = Number.NEGATIVE_INFINITY;
  private presenceTimer: NodeJS.Timeout | undefined;
  /** ms from the writer publishing the last tick to this edge starting its fan-out. */
  lastLagMs: number | undefined;
  /** Clients of the whole deployment as the writer's last beat counted them; undefined before one. */
  online: number | undefined;

  constructor(opts: EdgeBusOptions) {
    const { log } = opts;
    this.keys = opts.keys;
    this.timeoutMs = opts.timeoutMs;
    this.log = log;
    this.metrics = new BusMetrics(opts.registry, {
      redisUp: () => this.redisUp,
      writerUp: () => this.writerUp,
      epoch: () => this.epoch,
    });
    this.pub = connectRedis(opts.primary, 'canvas-edge', log);
    // Redis replicates PUBLISH to its replicas, whose subscribers get every message: edges can
    // follow the writer from replicas, so the primary sends each tick once per replica, not per edge.
    const follow = opts.replica ?? opts.primary;
    this.read = opts.replica ? connectRedis(follow, 'canvas-edge-read', log) : this.pub;
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

  /** The newest frame from the writer; valid once `start` resolved. */
  get frame(): Frame {
    if (!this.current) throw new Error('no frame from the writer yet');
    return this.current;
  }

  /** The canvas's resizes up to the newest frame, oldest first. */
  get resizes(): readonly SizeEvent[] {
    return this.known;
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

  /** Waits for Redis and for the writer to have published the canvas; returns its description. */
  async start(): Promise<CanvasMeta> {
    await Promise.all([whenReady(this.pub), whenReady(this.sub), whenReady(this.read)]);
    await this.sub.redis.subscribe(this.keys.ticks, this.keys.answers(this.id));
    let warned = false;
    for (;;) {
      const [metaBytes, frame] = await Promise.all([
        this.read.redis.getBuffer(this.keys.meta).catch(() => null),
        this.read.redis.getBuffer(this.keys.frame).catch(() => null),
      ]);
      const meta = metaBytes ? decodeMeta(metaBytes) : undefined;
      if (metaBytes && !meta) this.log.warn({ key: this.keys.meta }, 'ignored a malformed canvas description');
      if (meta && frame) {
        this.canvasId = meta.canvasId;
        this.accept(frame, 'start', meta);
        // Counted as up until a beat is overdue: if no writer listens, the first forward learns it
        // at once (Redis reports no subscriber).
        this.writerSeenAt = performance.now();
        if (this.current) return meta;
      }
      if (!warned) this.log.warn({ key: this.keys.meta }, 'waiting for a writer to publish the canvas');
      warned = true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** From now on every tick from the writer goes to `publish` (the streams, which run one fan-out at a time). */
  follow(publish: (out: TickOutput) => void): void {
    this.publish = publish;
  }

  /**
   * Sends `req` to the writer with the next batch; `done` gets its answer, checked against the kind
   * of request, or undefined (unavailable): at once while the writer is known down, after `timeoutMs`
   * (default --writer-timeout-ms) without an answer, as soon as the writer goes quiet, or when what
   * came back is not an answer of that kind.
   */
  forward<K extends RequestKind>(
    req: Forward<K>,
    done: (r: AnswerOf[K] | NoAnswer) => void,
    timeoutMs = this.timeoutMs,
  ): void {
    if (!this.writerUp) {
      this.metrics.forwardAnswers.inc({ result: 'refused' });
      return done('not_forwarded');
    }
    const i = this.nextId++;
    const kind = req.k as K;
    this.pending.set(i, {
      kind,
      deadline: performance.now() + timeoutMs,
      epoch: this.epoch,
      done: (r, noAnswer) => {
        if (r === undefined) return done(noAnswer);
        const answer = decodeAnswer(kind, r);
        if (answer === undefined) this.log.warn({ kind }, 'the writer answered with a malformed answer');
        done(answer ?? 'unknown');
      },
    });
    this.metrics.forwarded.inc({ kind });
    this.queue.push({ ...req, i } as unknown as Request);
    if (this.queue.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const reqs = this.queue;
    this.queue = [];
    if (reqs.length === 0) return;
    const failAll = (noAnswer: NoAnswer) => {
      for (const r of reqs) this.settle(r.i, undefined, noAnswer === 'unknown' ? 'timeout' : 'refused', noAnswer);
    };
    // Not sent: never placed.
    if (!this.pub.up) return failAll('not_forwarded');
    this.pub.redis.publish(this.keys.requests, encodeBus({ edge: this.id, epoch: this.epoch, reqs })).then(
      (receivers) => {
        this.metrics.published.inc({ kind: 'requests' });
        if (receivers > 0) return;
        // No writer is subscribed (it exited; Redis saw its connection close): down from now on,
        // until its next message, rather than until a beat is overdue.
        this.writerSeenAt = Number.NEGATIVE_INFINITY;
        failAll('not_forwarded');
      },
      () => {
        // The connection failed with the publish in flight: Redis may have delivered it.
        this.metrics.publishFailures.inc();
        failAll('unknown');
      },
    );
  }

  private settle(
    i: number,
    r: unknown,
    result: 'answered' | 'refused' | 'timeout',
    noAnswer: NoAnswer = 'unknown',
  ): void {
    const p = this.pending.get(i);
    if (!p) return; // already timed out
    this.pending.delete(i);
    this.metrics.forwardAnswers.inc({ result });
    try {
      p.done(r, noAnswer);
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
    const answers = decodeAnswers(message);
    if (!answers) {
      this.log.warn({ channel }, 'dropped a malformed answer batch from the bus');
      return;
    }
    const epoch = this.checkEpoch(answers.epoch);
    if (epoch === 'stale') return;
    if (epoch === 'newer') this.resync('new writer epoch', 'reset');
    this.writerSeenAt = performance.now();
    for (const a of answers.ans) {
      if ('r' in a) this.settle(a.i, a.r, 'answered');
      else this.takeStored(a.i, a.stored);
    }
    if (epoch === 'newer') this.abandonOlder();
  }

  /**
   * A new leader is heard: requests forwarded while an older one led can no longer be answered (its
   * answers now count as stale, and it is dead or fenced), so they fail as `unknown` now instead of
   * at their deadline (the new leader runs no request sent under an older epoch: writer-bus.ts, so
   * none of them takes effect after this answer unless the old leader ran it before it died, which
   * `outcome_unknown` allows). Their clients, placing again, reach the new leader: without this every
   * client with a placement in flight at a leader's SIGKILL waited the whole --writer-timeout-ms
   * (3 s by default, most of the 3.1-3.3 s from kill to placing again in perf/failover.ts).
   */
  private abandonOlder(): void {
    for (const [i, p] of this.pending) if (p.epoch < this.epoch) this.settle(i, undefined, 'timeout');
  }

  /** A large answer the writer stored under a key (bus-messages.ts): read it, then delete it. */
  private takeStored(i: number, key: string): void {
    // From the primary, where the writer wrote it: a replica may not have it yet.
    this.pub.redis
      .multi()
      .getBuffer(key)
      .del(key)
      .exec()
      .then((results) => {
        const bytes = results?.[0]?.[1];
        this.settle(i, bytes instanceof Buffer ? decodeStoredAnswer(bytes) : undefined, 'answered');
      })
      .catch((err: unknown) => {
        this.log.warn({ err, key }, 'a stored answer could not be read');
        this.settle(i, undefined, 'answered');
      });
  }

  /**
   * A tick, beat or stored frame from the writer. Beats say where the writer is: a beat ahead of us
   * means a tick was missed (take the frame key); beats behind us, twice in a row, mean the frame we
   * serve is not the writer's (a writer restarted on an older copy of its database, or a forged tick
   * with a huge seq that would otherwise make this edge ignore every real one for good): take the
   * frame key whatever its seq (`reset`).
   */
  private accept(bytes: Buffer, arrived: 'channel' | 'start' | 'resync' | 'reset', meta?: CanvasMeta): void {
    let via = arrived;
    const m = decodeTicks(bytes);
    if (!m) {
      this.log.warn({ via }, 'dropped a malformed message from the writer');
      return;
    }
    const epoch = this.checkEpoch(m.epoch);
    if (epoch === 'stale') return;
    if (via === 'channel') this.writerSeenAt = performance.now();
    if (epoch === 'newer') this.abandonOlder();
    // A new leader (failover, or a writer restarted on an older copy of its database): its frame
    // replaces ours whatever the seqs, and every client gets its snapshot.
    if (epoch === 'newer' && via !== 'start') {
      if (m.k === 'beat') return this.resync('new writer epoch', 'reset');
      via = 'reset';
    }
    const acceptedSeq = this.current?.seq ?? -1;
    const sameCanvas = m.canvasId === this.canvasId;
    if (m.k === 'beat') {
      this.online = m.online;
      this.behindBeats = sameCanvas && m.seq < acceptedSeq ? this.behindBeats + 1 : 0;
      if (sameCanvas && m.seq > acceptedSeq) this.resync('missed tick');
      else if (this.behindBeats >= 2) this.resync('writer behind', 'reset');
      return;
    }
    // Already have it (start/resync race), unless the writer's beats said ours is not its frame.
    if (sameCanvas && m.seq <= acceptedSeq && via !== 'reset') return;
    if (via === 'reset') this.behindBeats = 0;
    const resizes = this.resizesOf(m, via, meta);
    if (resizes === 'missed') {
      // A tick carrying a resize never reached this edge: the frame and every resize from the keys.
      this.resync('missed resize', via === 'reset' ? 'reset' : 'resync');
      return;
    }
    const frame: Frame = { seq: m.seq, etag: m.etag, width: m.width, height: m.height };
    if (m.png) {
      const png = Buffer.from(m.png.buffer, m.png.byteOffset, m.png.byteLength);
      frame.image = { png, message: encodeMessage({ t: MsgType.PNG, seq: m.seq, png: m.png }) };
    }
    // A delta is usable only when it starts where this edge is; otherwise the PNG resyncs everyone.
    const delta = m.delta && sameCanvas && m.delta.fromSeq === acceptedSeq && via !== 'reset' ? m.delta : undefined;
    this.canvasId = m.canvasId;
    this.current = frame;
    if (via === 'start' || !this.publish) return;
    this.lastLagMs = Math.max(0, Date.now() - m.at);
    this.metrics.lagSeconds.observe(this.lastLagMs / 1000);
    const out: TickOutput = { frame, delta, startedAt: performance.now(), encodeSeconds: 0 };
    if (m.progress && sameCanvas) out.progress = m.progress;
    if (resizes.length > 0) out.resizes = resizes.map(resizeMessage);
    this.publish(out);
  }

  /**
   * The resizes of `m` this edge has not told its clients yet, oldest first, and its list brought up
   * to `m` (`known`). A tick lists the resizes since the writer's previous tick and counts them all
   * (`resizeCount`): when this edge knows fewer than the tick's first one, it missed a tick, and
   * takes the ones it lacks from the writer's description (`meta`, read with the frame on a resync;
   * `missed` when there is none: resync first). A list that does not continue this edge's (a writer
   * on another copy of its database) replaces it, and no `resize` is told: the frame resyncs clients.
   */
  private resizesOf(m: TickMsg, via: string, meta: CanvasMeta | undefined): SizeEvent[] | 'missed' {
    const listed = m.resizes ?? [];
    const first = m.resizeCount - listed.length;
    const known = this.known.length;
    const lastKnown = this.known[known - 1]?.seq ?? 0;
    if (via !== 'start' && known >= first && known <= m.resizeCount) {
      const fresh = listed.slice(known - first);
      if (fresh.length === 0 || (fresh[0] as SizeEvent).seq > lastKnown) {
        this.known.push(...fresh);
        return fresh;
      }
    }
    if (!meta) return 'missed';
    const all = (meta.resizes ?? []).slice(0, m.resizeCount);
    const continues = via !== 'start' && all.length >= known && this.known.every((e, i) => all[i]?.seq === e.seq);
    if (all.length < m.resizeCount)
      this.log.warn(
        { has: all.length, count: m.resizeCount },
        'the canvas description lists fewer resizes than the frame counts',
      );
    const fresh = continues ? all.slice(known) : [];
    this.known = all;
    return fresh;
  }

  /**
   * Sorts a writer message by its lease epoch: `stale` (older than the newest writer, which was
   * heard within --writer-timeout-ms: a leader that lost its lease and does not know yet), `newer`
   * (a new leader: follow it), else `current`. An older epoch is accepted again once the newest
   * writer has been silent that long (Redis lost its epoch counter and every writer restarted).
   */
  private checkEpoch(epoch: number): 'stale' | 'current' | 'newer' {
    const now = performance.now();
    if (epoch < this.epoch && now - this.epochSeenAt < this.timeoutMs) {
      this.metrics.staleEpoch.inc();
      return 'stale';
    }
    const newer = epoch !== this.epoch;
    if (newer) this.log.info({ from: this.epoch, to: epoch }, 'following a new writer epoch');
    this.epoch = epoch;
    this.epochSeenAt = now;
    return newer ? 'newer' : 'current';
  }

  private resync(reason: string, via: 'resync' | 'reset' = 'resync'): void {
    if (this.resyncing) return;
    this.resyncing = true;
    this.metrics.resyncs.inc({ reason });
    // The key is read on its own connection, which may come back after the subscriber that asked.
    // Both in one MULTI: the writer sets them together when a tick carries a resize, so the list
    // read is at least as new as the frame.
    whenReady(this.read)
      .then(() => this.read.redis.multi().getBuffer(this.keys.frame).getBuffer(this.keys.meta).exec())
      .then((results) => {
        const [frame, metaBytes] = (results ?? []).map(([, v]) => (v instanceof Buffer ? v : undefined));
        const meta = metaBytes ? decodeMeta(metaBytes) : undefined;
        if (frame) this.accept(frame, via, meta);
      })
      .catch((err: unknown) => this.log.debug({ err }, 'frame key read failed'))
      .finally(() => {
        this.resyncing = false;
      });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    for (const i of [...this.pending.keys()]) this.settle(i, undefined, 'refused', 'unknown');
    const links = new Set([this.pub, this.sub, this.read]);
    await Promise.allSettled([...links].map((l) => l.close()));
  }
}
