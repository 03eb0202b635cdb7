/**
 * Minting, listing and revoking sanctioned bots (README "Sanctioned bots"). Runs in the process that
 * owns the canvas (the writer), which alone holds the bots table and the placement path's view of it
 * (placement/bots.ts), so a revocation holds from the next placement on, through every edge. Every
 * mint and revocation is audited; the token is in the mint's answer only, never in the audit log.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../protocol/messages.ts';
import { HttpCode } from '../http/status.ts';
import type { IdentityIssuer } from '../identity/tokens.ts';
import { type Bot, type BotRegion, type Bots, botState } from '../placement/bots.ts';
import type { BotStore } from '../store/bot-store.ts';
import type { ModerationStore } from '../store/moderation-store.ts';
import type { ActionResult } from './moderation.ts';

/** Bounds the admin route and the bus decoder hold a mint to. */
export const BOT_LIMITS = {
  nameChars: 64,
  /** 100 ms: a faster bot is a flood, not a participant. */
  minEveryMs: 100,
  /** A day: a slower quota is a bot that should be revoked instead. */
  maxEveryMs: 86_400_000,
  /** A year, as for timed bans; no `seconds`: until revoked. */
  maxSeconds: 31_536_000,
} as const;

export interface BotMintRequest {
  name: string;
  everyMs: number;
  region?: BotRegion;
  seconds?: number;
}

/** A bot as the API shows it (GET /api/admin/bots, the mint's answer), with its pixels placed. */
function view(bot: Bot, now: number, placed: number): Record<string, unknown> {
  return {
    id: bot.id,
    name: bot.name,
    everyMs: bot.everyMs,
    region: bot.region ?? null,
    created: bot.created,
    expires: bot.expires ?? null,
    revoked: bot.revoked ?? null,
    state: botState(bot, now),
    placed,
  };
}

const invalid = (message: string): ActionResult => ({ ok: false, code: ErrorCode.INVALID_FIELD, message });

export class BotAdmin {
  constructor(
    private readonly store: BotStore,
    private readonly bots: Bots,
    private readonly issuer: IdentityIssuer,
    private readonly audit: ModerationStore,
    private readonly canvas: { width: number; height: number },
    /** Pixels bot `id` placed (the stats, stats/stats.ts: all time, kept across restarts). */
    private readonly placedOf: (id: string) => number = () => 0,
  ) {}

  mint(actor: string, req: BotMintRequest): ActionResult {
    // Checked here too, not only in the route: a mint may come off the bus (bus-messages.ts checks
    // types, not the canvas's size).
    const { name, everyMs, region, seconds } = req;
    if (name.length < 1 || name.length > BOT_LIMITS.nameChars)
      return invalid(`"name" must be 1..${BOT_LIMITS.nameChars} characters`);
    if (everyMs < BOT_LIMITS.minEveryMs || everyMs > BOT_LIMITS.maxEveryMs)
      return invalid(`"everyMs" must be ${BOT_LIMITS.minEveryMs}..${BOT_LIMITS.maxEveryMs}`);
    if (seconds !== undefined && (seconds < 1 || seconds > BOT_LIMITS.maxSeconds))
      return invalid(`"seconds" must be 1..${BOT_LIMITS.maxSeconds}`);
    const c = this.canvas;
    if (
      region &&
      (region.width < 1 ||
        region.height < 1 ||
        region.x < 0 ||
        region.y < 0 ||
        region.x + region.width > c.width ||
        region.y + region.height > c.height)
    )
      return {
        ok: false,
        code: ErrorCode.OUT_OF_BOUNDS,
        message: `region ${region.x},${region.y} ${region.width} x ${region.height} is not inside the ${c.width} x ${c.height} canvas`,
      };
    const now = Date.now();
    const bot: Bot = {
      id: this.freshId(),
      name,
      everyMs,
      ...(region ? { region: { ...region } } : {}),
      created: now,
      ...(seconds === undefined ? {} : { expires: now + seconds * 1000 }),
    };
    this.store.add(bot, actor);
    this.bots.set(bot);
    const { token } = this.issuer.bot(bot.id);
    const audited = this.record(actor, 'bot-mint', { ...req }, { id: bot.id, expires: bot.expires ?? null });
    return { ok: true, result: { ...audited, ...view(bot, now, 0), token } };
  }

  list(): ActionResult {
    const now = Date.now();
    return { ok: true, result: { bots: this.bots.all().map((b) => view(b, now, this.placedOf(b.id))) } };
  }

  revoke(actor: string, id: string): ActionResult {
    const bot = this.bots.get(id);
    if (!bot) return { ok: false, code: HttpCode.NOT_FOUND, message: `no bot ${id}` };
    const now = Date.now();
    const was = bot.revoked === undefined && this.store.revoke(id, now);
    if (was) this.bots.set({ ...bot, revoked: now });
    return {
      ok: true,
      result: this.record(actor, 'bot-revoke', { id }, { revoked: id, name: bot.name, wasActive: was }),
    };
  }

  /** A random id no bot has (64 bits: a collision is a formality, but a silent one would merge two bots). */
  private freshId(): string {
    for (;;) {
      const id = randomBytes(8).toString('hex');
      if (!this.bots.get(id)) return id;
    }
  }

  /** Audits the action; the action stands even when its audit row cannot be written, and says so. */
  private record(
    actor: string,
    action: string,
    params: Record<string, unknown>,
    result: Record<string, unknown>,
  ): Record<string, unknown> {
    try {
      this.audit.audit(actor, action, params, result);
      return result;
    } catch (err) {
      return { ...result, auditError: (err as Error).message };
    }
  }
}
