/**
 * Sanctioned bots on the placement path (README "Sanctioned bots"): which bots exist, whether each
 * may still place (revoked, expired), where (its region) and how often (its own quota, `everyMs`,
 * instead of the canvas's cooldown). Only the process that owns the canvas holds this: a front only
 * learns "this is bot <id>" from the token (identity/tokens.ts), so a revocation takes effect on
 * every edge at once, with no cache to go stale.
 *
 * Bots are not held by their network's shared limit (--address-placements), nor spend it: the
 * moderator gave the bot its rate, and a bot run from a shared host (a school's server, a cloud NAT)
 * would otherwise place at a rate nobody chose, and take the players' share behind that address.
 * Bans, locks and the canvas rules hold as for everyone.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import type { CooldownClaim } from './cooldowns.ts';

/** A rectangle of the canvas, inclusive of x and y, `width` x `height` pixels. */
export interface BotRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A bot as minted (store/bot-store.ts keeps it). */
export interface Bot {
  /** 16 hex digits: the bot's id and its identity id (the `who` of its placements). */
  id: string;
  name: string;
  /** Its quota: one placement per `everyMs`. */
  everyMs: number;
  /** Absent: anywhere on the canvas. */
  region?: BotRegion;
  /** Unix ms it was minted. */
  created: number;
  /** Unix ms from which it places nothing; absent: until revoked. */
  expires?: number;
  /** Unix ms a moderator revoked it; absent: not revoked. */
  revoked?: number;
}

export type BotState = 'active' | 'revoked' | 'expired';

export function botState(bot: Bot, now: number): BotState {
  if (bot.revoked !== undefined) return 'revoked';
  return bot.expires !== undefined && bot.expires <= now ? 'expired' : 'active';
}

type Refusal = { ok: false; code: ErrorCode; message: string; wait?: number };

export class Bots {
  private readonly byId = new Map<string, Bot>();
  /** When each bot may place next (Unix ms), for the bots that placed within their quota. */
  private readonly next = new Map<string, number>();

  constructor(bots: Iterable<Bot> = []) {
    for (const bot of bots) this.byId.set(bot.id, bot);
  }

  /** A resize added columns and rows on the left and top: each bot's region moves with the art. */
  shift(left: number, top: number): void {
    for (const [id, bot] of this.byId) {
      const r = bot.region;
      if (r) this.byId.set(id, { ...bot, region: { ...r, x: r.x + left, y: r.y + top } });
    }
  }

  /** Adds a minted bot, or replaces one with its new state (revoked). */
  set(bot: Bot): void {
    this.byId.set(bot.id, bot);
  }

  get(id: string): Bot | undefined {
    return this.byId.get(id);
  }

  /** Every bot ever minted, newest first. */
  all(): Bot[] {
    return [...this.byId.values()].sort((a, b) => b.created - a.created);
  }

  /** The bot's name when `who` (a placement's placer) is a bot, revoked ones included: pixel info. */
  nameOf(who: string | null): string | undefined {
    return who === null ? undefined : this.byId.get(who)?.name;
  }

  /** When bot `id` may place next (Unix ms; <= now: now). */
  nextOf(id: string): number {
    return this.next.get(id) ?? 0;
  }

  /**
   * Why bot `id` (whose identity is `identityId`) may not place at (x, y) now, or undefined: not
   * known, revoked or expired; outside its region; within its quota. In that order, so a bot
   * placing outside its region is told so at once rather than after its wait.
   */
  refusal(id: string, identityId: string, x: number, y: number, now: number): Refusal | undefined {
    const bot = this.byId.get(id);
    // The identity is the bot id by construction (tokens.ts); a request pairing them otherwise
    // did not come from a front.
    if (!bot || identityId !== id)
      return { ok: false, code: ErrorCode.BOT_REVOKED, message: 'this bot is not known to this canvas' };
    const state = botState(bot, now);
    if (state !== 'active')
      return { ok: false, code: ErrorCode.BOT_REVOKED, message: `bot "${bot.name}" is ${state}: it places nothing` };
    const r = bot.region;
    if (r && (x < r.x || y < r.y || x >= r.x + r.width || y >= r.y + r.height))
      return {
        ok: false,
        code: ErrorCode.OUTSIDE_REGION,
        message: `(${x}, ${y}) is outside bot "${bot.name}"'s region ${r.x},${r.y} ${r.width} x ${r.height}`,
      };
    const next = this.nextOf(id);
    if (now < next) {
      const wait = next - now;
      return {
        ok: false,
        code: ErrorCode.COOLDOWN,
        message: `cooldown: the bot's next placement allowed in ${wait} ms`,
        wait,
      };
    }
    return undefined;
  }

  /** Spends one placement of bot `id` (checked by `refusal` first); undone if the commit fails. */
  claim(id: string, now: number): CooldownClaim {
    const prev = this.next.get(id);
    const next = now + (this.byId.get(id)?.everyMs ?? 0);
    this.next.set(id, next);
    return {
      next,
      nextAt: next,
      undo: () => {
        if (prev === undefined) this.next.delete(id);
        else this.next.set(id, prev);
      },
    };
  }

  /** Forgets quotas that no longer hold anything back. */
  prune(now: number): void {
    for (const [id, t] of this.next) if (t <= now) this.next.delete(id);
  }
}
