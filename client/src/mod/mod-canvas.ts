/**
 * The console's canvas, read-only: the live board (GET /image polled every 2 s, decoded like the
 * player page's snapshots; on a large canvas, as the player page's tile mode does, the tiles in view
 * over HTTP, reloaded when a poll of GET /api/canvas sees a new seq, and the pyramid zoomed out)
 * drawn by the player page's Renderer and View, with the console's overlays
 * on top: the selected rectangle, the rectangle being dragged, the heatmap of the time window, and a
 * hot area being looked at. A left drag selects a rectangle; a right, middle or Shift drag pans; the
 * wheel zooms. Nothing here places a pixel or opens a WebSocket: the console is not a player.
 */
import { Board } from '../board/board.ts';
import { tryDecodeIndexedPng } from '../board/png-indices.ts';
import { browserFetchImage, ImagePoller } from '../connection/image-poller.ts';
import {
  browserCanvasInfo,
  browserFetchTile,
  browserPollCanvasInfo,
  type CanvasInfo,
  parseCanvasInfo,
  wantsTiles,
} from '../tiles/tile-fetch.ts';
import { TileSync } from '../tiles/tile-sync.ts';
import { visibleSource } from '../view/overview.ts';
import { Renderer } from '../view/renderer.ts';
import { MAX_SCALE, View } from '../view/view.ts';
import type { Rect } from './answers.ts';
import { type Point, rectBetween, rectCentre, rectOnScreen, scaleToShow } from './rect.ts';

/** The board changes at most once per tick; every 2 s is live enough to watch a raid and cheap (304s). */
const IMAGE_POLL_MS = 2000;
/** Heatmap opacity: the canvas under it must stay readable. */
const HEATMAP_ALPHA = 0.75;
const ZOOM_STEP = 1.2;

function timer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
}

export class ModCanvas {
  /** A rectangle was selected by a drag (or cleared: null). */
  onSelect: (rect: Rect | null) => void = () => {};
  /** The board arrived or changed (its seq). */
  onBoard: (board: Board) => void = () => {};
  board: Board | null = null;
  view: View | null = null;
  selection: Rect | null = null;
  /** A hot area being looked at (watch panel), outlined until another selection. */
  private spot: Rect | null = null;
  private heatmap: HTMLCanvasElement | null = null;
  /** The rectangle the heatmap covers; null: the whole canvas. */
  private heatRegion: Rect | null = null;
  private drag: { kind: 'select'; from: Point; to: Point } | { kind: 'pan'; last: Point } | null = null;
  private readonly renderer: Renderer;
  private readonly poller: ImagePoller;
  /** Tile mode (a large canvas): the tiles in view, and the poll of GET /api/canvas that reloads them. */
  private tiles: TileSync | null = null;
  private readonly canvasPoller: ImagePoller;
  /** Polled images handed to the decoder so far. */
  private images = 0;

  constructor(private readonly display: HTMLCanvasElement) {
    this.renderer = new Renderer(display);
    this.renderer.afterDraw = () => this.drawOverlays();
    this.poller = new ImagePoller({
      fetchImage: browserFetchImage,
      setTimer: timer,
      intervalMs: IMAGE_POLL_MS,
    });
    this.poller.onImage = (png, seq) => void this.image(png, seq);
    // GET /image refused: the canvas may have grown past 4096 a side (`use_tiles`), so look.
    this.poller.onResult = (ok) => {
      if (!ok) void this.tilesIfLarge();
    };
    this.canvasPoller = new ImagePoller({
      fetchImage: browserPollCanvasInfo,
      setTimer: timer,
      intervalMs: IMAGE_POLL_MS,
    });
    this.canvasPoller.onImage = (body) => this.canvasPolled(body);
    this.attachInput();
    new ResizeObserver(() => {
      this.view?.resize(display.clientWidth, display.clientHeight);
      this.moved();
    }).observe(display);
  }

  /** Whole-canvas or tile mode by the canvas's size, as the player page decides (tiles/tile-fetch.ts). */
  start(): void {
    void browserCanvasInfo().then((info) => {
      if (info && wantsTiles(info, location.search)) this.startTiles(info);
      else this.poller.start();
    });
  }

  private async tilesIfLarge(): Promise<void> {
    const info = this.tiles ? null : await browserCanvasInfo();
    if (info && wantsTiles(info, '') && !this.tiles) this.startTiles(info);
  }

  /**
   * Tile mode: the player page's TileSync without a WebSocket (the console is not a player): it
   * loads the tiles in view over HTTP, and the pyramid's zoomed out; each new seq a poll of
   * GET /api/canvas sees reloads them (unchanged ones answer 304), a new size lays them out again.
   */
  private startTiles(info: CanvasInfo): void {
    this.poller.stop();
    const renderer = this.renderer;
    const tiles = new TileSync({
      layout: info,
      seq: info.seq,
      fetchTile: browserFetchTile,
      decodePng: (png) => tryDecodeIndexedPng(png),
      send: () => false,
      view: () =>
        this.view && {
          rect: visibleSource(this.view),
          devicePerPixel: this.view.scale * (window.devicePixelRatio || 1),
        },
      setTimer: timer,
      sink: {
        replaced: (b) => this.replaced(b),
        loaded: () => {},
        drawRect: (b, rect) => renderer.paintRect(b, rect),
        dropRect: (b, rect) => renderer.dropRect(b, rect),
        drawPyramid: (b, tile) => renderer.paintPyramid(b, tile),
        drawDelta: (b, px) => renderer.paintDelta(b, px),
        drawPixels: (b, pixels) => {
          for (const p of pixels) renderer.paintPixel(b, p.x, p.y);
        },
        seq: () => {
          if (this.board) this.onBoard(this.board);
        },
      },
    });
    this.tiles = tiles;
    tiles.hello({ width: info.width, height: info.height, palette: info.palette });
    this.canvasPoller.start();
  }

  /** A poll of GET /api/canvas with a new body: a new seq (reload the tiles in view) or a new size. */
  private canvasPolled(body: Uint8Array): void {
    const tiles = this.tiles;
    let info: CanvasInfo | null = null;
    try {
      info = parseCanvasInfo(JSON.parse(new TextDecoder().decode(body)));
    } catch {
      return;
    }
    const board = tiles?.board;
    if (!tiles || !info || !board) return;
    if (info.width !== board.width || info.height !== board.height) tiles.resize(info);
    else {
      tiles.resumeFrom(info.seq);
      tiles.reload();
    }
  }

  /** The view moved or zoomed: draw again, and in tile mode load what it shows now. */
  private moved(): void {
    this.renderer.requestDraw();
    this.tiles?.viewMoved();
  }

  /** A board of a new size (or the first): a new view onto it. */
  private replaced(board: Board): void {
    this.board = board;
    this.view = new View(board.width, board.height, this.display.clientWidth, this.display.clientHeight);
    this.renderer.setBoard(board, this.view);
    this.onBoard(board);
  }

  /** Selects a rectangle (from a drag, a hot area, or the page), or clears the selection. */
  select(rect: Rect | null, spot = false): void {
    this.selection = rect;
    this.spot = spot ? rect : null;
    this.renderer.requestDraw();
  }

  /** Centres the view on a rectangle at a zoom that shows it with room around it. */
  show(rect: Rect): void {
    const view = this.view;
    if (!view) return;
    const c = rectCentre(rect);
    view.centreOn(c.x - 0.5, c.y - 0.5, scaleToShow(rect, view.viewport, MAX_SCALE));
    this.moved();
  }

  fit(): void {
    this.view?.fit();
    this.moved();
  }

  /**
   * The heatmap as the server's PNG (black: never placed, left transparent), or null to hide it; of
   * `region` when given (a canvas over 4096 a side), else of the whole canvas.
   */
  async setHeatmap(png: Blob | null, region: Rect | null = null): Promise<void> {
    if (!png) {
      this.heatmap = null;
      this.renderer.requestDraw();
      return;
    }
    const bitmap = await createImageBitmap(png);
    const canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.drawImage(bitmap, 0, 0);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const d = image.data;
    // Never-placed pixels are black in the heatmap; over the canvas they would hide it.
    for (let i = 0; i < d.length; i += 4) if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0) d[i + 3] = 0;
    ctx.putImageData(image, 0, 0);
    this.heatmap = canvas;
    this.heatRegion = region;
    this.renderer.requestDraw();
  }

  /** Viewport (client) coordinates of the centre of board pixel (x, y), for tests. */
  pixelToClient(x: number, y: number): Point | null {
    const p = this.view?.pixelCentre(x, y);
    if (!p) return null;
    const r = this.display.getBoundingClientRect();
    return { x: p.x + r.left, y: p.y + r.top };
  }

  private async image(png: Uint8Array, seq: number | null): Promise<void> {
    // Decoding is asynchronous: a polled image whose decode ends after a newer one's is dropped.
    const mine = ++this.images;
    const decoded = await tryDecodeIndexedPng(png);
    if (!decoded || mine !== this.images) return;
    const { width, height, palette, indices } = decoded;
    const board = this.board;
    if (board?.matches(width, height, palette)) {
      board.cells.replace(indices, false);
      board.seq = seq ?? board.seq;
      this.renderer.paintAll(board);
      this.onBoard(board);
    } else this.replaced(new Board(width, height, palette, indices, seq ?? 0));
  }

  private local(e: MouseEvent): Point {
    const r = this.display.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private attachInput(): void {
    const d = this.display;
    d.addEventListener('contextmenu', (e) => e.preventDefault()); // the right button pans
    d.addEventListener('pointerdown', (e) => {
      const view = this.view;
      if (!view) return;
      d.setPointerCapture(e.pointerId);
      const p = this.local(e);
      this.drag =
        e.button === 0 && !e.shiftKey
          ? { kind: 'select', from: view.screenToBoard(p), to: view.screenToBoard(p) }
          : { kind: 'pan', last: p };
    });
    d.addEventListener('pointermove', (e) => {
      const view = this.view;
      const drag = this.drag;
      if (!view || !drag) return;
      const p = this.local(e);
      if (drag.kind === 'pan') {
        view.pan(p.x - drag.last.x, p.y - drag.last.y);
        drag.last = p;
        this.moved();
      } else {
        drag.to = view.screenToBoard(p);
        this.renderer.requestDraw();
      }
    });
    const end = (e: PointerEvent): void => {
      const drag = this.drag;
      this.drag = null;
      if (drag?.kind !== 'select' || !this.board || !this.view) return;
      drag.to = this.view.screenToBoard(this.local(e));
      const rect = rectBetween(drag.from, drag.to, this.board.width, this.board.height);
      this.select(rect);
      this.onSelect(rect);
    };
    d.addEventListener('pointerup', end);
    d.addEventListener('pointercancel', () => {
      this.drag = null;
      this.renderer.requestDraw();
    });
    d.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        this.view?.zoomAt(this.local(e), e.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP);
        this.moved();
      },
      { passive: false },
    );
  }

  private drawOverlays(): void {
    const view = this.view;
    const ctx = this.display.getContext('2d');
    if (!view || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (this.heatmap) {
      ctx.globalAlpha = HEATMAP_ALPHA;
      ctx.imageSmoothingEnabled = false;
      const r = this.heatRegion ?? { x: 0, y: 0, width: view.boardW, height: view.boardH };
      ctx.drawImage(
        this.heatmap,
        view.ox + r.x * view.scale,
        view.oy + r.y * view.scale,
        r.width * view.scale,
        r.height * view.scale,
      );
      ctx.globalAlpha = 1;
    }
    const drag = this.drag;
    const dragged =
      drag?.kind === 'select' && this.board
        ? rectBetween(drag.from, drag.to, this.board.width, this.board.height)
        : null;
    const shown = dragged ?? this.selection;
    if (shown) outline(ctx, rectOnScreen(shown, view), this.spot !== null && !dragged ? '#ff9f1a' : '#ffffff');
  }
}

/** A rectangle outline seen on any colour: a dark line under a light dashed one, and a faint fill. */
function outline(ctx: CanvasRenderingContext2D, r: Rect, colour: string): void {
  ctx.fillStyle = 'rgba(108, 182, 255, 0.15)';
  ctx.fillRect(r.x, r.y, r.width, r.height);
  ctx.lineWidth = 3;
  ctx.setLineDash([]);
  ctx.strokeStyle = 'rgba(0,0,0,0.8)';
  ctx.strokeRect(r.x - 1, r.y - 1, r.width + 2, r.height + 2);
  ctx.lineWidth = 1.5;
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = colour;
  ctx.strokeRect(r.x - 1, r.y - 1, r.width + 2, r.height + 2);
  ctx.setLineDash([]);
}
