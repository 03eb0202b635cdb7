/**
 * When to try the WebSocket again. Pure, so the schedule is unit tested. Exponential backoff with
 * "equal jitter" (half fixed, half random): after a server restart every client comes back, and the
 * jitter spreads them out instead of a thundering herd at the same millisecond, while the fixed half
 * keeps any one client from hammering a server that is down.
 */

export const RECONNECT = {
  /** Delay before the first retry, before jitter. */
  baseMs: 500,
  /**
   * Longest delay between two attempts. 4 s: a page is back within 2-4 s of a restarted server (at
   * 15 s it took up to 15 s unless "Retry now" was pressed); the jitter still spreads the pages of a
   * long outage over 2 s rather than one instant.
   */
  maxMs: 4_000,
  /** A connection that stayed up this long resets the backoff; a flapping one keeps backing off. */
  stableMs: 10_000,
  /** Attempts without ever getting a frame after which the WebSocket counts as blocked (poll instead). */
  blockedAfter: 2,
} as const;

/**
 * Delay before retry number `failures` (1 for the first retry). `random` is in [0, 1).
 * Result is in [d/2, d) with d = min(maxMs, baseMs * 2^(failures-1)).
 */
export function reconnectDelay(
  failures: number,
  random: number,
  opts: { baseMs: number; maxMs: number } = RECONNECT,
): number {
  const exp = Math.min(Math.max(failures, 1) - 1, 30); // 2^30 already exceeds any cap; avoids Infinity
  const d = Math.min(opts.maxMs, opts.baseMs * 2 ** exp);
  return Math.round(d / 2 + (d / 2) * Math.min(Math.max(random, 0), 0.999999));
}

/** Tracks consecutive failures and whether the WebSocket looks blocked (never worked at all). */
export class ReconnectState {
  failures = 0;
  /** A socket of this page ever delivered a frame: from then on, closes are outages, not a proxy. */
  everWorked = false;
  private workingSince: number | null = null;

  /** The socket delivered its first frame: it works. */
  working(now: number): void {
    this.everWorked = true;
    this.workingSince = now;
  }

  /** The socket closed or failed to open; returns the delay before the next attempt. */
  failed(now: number, random: number): number {
    if (this.workingSince !== null && now - this.workingSince >= RECONNECT.stableMs) this.failures = 0;
    this.workingSince = null;
    this.failures++;
    return reconnectDelay(this.failures, random);
  }

  /** True when the WebSocket never worked after several attempts: fall back to polling. */
  get blocked(): boolean {
    return !this.everWorked && this.failures >= RECONNECT.blockedAfter;
  }
}
