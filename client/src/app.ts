/**
 * The page's controller, composed of three parts that each own one concern:
 * - board sync (board/board-sync.ts): the board kept in step with the server's frames; for a large
 *   canvas, tile sync (tiles/tile-sync.ts) instead: the tiles in view and their region deltas;
 * - placing (place/placing.ts): the colour in hand, the cooldown, place / ack / error;
 * - aiming (place/aiming.ts): which pixel a click, tap, arrow key or Enter places on.
 * This file routes the connection's frames and status to them and keeps what the screen shows around
 * the board: the view (and the position link that follows it), the cursor readout, the History view's
 * past canvas, and the status bar.
 */
import { encodeMessage } from '../../protocol/codec.ts';
import {
  ErrorCode,
  MsgType,
  PROTOCOL_VERSION,
  type AckMsg,
  type Charges,
  type ClientMessage,
  type HelloMsg,
  type PlaceMsg,
  type PowChallenge,
  type ProgressMsg,
  type ResizeMsg,
} from '../../protocol/messages.ts';
import type { Board, Pending } from './board/board.ts';
import { type BoardSink, BoardSync } from './board/board-sync.ts';
import type { PngDecoder } from './board/png-decoder.ts';
import { tryDecodeIndexedPng } from './board/png-indices.ts';
import { type Connection, type ConnectionStatus, tryDecodeServerMessage } from './connection/connection.ts';
import type { PastCanvas } from './history/history-region.ts';
import type { ImagePoller } from './connection/image-poller.ts';
import { type LinkStore, LinkSync } from './link/link-sync.ts';
import type { ConfirmButton } from './place/aim.ts';
import { Aiming } from './place/aiming.ts';
import { type PixelInfoView, Placing } from './place/placing.ts';
import type { ProofOfWork } from './place/proof-of-work.ts';
import { versionMismatchText } from './ui/error-text.ts';
import type { ReadySignal } from './ui/ready-signal.ts';
import { StatusBar } from './ui/status-bar.ts';
import type { Ui } from './ui/ui.ts';
import { type TileSyncDeps, TileSync } from './tiles/tile-sync.ts';
import type { TileLayout } from './tiles/tile-region.ts';
import { visibleSource } from './view/overview.ts';
import type { Renderer } from './view/renderer.ts';
import { type Point, View } from './view/view.ts';

/** Refresh rate of the cooldown and reconnect countdowns. */
const TIMER_MS = 250;

export interface AppDeps {
  ui: Ui;
  renderer: Renderer;
  /** Decodes canvas PNGs (in a worker: png-decoder.ts). */
  decoder: Pick<PngDecoder, 'decode'>;
  connection: Connection;
  poller: ImagePoller;
  /** Size of the drawing area in CSS pixels. */
  viewportSize(): { w: number; h: number };
  now(): number;
  /** The page's position link (location.hash), and how to replace it. */
  link: LinkStore;
  /** The pixel info panel (info-panel.ts), shown by a click with no colour selected. */
  info: PixelInfoView;
  /** The button that places at the reticle (touch and keyboard aiming). */
  confirm: Pick<ConfirmButton, 'show' | 'onConfirm'>;
  /** The tab title and the opt-in signal when the cooldown ends. */
  ready?: Pick<ReadySignal, 'update'>;
  /** The persistent ban notice. */
  ban?: { set(reason: string | null): void };
  /**
   * POST /api/pixel, for placing while the WebSocket is blocked and the page polls: the answer's JSON
   * and status (null when the server could not be reached).
   */
  postPixel?(
    body: { x: number; y: number; color: number; pow?: string },
    token: string | null,
  ): Promise<HttpAnswer | null>;
  /** Solves the server's proof-of-work challenges (place/proof-of-work.ts). */
  pow?: ProofOfWork;
  /**
   * GET /api/canvas again, as tile mode needs it (null: no answer): a whole-canvas page switches to
   * tile mode when the server says `use_tiles` (the canvas grew past 4096 a side under it).
   */
  tileSource?(): Promise<TileSource | null>;
  /** The page is in tile mode now (its poll reads GET /api/canvas, not /image). */
  tileModeStarted?(): void;
}

/** What tile mode needs from the page (main.ts). */
export interface TileSource {
  /** GET /api/canvas: the canvas's size and tiles, and the tick seq to connect from. */
  layout: TileLayout;
  palette: readonly number[];
  seq: number;
  fetchTile: TileSyncDeps['fetchTile'];
  setTimer: TileSyncDeps['setTimer'];
  /** Runs fn once the frame drawn now is on screen (TileSyncDeps.afterPaint). */
  afterPaint?: TileSyncDeps['afterPaint'];
  devicePixelRatio(): number;
  /** GET /api/canvas's seq now (null: no answer), asked before reconnecting. */
  canvasSeq(): Promise<number | null>;
}

/** An HTTP answer to POST /api/pixel: `{seq, next}` on 200, else `{error, message, wait?}`. */
export interface HttpAnswer {
  status: number;
  body: unknown;
}

export class CanvasApp {
  /** Tile mode's sync (start with tiles), else null. */
  private tiles: TileSync | null = null;
  private tileSource: TileSource | null = null;
  private whole: BoardSync;
  readonly placing: Placing;
  readonly aiming: Aiming;
  view: View | null = null;
  /**
   * The History view shows this past canvas in place of the board (null: live, or not arrived yet):
   * the whole board, or on a canvas over 4096 a side the region that was in view.
   */
  past: PastCanvas | null = null;
  /** The view moved (pan, zoom, resize, a new board): History asks for the past of the new view. */
  onViewMoved: () => void = () => {};
  /** The colour the template wants at a pixel, for the cursor readout (null: no template there). */
  templateWant: (x: number, y: number) => number | null = () => null;
  /** The live board reached a new seq (snapshot or delta): the History slider's end follows it. */
  onSeq: (seq: number) => void = () => {};
  /**
   * The identity token the server minted for this page when it had no cookie (hello.token); sent
   * back on reconnects, since cooldowns belong to the identity. Kept in memory only: it is a secret.
   */
  token: string | null = null;
  /**
   * The canvas grew, with `left` columns and `top` rows added there: what the page placed in canvas
   * coordinates (the template) moves with the art.
   */
  onResized: (left: number, top: number) => void = () => {};
  /** A `progress` message of the project this page watches (projects/projects-panel.ts). */
  onProgress: (m: ProgressMsg) => void = () => {};
  /** The project whose progress this page receives (0: none); asked again on every connection. */
  private watching = 0;
  private readonly bar: StatusBar;
  private readonly link: LinkSync;
  /** The History view is open: placing is off. */
  private history = false;
  /** The last poll reached the server (placing over HTTP needs it). */
  private pollOk = false;
  private hoverPixel: Point | null = null;
  /**
   * A `resize` came and its board is not there yet: the view of the next board keeps the art it
   * showed, moved by the columns and rows added on the left and top (not the position link's place).
   */
  private grown: { left: number; top: number } | null = null;
  /** A switch to tile mode is under way (GET /api/canvas asked). */
  private switching = false;
  /** Where both syncs send the board's changes. */
  private readonly sink: Omit<BoardSink, 'drawAll'>;

  constructor(private readonly d: AppDeps) {
    this.bar = new StatusBar(d);
    this.link = new LinkSync(d.link);
    const board = (): Board | null => this.sync.board;
    const enabled = (): boolean => this.placingEnabled;
    const cursor = { show: (p: Point) => this.showCursor(p), refresh: () => this.refreshCursor() };
    this.sink = {
      replaced: (b: Board) => this.boardReplaced(b),
      loaded: () => {
        d.ui.hideLoading();
        this.refreshStatus();
        this.refreshTimers();
      },
      drawDelta: (b: Board, px: Uint8Array) => {
        d.renderer.paintDelta(b, px);
        this.refreshCursor();
      },
      drawPixels: (b: Board, pixels: readonly Pending[]) => {
        for (const p of pixels) d.renderer.paintPixel(b, p.x, p.y);
      },
      seq: (seq: number) => {
        document.body.dataset['seq'] = String(seq);
        this.onSeq(seq);
      },
    };
    this.whole = new BoardSync({
      decodePng: (png) => d.decoder.decode(png),
      resync: () => this.send({ t: MsgType.RESYNC }),
      warn: (text) => console.warn(text),
      // Once the page switched to tile mode, a snapshot still being decoded must not bring the
      // whole-canvas board back.
      sink: {
        replaced: (b) => this.tiles === null && this.sink.replaced(b),
        loaded: () => this.tiles === null && this.sink.loaded(),
        drawDelta: (b, px) => this.tiles === null && this.sink.drawDelta(b, px),
        drawPixels: (b, pixels) => this.tiles === null && this.sink.drawPixels(b, pixels),
        seq: (seq) => this.tiles === null && this.sink.seq(seq),
        drawAll: (b, pixels) => {
          if (this.tiles !== null) return;
          d.renderer.paintAll(b, pixels);
          this.refreshCursor();
        },
      },
    });
    this.placing = new Placing({
      board,
      enabled,
      history: () => this.history,
      polling: () => d.poller.active,
      scale: () => this.view?.scale ?? 1,
      send: (msg) => this.send(msg),
      now: () => d.now(),
      ui: d.ui,
      info: d.info,
      paintPixel: (b, x, y) => d.renderer.paintPixel(b, x, y),
      cursor,
      selectionChanged: () => {
        this.aiming.refresh();
        this.scheduleLinkWrite();
      },
      timersChanged: () => this.refreshTimers(),
      ...(d.ban ? { ban: d.ban } : {}),
      ...(d.pow ? { pow: d.pow } : {}),
    });
    this.aiming = new Aiming({
      board,
      view: () => this.view,
      placing: this.placing,
      enabled,
      waitMs: () => this.placing.cooldownState.nextAllowedAt - d.now(),
      redraw: () => this.redraw(),
      showMessage: (text, kind) => d.ui.showMessage(text, kind),
      setReticle: (p) => d.renderer.setReticle(p),
      showCursor: cursor.show,
      confirm: d.confirm,
    });
    d.connection.onMessage = (bytes) => this.onFrame(bytes);
    d.connection.onStatus = (s) => this.onConnectionStatus(s);
    // In tile mode the poll is of GET /api/canvas: a new seq, so the tiles in view load again.
    d.poller.onImage = (png, seq) => (this.tiles ? this.tiles.reload() : void this.sync.png(png, seq));
    d.poller.onResult = (ok) => {
      this.pollOk = ok;
      this.bar.polled(ok);
      this.refreshStatus();
    };
    d.ui.onPick = (i) => this.placing.toggle(i);
    d.ui.onLook = () => this.placing.unpick();
    d.ui.onRetry = () => this.retryNow();
  }

  /** The board's sync: tiles and region deltas in tile mode, else whole-canvas snapshots and deltas. */
  get sync(): BoardSync | TileSync {
    return this.tiles ?? this.whole;
  }

  /** Tile mode's sync, or null. */
  get tileSync(): TileSync | null {
    return this.tiles;
  }

  /** Connects. `tiles`: in tile mode (a large canvas, main.ts decides), with what it needs. */
  start(tiles?: TileSource): void {
    this.d.ui.setPlacingEnabled(false);
    // The board and its tiles at once, from GET /api/canvas: they load while the WebSocket connects
    // (its hello subscribes to their region, and unchanged tiles then answer 304), or is blocked.
    if (tiles) this.startTiles(tiles);
    this.d.connection.start();
    setInterval(() => this.refreshTimers(), TIMER_MS);
  }

  private startTiles(tiles: TileSource): void {
    this.tiles = this.tileSyncFor(tiles);
    this.tileSource = tiles;
    const { width, height } = tiles.layout;
    this.tiles.hello({ width, height, palette: tiles.palette });
    this.d.tileModeStarted?.();
  }

  /**
   * `use_tiles` on a whole-canvas page: the canvas is over 4096 a side now (it grew under the page;
   * a `resize` may have come first), so no whole-canvas frame will come again. Reads GET /api/canvas
   * and goes on in tile mode at its size, on the same connection: the new board's region is
   * subscribed at once. Tile mode ignores `use_tiles` (its hello says it on a large canvas).
   */
  private async switchToTiles(): Promise<void> {
    if (this.tiles || this.switching || !this.d.tileSource) return;
    this.switching = true;
    const source = await this.d.tileSource().catch(() => null);
    this.switching = false;
    if (this.tiles) return;
    if (!source) {
      this.d.ui.showMessage('The canvas grew too large for this view: reload the page to see it.', 'error');
      return;
    }
    this.startTiles(source);
    this.refreshStatus();
  }

  private tileSyncFor(tiles: TileSource): TileSync {
    return new TileSync({
      layout: tiles.layout,
      seq: tiles.seq,
      fetchTile: tiles.fetchTile,
      // On the main thread: a 256 x 256 tile is about a millisecond, and the worker's decoder keeps
      // only the newest of the snapshots queued (png-decoder.ts), where every tile counts.
      decodePng: (png) => tryDecodeIndexedPng(png),
      send: (msg) => this.send(msg),
      view: () =>
        this.view && { rect: visibleSource(this.view), devicePerPixel: this.view.scale * tiles.devicePixelRatio() },
      setTimer: tiles.setTimer,
      ...(tiles.afterPaint ? { afterPaint: tiles.afterPaint } : {}),
      warn: (text) => console.warn(text),
      sink: {
        ...this.sink,
        drawRect: (b, rect) => {
          this.d.renderer.paintRect(b, rect);
          this.refreshCursor();
        },
        dropRect: (b, rect) => this.d.renderer.dropRect(b, rect),
        drawPyramid: (b, tile) => {
          this.d.renderer.paintPyramid(b, tile);
          this.refreshCursor();
        },
      },
    });
  }

  /** The view moved or the viewport resized: draw again (once per animation frame). */
  redraw(): void {
    this.d.renderer.requestDraw();
    this.tiles?.viewMoved(); // tile mode: the tiles in view, once the view rests
    this.scheduleLinkWrite();
    this.onViewMoved();
  }

  /**
   * The board pixels in view (clamped to the board) and the board point at the screen's centre, or
   * null before the first board.
   */
  viewArea(): { visible: { x: number; y: number; w: number; h: number }; centre: Point } | null {
    const view = this.view;
    if (!view) return null;
    const { w, h } = view.viewport;
    return { visible: visibleSource(view), centre: view.screenToBoard({ x: w / 2, y: h / 2 }) };
  }

  /**
   * The hash changed under the open page (a link pasted into the address bar or followed): the view
   * goes where the position link says, and its colour is picked. Our own writes use replaceState,
   * which fires no hashchange, so this runs only for links from outside.
   */
  followLink(): void {
    const board = this.sync.board;
    if (!board || !this.view) return;
    const fitted = this.link.fittedTo(board);
    this.link.apply(this.view, fitted, this.d.viewportSize());
    if (fitted.colour !== null && fitted.colour !== this.placing.selected) this.placing.pick(fitted.colour);
    this.redraw();
  }

  /** Skip the reconnect backoff (the browser reports the network is back). */
  retryNow(): void {
    this.d.connection.retryNow();
  }

  get placingEnabled(): boolean {
    // While the WebSocket is blocked, placements go over HTTP (POST /api/pixel) as long as polls get through.
    const reachable =
      this.d.connection.status.kind === 'open' ||
      (this.d.poller.active && this.pollOk && this.d.postPixel !== undefined);
    return reachable && this.sync.board !== null && this.sync.loaded && !this.history;
  }

  /** Opens (placing off, the live board still shown) or closes (back to live) the History view. */
  viewHistory(on: boolean): void {
    this.history = on;
    if (on)
      this.d.info.hide(); // it would describe the live pixel, not the one on screen
    else this.showPast(null);
    this.refreshStatus();
    this.refreshTimers();
  }

  /**
   * Shows the canvas at a past seq in place of the board: palette indices of a rectangle of the live
   * board (all of it, or the region in view), dropped when it does not lie on the board.
   */
  showPast(past: PastCanvas | null): void {
    const board = this.sync.board;
    const fits =
      board !== null &&
      past !== null &&
      past.x >= 0 &&
      past.y >= 0 &&
      past.x + past.width <= board.width &&
      past.y + past.height <= board.height &&
      past.indices.length === past.width * past.height;
    this.past = fits ? past : null;
    this.d.renderer.showPast(this.past);
    this.refreshCursor();
  }

  /**
   * The palette index on screen at (x, y): the past canvas while History shows one (null outside the
   * region it covers: that part of the past is not known here), else the board.
   */
  shownColourAt(x: number, y: number): number | null {
    const board = this.sync.board;
    if (!board?.inBounds(x, y)) return null;
    const past = this.past;
    if (!past) return board.colourAt(x, y);
    const px = x - past.x;
    const py = y - past.y;
    if (px < 0 || py < 0 || px >= past.width || py >= past.height) return null;
    return past.indices[py * past.width + px] ?? null;
  }

  hover(p: Point | null): void {
    const pixel = p && this.view ? this.view.pixelAt(p) : null;
    this.d.renderer.setHover(pixel);
    this.showCursor(pixel);
  }

  private showCursor(pixel: Point | null): void {
    this.hoverPixel = pixel;
    this.d.ui.setCursor(
      pixel,
      pixel ? this.shownColourAt(pixel.x, pixel.y) : null,
      pixel && !this.past ? this.templateWant(pixel.x, pixel.y) : null,
    );
  }

  /** The colour under the cursor may have changed: read it again. */
  private refreshCursor(): void {
    if (this.hoverPixel) this.showCursor(this.hoverPixel);
  }

  private scheduleLinkWrite(): void {
    this.link.schedule(() => ({ view: this.view, board: this.sync.board, colour: this.placing.selected }));
  }

  /** A board of a new shape or palette: a new view onto it, pointed where the position link says. */
  private boardReplaced(board: Board): void {
    this.past = null; // the renderer drops its past canvas in setBoard
    const fitted = this.link.fittedTo(board);
    // The link's colour counts for the first board only; later ones keep the colour in hand.
    // Palette first: its bar takes room from the canvas, so the size measured next is the final one
    // and the first fit does not shift when the layout settles.
    this.placing.boardReplaced(board, this.view === null ? fitted.colour : null);
    const { w, h } = this.d.viewportSize();
    const before = this.view;
    const grown = this.grown;
    this.grown = null;
    this.view = new View(board.width, board.height, w, h);
    if (before && grown) {
      // The canvas grew under the page: the same art at the same zoom, and the link follows it.
      const centre = before.screenToBoard({ x: w / 2, y: h / 2 });
      this.view.centreOn(Math.floor(centre.x) + grown.left, Math.floor(centre.y) + grown.top, before.scale);
      this.scheduleLinkWrite();
    } else this.link.apply(this.view, fitted, { w, h });
    this.d.renderer.setBoard(board, this.view);
    this.onViewMoved(); // History (if open) asks for the past of the new board's view
  }

  /**
   * `resize`: the frame that follows is of the new size (a `png`, or in tile mode the tiles of the new
   * layout). The next board keeps the view on the art; the template moves with it.
   */
  private onResize(m: ResizeMsg): void {
    const g = this.grown;
    this.grown = { left: m.left + (g?.left ?? 0), top: m.top + (g?.top ?? 0) };
    this.onResized(m.left, m.top);
    this.tiles?.resize(m);
  }

  private onFrame(bytes: Uint8Array): void {
    const msg = tryDecodeServerMessage(bytes);
    if (!msg) return;
    switch (msg.t) {
      case MsgType.HELLO:
        return this.onHello(msg);
      case MsgType.PNG:
        return void this.sync.png(msg.png, msg.seq);
      case MsgType.DELTA:
        return this.sync.delta(msg);
      case MsgType.TILES:
        return this.tiles?.tiles(msg);
      case MsgType.RESIZE:
        return this.onResize(msg);
      case MsgType.ACK:
        return this.placing.ack(msg);
      case MsgType.ERROR:
        // A canvas over 4096 a side says so after hello (tile mode subscribes to its region anyway),
        // and a whole-canvas page hears it when the canvas grew past that: it switches to tiles.
        if (msg.code === ErrorCode.USE_TILES) return void this.switchToTiles();
        return this.placing.error(msg);
      case MsgType.ONLINE:
        return this.d.ui.setOnline(msg.n);
      case MsgType.PROGRESS:
        return this.onProgress(msg);
      default:
        // PROTOCOL.md: clients ignore what they do not know, so the server can add messages.
        return;
    }
  }

  private onHello(h: HelloMsg): void {
    if (h.v !== PROTOCOL_VERSION) this.d.ui.showMessage(versionMismatchText(h.v), 'error');
    this.d.ui.setOnline(h.online);
    if (h.token !== undefined) this.token = h.token;
    this.placing.hello(h);
    this.d.ui.setAccount(h.login, h.account === true);
    this.sync.hello(h);
    if (this.watching !== 0) this.send({ t: MsgType.WATCH, project: this.watching });
    this.d.poller.stop();
    this.refreshStatus();
  }

  private onConnectionStatus(s: ConnectionStatus): void {
    if (s.kind === 'waiting') {
      void this.tileSource?.canvasSeq().then((seq) => seq !== null && this.tiles?.resumeFrom(seq));
      this.bar.retryIn(s.retryInMs);
      this.placing.connectionLost();
      if (s.blocked) this.d.poller.start();
    }
    this.refreshStatus();
  }

  private refreshStatus(): void {
    this.bar.showStatus(this.placingEnabled, this.sync.loaded);
    this.aiming.refresh();
  }

  private refreshTimers(): void {
    const { nextAllowedAt, cooldownMs, charges } = this.placing.cooldownState;
    this.bar.showTimers(nextAllowedAt, cooldownMs, this.placingEnabled, this.sync.loaded, charges);
    this.aiming.refresh(); // the confirm button counts down too
  }

  /** Receive `progress` for project `id` from the next tick on (0: stop), now and after reconnects. */
  watchProject(id: number): void {
    this.watching = id;
    this.send({ t: MsgType.WATCH, project: id });
  }

  private send(msg: ClientMessage): boolean {
    if (msg.t === MsgType.PLACE && this.d.connection.status.kind !== 'open' && this.d.poller.active) {
      void this.placeOverHttp(msg);
      return true;
    }
    return this.d.connection.send(encodeMessage(msg));
  }

  /** A placement over HTTP while polling: its answer is handled as the WebSocket's ack or error would be. */
  private async placeOverHttp(msg: PlaceMsg): Promise<void> {
    const body = { x: msg.x, y: msg.y, color: msg.c, ...(msg.pow === undefined ? {} : { pow: msg.pow }) };
    const answer = await this.d.postPixel?.(body, this.token);
    const reply = (answer?.body ?? {}) as {
      seq?: unknown;
      next?: unknown;
      charges?: unknown;
      error?: unknown;
      message?: unknown;
      wait?: unknown;
      challenge?: unknown;
    };
    if (answer && answer.status === 200 && typeof reply.seq === 'number' && typeof reply.next === 'number') {
      const ack: AckMsg = { t: MsgType.ACK, id: msg.id, seq: reply.seq, next: reply.next };
      if (isCharges(reply.charges)) ack.charges = reply.charges;
      if (typeof reply.challenge === 'object' && reply.challenge !== null)
        ack.challenge = reply.challenge as PowChallenge;
      return this.placing.ack(ack);
    }
    // An unknown code is said with the server's wording (refusalText's default), as on the WebSocket.
    const code = (typeof reply.error === 'string' ? reply.error : ErrorCode.UNAVAILABLE) as ErrorCode;
    this.placing.error({
      t: MsgType.ERROR,
      id: msg.id,
      code,
      message: typeof reply.message === 'string' ? reply.message : 'the server could not be reached',
      ...(typeof reply.wait === 'number' ? { wait: reply.wait } : {}),
      // Handed to the widget as it came: a malformed one fails the solve, which reverts the pixel.
      ...(typeof reply.challenge === 'object' && reply.challenge !== null
        ? { challenge: reply.challenge as PowChallenge }
        : {}),
    });
  }
}

/** The charges of an HTTP placement's answer, checked as far as the page relies on them. */
function isCharges(v: unknown): v is Charges {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.left === 'number' &&
    typeof c.max === 'number' &&
    c.left <= c.max &&
    (c.next === undefined || typeof c.next === 'number')
  );
}
