/**
 * When a placement needs a solved challenge (`--challenge off|new|always`): a verified solution gives
 * its identity a credit of `every` placements for `ttlMs`; `new` asks for one before an identity's
 * first placement and again when the credit is spent or old, `always` for every placement. A surge
 * (defence/surge.ts) asks everyone whose credit predates it, whatever the mode.
 */
export type ChallengeMode = 'off' | 'new' | 'always';

interface Credit {
  /** Placements left. */
  left: number;
  /** Unix ms the credit ends. */
  until: number;
  /** Unix ms it was earned. */
  at: number;
}

export interface ChallengeGateOptions {
  mode: ChallengeMode;
  /** Placements a solution pays for in `new` mode (`always`: 1). */
  every: number;
  /** How long a solution's credit lasts (ms). */
  ttlMs: number;
}

export class ChallengeGate {
  private readonly credits = new Map<string, Credit>();
  private readonly every: number;

  constructor(private readonly options: ChallengeGateOptions) {
    this.every = options.mode === 'always' ? 1 : options.every;
  }

  /**
   * Whether solutions are looked at: with challenges off and no surge a `pow` is ignored, so sending
   * one costs the writer nothing.
   */
  active(surgeSince: number | undefined): boolean {
    return this.options.mode !== 'off' || surgeSince !== undefined;
  }

  /** Whether `identityId` must solve a challenge before placing at `now`. */
  needs(identityId: string, now: number, surgeSince: number | undefined): boolean {
    if (!this.active(surgeSince)) return false;
    const credit = this.credit(identityId, now);
    if (!credit) return true;
    return surgeSince !== undefined && credit.at < surgeSince;
  }

  /** Whether `identityId` holds a live credit: it proved work recently (the address-limit exemption). */
  verified(identityId: string, now: number): boolean {
    return this.credit(identityId, now) !== undefined;
  }

  /** A verified solution: a fresh credit (replacing what was left). */
  grant(identityId: string, now: number): void {
    const ttl = this.options.ttlMs;
    this.credits.set(identityId, { left: this.every, until: now + ttl, at: now });
  }

  /** An accepted placement spends one placement of the credit. */
  spend(identityId: string): void {
    const credit = this.credits.get(identityId);
    if (!credit) return;
    credit.left -= 1;
    if (credit.left <= 0) this.credits.delete(identityId);
  }

  /** A failed commit gives the spent placement back. */
  refund(identityId: string, now: number): void {
    const credit = this.credits.get(identityId);
    if (credit) credit.left += 1;
    else this.credits.set(identityId, { left: 1, until: now + this.options.ttlMs, at: now });
  }

  /** Drops ended credits. */
  prune(now: number): void {
    for (const [id, c] of this.credits) if (c.until <= now) this.credits.delete(id);
  }

  private credit(identityId: string, now: number): Credit | undefined {
    const credit = this.credits.get(identityId);
    if (credit && credit.until <= now) {
      this.credits.delete(identityId);
      return undefined;
    }
    return credit;
  }
}
