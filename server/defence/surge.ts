/**
 * Surge detection: placements/s and new identities/s over a short window, against a rolling baseline
 * of the same rates. Past `factor` x baseline everyone is asked for a challenge; past `lockFactor` x
 * baseline the canvas locks for `lockMs`. Both end by themselves: the lock after its time (back to
 * challenge), the challenge once the rates stayed under `factor` x baseline for `calmMs`.
 *
 * "New identity" means an identity's first accepted placement as far as the writer knows: identities
 * are minted on edges, but only their placements reach the writer, and new identities placing is
 * what a raid looks like. Fed by the one placement path (placement/service.ts), after the commit.
 *
 * Counts are kept per second: a ring of `windowMs` worth of seconds for the short window, and, behind
 * it, a ring of `baselineMs` worth for the baseline. A second enters the baseline when it leaves the
 * short window, and only if no surge was in force while it was in the window: a surge does not raise
 * the bar it is measured against. A placement costs a few increments and comparisons, whatever the
 * rates; rolling the rings costs one step per elapsed second (at most the rings' length after an idle
 * gap), not per placement.
 *
 * No I/O and no timers: the caller passes `now`, so unit tests drive it with a fake clock.
 */

export type SurgeState = 'normal' | 'challenge' | 'locked';
/** `auto` follows the rates; `off` never surges (a moderator's call); `challenge` holds it on. */
export type SurgeMode = 'auto' | 'off' | 'challenge';

export const SURGE_STATE_VALUE: Record<SurgeState, number> = { normal: 0, challenge: 1, locked: 2 };

export interface SurgeOptions {
  /** Short-window rate over baseline that turns challenges on (> 0; 0 means no Surge is built). */
  factor: number;
  /** Short-window rate over baseline that locks the canvas (>= factor). */
  lockFactor: number;
  lockMs: number;
  /** Floor of both baselines, per second: below it nothing triggers (a quiet canvas's first visitors). */
  minRate: number;
  /** The short window (rounded up to whole seconds). */
  windowMs: number;
  /** How far back the baseline reaches (rounded up to whole seconds). */
  baselineMs: number;
  /** How long the rates must stay under `factor` x baseline before challenges end. */
  calmMs: number;
}

/** Rates in per second. */
export interface SurgeRates {
  rate: number;
  newRate: number;
  baseline: number;
  newBaseline: number;
}

export interface SurgeChange extends SurgeRates {
  from: SurgeState;
  state: SurgeState;
  /** Why, in words a player may read (the lock's reason in hello and in the refusal). */
  reason: string;
  at: number;
  /** Set while locked: when the lock ends (Unix ms). */
  until?: number;
  /** Set when a moderator caused it. */
  actor?: string;
}

export interface SurgeStatus extends SurgeRates {
  state: SurgeState;
  mode: SurgeMode;
  /** When the current state began (Unix ms). */
  since: number;
  /** The baseline has not yet a window's worth of calm seconds: nothing triggers by itself. */
  learning: boolean;
  until?: number;
  reason?: string;
}

const SECOND = 1000;

/** A ring of per-second counts with running sums over every slot it holds. */
class SecondRing {
  readonly placements: Float64Array;
  readonly fresh: Float64Array;
  sumPlacements = 0;
  sumFresh = 0;
  /** Slots that hold a second (the ring fills up from empty). */
  filled = 0;
  /** Index of the newest slot. */
  newest = 0;

  constructor(readonly size: number) {
    this.placements = new Float64Array(size);
    this.fresh = new Float64Array(size);
  }

  /** Makes the oldest slot the newest, holding the given counts; `out` receives what it held. */
  push(placements: number, fresh: number, out?: { placements: number; fresh: number }): void {
    const i = (this.newest + 1) % this.size;
    this.newest = i;
    if (out) {
      out.placements = this.placements[i] as number;
      out.fresh = this.fresh[i] as number;
    }
    this.sumPlacements += placements - (this.placements[i] as number);
    this.sumFresh += fresh - (this.fresh[i] as number);
    this.placements[i] = placements;
    this.fresh[i] = fresh;
    if (this.filled < this.size) this.filled++;
  }

  add(fresh: boolean): void {
    const i = this.newest;
    this.placements[i] = (this.placements[i] as number) + 1;
    this.sumPlacements++;
    if (fresh) {
      this.fresh[i] = (this.fresh[i] as number) + 1;
      this.sumFresh++;
    }
  }

  clear(): void {
    this.placements.fill(0);
    this.fresh.fill(0);
    this.sumPlacements = 0;
    this.sumFresh = 0;
  }
}

export class Surge {
  private readonly windowSlots: number;
  /** The short window: the newest slot is the current second. */
  private readonly window: SecondRing;
  /** Per slot of `window`: 1 if no surge was in force while it was in the window (it may enter the baseline). */
  private readonly calm: Uint8Array;
  /** The last calm seconds that left the window, up to `baselineMs` of them. */
  private readonly baseline: SecondRing;
  /** The second (Unix s) the window's newest slot holds. */
  private second: number;
  private state: SurgeState = 'normal';
  private since: number;
  private mode: SurgeMode = 'auto';
  private lockedUntil = 0;
  private reason = '';
  /** When the rates last went under `factor` x baseline while surging (undefined: not under). */
  private calmSince: number | undefined;
  /** When the current elevated period (challenge or locked) began. */
  private surgeSince: number | undefined;
  private readonly listeners: Array<(c: SurgeChange) => void> = [];
  private readonly leaving = { placements: 0, fresh: 0 };

  constructor(
    private readonly options: SurgeOptions,
    now: number,
  ) {
    if (!(options.factor > 0)) throw new Error('Surge needs factor > 0 (factor 0 means no surge defence)');
    this.windowSlots = Math.max(1, Math.ceil(options.windowMs / SECOND));
    this.window = new SecondRing(this.windowSlots);
    this.calm = new Uint8Array(this.windowSlots); // the seconds before the start are nobody's: not calm
    this.calm[this.window.newest] = 1;
    this.baseline = new SecondRing(Math.max(1, Math.ceil(options.baselineMs / SECOND)));
    this.second = Math.floor(now / SECOND);
    this.since = now;
  }

  /** Called with every state change (after it is in force). Listeners must not throw. */
  onChange(listener: (c: SurgeChange) => void): void {
    this.listeners.push(listener);
  }

  /** An accepted placement at `now`; `firstPlacement`: its identity never placed before (here). */
  placed(now: number, firstPlacement: boolean): void {
    this.roll(now);
    this.window.add(firstPlacement);
    this.evaluate(now);
  }

  /** Brings the state up to `now` (a lock that ran out, a calm that lasted): call it once a second. */
  update(now: number): void {
    this.roll(now);
    this.evaluate(now);
  }

  /** The surge's lock in force at `now`, in the shape of a moderator's lock. */
  lock(now: number): { until: number; reason: string } | undefined {
    this.update(now);
    return this.state === 'locked' ? { until: this.lockedUntil, reason: this.reason } : undefined;
  }

  /**
   * When (Unix ms) the current challenge-for-everyone period began, locked included (a lock is the
   * harder half of the same surge); undefined when challenges are not asked of everyone.
   */
  challengeAllSince(now: number): number | undefined {
    this.update(now);
    return this.surgeSince;
  }

  status(now: number): SurgeStatus {
    this.update(now);
    const status: SurgeStatus = {
      state: this.state,
      mode: this.mode,
      since: this.since,
      learning: this.learning(),
      ...this.rates(),
    };
    if (this.state === 'locked') status.until = this.lockedUntil;
    if (this.state !== 'normal') status.reason = this.reason;
    return status;
  }

  /** A moderator's choice: follow the rates, never surge, or hold challenges on until told otherwise. */
  setMode(mode: SurgeMode, now: number, actor: string): void {
    this.update(now);
    this.mode = mode;
    if (mode === 'off') this.enter('normal', now, '', actor);
    else if (mode === 'challenge' && this.state === 'normal')
      this.enter('challenge', now, 'surge: challenges turned on by a moderator', actor);
    else this.evaluate(now); // back to auto: the calm period starts now
  }

  /** A moderator's unlock ends the surge's lock too: back to challenges, as when it runs out. */
  unlock(now: number, actor: string): boolean {
    this.update(now);
    if (this.state !== 'locked') return false;
    this.enter('challenge', now, this.reason, actor);
    return true;
  }

  private learning(): boolean {
    return this.baseline.filled < this.windowSlots;
  }

  private rates(): SurgeRates {
    const { filled, sumPlacements, sumFresh } = this.baseline;
    return {
      rate: this.window.sumPlacements / this.windowSlots,
      newRate: this.window.sumFresh / this.windowSlots,
      baseline: Math.max(this.options.minRate, filled === 0 ? 0 : sumPlacements / filled),
      newBaseline: Math.max(this.options.minRate, filled === 0 ? 0 : sumFresh / filled),
    };
  }

  /** Moves the window to `now`'s second; the seconds leaving it enter the baseline if they were calm. */
  private roll(now: number): void {
    const second = Math.floor(now / SECOND);
    if (second <= this.second) return; // same second, or the clock stepped back: keep counting here
    // After a gap longer than both rings every slot is an empty second: no need to push more.
    const steps = Math.min(second - this.second, this.windowSlots + this.baseline.size);
    const calm = this.state === 'normal' ? 1 : 0;
    for (let s = 0; s < steps; s++) {
      this.window.push(0, 0, this.leaving);
      const i = this.window.newest;
      if (this.calm[i] === 1) this.baseline.push(this.leaving.placements, this.leaving.fresh);
      this.calm[i] = calm;
    }
    this.second = second;
  }

  private evaluate(now: number): void {
    if (this.mode === 'off') return;
    const r = this.rates();
    const over = (f: number): string | undefined =>
      r.newRate > f * r.newBaseline
        ? 'surge: too many new players'
        : r.rate > f * r.baseline
          ? 'surge: too many placements'
          : undefined;
    switch (this.state) {
      case 'normal': {
        // Until the baseline holds a window's worth of seconds it knows nothing (a restart, a new canvas).
        if (this.learning()) return;
        const lock = over(this.options.lockFactor);
        const challenge = lock ?? over(this.options.factor);
        if (lock) this.enter('locked', now, lock);
        else if (challenge) this.enter('challenge', now, challenge);
        return;
      }
      case 'challenge': {
        const lock = over(this.options.lockFactor);
        if (lock) return this.enter('locked', now, lock);
        if (over(this.options.factor) !== undefined || this.mode === 'challenge') {
          this.calmSince = undefined;
          return;
        }
        this.calmSince ??= now;
        if (now - this.calmSince >= this.options.calmMs) this.enter('normal', now, '');
        return;
      }
      case 'locked':
        if (now >= this.lockedUntil) this.enter('challenge', now, this.reason);
        return;
    }
  }

  private enter(state: SurgeState, now: number, reason: string, actor?: string): void {
    const from = this.state;
    if (from === state) return;
    this.state = state;
    this.since = now;
    this.reason = reason;
    this.calmSince = undefined;
    if (state === 'normal') this.surgeSince = undefined;
    else {
      this.surgeSince ??= now;
      // The seconds in the window are the surge's run-up: none of them may raise the baseline.
      this.calm.fill(0);
    }
    if (state === 'locked') {
      this.lockedUntil = now + this.options.lockMs;
      // The lock's verdict is spent: what counts after it is what is placed after it, else the burst
      // still in the window would lock again the moment this lock ends.
      this.window.clear();
    }
    const change: SurgeChange = { from, state, reason, at: now, ...this.rates() };
    if (state === 'locked') change.until = this.lockedUntil;
    if (actor !== undefined) change.actor = actor;
    for (const listener of this.listeners) listener(change);
  }
}
