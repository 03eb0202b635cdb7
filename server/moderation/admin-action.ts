/**
 * A moderation request as data: the admin routes parse the HTTP body into one of these, and the
 * process that owns the canvas runs it. Being plain data, it travels unchanged from an edge to the
 * writer over the bus.
 */
import type { ActionResult, Moderation, Rect } from './moderation.ts';
import type { SurgeMode } from '../defence/surge.ts';

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
  | { op: 'signals'; limit: number };

export function runAdminAction(moderation: Moderation, a: AdminAction): ActionResult {
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
  }
}
