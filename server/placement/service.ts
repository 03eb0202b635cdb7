/**
 * The one code path every placement takes, from WebSocket or HTTP: rules (bounds, palette, ban,
 * cooldown by identity and by address), the cooldown claim, group commit, and the outcome.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { PlacementCommitter } from './committer.ts';
import { checkPlacement } from '../canvas/rules.ts';
import { AddressBuckets } from './address-buckets.ts';
import type { Standing } from './authority.ts';
import { banMessage, type Bans } from './bans.ts';
import type { Signals } from './signals.ts';
import type { Surge } from '../defence/surge.ts';

export interface Placer {
  /** Identity id (identity/tokens.ts): cooldowns and bans key on it. */
  identityId: string;
  /** The client address's rate-limit key (identity/client-address.ts). */
  addressKey: string;
}

export type PlaceResult =
  | { ok: true; seq: number; next: number }
  | { ok: false; code: ErrorCode; message: string; wait?: number; limit?: 'network' };

/** Expired cooldown entries are dropped this often so the maps hold only running cooldowns. */
const PRUNE_INTERVAL_MS = 60_000;

export class PlacementService {
  private readonly byWho: Map<string, number>;
  private readonly byAddr: AddressBuckets;
  private readonly pruner: NodeJS.Timeout;
  /** Set by a moderator: until when (Unix ms) nobody places, and why. */
  private lock: { until: number; reason: string } | undefined;

  constructor(
    private readonly canvas: Canvas,
    private readonly committer: PlacementCommitter,
    private readonly metrics: Metrics,
    private readonly cooldownMs: number,
    private readonly bans: Bans,
    restored: { byWho: Map<string, number>; byAddr: Map<string, number[]> },
    /** Placements one address key may make per cooldown (--address-placements). */
    addressPlacements = 1,
    /** Told of every accepted placement (moderators' bot-like signals). */
    private readonly signals?: Signals,
    /** Surge defence (defence/surge.ts): told of every accepted placement; its lock refuses like a moderator's. */
    private readonly surge?: Surge,
  ) {
    this.byWho = restored.byWho;
    this.byAddr = new AddressBuckets(addressPlacements, restored.byAddr);
    this.pruner = setInterval(() => this.prune(Date.now()), PRUNE_INTERVAL_MS).unref();
  }

  /** When `placer` may place next (Unix ms; <= now means now). */
  nextAllowed(placer: Placer): number {
    return Math.max(this.byWho.get(placer.identityId) ?? 0, this.byAddr.nextAllowed(placer.addressKey, Date.now()));
  }

  /** Validates, claims the cooldown, commits; `done` runs once, after the commit or the refusal. */
  place(placer: Placer, x: number, y: number, color: number, done: (r: PlaceResult) => void): void {
    const now = Date.now();
    const refusal = this.check(placer, x, y, color, now);
    if (refusal) {
      this.metrics.placements.inc({ result: refusal.code });
      done(refusal);
      return;
    }
    // Claim the cooldown before the commit so a second placement in the same batch is refused;
    // give it back if the commit fails, since nothing was placed.
    const prevWho = this.byWho.get(placer.identityId);
    const next = now + this.cooldownMs;
    this.byWho.set(placer.identityId, next);
    const undoAddr = this.byAddr.claim(placer.addressKey, next, now);
    this.committer.submit({ x, y, color, who: placer.identityId, addr: placer.addressKey, nextAt: next }, (outcome) => {
      this.metrics.placements.inc({ result: outcome.ok ? 'accepted' : outcome.code });
      if (outcome.ok) {
        const first = this.signals?.placed(placer.identityId, placer.addressKey, outcome.at) ?? false;
        this.surge?.placed(outcome.at, first);
        return done({ ok: true, seq: outcome.seq, next });
      }
      restore(this.byWho, placer.identityId, prevWho);
      undoAddr();
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
    const own = this.byWho.get(placer.identityId) ?? 0;
    const network = this.byAddr.nextAllowed(placer.addressKey, now);
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
    return undefined;
  }

  /** What hello tells `placer`: the remaining cooldown, a ban of it or its network, the lock. */
  standing(placer: Placer, now: number): Standing {
    const standing: Standing = { wait: Math.max(0, this.nextAllowed(placer) - now) };
    const ban = this.bans.of(placer, now);
    if (ban)
      standing.banned = {
        scope: ban.scope,
        reason: ban.reason,
        ...(ban.until === undefined ? {} : { until: ban.until }),
      };
    const lock = this.locked(now);
    if (lock) standing.locked = { reason: lock.reason, until: lock.until };
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
  challengeAllSince(now: number): number | undefined {
    return this.surge?.challengeAllSince(now);
  }

  private prune(now: number): void {
    for (const [k, t] of this.byWho) if (t <= now) this.byWho.delete(k);
    this.byAddr.prune(now);
  }

  close(): void {
    clearInterval(this.pruner);
  }
}

function restore(map: Map<string, number>, key: string, previous: number | undefined): void {
  if (previous === undefined) map.delete(key);
  else map.set(key, previous);
}
