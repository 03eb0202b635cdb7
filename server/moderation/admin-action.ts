/**
 * A moderation request as data: the admin routes parse the HTTP body into one of these, and the
 * process that owns the canvas runs it. Being plain data, it travels unchanged from an edge to the
 * writer over the bus.
 */
import Database from 'better-sqlite3';
import { ErrorCode } from '../../protocol/messages.ts';
import { HttpCode } from '../http/status.ts';
import type { AreaRollbackRequest } from './area-rollback.ts';
import type { LookRequest } from './look.ts';
import type { ActionResult, Moderation, Rect } from './moderation.ts';
import type { SurgeMode } from '../defence/surge.ts';
import type { BotMintRequest } from './bot-admin.ts';

export type AdminAction =
  | { op: 'ban'; actor: string; id: string; reason: string; seconds?: number }
  | { op: 'unban'; actor: string; id: string }
  | { op: 'ban-prefix'; actor: string; prefix: string; reason: string; seconds?: number }
  | { op: 'unban-prefix'; actor: string; prefix: string }
  | { op: 'rollback'; actor: string; id: string; since: number }
  | { op: 'wipe'; actor: string; rect: Rect; color: number }
  | { op: 'lock'; actor: string; seconds: number; reason: string }
  | { op: 'unlock'; actor: string }
  | { op: 'surge'; actor: string; mode: SurgeMode }
  | { op: 'audit'; limit: number }
  | { op: 'signals'; limit: number }
  | ({ op: 'look' } & LookRequest)
  | ({ op: 'rollback-area'; actor: string } & AreaRollbackRequest)
  | ({ op: 'rollback-preview' } & AreaRollbackRequest)
  | { op: 'rollback-status' }
  | { op: 'activity' }
  | ({ op: 'bot-mint'; actor: string } & BotMintRequest)
  | { op: 'bot-list' }
  | { op: 'bot-revoke'; actor: string; id: string }
  | { op: 'name-clear'; actor: string; id: string }
  | { op: 'project-hide'; actor: string; id: number; hidden: boolean }
  | { op: 'project-delete'; actor: string; id: number }
  | { op: 'resize'; actor: string; width: number; height: number; left: number; top: number };

/** Runs `a`; `done` is called once (some actions answer after work spread over several loop turns). */
export function runAdminAction(moderation: Moderation, a: AdminAction, done: (r: ActionResult) => void): void {
  // A synchronous failure throws to the caller (the route's guard answers it, or the bus's catch).
  const r = run(moderation, a);
  if (!(r instanceof Promise)) return done(r);
  r.then(done, (err: unknown) => {
    const store = err instanceof Database.SqliteError;
    done({
      ok: false,
      code: store ? ErrorCode.STORE_FAILED : HttpCode.INTERNAL,
      message: `${a.op} failed: ${(err as Error).message}`,
    });
  });
}

function areaRequest(a: AreaRollbackRequest): AreaRollbackRequest {
  return {
    rect: a.rect,
    since: a.since,
    ...(a.until === undefined ? {} : { until: a.until }),
    ...(a.ids === undefined ? {} : { ids: a.ids }),
  };
}

function run(moderation: Moderation, a: AdminAction): ActionResult | Promise<ActionResult> {
  switch (a.op) {
    case 'ban':
      return moderation.ban(a.actor, a.id, a.reason, a.seconds);
    case 'unban':
      return moderation.unban(a.actor, a.id);
    case 'ban-prefix':
      return moderation.banPrefix(a.actor, a.prefix, a.reason, a.seconds);
    case 'unban-prefix':
      return moderation.unbanPrefix(a.actor, a.prefix);
    case 'rollback':
      return moderation.rollback(a.actor, a.id, a.since);
    case 'wipe':
      return moderation.wipe(a.actor, a.rect, a.color);
    case 'lock':
      return moderation.lock(a.actor, a.seconds, a.reason);
    case 'unlock':
      return moderation.unlock(a.actor);
    case 'surge':
      return moderation.surgeMode(a.actor, a.mode);
    case 'audit':
      return { ok: true, result: { entries: moderation.auditLog(a.limit) } };
    case 'signals':
      return { ok: true, result: { ...moderation.signals(a.limit) } };
    case 'look':
      return moderation.look({
        rect: a.rect,
        since: a.since,
        limit: a.limit,
        ...(a.until === undefined ? {} : { until: a.until }),
        ...(a.before === undefined ? {} : { before: a.before }),
      });
    case 'rollback-area':
      return moderation.areaRollback(a.actor, areaRequest(a));
    case 'rollback-preview':
      return moderation.rollbackPreview(areaRequest(a));
    case 'rollback-status':
      return moderation.rollbackStatus();
    case 'activity':
      return moderation.activity();
    case 'bot-mint':
      return moderation.bots.mint(a.actor, {
        name: a.name,
        everyMs: a.everyMs,
        ...(a.region === undefined ? {} : { region: a.region }),
        ...(a.seconds === undefined ? {} : { seconds: a.seconds }),
      });
    case 'bot-list':
      return moderation.bots.list();
    case 'bot-revoke':
      return moderation.bots.revoke(a.actor, a.id);
    case 'name-clear':
      return moderation.clearName(a.actor, a.id);
    case 'project-hide':
      return moderation.projects.hide(a.actor, a.id, a.hidden);
    case 'project-delete':
      return moderation.projects.remove(a.actor, a.id);
    case 'resize':
      return moderation.resize(a.actor, { width: a.width, height: a.height, left: a.left, top: a.top });
  }
}
