/**
 * The address limit: each address key (a client's prefix) may place `size` times per cooldown, a
 * bucket of the `size` most recent claims. `size` 1 is one placement per cooldown for the whole
 * network, as before; a school, office or venue behind one NAT can be given more (--address-placements)
 * without giving every identity more.
 */
export class AddressBuckets {
  /** Per address key, the `next` times of its running claims, ascending; at most `size` of them. */
  private readonly claims: Map<string, number[]>;

  constructor(
    private readonly size: number,
    restored: Map<string, number[]> = new Map(),
  ) {
    this.claims = restored;
    for (const [key, times] of restored) this.claims.set(key, [...times].sort((a, b) => a - b).slice(-size));
  }

  /** When `key` may place next (Unix ms; <= now: now): the end of its oldest claim once the bucket is full. */
  nextAllowed(key: string, now: number): number {
    const live = this.live(key, now);
    return live.length < this.size ? 0 : (live[0] ?? 0);
  }

  /** Records a placement that lets `key` place again at `next`; returns the undo (a failed commit). */
  claim(key: string, next: number, now: number): () => void {
    const live = this.live(key, now);
    live.push(next);
    if (live.length > this.size) live.shift();
    this.claims.set(key, live);
    return () => {
      const times = this.claims.get(key);
      const at = times?.lastIndexOf(next) ?? -1;
      if (times && at >= 0) times.splice(at, 1);
      if (times?.length === 0) this.claims.delete(key);
    };
  }

  /** Forgets every claim that ended by `now`. */
  prune(now: number): void {
    for (const key of [...this.claims.keys()]) if (this.live(key, now).length === 0) this.claims.delete(key);
  }

  private live(key: string, now: number): number[] {
    const times = this.claims.get(key) ?? [];
    let ended = 0;
    while (ended < times.length && (times[ended] as number) <= now) ended++;
    return ended === 0 ? times : times.slice(ended);
  }
}
