/**
 * Moderation actions. Canvas changes (rollback, wipe) are written as ordinary history rows by
 * `mod:<action>`, committed atomically through the committer: they get seqs, survive restarts,
 * reach clients on the next tick like any placement, and can themselves be looked up.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import { checkPlacement } from '../canvas/rules.ts';
import { checkResize, MAX_CANVAS_SIDE, type ResizeRequest } from '../canvas/canvas-size.ts';
import { HttpCode } from '../http/status.ts';
import type { AnyCode } from '../http/status.ts';
import type { PlacementLog } from '../store/placement-log.ts';
import type { ModerationStore } from '../store/moderation-store.ts';
import type { Ban, Bans } from '../placement/bans.ts';
import type { Signals } from '../placement/signals.ts';
import type { PlacementService } from '../placement/service.ts';
import type { PlacementCommitter, PlacementRequest } from '../placement/committer.ts';
import type { Surge, SurgeMode } from '../defence/surge.ts';
import type { Activity } from './activity.ts';
import type { AreaRollbackRequest, AreaRollbacks } from './area-rollback.ts';
import type { Look, LookRequest } from './look.ts';
import type { BotAdmin } from './bot-admin.ts';
import type { DisplayNames } from '../identity/display-names.ts';
import type { ProjectService } from '../projects/project-service.ts';

/** The moderation console's parts (look, area rollback, live activity), made in server.ts. */
export interface ConsoleParts {
  look: Look;
  rollbacks: AreaRollbacks;
  activity: Activity;
  /** Sanctioned bots: mint, list, revoke (bot-admin.ts). */
  bots: BotAdmin;
  /** Display names, which a moderator may clear (identity/display-names.ts). */
  names: DisplayNames;
  /** Projects: hide, show, delete (projects/project-service.ts). */
  projects: ProjectService;
}

/** A refusal may carry an HTTP-only code (too_large, rollback_running), so AnyCode, not ErrorCode. */
/**
 * A done action's answer, its audit entry written; when writing it fails, the action still happened:
 * the answer says so, and that its audit entry is missing.
 */
export function audited(
  store: Pick<ModerationStore, 'audit'>,
  actor: string,
  action: string,
  params: Record<string, unknown>,
  result: Record<string, unknown>,
): ActionResult {
  try {
    store.audit(actor, action, params, result);
  } catch (err) {
    return { ok: true, result: { ...result, auditError: (err as Error).message } };
  }
  return { ok: true, result };
}

export type ActionResult =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; code: AnyCode; message: string };

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export class Moderation {
  constructor(
    private readonly canvas: Canvas,
    private readonly committer: PlacementCommitter,
    private readonly store: ModerationStore,
    private readonly placementLog: PlacementLog,
    private readonly placements: PlacementService,
    private readonly bans: Bans,
    private readonly signalsSeen: Signals,
    private readonly parts: ConsoleParts,
    /** The surge defence, when on (--surge-factor > 0). */
    private readonly surge?: Surge,
  ) {}

  /** Sanctioned bots (bot-admin.ts). */
  get bots(): BotAdmin {
    return this.parts.bots;
  }

  /** Projects (projects/project-service.ts). */
  get projects(): ProjectService {
    return this.parts.projects;
  }

  /** Placements in a rectangle and window, newest first, with who placed them (look.ts). */
  async look(q: LookRequest): Promise<ActionResult> {
    const refusal = this.checkArea(q.rect) ?? this.checkWindow(q.since, q.until);
    if (refusal) return refusal;
    // The route allows 1..1000; a request off the bus is held to the same page size.
    if (q.limit < 1 || q.limit > 1000)
      return { ok: false, code: ErrorCode.INVALID_FIELD, message: 'limit must be 1..1000' };
    return { ok: true, result: { ...(await this.parts.look.look(q)) } };
  }

  /** Starts an area rollback in the background (area-rollback.ts); answered once it is planned. */
  areaRollback(actor: string, req: AreaRollbackRequest): Promise<ActionResult> {
    return this.parts.rollbacks.start(actor, req, (action, params, result) => {
      this.record(actor, action, params, result);
    });
  }

  rollbackPreview(req: AreaRollbackRequest): Promise<ActionResult> {
    return this.parts.rollbacks.preview(req);
  }

  rollbackStatus(): ActionResult {
    return this.parts.rollbacks.status();
  }

  /** The live panel: rates, top placers, hot areas (activity.ts), the lock and the surge state. */
  activity(): ActionResult {
    const lock = this.placements.locked();
    return {
      ok: true,
      result: { ...this.parts.activity.report(), locked: lock ?? null, surge: this.surge?.status(Date.now()) ?? null },
    };
  }

  private checkArea(r: Rect): ActionResult | undefined {
    const c = this.canvas;
    if (r.width < 1 || r.height < 1 || r.x < 0 || r.y < 0 || r.x + r.width > c.width || r.y + r.height > c.height)
      return {
        ok: false,
        code: ErrorCode.OUT_OF_BOUNDS,
        message: `rectangle ${r.x},${r.y} ${r.width} x ${r.height} is not inside the ${c.width} x ${c.height} canvas`,
      };
    return undefined;
  }

  private checkWindow(since: number, until: number | undefined): ActionResult | undefined {
    if (since < 0 || (until !== undefined && since >= until))
      return {
        ok: false,
        code: ErrorCode.INVALID_FIELD,
        message: 'the window is empty: since must be >= 0 and < until',
      };
    return undefined;
  }

  /** Bot-like signals per address prefix and identity (placement/signals.ts). */
  signals(limit: number) {
    return this.signalsSeen.top(limit);
  }

  /** Removes the display name `id` chose (it may choose another unless banned); the name is freed. */
  clearName(actor: string, id: string): ActionResult {
    const name = this.parts.names.clear(id);
    return this.record(actor, 'name-clear', { id }, { cleared: id, name: name ?? null });
  }

  /** Bans an identity, for `seconds` or (undefined) until lifted. */
  ban(actor: string, id: string, reason: string, seconds?: number): ActionResult {
    const ban = banFor(reason, seconds);
    this.store.ban(id, ban);
    this.bans.setIdentity(id, ban);
    return this.record(actor, 'ban', { id, reason, seconds }, { banned: id, until: ban.until ?? null });
  }

  unban(actor: string, id: string): ActionResult {
    const was = this.store.unban(id);
    this.bans.setIdentity(id, undefined);
    return this.record(actor, 'unban', { id }, { unbanned: id, wasBanned: was });
  }

  /** Bans a network (CIDR, canonical): every identity placing from it, new ones included. */
  banPrefix(actor: string, prefix: string, reason: string, seconds?: number): ActionResult {
    const ban = banFor(reason, seconds);
    this.store.banPrefix(prefix, ban);
    this.bans.setPrefix(prefix, ban);
    return this.record(actor, 'ban', { prefix, reason, seconds }, { banned: prefix, until: ban.until ?? null });
  }

  unbanPrefix(actor: string, prefix: string): ActionResult {
    const was = this.store.unbanPrefix(prefix);
    this.bans.setPrefix(prefix, undefined);
    return this.record(actor, 'unban', { prefix }, { unbanned: prefix, wasBanned: was });
  }

  /** Nobody places for `seconds` (a raid, an incident); it ends by itself or with `unlock`. */
  lock(actor: string, seconds: number, reason: string): ActionResult {
    const until = Date.now() + seconds * 1000;
    this.placements.setLock({ until, reason });
    return this.record(actor, 'lock', { seconds, reason }, { lockedUntil: until });
  }

  /** Lifts a moderator's lock, and a surge's (which then leaves challenges on, as when it runs out). */
  unlock(actor: string): ActionResult {
    const was = this.placements.locked() !== undefined;
    this.placements.setLock(undefined);
    this.surge?.unlock(Date.now(), actor);
    return this.record(actor, 'unlock', {}, { wasLocked: was });
  }

  /** The surge defence follows the rates (`auto`), stays off, or holds challenges on for everyone. */
  surgeMode(actor: string, mode: SurgeMode): ActionResult {
    if (!this.surge)
      return {
        ok: false,
        code: ErrorCode.INVALID_FIELD,
        message: 'surge defence is off on this server (--surge-factor 0)',
      };
    const now = Date.now();
    this.surge.setMode(mode, now, actor);
    const { state, since } = this.surge.status(now);
    return this.record(actor, 'surge', { mode }, { mode, state, since });
  }

  /** Every pixel `id` placed since `since` returns to the colour its history has without them. */
  rollback(actor: string, id: string, since: number): ActionResult {
    const targets = this.placementLog
      .rollbackTargets(id, since, (x, y) => this.canvas.lastSeqAt(x, y))
      .filter((t) => this.canvas.get(t.x, t.y) !== t.color);
    return this.change(actor, 'rollback', { id, since }, targets);
  }

  wipe(actor: string, rect: Rect, color: number): ActionResult {
    const { x, y, width, height } = rect;
    if (width < 1 || height < 1)
      return { ok: false, code: ErrorCode.OUT_OF_BOUNDS, message: 'the rectangle must be at least 1 x 1' };
    // The placement rules, at both corners: the rectangle lies inside the canvas, the colour in the palette.
    for (const [cx, cy] of [
      [x, y],
      [x + width - 1, y + height - 1],
    ] as const) {
      const rule = checkPlacement(this.canvas, cx, cy, color);
      if (!rule.ok) return rule;
    }
    const targets: Array<{ x: number; y: number; color: number }> = [];
    for (let j = y; j < y + height; j++)
      for (let i = x; i < x + width; i++) if (this.canvas.get(i, j) !== color) targets.push({ x: i, y: j, color });
    return this.change(actor, 'wipe', { ...rect, color }, targets);
  }

  /**
   * Grows the canvas (canvas/canvas-size.ts): checked against the size now, then through the
   * committer's one ordered path, after every placement queued before it; audited.
   */
  async resize(actor: string, to: ResizeRequest): Promise<ActionResult> {
    const check = checkResize(this.canvas, to, MAX_CANVAS_SIDE);
    if (!check.ok) {
      const code =
        check.why === 'shrink'
          ? HttpCode.CANVAS_SHRINK
          : check.why === 'too_large'
            ? HttpCode.CANVAS_TOO_LARGE
            : ErrorCode.INVALID_FIELD;
      return { ok: false, code, message: check.message };
    }
    if (this.parts.rollbacks.running)
      return {
        ok: false,
        code: HttpCode.ROLLBACK_RUNNING,
        message: 'an area rollback is running (its plan is in the current coordinates): resize once it is done',
      };
    const from = { width: this.canvas.width, height: this.canvas.height };
    const outcome = await this.committer.resize(to, `mod:resize`);
    if (!outcome.ok) return { ok: false, code: outcome.code, message: outcome.message };
    return this.record(actor, 'resize', { ...to }, { from, seq: outcome.seq });
  }

  private change(
    actor: string,
    action: string,
    params: Record<string, unknown>,
    targets: Array<{ x: number; y: number; color: number }>,
  ): ActionResult {
    const reqs: PlacementRequest[] = targets.map((t) => ({ ...t, who: `mod:${action}`, addr: '', nextAt: 0 }));
    const outcome = this.committer.commitNow(reqs);
    if (!outcome.ok) return { ok: false, code: outcome.code, message: outcome.message };
    return this.record(actor, action, params, { changed: reqs.length, seq: outcome.seq });
  }

  private record(
    actor: string,
    action: string,
    params: Record<string, unknown>,
    result: Record<string, unknown>,
  ): ActionResult {
    return audited(this.store, actor, action, params, result);
  }

  auditLog(limit: number) {
    return this.store.listAudit(limit);
  }
}

/** A ban for `seconds` from now, or (undefined) until lifted. */
function banFor(reason: string, seconds: number | undefined): Ban {
  return { reason, until: seconds === undefined ? undefined : Date.now() + seconds * 1000 };
}
