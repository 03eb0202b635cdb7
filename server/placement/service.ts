/**
 * The one code path every placement takes, from WebSocket or HTTP: rules (bounds, palette, ban,
 * cooldown by identity and by address), the cooldown claim, group commit, and the outcome.
 */
import { ErrorCode, type PowChallenge } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { PlacementCommitter } from './committer.ts';
import { checkPlacement } from '../canvas/rules.ts';
import { type Charges, type Cooldowns, FixedCooldowns } from './cooldowns.ts';
import type { Standing } from './authority.ts';
import { banMessage, type Bans } from './bans.ts';
import type { ChallengeGate } from '../defence/challenge-gate.ts';
import type { ChallengeVerifier } from '../defence/challenges.ts';
import type { Surge } from '../defence/surge.ts';
import type { Signals } from './signals.ts';
import type { Bots } from './bots.ts';

export interface Placer {
  /** Identity id (identity/tokens.ts): cooldowns and bans key on it. */
  identityId: string;
  /** The client address's rate-limit key (identity/client-address.ts). */
  addressKey: string;
  /** Signed in (an account's token, identity/tokens.ts), not anonymous. */
  account?: boolean;
  /**
   * A sanctioned bot's id, from its verified token (equal to identityId). The writer checks it is
   * known, not revoked or expired, and applies the bot's own quota and region (bots.ts).
   */
  bot?: string;
}

/** What is placed where, and the proof of work that may come with it (the client's `pow`). */
export interface PixelRequest {
  x: number;
  y: number;
  color: number;
  pow?: string;
}

/** Proof-of-work challenges in the placement path: when one is needed, and the one verifier of solutions. */
export interface Challenges {
  gate: ChallengeGate;
  verifier: ChallengeVerifier;
}

export type PlaceResult =
  | {
      ok: true;
      seq: number;
      next: number;
      charges?: Charges;
      /**
       * The writer's: this placement spent the identity's challenge credit, so its next one needs a
       * solved challenge; the front replaces it with `challenge` (defence/challenges.ts `answering`).
       */
      challengeDue?: true;
      /** Added by the front: the challenge for the next placement, to solve while the player waits. */
      challenge?: PowChallenge;
    }
  | {
      ok: false;
      code: ErrorCode;
      message: string;
      wait?: number;
      limit?: 'network';
      /** Added by the front to `challenge_required` / `challenge_invalid` (defence/challenges.ts). */
      challenge?: PowChallenge;
    };

export interface PlacementOptions {
  canvas: Canvas;
  committer: PlacementCommitter;
  metrics: Metrics;
  cooldownMs: number;
  bans: Bans;
  /** Running cooldowns read back from the store at startup. */
  restored: { byWho: Map<string, number>; byAddr: Map<string, number[]> };
  /** Placements one address key may make per cooldown (--address-placements; default 1). */
  addressPlacements?: number;
  /**
   * The cooldown model (cooldowns.ts); absent: fixed, built from cooldownMs, addressPlacements and
   * restored. Charges (--cooldown-model charges) are built by the caller, restored its own way.
   */
  cooldowns?: Cooldowns;
  /**
   * `verified` (--address-limit-exempt): identities that proved something (a live challenge credit,
   * or an account) are not held by their network's shared limit, only by their own cooldown.
   */
  addressLimitExempt?: 'off' | 'verified';
  /** Told of every accepted placement (moderators' bot-like signals). */
  signals?: Signals;
  /** Absent: no challenges (`--challenge off` and no surge defence). */
  challenges?: Challenges;
  /** --login required: only accounts place. */
  loginRequired?: boolean;
  /** Surge defence (defence/surge.ts): told of every accepted placement; its lock refuses like a moderator's. */
  surge?: Surge;
  /** Told of every accepted placement after its commit (the moderation console's index and counters). */
  watcher?: PlacementWatcher;
  /** Sanctioned bots (bots.ts); absent: every bot placement is refused with `bot_revoked`. */
  bots?: Bots;
}

/**
 * Told of every accepted placement, after its commit: the moderation console's identity index and
 * live activity counters (moderation/). Each call must be O(1): it runs once per placement on the
 * commit path.
 */
export interface PlacementWatcher {
  placed(id: string, prefix: string, at: number, where: { seq: number; x: number; y: number }): void;
}

/** Expired cooldown entries are dropped this often so the maps hold only running cooldowns. */
const PRUNE_INTERVAL_MS = 60_000;

export class PlacementService {
  private readonly cooldowns: Cooldowns;
  private readonly pruner: NodeJS.Timeout;
  /** Set by a moderator: until when (Unix ms) nobody places, and why. */
  private lock: { until: number; reason: string } | undefined;

  private readonly canvas: Canvas;
  private readonly committer: PlacementCommitter;
  private readonly metrics: Metrics;
  private readonly bans: Bans;
  private readonly signals: Signals | undefined;
  private readonly challenges: Challenges | undefined;
  private readonly loginRequired: boolean;
  private readonly exemptVerified: boolean;
  private readonly surge: Surge | undefined;
  private readonly watcher: PlacementWatcher | undefined;
  private readonly bots: Bots | undefined;

  constructor(options: PlacementOptions) {
    this.canvas = options.canvas;
    this.committer = options.committer;
    this.metrics = options.metrics;
    this.bans = options.bans;
    this.signals = options.signals;
    this.challenges = options.challenges;
    this.loginRequired = options.loginRequired ?? false;
    this.exemptVerified = options.addressLimitExempt === 'verified';
    this.surge = options.surge;
    this.watcher = options.watcher;
    this.bots = options.bots;
    this.cooldowns =
      options.cooldowns ?? new FixedCooldowns(options.cooldownMs, options.addressPlacements ?? 1, options.restored);
    this.pruner = setInterval(() => this.prune(Date.now()), PRUNE_INTERVAL_MS).unref();
  }

  /** When `placer` may place next (Unix ms; <= now means now). */
  nextAllowed(placer: Placer, now = Date.now()): number {
    if (placer.bot !== undefined) return this.bots?.nextOf(placer.bot) ?? 0;
    return Math.max(this.cooldowns.identityNext(placer.identityId, now), this.networkNext(placer, now));
  }

  /** When the placer's network may place next (0: now, or the placer is exempt from the network's limit). */
  private networkNext(placer: Placer, now: number): number {
    return this.exempt(placer, now) ? 0 : this.cooldowns.networkNext(placer.addressKey, now);
  }

  /** Verified identities (a live challenge credit, or an account) skip the network limit when so configured. */
  private exempt(placer: Placer, now: number): boolean {
    if (!this.exemptVerified) return false;
    return placer.account === true || (this.challenges?.gate.verified(placer.identityId, now) ?? false);
  }

  /**
   * Verifies a solution that came with the placement (when challenges are on), then validates, claims
   * the cooldown, commits; `done` runs once, after the commit or the refusal.
   */
  place(placer: Placer, pixel: PixelRequest, done: (r: PlaceResult) => void): void {
    const challenges = this.challenges;
    // A sanctioned bot's quota is its proof: it is never asked for a challenge (bots.ts).
    if (placer.bot !== undefined || pixel.pow === undefined || !challenges?.gate.active(this.surgeSince())) {
      this.placeVerified(placer, pixel, done);
      return;
    }
    // Verifying is two HMACs (defence/challenges.ts), synchronous: the cooldown is checked and
    // claimed in the same step, so two placements with one solution cannot both pass.
    const verdict = challenges.verifier.verify(pixel.pow, placer.identityId);
    this.metrics.challenges.inc({ result: verdict.ok ? 'verified' : verdict.why });
    if (!verdict.ok) {
      this.metrics.placements.inc({ result: ErrorCode.CHALLENGE_INVALID });
      done({ ok: false, code: ErrorCode.CHALLENGE_INVALID, message: `challenge_invalid: ${verdict.why}` });
      return;
    }
    challenges.gate.grant(placer.identityId, Date.now());
    this.placeVerified(placer, pixel, done);
  }

  private placeVerified(placer: Placer, pixel: PixelRequest, done: (r: PlaceResult) => void): void {
    const { x, y, color } = pixel;
    const now = Date.now();
    const refusal = this.check(placer, x, y, color, now);
    if (refusal) {
      this.metrics.placements.inc({ result: refusal.code });
      done(refusal);
      return;
    }
    // Claim the cooldown before the commit so a second placement in the same batch is refused;
    // give it back if the commit fails, since nothing was placed.
    // An exempt placement does not use up its network's share either: neighbours behind the same
    // address keep theirs.
    // A bot spends its own quota only, never its network's (bots.ts says why).
    const bots = placer.bot === undefined ? undefined : this.bots;
    const addr = this.exempt(placer, now) ? undefined : placer.addressKey;
    const claim = bots ? bots.claim(placer.identityId, now) : this.cooldowns.claim(placer.identityId, addr, now);
    const { next, nextAt } = claim;
    // As of the claim, so two placements in one batch are told one charge apart.
    const charges = bots ? undefined : this.cooldowns.charges(placer.identityId, now);
    if (!bots) this.challenges?.gate.spend(placer.identityId);
    // Said with the ack, so the client solves during its cooldown instead of after a refusal.
    const due = !bots && (this.challenges?.gate.needs(placer.identityId, now, this.surgeSince(now)) ?? false);
    this.committer.submit({ x, y, color, who: placer.identityId, addr: placer.addressKey, nextAt }, (outcome) => {
      this.metrics.placements.inc({ result: outcome.ok ? 'accepted' : outcome.code });
      if (outcome.ok) {
        const first = this.signals?.placed(placer.identityId, placer.addressKey, outcome.at) ?? false;
        this.surge?.placed(outcome.at, first);
        this.watcher?.placed(placer.identityId, placer.addressKey, outcome.at, { seq: outcome.seq, x, y });
        return done({
          ok: true,
          seq: outcome.seq,
          next,
          ...(charges ? { charges } : {}),
          ...(due ? { challengeDue: true } : {}),
        });
      }
      claim.undo();
      if (!bots) this.challenges?.gate.refund(placer.identityId, Date.now());
      done({ ok: false, code: outcome.code, message: outcome.message });
    });
  }

  private check(
    placer: Placer,
    x: number,
    y: number,
    color: number,
    now: number,
  ): Extract<PlaceResult, { ok: false }> | undefined {
    const rule = checkPlacement(this.canvas, x, y, color);
    if (!rule.ok) return rule;
    const ban = this.bans.of(placer, now);
    if (ban) {
      const refusal: Extract<PlaceResult, { ok: false }> = {
        ok: false,
        code: ErrorCode.BANNED,
        message: banMessage(ban, now),
      };
      if (ban.until !== undefined) refusal.wait = ban.until - now;
      return refusal;
    }
    const locked = this.locked(now);
    if (locked) {
      const wait = locked.until - now;
      const seconds = Math.ceil(wait / 1000);
      return {
        ok: false,
        code: ErrorCode.LOCKED,
        message: `the canvas is locked (${locked.reason}); placing resumes in ${seconds} s`,
        wait,
      };
    }
    // A bot: known, active, in its region, within its own quota; then nothing else (bots.ts).
    if (placer.bot !== undefined)
      return this.bots
        ? this.bots.refusal(placer.bot, placer.identityId, x, y, now)
        : { ok: false, code: ErrorCode.BOT_REVOKED, message: 'this server has no bots' };
    // After ban and lock (signing in lifts neither), before the cooldown (an anonymous one never runs).
    if (this.loginRequired && !placer.account)
      return { ok: false, code: ErrorCode.LOGIN_REQUIRED, message: 'sign in to place (GET /auth/login)' };
    const own = this.cooldowns.identityNext(placer.identityId, now);
    const network = this.networkNext(placer, now);
    if (now < own && own >= network) {
      const wait = own - now;
      return { ok: false, code: ErrorCode.COOLDOWN, message: `cooldown: next placement allowed in ${wait} ms`, wait };
    }
    if (now < network) {
      // The network's share, not this player's: say so, so a player behind a shared address knows why.
      const wait = network - now;
      const message = `cooldown: this network (address ${placer.addressKey}) used its placements; next one allowed in ${wait} ms`;
      return { ok: false, code: ErrorCode.COOLDOWN, message, wait, limit: 'network' };
    }
    // Last, so a player waiting out a cooldown is told the wait first, and a credit is spent only
    // by a placement that goes through.
    if (this.challenges?.gate.needs(placer.identityId, now, this.surgeSince(now)))
      return {
        ok: false,
        code: ErrorCode.CHALLENGE_REQUIRED,
        message: 'challenge_required: solve the challenge, then place again with pow',
      };
    return undefined;
  }

  /** What hello tells `placer`: the remaining cooldown, a ban of it or its network, the lock. */
  standing(placer: Placer, now: number): Standing {
    const standing: Standing = { wait: Math.max(0, this.nextAllowed(placer, now) - now) };
    const ban = this.bans.of(placer, now);
    if (ban)
      standing.banned = {
        scope: ban.scope,
        reason: ban.reason,
        ...(ban.until === undefined ? {} : { until: ban.until }),
      };
    const lock = this.locked(now);
    if (lock) standing.locked = { reason: lock.reason, until: lock.until };
    if (placer.bot !== undefined) return standing;
    if (this.challenges?.gate.needs(placer.identityId, now, this.surgeSince(now))) standing.challenge = true;
    const charges = this.cooldowns.charges(placer.identityId, now);
    if (charges) standing.charges = charges;
    return standing;
  }

  /** Locks placing until `until` (Unix ms), or unlocks (undefined). */
  setLock(lock: { until: number; reason: string } | undefined): void {
    this.lock = lock;
  }

  /** The lock in force at `now`, if any: a moderator's (an expired one is forgotten), else a surge's. */
  locked(now = Date.now()): { until: number; reason: string } | undefined {
    if (this.lock && this.lock.until <= now) this.lock = undefined;
    return this.lock ?? this.surge?.lock(now);
  }

  /** When (Unix ms) the surge defence began asking everyone for a challenge; undefined: it does not. */
  private surgeSince(now = Date.now()): number | undefined {
    return this.surge?.challengeAllSince(now);
  }

  private prune(now: number): void {
    this.cooldowns.prune(now);
    this.bots?.prune(now);
    this.challenges?.gate.prune(now);
  }

  close(): void {
    clearInterval(this.pruner);
  }
}
