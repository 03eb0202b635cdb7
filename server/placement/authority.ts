/**
 * Everything a client-facing process asks of the authoritative one: place a pixel, how long a
 * client must still wait, who placed a pixel, moderation. In a standalone or writer process the
 * answers come from this process (`LocalAuthority`, synchronously); on an edge they travel over the
 * Redis bus (bus/remote-authority.ts). Routes and WebSocket handlers see only this interface, so one
 * code path serves every role. Every `done` runs exactly once.
 */
import type { PixelInfo } from '../../protocol/http-api.ts';
import { ErrorCode, type HelloMsg } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import type { PlacementLog } from '../store/placement-log.ts';
import {
  answerHistory,
  type HistoryAnswers,
  type HistoryOff,
  type HistoryRequest,
} from '../history/history-answers.ts';
import type { HttpAnswer } from '../http/answer.ts';
import { type AdminAction, runAdminAction } from '../moderation/admin-action.ts';
import type { ActionResult, Moderation } from '../moderation/moderation.ts';
import type { PixelRequest, PlaceResult, Placer, PlacementService } from './service.ts';
import type { IdentityStats, Stats, StatsSummary } from '../stats/stats.ts';
import { errorAnswer } from '../http/answer.ts';
import { HttpCode } from '../http/status.ts';
import type { TileCache } from '../tiles/tile-cache.ts';
import type { TileRef } from '../tiles/tile-layout.ts';
import type { Bots } from './bots.ts';
import type { DisplayNames, NameResult } from '../identity/display-names.ts';
import type { ProjectRequest, ProjectService } from '../projects/project-service.ts';

/** What a client is told when it connects: ms until it may place (0: now), and why it may not at all. */
export interface Standing {
  wait: number;
  banned?: HelloMsg['banned'];
  locked?: HelloMsg['locked'];
  /** The identity's next placement needs a solved challenge. */
  challenge?: true;
  /** Its charges (--cooldown-model charges only). */
  charges?: HelloMsg['charges'];
}

export type PixelResult = { ok: true; pixel: PixelInfo } | { ok: false; code: ErrorCode; message: string };

type Failure = { ok: false; code: ErrorCode; message: string };
export type StatsResult = { ok: true; stats: StatsSummary } | Failure;
export type IdentityStatsResult = { ok: true; stats: IdentityStats } | Failure;

export interface Authority {
  place(placer: Placer, pixel: PixelRequest, done: (r: PlaceResult) => void): void;
  /** What hello tells `placer`: its remaining cooldown, and any ban or lock in force. */
  standing(placer: Placer, done: (s: Standing) => void): void;
  pixel(x: number, y: number, done: (r: PixelResult) => void): void;
  admin(action: AdminAction, done: (r: ActionResult) => void): void;
  /** The history endpoints (past canvases, timelapses, heatmaps): a whole HTTP answer. */
  history(req: HistoryRequest, done: (a: HttpAnswer) => void): void;
  /** Placement statistics (stats/stats.ts); the same object for a second, so callers may cache on it. */
  stats(done: (r: StatsResult) => void): void;
  /** One identity's placement statistics. */
  statsOf(id: string, done: (r: IdentityStatsResult) => void): void;
  /** A tile of the canvas (tiles/tile-cache.ts): a whole HTTP answer, 200 with the PNG or an error. */
  tile(t: TileRef, done: (a: HttpAnswer) => void): void;
  /** `placer` sets its display name, or clears it with '' (identity/display-names.ts). */
  setName(placer: Placer, name: string, done: (r: NameResult) => void): void;
  /** The projects API (projects/project-service.ts): a whole HTTP answer. */
  projects(req: ProjectRequest, done: (a: HttpAnswer) => void): void;
}

/** Admin actions that change nothing: answered at once, whatever the replicated log. */
const READ_ONLY_ACTIONS: ReadonlySet<AdminAction['op']> = new Set([
  'audit',
  'signals',
  'look',
  'rollback-preview',
  'rollback-status',
  'activity',
  'bot-list',
]);

function notReplicated(what: string): Failure {
  return {
    ok: false,
    code: ErrorCode.OUTCOME_UNKNOWN,
    message: `${what}: done by this writer but not confirmed in the replicated log, so a failover may undo it; check before retrying`,
  };
}

export class LocalAuthority implements Authority {
  constructor(
    private readonly canvas: Canvas,
    private readonly placements: PlacementService,
    private readonly placementLog: PlacementLog,
    private readonly moderation: Moderation,
    /** The history's answers, or why there are none (an in-memory database). */
    private readonly historyAnswers: HistoryAnswers | HistoryOff,
    private readonly counts: Stats,
    private readonly tiles: TileCache,
    private readonly projectService: ProjectService,
    /** Names the sanctioned bot behind a pixel (pixel info). */
    private readonly bots: Bots,
    private readonly names: DisplayNames,
    /**
     * A writer with a replicated log (server.ts Replicator.synced): resolves true once the log holds
     * everything stored so far. A moderation action or a name is answered done only then, as a
     * placement is acked only after its append: what a moderator was told is done survives a failover.
     */
    private readonly synced?: () => Promise<boolean>,
  ) {}

  /**
   * Answers a change once the replicated log has it; `outcome_unknown` when it cannot say (the log
   * broke, the lease was lost): the change is stored here but the next leader may not have it.
   */
  private whenReplicated<R extends { ok: boolean }>(r: R, what: string, done: (r: R | Failure) => void): void {
    if (!r.ok || !this.synced) return done(r);
    this.synced().then(
      (ok) => done(ok ? r : notReplicated(what)),
      () => done(notReplicated(what)),
    );
  }

  projects(req: ProjectRequest, done: (a: HttpAnswer) => void): void {
    done(this.projectService.answer(req));
  }

  place(placer: Placer, pixel: PixelRequest, done: (r: PlaceResult) => void): void {
    this.placements.place(placer, pixel, done);
  }

  standing(placer: Placer, done: (s: Standing) => void): void {
    done(this.placements.standing(placer, Date.now()));
  }

  pixel(x: number, y: number, done: (r: PixelResult) => void): void {
    const { canvas } = this;
    if (!canvas.inBounds(x, y)) {
      return done({ ok: false, code: ErrorCode.OUT_OF_BOUNDS, message: `(${x}, ${y}) is outside the canvas` });
    }
    const last = this.placementLog.placement(canvas.lastSeqAt(x, y));
    const who = last?.who ?? null;
    const bot = this.bots.nameOf(who);
    done({
      ok: true,
      pixel: {
        x,
        y,
        color: canvas.get(x, y),
        who,
        at: last?.at ?? null,
        seq: last?.seq ?? null,
        ...(bot === undefined ? {} : { bot }),
      },
    });
  }

  admin(action: AdminAction, done: (r: ActionResult) => void): void {
    runAdminAction(this.moderation, action, (r) =>
      READ_ONLY_ACTIONS.has(action.op) ? done(r) : this.whenReplicated(r, action.op, done),
    );
  }

  history(req: HistoryRequest, done: (a: HttpAnswer) => void): void {
    answerHistory(this.historyAnswers, req, done);
  }

  stats(done: (r: StatsResult) => void): void {
    done({ ok: true, stats: this.counts.summary() });
  }

  statsOf(id: string, done: (r: IdentityStatsResult) => void): void {
    done({ ok: true, stats: this.counts.of(id) });
  }

  setName(placer: Placer, name: string, done: (r: NameResult) => void): void {
    this.whenReplicated(this.names.choose(placer, name), 'the name', done);
  }

  tile(t: TileRef, done: (a: HttpAnswer) => void): void {
    // Checked again here: an edge's request crossed the bus (the route checked its own).
    if (!this.tiles.layout.contains(t)) {
      return done(errorAnswer(HttpCode.NOT_FOUND, `no tile ${t.level}/${t.tx}/${t.ty}`));
    }
    const answer = this.tiles.answer(t);
    if (!(answer instanceof Promise)) return done(answer);
    answer.then(done, (err: unknown) =>
      done(errorAnswer(HttpCode.INTERNAL, `tile encode failed: ${err instanceof Error ? err.message : String(err)}`)),
    );
  }
}
