/**
 * The composition root of the writer role: the lease (bus/lease.ts) decides whether this process
 * leads or stands by. Several `--role writer` processes may share one Redis prefix, each with its
 * own `--db`; exactly one holds the lease and runs the whole server (server.ts) with the writer's
 * bus, appending each committed batch to the replicated log (bus/replication-log.ts); the others are
 * standbys that apply that log to their own database, answer only /healthz and /metrics (and 503 to
 * the rest) and take the lease when it falls free and they are caught up. Every writer starts as a
 * standby's database (catching up from the log) and leads at once when the lease is free. A leader that finds another holder closes its server (the
 * committer is fenced first: nothing more is acknowledged) and becomes a standby on the same port.
 * A single writer simply takes the lease at start: nothing changes for it.
 */
import type { HttpResponse, us_listen_socket } from 'uWebSockets.js';
import type { Config } from './config/config.ts';
import { busKeys, type CanvasMeta, decodeMeta, decodeTicks } from './bus/bus-messages.ts';
import { renameSync, rmSync } from 'node:fs';
import { CopyServer, copyKeys, fetchCopy } from './bus/database-copy.ts';
import { LogAppender, LogFollower, logKeys } from './bus/replication-log.ts';
import { ChangeLog } from './store/change-log.ts';
import { BotStore } from './store/bot-store.ts';
import { ModerationStore } from './store/moderation-store.ts';
import { NameStore } from './store/name-store.ts';
import { Store } from './store/store.ts';
import { PlacementLog } from './store/placement-log.ts';
import { RecentPlacements } from './placement/recent-placements.ts';
import { StatsStore } from './store/stats-store.ts';
import { restoreStats } from './stats/restore.ts';
import { leaseKeys, WriterLease } from './bus/lease.ts';
import { connectRedis, type RedisLink, whenReady } from './bus/redis-link.ts';
import { errorAnswer, type HttpAnswer, jsonAnswer } from './http/answer.ts';
import { HttpGuard, Router } from './http/guard.ts';
import { trackAborted } from './http/send.ts';
import { HttpCode } from './http/status.ts';
import type { Logger } from './ops/log.ts';
import { Metrics } from './ops/metrics.ts';
import { OperatorError, shownUrl } from './ops/operator-error.ts';
import { checkBackend, listen, listenPort, uws, uwsBackend } from './ops/uws-backend.ts';
import { ErrorCode } from '../protocol/messages.ts';
import {
  type Handover,
  type RunningServer,
  STATS_CHECKPOINT_MS,
  startServer,
  cooldownWindowMs,
  storeOptions,
  watchLeadership,
} from './server.ts';
import type { Stats } from './stats/stats.ts';

export interface RunningWriter {
  url: string;
  close(): Promise<void>;
}

/** A standby's listener: health and metrics; everything else is refused with `unavailable`. */
interface StandbyFront {
  port: number;
  close(): void;
}

async function listenStandby(
  config: Config,
  port: number,
  shared: boolean,
  log: Logger,
  health: () => Record<string, unknown>,
  metrics: Metrics,
): Promise<StandbyFront> {
  const app = uws.App();
  const router = new Router(app, new HttpGuard(log));
  // Every answer closes its connection: a keep-alive connection would outlive this listener and keep
  // reaching this standby after the process took the lease and listens with the leader's routes.
  const answer = (res: HttpResponse, a: HttpAnswer) =>
    res.cork(() => {
      res.writeStatus(a.status);
      for (const [k, v] of Object.entries(a.headers)) res.writeHeader(k, v);
      res.end(a.body, true);
    });
  router.route('/healthz', { get: (res) => answer(res, jsonAnswer('200 OK', health())) });
  router.route('/metrics', {
    get: (res) => {
      const state = trackAborted(res);
      metrics.registry.metrics().then(
        (body) => {
          if (state.aborted) return;
          const headers = { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' };
          answer(res, { status: '200 OK', headers, body: Buffer.from(body) });
        },
        (err: unknown) => {
          log.error({ err }, 'metrics collection failed');
          if (!state.aborted) answer(res, errorAnswer(HttpCode.INTERNAL, 'metrics collection failed'));
        },
      );
    },
  });
  app.any(
    '/*',
    router.guard.wrap((res) =>
      answer(res, errorAnswer(ErrorCode.UNAVAILABLE, 'this writer is a standby: use the edges or the leader')),
    ),
  );
  const socket = await new Promise<us_listen_socket | false>((resolve) =>
    listen(app, config.host, port, shared, resolve),
  );
  if (!socket) throw new OperatorError(`cannot listen on ${config.host}:${port} (address in use or not available)`);
  return {
    port: listenPort(socket),
    close() {
      // Stops accepting; a standby's few keep-alive connections end with their clients.
      uws.us_listen_socket_close(socket);
    },
  };
}

/**
 * The port this writer will use, checked free. Every listener of the writer role uses SO_REUSEPORT:
 * each role change listens again on the same port, and connections the last listener closed sit in
 * TIME_WAIT there, on which uSockets' exclusive listen (ops/uws-backend.ts) fails ("address in use")
 * for a minute; a shared listen succeeds when every socket on the port was shared too. So that a
 * second server on the same port is still refused at start, the port is first taken exclusively,
 * with no connection accepted, and let go.
 */
async function claimPort(config: Config): Promise<number> {
  const app = uws.App();
  const socket = await new Promise<us_listen_socket | false>((resolve) =>
    listen(app, config.host, config.port, config.reusePort, resolve),
  );
  if (!socket)
    throw new OperatorError(`cannot listen on ${config.host}:${config.port} (address in use or not available)`);
  const port = listenPort(socket);
  uws.us_listen_socket_close(socket);
  return port;
}

/** The seq of the frame the last leader published (P:frame), if Redis has one. */
async function publishedSeq(link: RedisLink, prefix: string): Promise<number | undefined> {
  const bytes = await link.redis.getBuffer(busKeys(prefix).frame).catch(() => null);
  return bytes ? decodeTicks(bytes)?.seq : undefined;
}

/** A standby's copy of the canvas: its database, kept up to date from the leader's log. */
interface Replica {
  store: Store;
  follower: LogFollower;
  /**
   * The grid and the stats as the leader keeps them, handed to the server this standby starts when
   * it takes over (server.ts Handover), so that start reads neither from the database.
   */
  handover(takeover: boolean): Handover;
  /**
   * Keeps the stats usable: rebuilt after rows were dropped (their counts were wrong), and their
   * checkpoint written every STATS_CHECKPOINT_MS (a leader that crashes soon after taking over
   * starts from it, not from an older one).
   */
  tendStats(): void;
  /** This database holds the canvas the writers on this prefix serve (P:meta checked): only then is the log applied. */
  confirmed: boolean;
}

type Phase =
  | { kind: 'standby'; front: StandbyFront; replica: Replica }
  | { kind: 'leader'; server: RunningServer; copies: CopyServer | undefined }
  | { kind: 'none' };

/** The canvas the writers on this prefix serve (P:meta), if one published it. */
async function publishedMeta(link: RedisLink, prefix: string): Promise<CanvasMeta | undefined> {
  const bytes = await link.redis.getBuffer(busKeys(prefix).meta).catch(() => null);
  return bytes ? decodeMeta(bytes) : undefined;
}

export async function startWriter(config: Config, log: Logger): Promise<RunningWriter> {
  checkBackend(config.allowUwsFallback, log);
  const link: RedisLink = connectRedis(config.redis, 'canvas-writer-lease', log);
  const keys = logKeys(config.redisPrefix);
  let phase: Phase = { kind: 'none' };
  /** Transitions run one at a time, in order. */
  let transition: Promise<void> = Promise.resolve();
  let closing = false;
  let port = config.port;
  /** Set once this process listened: a failure to lead after that is not the operator's. */
  let relisten = false;
  /** performance.now() before which a standby does not try to lead again (after a failed start). */
  let notBefore = 0;
  /** The highest epoch seen: a new lease never goes below it. */
  let seenEpoch = 0;
  /** Standby: seqs between its database and the log's last. */
  let behind = 0;
  const lease = new WriterLease(link, leaseKeys(config.redisPrefix), config.leaseMs, (holder) => {
    log.warn({ epoch: lease.epoch, holder }, 'lost the writer lease: acknowledging nothing more; becoming a standby');
    queue(demote);
  });
  const queue = (step: () => Promise<void>) => {
    transition = transition.then(step).catch((err: unknown) => log.error({ err }, 'writer role change failed'));
    return transition;
  };

  const standbyMetrics = new Metrics({ backend: uwsBackend, role: config.role });
  watchLeadership(
    standbyMetrics,
    () => 'standby',
    () => seenEpoch,
    () => behind,
  );
  const standbyHealth = () => ({
    ok: true,
    role: config.role,
    backend: uwsBackend,
    redis: link.up,
    writer: false,
    lease: 'standby',
    epoch: seenEpoch,
    seq: phase.kind === 'standby' ? phase.replica.follower.seq : undefined,
    behind,
    ...(phase.kind === 'standby' && phase.replica.follower.gap ? { gap: true } : {}),
  });

  /**
   * Opens this writer's database as a standby's: the canvas id of the writers on this prefix (an
   * empty database takes it; another canvas's history is refused), the leader's identity secret,
   * and, after losing the lease (`demoted`), without what it stored past the log (never acked).
   */
  async function openReplica(demoted: boolean): Promise<Replica> {
    const store = Store.open(storeOptions(config));
    try {
      // The small tables exist before their capture triggers (store/change-log.ts).
      new ModerationStore(store.db);
      new BotStore(store.db);
      new NameStore(store.db);
      const changes = new ChangeLog(store.db);
      const confirmed = await confirmCanvas(store);
      if (demoted) {
        const logSeq = Number((await link.redis.get(keys.logSeq)) ?? Number.NaN);
        const dropped = Number.isSafeInteger(logSeq) ? store.truncateAfter(logSeq) : 0;
        if (dropped > 0)
          log.warn({ dropped, logSeq }, 'dropped placements stored but never in the log (never acknowledged)');
      }
      const loaded = store.load(config.palette.length);
      // The stats, kept as the leader keeps them (server.ts) and handed to it: the start of the
      // leader this standby becomes scans no history (the last hour's rows alone took 0.4-2 s for
      // ~100,000 in perf/failover.ts, on the takeover's critical path).
      const statsStore = new StatsStore(store.db);
      const restore = (seq: number) =>
        restoreStats({
          paletteSize: config.palette.length,
          log: new PlacementLog(store.db),
          store: statsStore,
          seq,
          now: Date.now(),
        }).stats;
      let stats: Stats | undefined = restore(loaded.seq);
      let statsSavedAt = performance.now();
      // The cooldown window's placements, kept likewise: the leader's start then reads none of them.
      const windowMs = cooldownWindowMs(config);
      const readRecent = () => RecentPlacements.fromLog(new PlacementLog(store.db), windowMs, Date.now());
      let recent = readRecent();
      const follower = new LogFollower(
        link,
        keys,
        store,
        changes,
        { canvas: loaded.canvas, replayed: loaded.replayed },
        config.snapshotEvery,
        log,
        {
          applied: (rows) => {
            stats?.add(rows);
            recent.add(rows);
          },
          truncated: () => {
            stats = undefined;
            recent = readRecent();
          },
        },
      );
      const replica: Replica = {
        store,
        follower,
        confirmed,
        handover: (takeover) => {
          const { canvas, replayed } = follower.grid;
          const { seq } = canvas;
          return {
            takeover,
            loaded: { canvas, seq, replayed },
            ...(stats?.seq === seq ? { stats } : {}),
            recent,
          };
        },
        tendStats: () => {
          if (!stats) {
            stats = restore(follower.seq);
            statsSavedAt = 0;
          }
          if (performance.now() - statsSavedAt < STATS_CHECKPOINT_MS) return;
          statsSavedAt = performance.now();
          try {
            statsStore.save(stats.checkpoint());
          } catch (err) {
            log.warn({ err }, 'standby stats checkpoint failed: a start after a crash reads more placements');
          }
        },
      };
      if (confirmed) {
        await catchUp(follower);
        if (demoted || (await lease.holderEpoch()) !== undefined) await dropAhead(follower);
      }
      return replica;
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /**
   * Checks this database against the canvas the writers on this prefix serve (P:meta): an empty
   * database takes its id and identity secret; one holding another canvas is refused (OperatorError).
   * False while no writer has published one (this one may be the first to lead).
   */
  async function confirmCanvas(store: Store): Promise<boolean> {
    const meta = await publishedMeta(link, config.redisPrefix);
    if (!meta) return false;
    store.adoptCanvas(meta.canvasId, `the leader on Redis prefix "${config.redisPrefix}"`);
    if (config.secret === '') store.adoptSecret(meta.secret);
    return true;
  }

  /**
   * Another writer leads: what this database holds past the log's last seq was never appended, so
   * never acknowledged while a standby relied on the log (alone, a writer's acks do not wait: those
   * are the price of two writers that could not see each other), and the leader reuses those seqs.
   */
  async function dropAhead(follower: LogFollower): Promise<void> {
    const logSeq = await follower.logSeq();
    if (logSeq !== undefined && follower.seq > logSeq) follower.truncate(logSeq, 'another writer leads from there');
  }

  /** Applies the log; updates how far behind this standby is (what the log held when it looked). */
  async function catchUp(follower: LogFollower): Promise<boolean> {
    // The log's end before reading: a leader under load appends meanwhile, and what it appended
    // after this look is for the next poll, not "behind".
    const last = await follower.logSeq();
    const done = await follower.catchUp();
    behind = last === undefined ? 0 : Math.max(0, last - follower.seq);
    return done && behind === 0;
  }

  async function becomeStandby(replica: Replica): Promise<void> {
    const front = await listenStandby(config, port, true, log, standbyHealth, standbyMetrics);
    port = front.port;
    relisten = true;
    sawHeld = false;
    phase = { kind: 'standby', front, replica };
    log.info({ port, epoch: seenEpoch, seq: replica.follower.seq, behind }, 'standing by');
  }

  /** `takeover`: from another leader (a poll found the lease free), not at this process's start. */
  async function lead(replica: Replica, takeover: boolean): Promise<void> {
    if (closing || phase.kind === 'leader') return;
    if (phase.kind === 'standby') phase.front.close();
    phase = { kind: 'none' };
    // Holding the lease, no one else appends: what the log has now is everything acknowledged.
    if (replica.confirmed)
      await catchUp(replica.follower).catch((err: unknown) => log.warn({ err }, 'final catch-up failed'));
    const handover = replica.handover(takeover);
    replica.store.close();
    log.info({ epoch: lease.epoch, seq: replica.follower.seq }, 'took the writer lease: leading');
    const started = performance.now();
    // The seq the last leader published: a database behind it means acknowledged placements are gone.
    const published = await publishedSeq(link, config.redisPrefix);
    let rollback: { from: number; to: number; seqs: number } | undefined;
    let appender: LogAppender | undefined;
    try {
      const server = await startServer({ ...config, port, reusePort: true }, log, {
        handover,
        epoch: lease.epoch,
        valid: () => lease.valid,
        health: () => ({
          ...(rollback ? { rollback } : {}),
          // standby: the last renew saw one, so acks and moderation answers wait for the append.
          log: { broken: appender?.broken ?? false, appendMs: appender?.lastAppendMs ?? 0, standby: !lease.alone },
        }),
        replicate: (store, seq) => {
          appender = new LogAppender({
            link,
            keys,
            leaseValue: lease.value,
            epoch: lease.epoch,
            maxLen: config.logMaxLen,
            store,
            changes: new ChangeLog(store.db),
            seq,
            alone: () => lease.alone,
            log,
          });
          return appender;
        },
      });
      const seq = server.canvas.seq;
      if (published !== undefined && seq < published) {
        rollback = { from: published, to: seq, seqs: published - seq };
        log.error(
          rollback,
          'this database is behind what the last leader published: placements after its seq are lost (rollback)',
        );
      }
      port = server.port;
      relisten = true;
      behind = 0;
      // Standbys the log cannot bring up to date ask for a copy of this database.
      const copies =
        config.db === ':memory:'
          ? undefined
          : new CopyServer(link, copyKeys(config.redisPrefix), config.db, config.busyTimeoutMs, log);
      copies?.start();
      phase = { kind: 'leader', server, copies };
      log.info({ epoch: lease.epoch, ms: Math.round(performance.now() - started) }, 'leading: serving');
    } catch (err) {
      await lease.release();
      if (!relisten) throw err; // at start: the operator's to fix (port taken, database unreadable)
      notBefore = performance.now() + 5 * config.leaseMs;
      log.error({ err }, 'could not start leading: standing by');
      await becomeStandby(await openReplica(false));
    }
  }

  async function demote(): Promise<void> {
    if (closing || phase.kind !== 'leader') return;
    const { server, copies } = phase;
    phase = { kind: 'none' };
    copies?.stop();
    // The committer is fenced already (lease.valid is false): the flush in close refuses.
    await server.close();
    seenEpoch = Math.max(seenEpoch, (await lease.holderEpoch().catch(() => undefined)) ?? 0);
    await becomeStandby(await openReplica(true));
  }

  /**
   * Only a writer that has applied the whole log may lead: else it would reuse seqs already
   * acknowledged. The one exception is a log that is gone (P:log:seq missing: FLUSHALL, a Redis
   * without it): then it leads with what it has and reports any rollback. A log that is trimmed past
   * this database (a gap) keeps it standing by until it took a copy of the leader's database (reseed).
   */
  async function mayLead(replica: Replica, caughtUp: boolean): Promise<boolean> {
    if (caughtUp) return true;
    return (await replica.follower.logSeq()) === undefined;
  }

  /** A copy of the leader's database is being fetched (reseed): polls wait for it. */
  let copying = false;
  /** performance.now() before which a failed copy is not asked for again. */
  let copyNotBefore = 0;

  /**
   * The log cannot bring this standby up to date (it starts after this database's seq: trimmed, or
   * this database is empty): it takes a copy of the leader's database through Redis
   * (bus/database-copy.ts), puts it in place of its own and follows the log from the copy's seq.
   */
  async function reseed(): Promise<void> {
    if (closing || phase.kind !== 'standby') return;
    const into = `${config.db}.copy`;
    let seq: number;
    try {
      seq = await fetchCopy(link, copyKeys(config.redisPrefix), into, log);
    } catch (err) {
      copyNotBefore = performance.now() + 10 * config.leaseMs;
      log.warn({ err }, 'database copy from the leader failed: asking again later');
      return;
    }
    if (closing || phase.kind !== 'standby') {
      rmSync(into, { force: true });
      return;
    }
    const { front, replica } = phase;
    phase = { kind: 'none' };
    replica.store.close();
    const removeDatabase = () => {
      for (const suffix of ['-wal', '-shm', '']) rmSync(`${config.db}${suffix}`, { force: true });
    };
    removeDatabase();
    renameSync(into, config.db);
    let fresh: Replica;
    try {
      fresh = await openReplica(false);
    } catch (err) {
      // An empty database asks for a copy again at the next look.
      log.error({ err }, 'the leader copy cannot be opened: standing by with an empty database');
      removeDatabase();
      fresh = await openReplica(false);
    }
    phase = { kind: 'standby', front, replica: fresh };
    log.info({ copySeq: seq, seq: fresh.follower.seq, behind }, 'standby database replaced by the leader copy');
  }

  /** performance.now() since which the lease key was seen free, continuously. */
  let freeSince: number | undefined;
  /**
   * This standby saw the lease held since its link to Redis last failed: only then does a lease
   * found expired mean a leader stopped renewing. One that was unreachable with Redis (a Redis
   * outage) may be about to renew: that case waits half a lease, as a vanished key does.
   */
  let sawHeld = false;
  /**
   * A standby's look at the log and the lease; resolves to the ms until the next look. It applies
   * what the log has. A lease that expired by itself (its last renew a whole lease old, bus/lease.ts)
   * is taken at once: its holder stopped acknowledging a quarter lease before. A key that vanished
   * sooner (FLUSHALL, eviction) may be put back by its holder's next renew, so it must stay free for
   * half a lease (longer than the renew interval) before a standby takes it: a standby never takes
   * over from a live leader. A standby takes the lease only when caught up with the log, or when the
   * log cannot bring it further (trimmed or lost: it leads with what it has, a rollback). While the
   * lease is held, the next look is due just after it would expire, so a dead leader's lease is
   * taken within milliseconds of its expiry rather than up to a poll interval later.
   */
  async function poll(): Promise<number> {
    const every = config.leaseMs / 4;
    if (!link.up) sawHeld = false;
    if (closing || copying || phase.kind !== 'standby' || !link.up || performance.now() < notBefore) return every;
    const { replica } = phase;
    await lease.announceStandby();
    if (!replica.confirmed) {
      try {
        replica.confirmed = await confirmCanvas(replica.store);
      } catch (err) {
        if (!(err instanceof OperatorError)) throw err;
        // Another canvas's history: this writer must never lead nor apply this log.
        process.stderr.write(`canvas-server: ${err.message}\n`);
        process.exit(1);
      }
    }
    const caughtUp = replica.confirmed && (await catchUp(replica.follower));
    const look = await lease.look();
    if (look.held) {
      seenEpoch = Math.max(seenEpoch, look.epoch);
      freeSince = undefined;
      sawHeld = true;
      if (replica.confirmed) await dropAhead(replica.follower);
      if (
        replica.confirmed &&
        replica.follower.gap &&
        !copying &&
        config.db !== ':memory:' &&
        performance.now() >= copyNotBefore
      ) {
        copying = true;
        void queue(reseed).finally(() => {
          copying = false;
        });
        return every;
      }
      replica.tendStats();
      return look.ttlMs >= 0 && look.ttlMs < every ? look.ttlMs + 1 : every;
    }
    const now = performance.now();
    freeSince ??= now;
    if (!(look.expired && sawHeld) && now - freeSince < config.leaseMs / 2) return every;
    if (!(await mayLead(replica, caughtUp))) return every;
    freeSince = undefined;
    if (await lease.tryAcquire(seenEpoch)) {
      seenEpoch = lease.epoch;
      await queue(() => lead(replica, true));
    }
    return every;
  }

  port = await claimPort(config);
  // At start: catch up from the log, then lead at once when the lease is free (a single writer, so
  // this resolves serving as before); otherwise (or without Redis for two lease periods) stand by.
  const ready = await Promise.race([
    whenReady(link).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2 * config.leaseMs)),
  ]);
  try {
    if (ready) {
      const holder = await lease.holderEpoch();
      seenEpoch = holder ?? 0;
      // A leader holds the lease: its canvas description names the canvas this database must hold.
      for (let i = 0; holder !== undefined && i < 20 && !(await publishedMeta(link, config.redisPrefix)); i++)
        await new Promise((resolve) => setTimeout(resolve, config.leaseMs / 4));
    }
    const replica = await openReplica(false);
    const caughtUp = replica.confirmed && behind === 0 && !replica.follower.gap;
    if (ready && (await mayLead(replica, caughtUp)) && (await lease.tryAcquire(seenEpoch))) {
      seenEpoch = lease.epoch;
      await lead(replica, false);
    } else await becomeStandby(replica);
  } catch (err) {
    await lease.release();
    await link.close();
    throw err;
  }
  let lastPollError = '';
  let poller: NodeJS.Timeout | undefined;
  /** One look at a time, each scheduled when the last one ended (its result says when). */
  const nextPoll = (ms: number) => {
    if (closing) return;
    poller = setTimeout(() => {
      poll().then(
        (next) => {
          lastPollError = '';
          nextPoll(next);
        },
        (err: unknown) => {
          sawHeld = false;
          // Once per distinct failure: a standby that cannot apply the log must say so, not retry silently.
          const message = (err as Error).message;
          if (message !== lastPollError) log.warn({ err }, 'standby poll failed');
          lastPollError = message;
          nextPoll(config.leaseMs / 4);
        },
      );
    }, ms);
  };
  nextPoll(config.leaseMs / 4);

  return {
    url: shownUrl(config.host, port),
    close: async () => {
      closing = true;
      clearTimeout(poller);
      await transition;
      const current = phase;
      phase = { kind: 'none' };
      if (current.kind === 'leader') {
        current.copies?.stop();
        await current.server.close(); // acks what is queued, then hands over
      }
      if (current.kind === 'standby') {
        current.front.close();
        current.replica.store.close();
      }
      await lease.release();
      await link.close();
    },
  };
}
