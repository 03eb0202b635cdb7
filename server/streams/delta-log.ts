/**
 * Recent deltas, kept so a delta subscriber that reconnects (or resubscribes) with its last seq gets
 * exactly the ticks it missed instead of a whole PNG. Bounded by entry count and bytes.
 */
export interface DeltaEntry {
  fromSeq: number;
  toSeq: number;
  /** The encoded `delta` message, as published. */
  message: Uint8Array;
}

export class DeltaLog {
  private entries: DeltaEntry[] = [];
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  push(entry: DeltaEntry): void {
    const last = this.entries[this.entries.length - 1];
    // A delta that does not continue the chain (a snapshot tick came between) starts a new one.
    if (last && last.toSeq !== entry.fromSeq) this.clear();
    this.entries.push(entry);
    this.bytes += entry.message.length;
    while (this.entries.length > this.maxEntries || (this.bytes > this.maxBytes && this.entries.length > 1)) {
      this.bytes -= (this.entries.shift() as DeltaEntry).message.length;
    }
  }

  /** Forget everything: after a snapshot tick the chain through it is broken. */
  clear(): void {
    this.entries = [];
    this.bytes = 0;
  }

  /**
   * The messages that take a client from `since` to `latest`, or undefined when the log cannot
   * (too old, or a seq the server never published): the caller then sends a snapshot.
   */
  catchUp(since: number, latest: number): Uint8Array[] | undefined {
    if (since === latest) return [];
    const start = this.entries.findIndex((e) => e.fromSeq === since);
    if (start < 0) return undefined;
    const out = this.entries.slice(start);
    return out[out.length - 1]?.toSeq === latest ? out.map((e) => e.message) : undefined;
  }
}
