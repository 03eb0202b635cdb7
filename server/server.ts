/**
 * Wires the standalone and writer roles, in one direction: metrics, then the core (store -> canvas
 * -> committer -> placement rules -> authority; the history; the writer's bus), then the streams and
 * the tick that feeds them, then the client-facing front (front.ts). The edge role is edge.ts.
 * `startServer` resolves once listening; `close` is the graceful shutdown.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Canvas } from './canvas/canvas.ts';
import { HttpCode } from './http/status.ts';
import { PngEncoder } from './canvas/png-encoder.ts';
import type { Config } from './config/config.ts';
import { busKeys } from './bus/bus-messages.ts';
import { WriterBus } from './bus/writer-bus.ts';
import { Front, type FrontOptions } from './front.ts';
import { Surge } from './defence/surge.ts';
import { SurgeWatch } from './defence/surge-watch.ts';
import { HistoryAnswers, type HistoryOff } from './history/history-answers.ts';
import { HistoryService } from './history/history-service.ts';
import { Keyframes } from './history/keyframes.ts';
import { Activity } from './moderation/activity.ts';
import { AreaRollbacks } from './moderation/area-rollback.ts';
import { IdentityIndex } from './moderation/identity-index.ts';
import { Look } from './moderation/look.ts';
import { Moderation } from './moderation/moderation.ts';
import { BotAdmin } from './moderation/bot-admin.ts';
import { Bots } from './placement/bots.ts';
import { BotStore } from './store/bot-store.ts';
import { NameStore } from './store/name-store.ts';
import { DisplayNames } from './identity/display-names.ts';
import { IdentityIssuer } from './identity/tokens.ts';
import type { Logger } from './ops/log.ts';
import { Metrics } from './ops/metrics.ts';
import { OperatorError, shownUrl } from './ops/operator-error.ts';
import { startPprofServer, type PprofServer } from './ops/pprof-server.ts';
import { checkBackend, uwsBackend } from './ops/uws-backend.ts';
import { LocalAuthority } from './placement/authority.ts';
import { Bans } from './placement/bans.ts';
import { Signals } from './placement/signals.ts';
import { PlacementCommitter } from './placement/committer.ts';
import { PlacementService } from './placement/service.ts';
import { ChargeCooldowns, type ChargeOptions } from './placement/charges.ts';
import type { CooldownSource } from './placement/recent-placements.ts';
import { type Cooldowns, FixedCooldowns } from './placement/cooldowns.ts';
import { ModerationStore } from './store/moderation-store.ts';
import { PlacementLog } from './store/placement-log.ts';
import { type LoadedState, type PlacementRow, Store, type StoreOptions } from './store/store.ts';
import type { SizeRow } from './store/size-store.ts';
import { WalCheckpointer } from './store/wal-checkpointer.ts';
import { restoreStats } from './stats/restore.ts';
import type { Label, Stats } from './stats/stats.ts';
import { StatsStore } from './store/stats-store.ts';
import { ProjectStore } from './store/project-store.ts';
import { ProjectService } from './projects/project-service.ts';
import { restoreProjects } from './projects/restore.ts';
import { Streams } from './streams/streams.ts';
import { ChallengeGate } from './defence/challenge-gate.ts';
import { challengeIssuer } from './defence/challenges.ts';
import { Ticker } from './tick/ticker.ts';
import { TileCache } from './tiles/tile-cache.ts';

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

/**
 * What a writer holds while it leads (writer.ts): its lease epoch, and whether it may still
 * acknowledge (bus/lease.ts). A writer's placements and bus messages stop when `valid` turns false.
 */
export interface Leadership {
  epoch: number;
  valid: () => boolean;
  /** More /healthz fields (a rollback this leader made, its replication). */
  health?: () => Record<string, unknown>;
  /**
   * Starts appending committed batches to the replicated log (bus/replication-log.ts), once the
   * store and its small tables exist; acks wait for `append` and nothing is acked while `refusing`.
   */
  replicate?: (store: Store, seq: () => number) => Replicator;
  /** What the standby this writer was kept up to date (writer.ts): the start need not read it again. */
  handover?: Handover;
}

/**
 * A standby's state as it takes over: the grid it applied the log to, exactly what its database
 * holds (Store.load would rebuild the same: 70-170 ms for 1000 x 1000 in perf/failover.ts), and the
 * stats it counted from the same rows, when it has them (restoreStats would scan the last hour's
 * placements: 0.4-2 s for ~100,000 there, tens of seconds at 1,600 placements/s).
 */
export interface Handover {
  loaded: LoadedState;
  stats?: Stats;
  /** The cooldown window's placements, kept by the standby (absent: read from the log). */
  recent?: CooldownSource;
  /** Taking over from another leader (not this process's own start): edges wait for the first frame. */
  takeover: boolean;
}

export interface Replicator {
  append(rows: readonly PlacementRow[], resize?: SizeRow): Promise<boolean>;
  /** True once the log holds everything stored so far (moderation answers wait for it). */
  synced(): Promise<boolean>;
  /** True while nothing may be acknowledged (the log is broken and a standby relies on it). */
  readonly refusing: boolean;
  close(): void;
}

/** --login and the provider, as the front (and, through the bus, every edge) needs them; undefined when off. */
function loginSettings(config: Config): FrontOptions['login'] {
  if (config.login === 'off') return undefined;
  return {
    mode: config.login,
    oidc: {
      issuer: config.oidcIssuer,
      clientId: config.oidcClientId,
      clientSecret: config.oidcClientSecret,
      scopes: config.oidcScopes,
      publicUrl: config.publicUrl,
    },
  };
}

/**
 * How often the stats checkpoint is written (store/stats-store.ts), and after how long a startup scan
 * one is written at once: a crash then replays at most this much more than a clean stop.
 */
export const STATS_CHECKPOINT_MS = 5 * 60_000;
const STATS_CHECKPOINT_ROWS = 100_000;

/** The deflate level of the first frame of a standby that takes over (see its use). */
const TAKEOVER_PNG_LEVEL = 1;

/** The history catch-ups of a start wait this long at most for the bus (the identity index, keyframes). */
const BACKGROUND_AFTER_MS = 2_000;

/** How often new placements are folded into keyframes (history/keyframes.ts). */
const KEYFRAME_CATCH_UP_MS = 10_000;

/** How this process opens its database (the leader here, a standby in writer.ts). */
export function storeOptions(config: Config): StoreOptions {
  return {
    path: config.db,
    width: config.width,
    height: config.height,
    paletteSize: config.palette.length,
    synchronous: config.synchronous,
    busyTimeoutMs: config.busyTimeoutMs,
  };
}

export async function startServer(config: Config, log: Logger, leadership?: Leadership): Promise<RunningServer> {
  if (config.role === 'writer' && !leadership) throw new Error('a writer leads through writer.ts, with a lease');
  checkBackend(config.allowUwsFallback, log);
  const metrics = new Metrics({ backend: uwsBackend, role: config.role });
  if (leadership) watchLeadership(metrics, () => (leadership.valid() ? 'leader' : 'standby'), leadership.epoch, 0);

  // The core: the stored canvas, the one placement path, moderation, history.
  const store = Store.open(storeOptions(config));
  const handover = leadership?.handover;
  let loaded: LoadedState;
  let loadMs = 0;
  try {
    const loadStarted = performance.now();
    loaded = handover?.loaded ?? store.load(config.palette.length);
    loadMs = Math.round(performance.now() - loadStarted);
  } catch (err) {
    store.close();
    throw err;
  }
  // The stored size: the flags' first size grown by every resize since (store/size-store.ts).
  const { canvas } = loaded;
  canvas.track();
  log.info(
    {
      ms: loadMs,
      seq: loaded.seq,
      replayed: loaded.replayed,
      db: config.db,
      ...(handover ? { handedOver: true } : {}),
    },
    'canvas restored',
  );
  const checkpointer = WalCheckpointer.start(store, {
    path: config.db,
    busyTimeoutMs: config.busyTimeoutMs,
    synchronous: config.synchronous,
    onError: (err) => log.error({ err }, 'WAL checkpoint'),
  });
  metrics.watchSeq(() => canvas.seq);
  // Stats: the stored checkpoint and the placements after it, then every committed batch (`stored`).
  const placementLog = new PlacementLog(store.db);
  const statsStore = new StatsStore(store.db);
  // Sanctioned bots and display names: the stats show their names beside the ids.
  const modStore = new ModerationStore(store.db);
  const bans = new Bans(modStore.identityBans(), modStore.prefixBans());
  const botStore = new BotStore(store.db);
  const bots = new Bots(botStore.all());
  const names = new DisplayNames(new NameStore(store.db), { bans, bots });
  const label = (id: string): Label | undefined => {
    const bot = bots.nameOf(id);
    if (bot !== undefined) return { bot };
    const name = names.of(id);
    return name === undefined ? undefined : { name };
  };
  const statsStarted = performance.now();
  let stats: Stats;
  let scanned = 0;
  if (handover?.stats && handover.stats.seq === loaded.seq) {
    stats = handover.stats;
    stats.labelWith(label);
    log.info({ seq: stats.seq, identities: stats.identities }, 'stats handed over by the standby');
  } else {
    const restored = restoreStats({
      paletteSize: config.palette.length,
      log: placementLog,
      store: statsStore,
      seq: loaded.seq,
      now: Date.now(),
      label,
    });
    stats = restored.stats;
    scanned = restored.scanned;
    log.info(
      {
        ms: Math.round(performance.now() - statsStarted),
        checkpointSeq: restored.checkpointSeq,
        scanned,
        identities: stats.identities,
      },
      'stats restored',
    );
  }
  const saveStats = () => {
    try {
      statsStore.save(stats.checkpoint());
    } catch (err) {
      log.error({ err }, 'stats checkpoint failed: the next start reads more placements');
    }
  };
  // A long scan is not repeated by the next start, even if this process never stops cleanly.
  if (scanned >= STATS_CHECKPOINT_ROWS) saveStats();
  const statsTimer = setInterval(saveStats, STATS_CHECKPOINT_MS).unref();
  // Projects: the stored ones, `done` recounted from the grid, griefs and contributors from their
  // stored state and the placements after it; then every committed batch (`stored`).
  const projectStore = new ProjectStore(store.db);
  const projectsStarted = performance.now();
  const projects = restoreProjects(projectStore, canvas);
  log.info({ ms: Math.round(performance.now() - projectsStarted), projects: projects.size }, 'projects restored');
  const saveProjects = () => {
    try {
      projectStore.saveStates(projects.states(canvas.seq));
    } catch (err) {
      log.error({ err }, 'project state save failed: the next start replays more placements');
    }
  };
  const projectsTimer = setInterval(saveProjects, STATS_CHECKPOINT_MS).unref();
  const replicator = leadership?.replicate?.(store, () => canvas.seq);
  // A resize (moderation.ts, through the committer) reaches the tiles and the ticker, made below.
  let resized: (row: SizeRow) => void = () => {};
  const committer = new PlacementCommitter(
    store,
    canvas,
    {
      commitDelayMs: config.commitDelayMs,
      commitBatch: config.commitBatch,
      snapshotEvery: config.snapshotEvery,
      replayed: loaded.replayed,
      ...(leadership ? { fenced: () => !leadership.valid() || replicator?.refusing === true } : {}),
      ...(replicator
        ? { replicate: (rows: readonly PlacementRow[], resize?: SizeRow) => replicator.append(rows, resize) }
        : {}),
    },
    {
      commitFailed: (err, count) =>
        count === 0
          ? log.error({ err }, 'snapshot failed: startup will replay more history; retrying with backoff')
          : log.error({ err, count }, 'commit failed: placements rejected'),
      committed: (count, seconds) => {
        metrics.commitSeconds.observe(seconds);
        metrics.commitBatch.observe(count);
      },
      callbackFailed: (err) => log.error({ err }, 'placement callback failed'),
      stored: (rows, previous) => {
        stats.add(rows);
        projects.stored(rows, previous);
      },
      resizing: (row) => {
        projectStore.shift(row.left, row.top);
        botStore.shift(row.left, row.top);
      },
      resized: (row) => resized(row),
    },
  );
  const secret = store.identitySecret(config.secret);
  // A standby's takeover hands over what it kept of the cooldown window (placement/recent-placements.ts).
  const cooldowns = cooldownModel(config, handover?.recent ?? placementLog, Date.now());
  // With charges, a bot keeping up the full rate places one every charge period: the same signal.
  const signals = new Signals(cooldowns.periodMs);
  // Off (no Surge at all) unless --surge-factor is set: nothing changes for a canvas that did not ask.
  const surge =
    config.surgeFactor > 0
      ? new Surge(
          {
            factor: config.surgeFactor,
            lockFactor: config.surgeLockFactor === 0 ? 3 * config.surgeFactor : config.surgeLockFactor,
            lockMs: config.surgeLockMs,
            minRate: config.surgeMinRate,
            windowMs: config.surgeWindowMs,
            baselineMs: config.surgeBaselineMs,
            calmMs: config.surgeCalmMs,
          },
          Date.now(),
        )
      : undefined;
  const surgeWatch = surge && new SurgeWatch(surge, { metrics, log, webhook: config.surgeWebhook });
  // The moderation console's memory: every accepted placement feeds the identity index and the live
  // counters, each in O(1); the index is rebuilt from the table in the background.
  const identities = new IdentityIndex();
  const activity = new Activity(canvas.width, canvas.height);
  // Rebuilt up to the seq at start, in the background (after the bus started, below); later placements are
  // counted as they are accepted.
  const startSeq = canvas.seq;
  const placements = new PlacementService({
    bots,
    canvas,
    committer,
    metrics,
    cooldownMs: config.cooldownMs,
    bans,
    restored: { byWho: new Map(), byAddr: new Map() },
    cooldowns,
    addressPlacements: config.addressPlacements,
    addressLimitExempt: config.addressLimitExempt,
    signals,
    challenges: {
      gate: new ChallengeGate({ mode: config.challenge, every: config.challengeEvery, ttlMs: config.challengeTtlMs }),
      verifier: challengeIssuer(config, secret).verifier(),
    },
    loginRequired: config.login === 'required',
    surge,
    watcher: {
      placed(id, prefix, at, where) {
        activity.placed(id, where.x, where.y, identities.placed(id, prefix, at, where.seq));
      },
    },
  });
  const projectService = new ProjectService(
    projects,
    projectStore,
    canvas,
    config.palette,
    {
      maxPixels: config.projectMaxPixels,
      perIdentity: config.projectsPerIdentity,
      everyMs: config.projectEveryMs,
    },
    modStore,
  );
  const rollbacks = new AreaRollbacks(canvas, committer, placementLog, modStore, config.palette);
  const moderation = new Moderation(
    canvas,
    committer,
    modStore,
    placementLog,
    placements,
    bans,
    signals,
    {
      look: new Look(placementLog, identities, signals, secret, { bans, names }),
      rollbacks,
      activity,
      bots: new BotAdmin(botStore, bots, new IdentityIssuer(secret), modStore, canvas, (id) => stats.of(id).placed),
      names,
      projects: projectService,
    },
    surge,
  );
  metrics.watch(
    'canvas_locked_seconds',
    "Seconds left of a lock on placing, a moderator's or a surge's (0: not locked)",
    () => {
      const lock = placements.locked();
      return lock ? Math.ceil((lock.until - Date.now()) / 1000) : 0;
    },
  );
  // GET /api/canvas lists the resizes (a client maps a past seq's coordinates to today's with them).
  const resizeList = () =>
    store.sizes.all().map(({ seq, width, height, left, top }) => ({ seq, width, height, left, top }));
  // History workers open the database file read-only: none for an in-memory database. Keyframes and
  // whole past canvases are grids: none over 4096 a side (16 MB there, 268 MB at 16,384 a side), so
  // keyframes stop before the resize that took the canvas past 4096 (history/keyframes.ts) and such a
  // canvas's past is asked for by region (history/region-replay.ts). Replay starts from the canvas's
  // first size and grows it at each stored resize.
  const first = store.sizeHistory().initial;
  const pastCanvases =
    config.db === ':memory:'
      ? undefined
      : {
          keyframes: new Keyframes(store.db, first.width, first.height),
          service: new HistoryService(store.db, {
            dbPath: config.db,
            width: first.width,
            height: first.height,
            palette: config.palette,
            pngLevel: config.pngLevel,
          }),
        };
  const historyAnswers: HistoryAnswers | HistoryOff = pastCanvases
    ? new HistoryAnswers({ history: pastCanvases.service, canvasId: store.canvasId, canvas })
    : { code: HttpCode.NOT_FOUND, message: 'history needs a database file (not :memory:)' };
  const tiles = new TileCache({
    canvas,
    palette: config.palette,
    pngLevel: config.pngLevel,
    registry: metrics.registry,
    maxBytes: config.tileCacheMb << 20,
  });
  const authority = new LocalAuthority(
    canvas,
    placements,
    placementLog,
    moderation,
    historyAnswers,
    stats,
    tiles,
    projectService,
    bots,
    names,
    replicator && (() => replicator.synced()),
  );
  // Keyframes (so any past canvas is a keyframe plus a bounded replay) are written off the commit
  // path, in chunks: at startup for the whole history, then every KEYFRAME_CATCH_UP_MS.
  const catchUp = () => {
    pastCanvases?.keyframes.catchUp().catch((err: unknown) => log.error({ err }, 'keyframe catch-up failed'));
  };
  const keyframeTimer = setInterval(catchUp, KEYFRAME_CATCH_UP_MS).unref();
  const login = loginSettings(config);
  const bus = leadership
    ? new WriterBus({
        url: config.redis,
        keys: busKeys(config.redisPrefix),
        meta: {
          canvasId: store.canvasId,
          width: canvas.width,
          height: canvas.height,
          resizes: resizeList(),
          palette: [...config.palette],
          tickMs: config.tickMs,
          cooldownMs: cooldowns.periodMs,
          secret: secret.toString('hex'),
          ...(login ? { login: login.mode, oidc: login.oidc } : {}),
        },
        authority,
        epoch: leadership.epoch,
        leading: leadership.valid,
        registry: metrics.registry,
        log,
      })
    : undefined;

  // The streams, and the tick that feeds them (and the bus).
  const streams = new Streams({
    maxBackpressure: config.maxBackpressure,
    maxBufferedTotal: config.maxBufferedTotal,
    stallMs: config.stallMs,
    deltaRing: config.deltaRing,
    onlineIntervalMs: config.tickMs,
    online: bus && (() => bus.online()),
    registry: metrics.registry,
    log,
  });
  // No whole-canvas PNG over 4096 a side: such a canvas is served as tiles and region deltas.
  const encoder = canvas.wholeImages
    ? new PngEncoder(canvas.width, canvas.height, config.palette, config.pngLevel)
    : undefined;
  const ticker = new Ticker({
    canvas,
    encoder,
    newEncoder: (width, height) => new PngEncoder(width, height, config.palette, config.pngLevel),
    canvasId: store.canvasId,
    // Of the canvas now, not of the flags' first size: a grown canvas takes larger deltas.
    maxDeltaCells: () => Math.floor((canvas.width * canvas.height * config.deltaMaxPercent) / 100),
    deliver: async (out) => {
      metrics.encodeSeconds.observe(out.encodeSeconds);
      metrics.pngBytes.set(out.frame.image?.png.length ?? 0);
      if (out.resizes) front?.resized(out.frame, resizeList());
      bus?.publishTick(out);
      await streams.publish(out);
      metrics.tickSeconds.observe((performance.now() - out.startedAt) / 1000);
    },
    captured: (cells) => tiles.tickChanged(cells),
    progress: (seq) => projects.takeTick(seq),
    onError: (err) => log.error({ err }, 'tick encode failed'),
  });
  resized = (row) => {
    tiles.resized();
    ticker.resized(row);
    bots.shift(row.left, row.top);
    projects.resized(row.width, row.height, row.left, row.top, canvas);
    activity.resized(row.width, row.height);
    // A start replays the placements after the projects' states in their stored coordinates: none
    // from before this resize once the states are of its seq.
    saveProjects();
  };
  // Set once made below: a tick of a grown canvas tells it the new size (hello, /api/canvas, tiles).
  let front: Front | undefined;
  // A standby taking over: edges forward nothing until its first frame is out, so that frame is
  // deflated at level 1 (1000 x 1000 with ~150,000 scattered pixels: 16-40 ms against 240-630 ms at
  // level 8 on the shared test machine, and 1.17x the bytes). The next tick with a change encodes at
  // --png-level again; on a canvas nobody places on, /image keeps the larger bytes until then.
  const firstTick = await ticker.run(handover?.takeover ? TAKEOVER_PNG_LEVEL : undefined);
  metrics.pngBytes.set(firstTick.frame.image?.png.length ?? 0);
  await streams.publish(firstTick); // before anyone connects: the frame new sockets and /image get

  // The front.
  front = new Front({
    config,
    log,
    metrics,
    streams,
    // hello's cooldownMs is the model's period: ms per charge with charges.
    shape: {
      ...config,
      width: canvas.width,
      height: canvas.height,
      cooldownMs: cooldowns.periodMs,
      resizes: resizeList(),
    },
    canvasId: store.canvasId,
    authority,
    identitySecret: secret,
    seq: () => canvas.seq,
    health: () => ({
      ...(bus && leadership
        ? {
            redis: bus.redisUp,
            writer: true,
            lease: leadership.valid() ? 'leader' : 'fenced',
            epoch: leadership.epoch,
            ...leadership.health?.(),
          }
        : {}),
      ...(surgeWatch ? { surge: surgeWatch.health(Date.now()) } : {}),
    }),
    ...(login ? { login } : {}),
  });
  let port: number;
  let pprof: PprofServer | undefined;
  try {
    port = await front.listen();
    if (config.pprof) {
      pprof = await startPprofServer(config.pprofPort, log).catch((err: Error) => {
        throw new OperatorError(err.message);
      });
      log.info({ url: `http://127.0.0.1:${pprof.port}/debug/pprof/profile?seconds=30` }, 'pprof enabled');
    }
  } catch (err) {
    front.stopListening();
    clearInterval(keyframeTimer);
    clearInterval(statsTimer);
    clearInterval(projectsTimer);
    surgeWatch?.close();
    await bus?.close();
    await checkpointer?.stop();
    store.close();
    throw err;
  }
  ticker.start(config.tickMs);
  // Not awaited: a writer serves its own clients while Redis is still unreachable.
  const busStarted = bus
    ?.start({ frame: ticker.frame, tickMs: config.tickMs, ownClients: () => streams.size })
    .catch((err: unknown) => log.error({ err }, 'bus start failed'));
  // The catch-ups over the whole history (the identity index, keyframes) run on this loop and in the
  // thread pool in slices: started before, they delayed a new leader's first frame and its bus start
  // (edges forward nothing until they hear it) by 200-600 ms in perf/failover.ts. They start once
  // the bus has started, or after BACKGROUND_AFTER_MS without Redis.
  void Promise.race([busStarted, sleep(BACKGROUND_AFTER_MS)]).then(() => {
    if (closing) return;
    identities
      .rebuild(store.db, startSeq)
      .catch((err: unknown) =>
        log.error({ err }, 'identity index rebuild failed: totals in the moderation look are short'),
      );
    catchUp();
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      rollbacks.stop(); // first: an area rollback stops between chunks; the next start reports how far it got
      front.stopListening();
      pprof?.close();
      await ticker.stop();
      identities.stop();
      committer.close(); // flushes pending placements: their acks go out before the close frames
      await committer.answered(); // a writer with standbys acks after the log append
      clearInterval(statsTimer);
      saveStats(); // after the flush: the checkpoint holds every placement, so the next start reads none
      clearInterval(projectsTimer);
      saveProjects();
      placements.close();
      surgeWatch?.close();
      front.closeSockets();
      replicator?.close();
      await bus?.close(); // after the flush: the edges' last answers go out first
      clearInterval(keyframeTimer);
      await pastCanvases?.keyframes.stop();
      await pastCanvases?.service.close();
      await checkpointer?.stop(); // its last checkpoint after the last commit
      store.close();
      log.info({ seq: canvas.seq }, 'shut down');
    })());

  return { port, url: shownUrl(config.host, port), canvas, backend: uwsBackend, pprofPort: pprof?.port, close };
}

/**
 * /metrics of a writer: leader or standby (canvas_writer_leader), its epoch (the one it leads with,
 * or the leader's a standby saw), and how many seqs a standby is behind the replicated log.
 */
export function watchLeadership(
  metrics: Metrics,
  state: () => 'leader' | 'standby',
  epoch: number | (() => number),
  behind: number | (() => number),
): void {
  const read = (v: number | (() => number)) => (typeof v === 'number' ? () => v : v);
  metrics.watch('canvas_writer_leader', '1 while this writer holds the lease and acknowledges, 0 as a standby', () =>
    state() === 'leader' ? 1 : 0,
  );
  metrics.watch(
    'canvas_writer_epoch',
    'Lease epoch this writer leads with (a standby: the leader it saw)',
    read(epoch),
  );
  metrics.watch('canvas_writer_behind_seqs', 'Standby: seqs between its database and the replicated log', read(behind));
}

/**
 * The cooldown model, with what is still running read back from the store: fixed restores each
 * identity's and address's `next_at`; charges restores each identity's bucket from its last `next_at`
 * (the time it is full again) and replays the addresses' recent placements (placement/charges.ts).
 */
function cooldownModel(config: Config, source: CooldownSource, now: number): Cooldowns {
  const windowMs = cooldownWindowMs(config);
  if (config.cooldownModel === 'fixed')
    return new FixedCooldowns(config.cooldownMs, config.addressPlacements, source.runningCooldowns(now, windowMs));
  return new ChargeCooldowns(chargeOptions(config), {
    byWho: source.runningCooldowns(now, windowMs).byWho,
    byAddrTimes: source.placementTimesByAddress(now - windowMs),
  });
}

function chargeOptions(config: Config): ChargeOptions {
  return { maxCharges: config.maxCharges, chargeMs: config.chargeMs, addressPlacements: config.addressPlacements };
}

/** How far back the cooldown model reads placements to restore (a standby keeps that much). */
export function cooldownWindowMs(config: Config): number {
  return config.cooldownModel === 'fixed' ? config.cooldownMs : ChargeCooldowns.windowMs(chargeOptions(config));
}
