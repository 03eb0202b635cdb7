/**
 * The moderation console's live panel: placements per second, identities placing for the first
 * time, the top placers of the last 5 minutes and the most changed 64 x 64 areas of the last minute.
 * Fed per accepted placement in O(1) (a few map increments into the current second's slot); each slot
 * is subtracted from the running totals once when it falls out of its window, so a read sorts only
 * the running totals and never scans the placements table. In memory: a restart starts over.
 */

/** Side of a hot-area cell, in pixels. */
export const HOT_CELL = 64;
const TOP_WINDOW_S = 300;
const HOT_WINDOW_S = 60;
/** placementsPerSecond averages this many seconds (the current one included). */
const RATE_WINDOW_S = 10;
const TOP_N = 10;

interface Slot {
  sec: number;
  placements: number;
  fresh: number;
  byId: Map<string, number>;
  byCell: Map<number, number>;
}

export interface ActivityReport {
  placementsPerSecond: number;
  newIdentitiesPerSecond: number;
  topPlacers: Array<{ id: string; n: number }>;
  hotAreas: Array<{ x: number; y: number; width: number; height: number; n: number }>;
}

const add = <K>(m: Map<K, number>, k: K, by: number) => {
  const n = (m.get(k) ?? 0) + by;
  if (n > 0) m.set(k, n);
  else m.delete(k);
};

export class Activity {
  /** One slot per second of the longest window, indexed by second modulo its length. */
  private readonly slots: Slot[];
  private readonly topTotals = new Map<string, number>();
  private readonly hotTotals = new Map<number, number>();
  private readonly cellsAcross: number;
  /** The newest second the slots were advanced to. */
  private current = 0;

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cellsAcross = Math.ceil(width / HOT_CELL);
    this.slots = Array.from({ length: TOP_WINDOW_S }, () => ({
      sec: -1,
      placements: 0,
      fresh: 0,
      byId: new Map(),
      byCell: new Map(),
    }));
  }

  /** An accepted placement at (x, y); `fresh`: its identity's first. */
  placed(id: string, x: number, y: number, fresh: boolean): void {
    const slot = this.advance(Math.floor(this.now() / 1000));
    slot.placements++;
    if (fresh) slot.fresh++;
    add(slot.byId, id, 1);
    add(this.topTotals, id, 1);
    const cell = Math.floor(y / HOT_CELL) * this.cellsAcross + Math.floor(x / HOT_CELL);
    add(slot.byCell, cell, 1);
    add(this.hotTotals, cell, 1);
  }

  report(): ActivityReport {
    const sec = Math.floor(this.now() / 1000);
    this.advance(sec);
    let recent = 0;
    let fresh = 0;
    for (const s of this.slots) {
      if (s.sec > sec - RATE_WINDOW_S) recent += s.placements;
      if (s.sec > sec - HOT_WINDOW_S) fresh += s.fresh;
    }
    const top = <K>(m: Map<K, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP_N);
    return {
      placementsPerSecond: recent / RATE_WINDOW_S,
      newIdentitiesPerSecond: fresh / HOT_WINDOW_S,
      topPlacers: top(this.topTotals).map(([id, n]) => ({ id, n })),
      hotAreas: top(this.hotTotals).map(([cell, n]) => {
        const x = (cell % this.cellsAcross) * HOT_CELL;
        const y = Math.floor(cell / this.cellsAcross) * HOT_CELL;
        return { x, y, width: Math.min(HOT_CELL, this.width - x), height: Math.min(HOT_CELL, this.height - y), n };
      }),
    };
  }

  /**
   * Moves the window to second `sec`: slots that left the 5-minute window leave the top placers,
   * slots that left the 1-minute window leave the hot areas (each slot once). Returns `sec`'s slot.
   */
  private advance(sec: number): Slot {
    if (sec > this.current) {
      // Only the seconds between: after a long quiet spell every slot is stale, visit each once.
      const from = Math.max(this.current + 1, sec - TOP_WINDOW_S + 1);
      // Seconds older than the 5-minute window are recycled whole by the loop after this one.
      for (let s = Math.max(this.current, sec - TOP_WINDOW_S) - HOT_WINDOW_S + 1; s <= sec - HOT_WINDOW_S; s++) {
        const old = this.slots[mod(s, TOP_WINDOW_S)] as Slot;
        if (old.sec !== s) continue;
        for (const [cell, n] of old.byCell) add(this.hotTotals, cell, -n);
        old.byCell.clear();
      }
      for (let s = from; s <= sec; s++) {
        const slot = this.slots[mod(s, TOP_WINDOW_S)] as Slot;
        for (const [id, n] of slot.byId) add(this.topTotals, id, -n);
        for (const [cell, n] of slot.byCell) add(this.hotTotals, cell, -n);
        slot.byId.clear();
        slot.byCell.clear();
        slot.sec = s;
        slot.placements = 0;
        slot.fresh = 0;
      }
      this.current = sec;
    }
    // A clock that stepped back lands in the current slot rather than an old one.
    return this.slots[mod(this.current, TOP_WINDOW_S)] as Slot;
  }
}

const mod = (a: number, n: number) => ((a % n) + n) % n;
