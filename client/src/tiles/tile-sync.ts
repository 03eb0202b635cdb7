/**
 * Keeps the board in step with a large canvas from tiles instead of whole-canvas snapshots (README
 * "Tiles", PROTOCOL.md "Region subscriptions"): the delta stream is subscribed with the region of
 * level-0 tiles in view (plus a margin), those tiles are fetched over HTTP, and each tile's region
 * deltas apply on top of the seq its answer shows (`X-Seq`), kept meanwhile when they come first.
 * A `tiles` message reloads the region (conditionally: an unchanged tile answers 304); a view that
 * moves to other tiles subscribes again (debounced). Zoomed out past one region, the view is drawn
 * from the pyramid level that matches the zoom, refreshed every few seconds with If-None-Match.
 *
 * Memory follows the screen, not the canvas (a 16,384 x 16,384 canvas is 268 M cells): the board's
 * cells are blocks of one level-0 tile each (board/cells.ts), allocated as tiles load and dropped
 * (farthest from the view first) past KEEP_LEVEL0_TILES; pyramid tiles stay their own small images
 * (board/pyramid-cells.ts, and the renderer's), never spread over a full-size grid. Where no level-0
 * tile is loaded the board answers from the pyramid.
 *
 * No DOM: fetching, decoding, sending and timers are injected, so it is unit tested in Node.
 */
import {
  type DeltaMsg,
  MsgType,
  Stream,
  type SubscribeMsg,
  type TileRegion,
  type ResizeMsg,
  type TilesMsg,
} from '../../../protocol/messages.ts';
import { Board, type Pending } from '../board/board.ts';
import type { PyramidTile } from '../board/pyramid-cells.ts';
import { type DecodedIndices, remapToPalette } from '../board/png-indices.ts';
import {
  blitTile,
  inRegion,
  pyramidLevel,
  MAX_REGION_SIDE,
  type Rect,
  regionFor,
  regionTiles,
  sameRegion,
  type TileLayout,
  tilesCovering,
} from './tile-region.ts';

/** Level-0 tiles loaded around the visible ones, so a short pan shows pixels at once. */
export const REGION_MARGIN = 1;
/** A moving view subscribes to its new region once it has rested this long. */
export const FOLLOW_DEBOUNCE_MS = 150;
/** Pyramid tiles on screen are asked again this often (a 304 when unchanged: a few hundred bytes). */
export const PYRAMID_REFRESH_MS = 5_000;
/** Zoomed in, the pyramid's top (the minimap's) is asked every this many refreshes (a minute). */
export const TOP_EVERY = 12;
/** A tile whose fetch failed is tried again after this long (while still wanted). */
export const RETRY_MS = 2_000;
/**
 * Level-0 tiles kept loaded: the largest region (16 x 16) and 64 more around it, so panning back is
 * instant. Past it the farthest outside the region are dropped (each 64 KB of cells at 256 x 256, and
 * its part of the renderer's canvases, freed with the last tile of a canvas): a page panning across a
 * 16,384 x 16,384 canvas keeps at most 20 MB of cells.
 */
export const KEEP_LEVEL0_TILES = MAX_REGION_SIDE * MAX_REGION_SIDE + 64;
/** Deltas kept for one tile while it loads; past that the oldest go and the tile loads again. */
const MAX_WAITING_DELTAS = 200;

/** An answer to GET /tiles/{level}/{tx}/{ty}.png. */
export type TileAnswer =
  /** 200: the tile's PNG, the seq it shows (`X-Seq`) and its ETag. */
  | { kind: 'png'; png: Uint8Array; seq: number | null; etag: string | null }
  /** 304: unchanged since the ETag sent. */
  | { kind: 'same' }
  | { kind: 'failed' };

type DeltaFrame = Pick<DeltaMsg, 'fromSeq' | 'toSeq' | 'px' | 'tx' | 'ty'>;

/** Where the board's changes go (the page draws them; the tests record them). */
export interface TileSink {
  /** A board of a new shape or palette replaced the previous one. */
  replaced(board: Board): void;
  /** The first tile arrived: the page stops saying it is loading. */
  loaded(): void;
  /** The pixels of this rectangle may have changed (a tile arrived). */
  drawRect(board: Board, rect: Rect): void;
  /** A level-0 tile was dropped from memory (its cells read as unknown now): forget its pixels. */
  dropRect(board: Board, rect: Rect): void;
  /** A pyramid tile arrived (kept in board.pyramid too): draw it when zoomed out, and the top in the minimap. */
  drawPyramid(board: Board, tile: PyramidTile): void;
  /** The pixels listed in this delta payload (protocol/delta.ts) changed. */
  drawDelta(board: Board, px: Uint8Array): void;
  /** Pending placements were dropped from these pixels. */
  drawPixels(board: Board, pixels: readonly Pending[]): void;
  /** The board is now current as of this seq. */
  seq(seq: number): void;
}

/** What the view shows: board pixels, and device pixels per board pixel (scale x devicePixelRatio). */
export interface ViewNow {
  rect: Rect;
  devicePerPixel: number;
}

export interface TileSyncDeps {
  /** The canvas (GET /api/canvas). */
  layout: TileLayout;
  /** The seq GET /api/canvas gave: the tick the first connection resumes from (no snapshot sent). */
  seq: number;
  /** GET /tiles/{level}/{tx}/{ty}.png, with If-None-Match when `etag` is given; never a cached copy. */
  fetchTile(level: number, tx: number, ty: number, etag: string | null): Promise<TileAnswer>;
  /** A tile PNG as palette indices (and its PLTE), or null for bytes that are not an indexed PNG. */
  decodePng(png: Uint8Array): Promise<DecodedIndices | null>;
  /** Sends a frame on the WebSocket; false when it is not open. */
  send(msg: SubscribeMsg): boolean;
  /** The view now, or null before there is one. */
  view(): ViewNow | null;
  /** Runs fn after ms; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
  /**
   * Runs fn once what was just drawn is on screen (the page: the next animation frame, then a task);
   * absent: at once. The margin tiles and the pyramid's top wait for it, so a first paint shares
   * neither the link nor the main thread with them.
   */
  afterPaint?(fn: () => void): void;
  sink: TileSink;
  warn?(text: string): void;
}

/** A level-0 tile's state. */
interface Level0 {
  /** The grid holds the server's tile exactly as of this seq (null: not loaded, or only approximated). */
  seq: number | null;
  /** The ETag of the bytes that made the grid's copy, while no delta changed it since (else null). */
  etag: string | null;
  /** In the subscribed region with `seq` known: its deltas arrive, so the copy stays current. */
  live: boolean;
  loading: boolean;
  /** The load in flight (or the last one): a reload waits on it rather than starting another. */
  inflight: Promise<void>;
  /** A `tiles` came while it loaded: load it again once done. */
  again: boolean;
  /** Deltas that came while it loaded, applied once the tile is there. */
  waiting: DeltaFrame[];
}

export class TileSync {
  private current: Board | null = null;
  private region: TileRegion | null = null;
  private level = 0;
  private level0 = new Map<string, Level0>();
  /** The pyramid tiles' ETags, by `level/tx/ty`. */
  private pyramid = new Map<string, string>();
  /** The newest tick seq known (a `since` the server can resume from without a snapshot). */
  private tickSeq: number;
  private isLoaded = false;
  /** Bumped when the board is replaced: answers for the old one are dropped. */
  private epoch = 0;
  private cancelFollow: (() => void) | null = null;
  private cancelRefresh: (() => void) | null = null;
  /** Pyramid refreshes since the board was made (the top is asked every TOP_EVERY of them at level 0). */
  private refreshes = 0;
  /** The pyramid level and tiles the view showed at the last follow ('' at level 0). */
  private pyramidShown = '';
  /** The pyramid's top waits for the first level-0 tiles in view to be drawn (see refreshPyramid). */
  private topDeferred = false;

  /** The canvas's tiles: GET /api/canvas's, then each `resize`'s. */
  private readonly layout: TileLayout;

  constructor(private readonly d: TileSyncDeps) {
    this.tickSeq = d.seq;
    this.layout = { ...d.layout };
  }

  get board(): Board | null {
    return this.current;
  }

  get loaded(): boolean {
    return this.isLoaded;
  }

  /** The region subscribed to (null: none yet). */
  get subscribed(): TileRegion | null {
    return this.region;
  }

  /** The level the view is drawn from (0: live level-0 tiles). */
  get drawLevel(): number {
    return this.level;
  }

  /**
   * `since` for the next connection: the newest tick seen, so the server sends no whole-canvas
   * snapshot (at most the few whole-canvas deltas since, which are ignored: the tiles loaded after
   * `tiles` are newer).
   */
  nextSince(): number | null {
    return this.tickSeq;
  }

  /**
   * The first frame of a connection (or GET /api/canvas, before connecting): the canvas's shape and
   * palette; subscribes to the view's region, or loads it over HTTP while not connected.
   */
  hello(h: { width: number; height: number; palette: readonly number[] }): void {
    const b = this.current;
    if (b?.matches(h.width, h.height, h.palette)) {
      const dropped = b.clearPending();
      if (dropped.length > 0) this.d.sink.drawPixels(b, dropped);
      // A new connection has no subscription yet; tiles stop being live until its `tiles`.
      for (const t of this.level0.values()) t.live = false;
    } else {
      this.epoch++;
      const { tileSize, maxLevel } = this.layout;
      this.current = new Board(h.width, h.height, h.palette, undefined, 0, { tileSize, maxLevel });
      this.level0.clear();
      this.pyramid.clear();
      this.pyramidShown = '';
      this.refreshes = 0;
      this.isLoaded = false;
      this.d.sink.replaced(this.current);
    }
    this.region = null;
    this.follow();
  }

  /**
   * `resize`: the canvas grew. The layout takes the new size (the same geometry as GET /api/canvas
   * gives, README "Tiles"), and a board of that size replaces this one: its tiles load for the view
   * (the pixels moved by the columns and rows added on the left and top, so every tile changed).
   */
  resize(m: Pick<ResizeMsg, 'seq' | 'width' | 'height'>): void {
    const layout = this.layout;
    let maxLevel = 0;
    while (layout.tileSize * 2 ** maxLevel < Math.max(m.width, m.height)) maxLevel++;
    layout.width = m.width;
    layout.height = m.height;
    layout.maxLevel = maxLevel;
    this.tickSeq = Math.max(this.tickSeq, m.seq);
    const palette = this.current?.palette;
    if (palette) this.hello({ width: m.width, height: m.height, palette });
  }

  /** A whole-canvas snapshot: not used in tile mode (a reconnect too old to resume may send one). */
  png(_png: Uint8Array, _seq: number | null): Promise<void> {
    return Promise.resolve();
  }

  /** The view moved, zoomed or resized: follow it once it rests. */
  viewMoved(): void {
    if (!this.current) return;
    this.cancelFollow?.();
    this.cancelFollow = this.d.setTimer(() => {
      this.cancelFollow = null;
      this.follow();
    }, FOLLOW_DEBOUNCE_MS);
  }

  /** `tiles`: (re)load the region's level-0 tiles; those unchanged since their ETag answer 304. */
  tiles(m: TilesMsg): void {
    this.tickSeq = Math.max(this.tickSeq, m.seq); // the seq of the server's last tick
    this.reload();
  }

  /**
   * The server's tick seq now (GET /api/canvas, asked while reconnecting): a region without changes
   * sends no deltas, and a `since` older than the server's delta log would get a whole-canvas PNG.
   */
  resumeFrom(seq: number): void {
    this.tickSeq = Math.max(this.tickSeq, seq);
  }

  /**
   * Loads the region's level-0 tiles again (conditionally): on `tiles`, and while the WebSocket is
   * blocked each time the page's poll of GET /api/canvas sees a new seq.
   */
  reload(): void {
    const r = this.region;
    const v = this.d.view();
    if (!r || !v || !this.current || this.level !== 0) return;
    // The visible tiles first, the margin once they are in: on a phone's first paint the margin
    // would otherwise share the link with what is on screen (up to 20 tiles of 33 KB each of noise).
    const visible = tilesCovering(this.layout, v.rect, 0, 0);
    const tiles = regionTiles(r, this.centre());
    const onScreen = tiles.filter((t) => inRegion(visible, t.tx, t.ty));
    const margin = tiles.filter((t) => !inRegion(visible, t.tx, t.ty));
    const epoch = this.epoch;
    const afterPaint = this.d.afterPaint ?? ((fn: () => void) => fn());
    void Promise.all(onScreen.map((t) => this.load(t.tx, t.ty))).then(() =>
      afterPaint(() => {
        if (epoch !== this.epoch) return;
        this.loadDeferredTop();
        if (this.region !== r) return;
        for (const t of margin) void this.load(t.tx, t.ty);
      }),
    );
  }

  /** The pyramid's top, once the view's first level-0 tiles are on screen, when it was held back for them. */
  private loadDeferredTop(): void {
    const board = this.current;
    if (!this.topDeferred || !board) return;
    this.topDeferred = false;
    void this.loadPyramid(board, this.layout.maxLevel, 0, 0);
  }

  /** A delta: region deltas apply to their tile; whole-canvas ones (before the subscription) are ignored. */
  delta(m: DeltaFrame): void {
    const board = this.current;
    if (!board || m.tx === undefined || m.ty === undefined) return;
    this.tickSeq = Math.max(this.tickSeq, m.toSeq);
    const t = this.tile(m.tx, m.ty);
    if (t.loading) {
      t.waiting.push(m);
      if (t.waiting.length > MAX_WAITING_DELTAS) {
        t.waiting.shift();
        t.again = true;
      }
      return;
    }
    if (t.seq !== null && m.toSeq <= t.seq) return; // already in the tile
    this.apply(board, t, m);
    board.advanceTo(m.toSeq);
    this.d.sink.seq(board.seq);
  }

  /** Subscribes to the view's region when it changed, and loads what the view's level needs. */
  private follow(): void {
    const board = this.current;
    const v = this.d.view();
    if (!board || !v) return;
    const { layout } = this;
    this.level = pyramidLevel(layout, v.rect, v.devicePerPixel);
    const region = regionFor(layout, v.rect, REGION_MARGIN);
    if (!sameRegion(region, this.region)) {
      for (const [key, t] of this.level0) {
        const [tx, ty] = key.split(',').map(Number) as [number, number];
        if (!inRegion(region, tx, ty)) t.live = false;
      }
      this.region = region;
      // The answer is `tiles`, which loads the region. Not connected (the page polls): load it now.
      if (!this.d.send({ t: MsgType.SUBSCRIBE, stream: Stream.DELTA, ...region })) this.reload();
    } else if (this.level === 0) {
      // Zoomed back in within the same region: load what the pyramid only approximated.
      for (const { tx, ty } of regionTiles(region, this.centre())) {
        const t = this.tile(tx, ty);
        if (!t.live && !t.loading) this.load(tx, ty);
      }
    }
    // The pyramid tiles on screen now, asked at once when they changed (else at the next refresh).
    const pyramid =
      this.level > 0 ? `${this.level}:${JSON.stringify(tilesCovering(layout, v.rect, this.level, 0))}` : '';
    if (pyramid === this.pyramidShown && this.cancelRefresh) return;
    this.pyramidShown = pyramid;
    this.cancelRefresh?.();
    this.cancelRefresh = null;
    this.refreshPyramid();
  }

  /** The view's centre in level-0 tiles. */
  private centre(): { x: number; y: number } {
    const v = this.d.view();
    const s = this.layout.tileSize;
    return v ? { x: (v.rect.x + v.rect.w / 2) / s, y: (v.rect.y + v.rect.h / 2) / s } : { x: 0, y: 0 };
  }

  private tile(tx: number, ty: number): Level0 {
    const key = `${tx},${ty}`;
    let t = this.level0.get(key);
    if (!t) {
      t = {
        seq: null,
        etag: null,
        live: false,
        loading: false,
        inflight: Promise.resolve(),
        again: false,
        waiting: [],
      };
      this.level0.set(key, t);
    }
    return t;
  }

  private apply(board: Board, t: Level0, m: DeltaFrame): void {
    // Onto loaded tiles only: one not loaded (or whose load failed) shows the pyramid, and loads whole.
    if (!board.cells.applyDelta(m.px, false)) {
      this.d.warn?.('a region delta does not fit the canvas; ignored');
      return;
    }
    if (t.seq !== null) t.seq = m.toSeq;
    t.etag = null; // the copy is no longer the bytes of that ETag
    this.d.sink.drawDelta(board, m.px);
  }

  /**
   * Loads level-0 tile (tx, ty) (conditionally when the copy is still the bytes of its ETag); resolves
   * once it is in the grid (or failed). A tile already loading
   * is loaded again after, and this resolves with the load in flight: a `tiles` that comes while the
   * first tiles load (the page loads them before its WebSocket opens) must not let the margin and
   * the pyramid's top start before the tiles in view are drawn.
   */
  private load(tx: number, ty: number): Promise<void> {
    const t = this.tile(tx, ty);
    if (t.loading) {
      t.again = true;
      return t.inflight;
    }
    t.inflight = this.fetchLevel0(tx, ty, t);
    return t.inflight;
  }

  private async fetchLevel0(tx: number, ty: number, t: Level0): Promise<void> {
    const board = this.current;
    if (!board) return;
    const epoch = this.epoch;
    t.loading = true;
    t.again = false;
    const answer = await this.d
      .fetchTile(0, tx, ty, t.seq === null ? null : t.etag)
      .catch((): TileAnswer => ({ kind: 'failed' }));
    const decoded = answer.kind === 'png' ? await this.d.decodePng(answer.png).catch(() => null) : null;
    if (epoch !== this.epoch) return; // the board was replaced meanwhile
    t.loading = false;
    let failed = answer.kind === 'failed';
    if (answer.kind === 'png') {
      const indices = decoded && remapToPalette(decoded, board.palette);
      if (!decoded || !indices) {
        this.d.warn?.(`tile 0/${tx}/${ty} is not an indexed PNG of the palette; ignored`);
        failed = true;
      } else {
        const rect = blitTile(board.cells, this.layout, tx, ty, { w: decoded.width, h: decoded.height, indices });
        t.seq = answer.seq ?? this.tickSeq;
        t.etag = answer.etag;
        this.d.sink.drawRect(board, rect);
        this.evict(board);
      }
    }
    // What came while it loaded: on top of the tile's seq, or onto the approximation when it failed.
    const waiting = t.waiting;
    t.waiting = [];
    for (const m of waiting) if (t.seq === null || m.toSeq > t.seq) this.apply(board, t, m);
    t.live = t.seq !== null && inRegion(this.region, tx, ty);
    if (t.seq !== null) {
      board.advanceTo(t.seq);
      this.d.sink.seq(board.seq);
      this.markLoaded();
    }
    const wanted = inRegion(this.region, tx, ty) && this.level === 0;
    if (t.again && wanted) void this.load(tx, ty);
    else if (failed && wanted) this.d.setTimer(() => this.retry(tx, ty, epoch), RETRY_MS);
  }

  private retry(tx: number, ty: number, epoch: number): void {
    const t = this.tile(tx, ty);
    if (epoch === this.epoch && !t.live && !t.loading && inRegion(this.region, tx, ty) && this.level === 0)
      void this.load(tx, ty);
  }

  /** Past KEEP_LEVEL0_TILES loaded, drops those outside the region farthest from the view first. */
  private evict(board: Board): void {
    if (this.level0.size <= KEEP_LEVEL0_TILES) return;
    const c = this.centre();
    const s = this.layout.tileSize;
    const spare: Array<{ key: string; tx: number; ty: number; d: number }> = [];
    for (const [key, t] of this.level0) {
      const [tx, ty] = key.split(',').map(Number) as [number, number];
      if (t.loading || inRegion(this.region, tx, ty)) continue;
      spare.push({ key, tx, ty, d: (tx + 0.5 - c.x) ** 2 + (ty + 0.5 - c.y) ** 2 });
    }
    spare.sort((a, b) => b.d - a.d);
    for (const { key, tx, ty } of spare) {
      if (this.level0.size <= KEEP_LEVEL0_TILES) break;
      this.level0.delete(key);
      board.cells.free(tx * s, ty * s);
      const rect = {
        x: tx * s,
        y: ty * s,
        w: Math.min(s, board.width - tx * s),
        h: Math.min(s, board.height - ty * s),
      };
      this.d.sink.dropRect(board, rect);
    }
  }

  private markLoaded(): void {
    if (this.isLoaded) return;
    this.isLoaded = true;
    this.d.sink.loaded();
  }

  /**
   * Fetches the pyramid's top tile (the whole canvas, for the minimap and the parts not loaded yet)
   * and, zoomed out, the tiles of the view's level on screen; all conditionally, and again every
   * PYRAMID_REFRESH_MS.
   */
  private refreshPyramid(): void {
    const board = this.current;
    const v = this.d.view();
    if (!board || !v) return;
    const { maxLevel } = this.layout;
    // Zoomed in, the top only feeds the minimap: asked again every TOP_EVERY refreshes, not each
    // time (a changed top rewrites most of the grid: 16 M cells at 4096 x 4096).
    const topDue = this.level > 0 || this.refreshes % TOP_EVERY === 0;
    this.refreshes++;
    if (maxLevel > 0 && this.level < maxLevel && topDue) {
      // Zoomed in on a board not shown yet, the top (25 KB at 4096 x 4096, and a write of every cell
      // of the grid) waits until the tiles in view are drawn: on a phone's first paint it was an
      // eighth of the bytes and delayed the paint by the main thread it took (perf/first-paint.ts).
      this.topDeferred = this.level === 0 && !this.isLoaded;
      if (!this.topDeferred) void this.loadPyramid(board, maxLevel, 0, 0);
    }
    if (this.level > 0) {
      const r = tilesCovering(this.layout, v.rect, this.level, 0);
      for (let ty = r.ty; ty < r.ty + r.th; ty++)
        for (let tx = r.tx; tx < r.tx + r.tw; tx++) void this.loadPyramid(board, this.level, tx, ty);
    }
    this.cancelRefresh = this.d.setTimer(() => {
      this.cancelRefresh = null;
      this.refreshPyramid();
    }, PYRAMID_REFRESH_MS);
  }

  private async loadPyramid(board: Board, level: number, tx: number, ty: number): Promise<void> {
    const key = `${level}/${tx}/${ty}`;
    // Conditional only while the board still holds the tile (its pyramid keeps the newest few).
    const known = board.pyramid?.get(level, tx, ty) ? (this.pyramid.get(key) ?? null) : null;
    const answer = await this.d.fetchTile(level, tx, ty, known).catch((): TileAnswer => ({ kind: 'failed' }));
    if (answer.kind !== 'png' || board !== this.current) return;
    const decoded = await this.d.decodePng(answer.png).catch(() => null);
    const indices = decoded && remapToPalette(decoded, board.palette);
    if (!decoded || !indices || board !== this.current) return;
    if (answer.etag !== null) this.pyramid.set(key, answer.etag);
    // Its own small image, never spread over the cells: level-0 tiles stay exact where loaded.
    const tile: PyramidTile = { level, tx, ty, w: decoded.width, h: decoded.height, indices };
    board.pyramid?.put(tile);
    this.d.sink.drawPyramid(board, tile);
    // Zoomed out only: at level 0 a pending placement must stay until its own tile's delta has come.
    if (answer.seq !== null && this.level > 0) {
      board.advanceTo(answer.seq);
      this.d.sink.seq(board.seq);
    }
    this.markLoaded();
  }
}
