/**
 * The edge's authority: every question goes to the writer over the bus (edge-bus.ts), and no
 * answer becomes `unavailable`. The writer's answers are the same values LocalAuthority gives, so
 * routes and WebSocket handlers cannot tell the roles apart.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import type { AdminAction } from '../moderation/admin-action.ts';
import type { ActionResult } from '../moderation/moderation.ts';
import type { Authority, IdentityStatsResult, PixelResult, Standing, StatsResult } from '../placement/authority.ts';
import type { PixelRequest, PlaceResult, Placer } from '../placement/service.ts';
import type { EdgeBus, NoAnswer } from './edge-bus.ts';
import type { HistoryRequest } from '../history/history-answers.ts';
import { ByteLru } from '../history/lru.ts';
import { errorAnswer, type HttpAnswer } from '../http/answer.ts';
import { etagMatches, IMMUTABLE, notModified } from '../http/cache.ts';
import type { TileRef } from '../tiles/tile-layout.ts';
import type { NameResult } from '../identity/display-names.ts';
import type { ProjectRequest } from '../projects/project-service.ts';

const NO_ANSWER = {
  not_forwarded: {
    ok: false,
    code: ErrorCode.UNAVAILABLE,
    message: 'the writer cannot be reached from this server: nothing was done, retry later',
  },
  unknown: {
    ok: false,
    code: ErrorCode.OUTCOME_UNKNOWN,
    message: 'the writer did not answer in time: the request may still take effect (the next frames show a placement)',
  },
} as const;

/** The writer's answer, or the failure that says whether the request may have taken effect. */
const orFailure = <T extends object>(r: T | NoAnswer): T | (typeof NO_ANSWER)[NoAnswer] =>
  typeof r === 'string' ? NO_ANSWER[r] : r;

/** An edge reuses the writer's stats this long: the answer says max-age=1 anyway (stats/stats.ts). */
const STATS_REUSE_MS = 1_000;

/** A timelapse takes seconds to build (perf/RESULTS.md): the writer gets this long to answer. */
const HISTORY_TIMEOUT_MS = 120_000;
/** How long the writer gets to answer the moderation console's scans (look, area rollback, preview). */
const ADMIN_SCAN_TIMEOUT_MS = 60_000;
/** Bytes of immutable history answers an edge keeps, so repeated requests never reach the writer. */
const HISTORY_CACHE_BYTES = 64 << 20;

/**
 * An edge reuses the writer's tile answer this long: the answer says max-age=1, and the writer
 * encodes a tile at most once per tick anyway; this keeps the bus to one request per tile a second.
 */
const TILE_REUSE_MS = 1_000;
/** Bytes of tile answers an edge keeps (341 tiles of ~10-30 KB cover a 4096 x 4096 pyramid). */
const TILE_CACHE_BYTES = 32 << 20;

interface KeptTile {
  answer: HttpAnswer;
  until: number;
  /** Its X-Seq: the seq of the grid the writer sampled it from. */
  seq: number;
}

export class RemoteAuthority implements Authority {
  private readonly cache = new ByteLru<HttpAnswer>(HISTORY_CACHE_BYTES, (a) => a.body.length + 512);
  /** The writer's latest stats, and when they arrived. */
  private statsKept: { r: StatsResult; until: number } | undefined;
  /** Asked of the writer and not answered yet: everyone asking meanwhile waits for that one answer. */
  private statsWaiting: Array<(r: StatsResult) => void> | undefined;

  private readonly tiles = new ByteLru<KeptTile>(TILE_CACHE_BYTES, (t) => t.answer.body.length + 512);
  /** Tiles asked of the writer and not answered yet: everyone asking meanwhile waits for that answer. */
  private readonly tilesWaiting = new Map<string, Array<(a: HttpAnswer) => void>>();

  constructor(
    private readonly bus: EdgeBus,
    /** The seq of the edge's latest tick (its streams' frame): tile answers older than it are not reused. */
    private readonly frameSeq: () => number,
  ) {}

  place(placer: Placer, pixel: PixelRequest, done: (r: PlaceResult) => void): void {
    const { identityId, addressKey } = placer;
    const { x, y, color, pow } = pixel;
    const account = placer.account ? { account: true as const } : {};
    const bot = placer.bot === undefined ? {} : { bot: placer.bot };
    const req = {
      k: 'place' as const,
      identityId,
      addressKey,
      ...account,
      ...bot,
      x,
      y,
      c: color,
      ...(pow === undefined ? {} : { pow }),
    };
    this.bus.forward<'place'>(req, (r) => done(orFailure(r)));
  }

  /** Without the writer nobody knows the cooldown: 0, and a placement would be refused anyway. */
  standing(placer: Placer, done: (s: Standing) => void): void {
    const { identityId, addressKey } = placer;
    const account = placer.account ? { account: true as const } : {};
    const bot = placer.bot === undefined ? {} : { bot: placer.bot };
    this.bus.forward<'standing'>({ k: 'standing', identityId, addressKey, ...account, ...bot }, (r) =>
      done(typeof r === 'string' ? { wait: 0 } : r),
    );
  }

  pixel(x: number, y: number, done: (r: PixelResult) => void): void {
    this.bus.forward<'pixel'>({ k: 'pixel', x, y }, (r) => done(orFailure(r)));
  }

  admin(action: AdminAction, done: (r: ActionResult) => void): void {
    // The console's scans answer after work spread over many loop turns (an area rollback's plan:
    // ~1 s CPU per 100,000 undone placements, perf/RESULTS.md): more than --writer-timeout-ms allows.
    const slow = action.op === 'look' || action.op === 'rollback-area' || action.op === 'rollback-preview';
    this.bus.forward<'admin'>(
      { k: 'admin', a: action },
      (r) => done(orFailure(r)),
      slow ? ADMIN_SCAN_TIMEOUT_MS : undefined,
    );
  }

  /** One request to the writer a second at most, however many clients ask this edge. */
  stats(done: (r: StatsResult) => void): void {
    const kept = this.statsKept;
    if (kept && Date.now() < kept.until) return done(kept.r);
    if (this.statsWaiting) {
      this.statsWaiting.push(done);
      return;
    }
    const waiting = [done];
    this.statsWaiting = waiting;
    this.bus.forward<'stats'>({ k: 'stats' }, (answer) => {
      this.statsWaiting = undefined;
      const r = orFailure(answer);
      if (r.ok) this.statsKept = { r, until: Date.now() + STATS_REUSE_MS };
      for (const d of waiting) d(r);
    });
  }

  setName(placer: Placer, name: string, done: (r: NameResult) => void): void {
    const { identityId, addressKey } = placer;
    const account = placer.account ? { account: true as const } : {};
    const bot = placer.bot === undefined ? {} : { bot: placer.bot };
    this.bus.forward<'name'>({ k: 'name', identityId, addressKey, ...account, ...bot, name }, (r) =>
      done(orFailure(r)),
    );
  }

  statsOf(id: string, done: (r: IdentityStatsResult) => void): void {
    this.bus.forward<'statsOf'>({ k: 'statsOf', id }, (r) => done(orFailure(r)));
  }

  /** Immutable answers (a past canvas, a finished range) are kept here and revalidated here. */
  history(req: HistoryRequest, done: (a: HttpAnswer) => void): void {
    const key = `${req.path}?${req.query}`;
    const cached = this.cache.get(key);
    if (cached) {
      const etag = cached.headers['ETag'] ?? '';
      if (etagMatches(req.ifNoneMatch, etag)) return done(notModified(etag, IMMUTABLE));
      return done(cached);
    }
    this.bus.forward<'history'>(
      { k: 'history', r: req },
      (r) => {
        if (typeof r === 'string') return done(errorAnswer(NO_ANSWER[r].code, NO_ANSWER[r].message));
        // msgpack gives the body back as a Buffer view: keep it as is.
        if (r.status.startsWith('200') && r.headers['Cache-Control'] === IMMUTABLE) this.cache.set(key, r);
        done(r);
      },
      HISTORY_TIMEOUT_MS,
    );
  }

  /** Every projects request goes to the writer (it owns the projects); its answer is written as it is. */
  projects(req: ProjectRequest, done: (a: HttpAnswer) => void): void {
    this.bus.forward<'projects'>({ k: 'projects', r: req }, (r) =>
      done(typeof r === 'string' ? errorAnswer(NO_ANSWER[r].code, NO_ANSWER[r].message) : r),
    );
  }

  /**
   * One request to the writer per tile and tick at most (and a second at most), however many
   * clients ask this edge. An answer sampled before the edge's latest tick is not reused: a region
   * subscriber told `tiles` at that tick's seq must get a tile showing it or later (PROTOCOL.md).
   */
  tile(t: TileRef, done: (a: HttpAnswer) => void): void {
    const key = `${t.level}/${t.tx}/${t.ty}`;
    const kept = this.tiles.get(key);
    if (kept && Date.now() < kept.until && kept.seq >= this.frameSeq()) return done(kept.answer);
    const waiting = this.tilesWaiting.get(key);
    if (waiting) {
      waiting.push(done);
      return;
    }
    const list = [done];
    this.tilesWaiting.set(key, list);
    this.bus.forward<'tile'>({ k: 'tile', level: t.level, tx: t.tx, ty: t.ty }, (r) => {
      this.tilesWaiting.delete(key);
      const answer = typeof r === 'string' ? errorAnswer(NO_ANSWER[r].code, NO_ANSWER[r].message) : r;
      if (answer.status.startsWith('200')) {
        const seq = Number(answer.headers['X-Seq'] ?? -1);
        this.tiles.set(key, { answer, until: Date.now() + TILE_REUSE_MS, seq: Number.isInteger(seq) ? seq : -1 });
      }
      for (const d of list) d(answer);
    });
  }
}
