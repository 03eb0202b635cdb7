/**
 * The client's copy of the canvas: palette indices plus the `seq` they are current as of, with this
 * client's unconfirmed placements drawn on top. Pure (no DOM).
 *
 * Optimistic placements live in `pending`, not in `grid`, so a snapshot arriving before the
 * placement's tick cannot wipe it and a refusal restores exactly what the server has:
 * - placed: shown at once (overlay);
 * - acked with seq S: kept until a snapshot or delta at seq >= S includes it, then dropped;
 * - refused or connection lost: dropped, and the grid's colour shows again.
 */
import { Cells } from './cells.ts';
import { PyramidCells } from './pyramid-cells.ts';

export interface Pending {
  id: number;
  x: number;
  y: number;
  c: number;
  /** Seq the server gave it (after the ack); undefined while in flight. */
  ackSeq?: number;
}

export class Board {
  /**
   * Palette indices (cells.ts): one whole grid (whole-canvas mode; a snapshot handed over with
   * `owned` replaces it), or blocks of the tile size allocated as tiles load (tile mode).
   */
  readonly cells: Cells;
  /** Tile mode: the pyramid tiles loaded, for the colour where no level-0 tile is (null otherwise). */
  readonly pyramid: PyramidCells | null;
  seq: number;
  private pending: Pending[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    readonly palette: readonly number[],
    grid?: Uint8Array,
    seq = 0,
    /** Tile mode: the canvas's tiles (blocks of tileSize a side, and its pyramid); else one whole grid. */
    tiles?: { tileSize: number; maxLevel: number },
  ) {
    this.cells = tiles ? Cells.chunked(width, height, tiles.tileSize) : Cells.whole(width, height, grid);
    this.pyramid = tiles ? new PyramidCells(tiles.tileSize, tiles.maxLevel) : null;
    this.seq = seq;
  }

  /** Whether this board has the shape and palette a server announces (so a reconnect can keep it). */
  matches(width: number, height: number, palette: readonly number[]): boolean {
    return (
      this.width === width &&
      this.height === height &&
      this.palette.length === palette.length &&
      this.palette.every((c, i) => c === palette[i])
    );
  }

  inBounds(x: number, y: number): boolean {
    return Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 && x < this.width && y < this.height;
  }

  /** The colour index shown at (x, y): the newest pending placement there, else the server's. */
  colourAt(x: number, y: number): number {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i] as Pending;
      if (p.x === x && p.y === y) return p.c;
    }
    const c = this.cells.get(x, y);
    if (c >= 0) return c;
    // Tile mode, no level-0 tile here: the pyramid's approximation, else the blank canvas's colour.
    return Math.max(0, this.pyramid?.at(x, y) ?? 0);
  }

  /**
   * The colour indices shown over [x, x + w) x [y, y + h) (rows of w; outside the canvas 0): the
   * cells, the pyramid's approximation where no level-0 tile is loaded, pending placements on top.
   * For loops over an area (a template's progress): one copy per block, not a colourAt per pixel.
   */
  readShown(x: number, y: number, w: number, h: number): Uint8Array {
    const { cells, pyramid } = this;
    const out = cells.read(x, y, w, h);
    if (pyramid && pyramid.size > 0) {
      const ax = Math.max(0, x);
      const ay = Math.max(0, y);
      const ex = Math.min(this.width, x + w);
      const ey = Math.min(this.height, y + h);
      const { bw, bh } = cells;
      for (let by = Math.floor(ay / bh); by * bh < ey; by++) {
        for (let bx = Math.floor(ax / bw); bx * bw < ex; bx++) {
          if (cells.blockAt(by * cells.cols + bx, false)) continue;
          const x0 = Math.max(ax, bx * bw);
          const y0 = Math.max(ay, by * bh);
          pyramid.fill(out, x, y, w, x0, y0, Math.min(ex, (bx + 1) * bw), Math.min(ey, (by + 1) * bh));
        }
      }
    }
    for (const p of this.pending)
      if (p.x >= x && p.y >= y && p.x < x + w && p.y < y + h) out[(p.y - y) * w + (p.x - x)] = p.c;
    return out;
  }

  /** Pixels currently overlaid by pending placements (for a full repaint). */
  pendingPixels(): readonly Pending[] {
    return this.pending;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Replaces the grid with a full snapshot (PNG) current as of `seq`. `owned`: nobody else holds
   * `indices`, so the board takes the array instead of copying it (a decoder worker's buffer; copying
   * 16 MB into a never-touched grid was a 60 ms task on a phone).
   */
  applySnapshot(indices: Uint8Array, seq: number, owned = false): void {
    this.cells.replace(indices, owned);
    this.seq = seq;
    this.dropIncluded();
  }

  /**
   * Applies a delta frame: `px` holds the pixels changed from `fromSeq` (exclusive) to `toSeq`
   * (inclusive), packed as protocol/delta.ts says. Changes nothing unless it returns 'applied':
   * - 'stale': already included (fromSeq below our seq), ignore it;
   * - 'gap': we missed a frame, or the payload does not fit this canvas: resync with a snapshot.
   */
  applyDelta(fromSeq: number, toSeq: number, px: Uint8Array): 'applied' | 'stale' | 'gap' {
    if (fromSeq < this.seq) return 'stale';
    if (fromSeq > this.seq || toSeq < fromSeq) return 'gap';
    if (!this.cells.applyDelta(px, true)) return 'gap';
    this.seq = toSeq;
    this.dropIncluded();
    return 'applied';
  }

  /**
   * Tile mode (tiles/tile-sync.ts): the cells were written tile by tile, and now hold the server's
   * pixels up to `seq` where they are loaded. Pending placements acked at or below it are in the grid.
   */
  advanceTo(seq: number): void {
    if (seq > this.seq) this.seq = seq;
    this.dropIncluded();
  }

  /** Shows a placement at once, before the server answers. */
  placeOptimistic(id: number, x: number, y: number, c: number): void {
    this.pending.push({ id, x, y, c });
  }

  /** The server stored placement `id` as `seq`. Returns the pending entry, if it was ours. */
  confirm(id: number, seq: number): Pending | undefined {
    const p = this.pending.find((q) => q.id === id);
    if (!p) return undefined;
    p.ackSeq = seq;
    this.dropIncluded();
    return p;
  }

  /** The server refused placement `id`: forget it, so the server's colour shows again. */
  revert(id: number): Pending | undefined {
    const i = this.pending.findIndex((q) => q.id === id);
    if (i < 0) return undefined;
    const [p] = this.pending.splice(i, 1);
    return p;
  }

  /**
   * The connection closed: answers to in-flight placements will never come, so drop them (the next
   * snapshot shows them if they were stored after all). Acked ones stay until a snapshot includes them.
   */
  revertUnacked(): Pending[] {
    const dropped = this.pending.filter((p) => p.ackSeq === undefined);
    this.pending = this.pending.filter((p) => p.ackSeq !== undefined);
    return dropped;
  }

  /** A new session (hello): its snapshot holds every acked placement, so nothing pending is needed. */
  clearPending(): Pending[] {
    const dropped = this.pending;
    this.pending = [];
    return dropped;
  }

  /** Acked placements whose seq the grid has reached are in the grid now (or were overwritten later). */
  private dropIncluded(): void {
    this.pending = this.pending.filter((p) => p.ackSeq === undefined || p.ackSeq > this.seq);
  }
}
