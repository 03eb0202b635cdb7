/**
 * Pixel charges (--cooldown-model charges): a token bucket per identity of --max-charges, and one
 * per address key of --max-charges x --address-placements, each refilled by one whole charge every
 * --charge-ms. A placement spends one charge of each; an empty bucket refuses with `cooldown` and the
 * ms until its next charge.
 *
 * A bucket is kept as one number, the time it is full again (`fullAt`), as GCRA does (the generic
 * cell rate algorithm, ITU-T I.371): with F = fullAt and T = charge ms, the charges missing at `now`
 * are ceil((F - now) / T), a spend sets F = max(F, now) + T, and the charges come back at F - kT, in
 * whole charges. One number instead of (count, last refill) means no timer, no refill pass, and a
 * state that fits the placement row's `next_at`.
 */
import type { Charges, CooldownClaim, Cooldowns } from './cooldowns.ts';

/** Token buckets of `size` charges, one every `chargeMs`, by key; absent keys are full. */
export class ChargeBuckets {
  private readonly fullAt = new Map<string, number>();

  constructor(
    readonly size: number,
    readonly chargeMs: number,
  ) {}

  /** Charges `key` has at `now` (0..size). */
  left(key: string, now: number): number {
    return this.size - this.missing(key, now);
  }

  /** When (Unix ms) `key`'s next charge comes back; undefined when its bucket is full. */
  nextCharge(key: string, now: number): number | undefined {
    const missing = this.missing(key, now);
    return missing === 0 ? undefined : (this.fullAt.get(key) as number) - (missing - 1) * this.chargeMs;
  }

  /** When `key` may spend next (Unix ms; 0: now). */
  nextAllowed(key: string, now: number): number {
    return this.left(key, now) > 0 ? 0 : (this.nextCharge(key, now) ?? 0);
  }

  /** When `key`'s bucket is full again (Unix ms; <= now: full). What a placement row stores. */
  full(key: string): number {
    return this.fullAt.get(key) ?? 0;
  }

  /**
   * Spends one charge of `key` (the caller checked one is left); returns the undo. The undo takes one
   * charge's time back off whatever the bucket holds then, so it stays right when other spends of
   * the same key came in between (two placements in one commit batch).
   */
  spend(key: string, now: number): () => void {
    this.fullAt.set(key, Math.max(this.full(key), now) + this.chargeMs);
    // A value at or before now reads as a full bucket; prune drops it.
    return () => this.fullAt.set(key, this.full(key) - this.chargeMs);
  }

  /** Sets `key`'s state as stored (restore at startup). */
  set(key: string, fullAt: number): void {
    this.fullAt.set(key, fullAt);
  }

  /** Forgets full buckets: an absent key is full. */
  prune(now: number): void {
    for (const [k, f] of this.fullAt) if (f <= now) this.fullAt.delete(k);
  }

  private missing(key: string, now: number): number {
    const f = this.fullAt.get(key);
    if (f === undefined || f <= now) return 0;
    return Math.min(this.size, Math.ceil((f - now) / this.chargeMs));
  }
}

export interface ChargeOptions {
  maxCharges: number;
  chargeMs: number;
  /** The address bucket holds maxCharges x addressPlacements (--address-placements). */
  addressPlacements: number;
}

/**
 * What a restart reads back (placement-log.ts): per identity, its bucket's `fullAt` as the last
 * placement stored it in `next_at`; per address key, the times of its recent placements, replayed.
 */
export interface RestoredCharges {
  byWho: Map<string, number>;
  byAddrTimes: Map<string, number[]>;
}

export class ChargeCooldowns implements Cooldowns {
  private readonly byWho: ChargeBuckets;
  private readonly byAddr: ChargeBuckets;

  constructor(options: ChargeOptions, restored?: RestoredCharges) {
    this.byWho = new ChargeBuckets(options.maxCharges, options.chargeMs);
    this.byAddr = new ChargeBuckets(options.maxCharges * options.addressPlacements, options.chargeMs);
    for (const [id, fullAt] of restored?.byWho ?? []) this.byWho.set(id, fullAt);
    // The address's own `fullAt` is not stored (the row has one `next_at`, the identity's): its
    // placements are spent again in time order. Exact unless the network was still short of a full
    // bucket when the replayed window began; then it restarts with up to a bucket more than it had.
    // A placement the live bucket did not hold (an exempt identity's, --address-limit-exempt) may be
    // among them: one that finds the replayed bucket empty is skipped, so it never runs past empty.
    for (const [key, times] of restored?.byAddrTimes ?? [])
      for (const at of [...times].sort((a, b) => a - b)) if (this.byAddr.left(key, at) > 0) this.byAddr.spend(key, at);
  }

  /** The longest a placement holds a charge back: how far back a restart must read. */
  static windowMs(options: ChargeOptions): number {
    return options.maxCharges * options.addressPlacements * options.chargeMs;
  }

  get periodMs(): number {
    return this.byWho.chargeMs;
  }

  identityNext(id: string, now: number): number {
    return this.byWho.nextAllowed(id, now);
  }

  networkNext(key: string, now: number): number {
    return this.byAddr.nextAllowed(key, now);
  }

  claim(id: string, key: string | undefined, now: number): CooldownClaim {
    const undoWho = this.byWho.spend(id, now);
    const undoAddr = key === undefined ? () => {} : this.byAddr.spend(key, now);
    return {
      next: Math.max(now, this.byWho.nextAllowed(id, now)),
      nextAt: this.byWho.full(id),
      undo: () => {
        undoWho();
        undoAddr();
      },
    };
  }

  charges(id: string, now: number): Charges {
    const next = this.byWho.nextCharge(id, now);
    const charges: Charges = { left: this.byWho.left(id, now), max: this.byWho.size };
    if (next !== undefined) charges.next = next;
    return charges;
  }

  prune(now: number): void {
    this.byWho.prune(now);
    this.byAddr.prune(now);
  }
}
