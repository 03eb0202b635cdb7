/**
 * The cooldown model behind the placement path (--cooldown-model): how long an identity and an
 * address key must wait, what a placement spends, and what each placement row stores so the state
 * survives a restart. `fixed` is one placement per --cooldown-ms (the original model); `charges`
 * (charges.ts) is a bucket of --max-charges refilled one every --charge-ms. The service picks one at
 * construction and never asks which.
 */
import type { Charges } from '../../protocol/messages.ts';
import { AddressBuckets } from './address-buckets.ts';

export type { Charges };

/** One placement's spend, claimed before the commit. */
export interface CooldownClaim {
  /** When the identity may place next (Unix ms; <= now: now): the ack's `next`. */
  next: number;
  /** What the placement row stores as `next_at`, from which the model is restored at startup. */
  nextAt: number;
  /** Gives the spend back (the commit failed: nothing was placed). */
  undo(): void;
}

export interface Cooldowns {
  /** When the identity may place next (Unix ms; <= now: now). */
  identityNext(id: string, now: number): number;
  /** When the address key may place next (Unix ms; <= now: now). */
  networkNext(key: string, now: number): number;
  /** Spends a placement of `id`, and of `key` unless undefined (an exempt placer). */
  claim(id: string, key: string | undefined, now: number): CooldownClaim;
  /** The identity's charges at `now`; undefined in a model without charges. */
  charges(id: string, now: number): Charges | undefined;
  /** The ms one placement (fixed) or one charge (charges) takes to come back: hello's `cooldownMs`. */
  readonly periodMs: number;
  /** Forgets state that no longer holds anything back. */
  prune(now: number): void;
}

/** One placement per `cooldownMs` per identity, and `addressPlacements` per cooldown per address key. */
export class FixedCooldowns implements Cooldowns {
  private readonly byWho: Map<string, number>;
  private readonly byAddr: AddressBuckets;

  constructor(
    readonly periodMs: number,
    addressPlacements: number,
    /** Running cooldowns read back from the store at startup (placement-log.ts runningCooldowns). */
    restored: { byWho: Map<string, number>; byAddr: Map<string, number[]> },
  ) {
    this.byWho = restored.byWho;
    this.byAddr = new AddressBuckets(addressPlacements, restored.byAddr);
  }

  identityNext(id: string): number {
    return this.byWho.get(id) ?? 0;
  }

  networkNext(key: string, now: number): number {
    return this.byAddr.nextAllowed(key, now);
  }

  claim(id: string, key: string | undefined, now: number): CooldownClaim {
    const prev = this.byWho.get(id);
    const next = now + this.periodMs;
    this.byWho.set(id, next);
    const undoAddr = key === undefined ? () => {} : this.byAddr.claim(key, next, now);
    return {
      next,
      nextAt: next,
      undo: () => {
        if (prev === undefined) this.byWho.delete(id);
        else this.byWho.set(id, prev);
        undoAddr();
      },
    };
  }

  charges(): undefined {
    return undefined;
  }

  prune(now: number): void {
    for (const [k, t] of this.byWho) if (t <= now) this.byWho.delete(k);
    this.byAddr.prune(now);
  }
}
