/**
 * What the cooldown models restore from (server.ts `cooldownModel`): running cooldowns by identity
 * and address key, and placement times by address key. A start reads them from the placement log
 * (store/placement-log.ts); a standby keeps them as it follows the leader's log and hands them to the
 * server it starts on a takeover, which then reads nothing: reading the cooldown window back took
 * 3.0-5.2 s with 480,000 placements by 200,000 identities in it, on the takeover's critical path
 * (perf/RESULTS.md, "Writer failover").
 */
import type { PlacementRow } from '../store/store.ts';

/** Running cooldowns as the fixed model restores them (next_at per identity, per address claim). */
export interface RunningCooldowns {
  byWho: Map<string, number>;
  byAddr: Map<string, number[]>;
}

/** The two reads a cooldown model restores from: the placement log, or a standby's RecentPlacements. */
export interface CooldownSource {
  /** Cooldowns still running at `now` of the placements of the last `windowMs`. */
  runningCooldowns(now: number, windowMs: number): RunningCooldowns;
  /** Times of the placements since `since`, by address key, oldest first. */
  placementTimesByAddress(since: number): Map<string, number[]>;
}

/** An address key's placements in the window, oldest first: when each was placed and its `next_at`. */
interface AddressClaims {
  ats: number[];
  nexts: number[];
}

/**
 * The placements of the last `windowMs` (the longest window a cooldown model reads) as the cooldown
 * models need them, kept from the rows a standby applies. Per identity only its latest `next_at`
 * (200,000 identities: a map of 200,000 numbers, not 480,000 rows); per address key each claim,
 * oldest first (a bucket may hold several), as two arrays of numbers. Pruned as rows arrive, a sweep
 * per `windowMs`. An identity's `next_at` counts while it runs, whenever it was placed (the log's
 * read looks at the window's rows only; with next_at = at + cooldown, as both models store, the
 * same).
 */
export class RecentPlacements implements CooldownSource {
  private readonly byWho = new Map<string, number>();
  private readonly byAddr = new Map<string, AddressClaims>();
  private sweptAt = 0;

  constructor(private readonly windowMs: number) {}

  /** Seeded from the log (a standby's start), then kept by `add`. */
  static fromLog(
    source: { recentClaims(since: number): Iterable<[string, string, number, number]> },
    windowMs: number,
    now: number,
  ): RecentPlacements {
    const recent = new RecentPlacements(windowMs);
    for (const [who, addr, at, next] of source.recentClaims(now - windowMs)) recent.claim(who, addr, at, next);
    recent.sweptAt = now;
    return recent;
  }

  /** Rows the standby applied, in seq order. */
  add(rows: readonly PlacementRow[], now = Date.now()): void {
    for (const r of rows) this.claim(r.who, r.addr, r.at, r.nextAt);
    if (now - this.sweptAt >= this.windowMs) this.sweep(now);
  }

  runningCooldowns(now: number, windowMs: number): RunningCooldowns {
    const since = now - windowMs;
    const byWho = new Map<string, number>();
    for (const [who, next] of this.byWho) if (next > now) byWho.set(who, next);
    const byAddr = new Map<string, number[]>();
    for (const [addr, { ats, nexts }] of this.byAddr) {
      let running: number[] | undefined;
      for (let i = 0; i < ats.length; i++) {
        const next = nexts[i] as number;
        if (next <= now || (ats[i] as number) < since) continue;
        if (running) running.push(next);
        else running = [next];
      }
      if (running) byAddr.set(addr, running);
    }
    return { byWho, byAddr };
  }

  placementTimesByAddress(since: number): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [addr, { ats }] of this.byAddr) {
      let first = 0;
      while (first < ats.length && (ats[first] as number) < since) first++;
      if (first < ats.length) out.set(addr, first === 0 ? [...ats] : ats.slice(first));
    }
    return out;
  }

  private claim(who: string, addr: string, at: number, next: number): void {
    // The largest next_at, as the log's read keeps (a row that holds nothing back stores 0).
    if (next > (this.byWho.get(who) ?? 0)) this.byWho.set(who, next);
    if (addr === '') return;
    const claims = this.byAddr.get(addr);
    if (claims) {
      claims.ats.push(at);
      claims.nexts.push(next);
    } else this.byAddr.set(addr, { ats: [at], nexts: [next] });
  }

  /** Drops what no model reads any more: placed before the window and no longer holding anything back. */
  private sweep(now: number): void {
    this.sweptAt = now;
    const since = now - this.windowMs;
    for (const [who, next] of this.byWho) if (next <= now) this.byWho.delete(who);
    for (const [addr, { ats, nexts }] of this.byAddr) {
      let keep = 0;
      while (keep < ats.length && (ats[keep] as number) < since && (nexts[keep] as number) <= now) keep++;
      if (keep === ats.length) this.byAddr.delete(addr);
      else if (keep > 0) {
        ats.splice(0, keep);
        nexts.splice(0, keep);
      }
    }
  }
}
