/**
 * How many new identities one address prefix may mint: a token bucket per address key. Without it
 * one address minted ~33,000 identities a second over `POST /api/session` (and ~2,700 over WebSocket
 * hellos), each a fresh identity cooldown. The bucket holds `perMinute` identities and refills at
 * that rate, so a venue behind one NAT still lets a room full of players join within minutes, while
 * a script gets one identity a second. Counted per process (each edge mints on its own).
 */

/** Buckets kept at most; past it the fullest (least recently emptied) are forgotten first. */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  /** performance.now() when `tokens` was last brought up to date. */
  at: number;
}

export class MintLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  /** `perMinute` 0 disables the limit. */
  constructor(private readonly perMinute: number) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one identity for `addressKey`: 0 when it may mint now, else the ms until it may. */
  take(addressKey: string, now = performance.now()): number {
    if (this.perMinute === 0) return 0;
    let bucket = this.buckets.get(addressKey);
    if (bucket) {
      bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
      // Most recently used last: the map's order is then the order to forget in.
      this.buckets.delete(addressKey);
      this.buckets.set(addressKey, bucket);
    } else {
      bucket = { tokens: this.perMinute, at: now };
      this.buckets.set(addressKey, bucket);
      this.forgetOldest();
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs);
  }

  private forgetOldest(): void {
    // A bucket untouched for a minute is full again: forgetting it changes nothing.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= MAX_BUCKETS) return;
      this.buckets.delete(key);
    }
  }
}
