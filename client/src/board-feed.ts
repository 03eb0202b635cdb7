/**
 * The board side of the client: the board and view a server's snapshots and deltas keep up to date
 * (hello, png, delta, resync after a gap, `since` for reconnects), the position link they start from,
 * and the pixel under the cursor. CanvasApp (app.ts) adds the placement flow and the page chrome.
 */
import { encodeMessage } from '../../protocol/codec.ts';
import { MsgType, type ClientMessage, type DeltaMsg } from '../../protocol/messages.ts';
import { Board } from './board/board.ts';
import type { Connection } from './connection/connection.ts';
import type { ConfirmButton } from './place/aim.ts';
import type { ImagePoller } from './connection/image-poller.ts';
import { LinkSync, type LinkStore } from './link/link-sync.ts';
import { remapToPalette, tryDecodeIndexedPng } from './board/png-indices.ts';
import type { Renderer } from './view/renderer.ts';
import type { Ui } from './ui/ui.ts';
import { type Point, View } from './view/view.ts';

export interface AppDeps {
  ui: Ui;
  renderer: Renderer;
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
}

export interface PixelInfoView {
  show(x: number, y: number, scale: number, palette: readonly number[]): void;
  hide(): void;
}

export abstract class BoardFeed {
  board: Board | null = null;
  view: View | null = null;
  protected selected: number | null = null;
  protected hoverPixel: Point | null = null;
  /** The board's seq came from the server (a snapshot or delta), so a reconnect may resume from it. */
  protected seqKnown = false;
  /** The `since` the current connection asked for (null: it asked for a fresh snapshot). */
  protected resumedSince: number | null = null;
  /** Deltas are ignored until the next snapshot (after a gap, or before the first one). */
  protected awaitingSnapshot = true;
  /** A snapshot of the current board has arrived: until then the page is loading and placing is off. */
  protected loaded = false;
  protected readonly link: LinkSync;
  /** The History view is open: placing is off; `past` is the canvas it shows (null: not arrived yet). */
  protected history = false;
  past: { seq: number; indices: Uint8Array } | null = null;
  /** The live board reached a new seq (snapshot or delta): the History slider's end follows it. */
  onSeq: (seq: number) => void = () => {};

  constructor(protected readonly d: AppDeps) {
    this.link = new LinkSync(d.link);
  }

  protected abstract refreshStatus(): void;
  protected abstract refreshTimers(): void;

  protected scheduleLinkWrite(): void {
    this.link.schedule(() => ({ view: this.view, board: this.board, colour: this.selected }));
  }

  /**
   * `since` for the next WebSocket URL: our seq when the board is a faithful copy of the server's at
   * that seq, so a reconnect gets just the ticks it missed. Called by the connection before each attempt.
   */
  nextSince(): number | null {
    this.resumedSince = this.board && this.seqKnown && !this.awaitingSnapshot ? this.board.seq : null;
    return this.resumedSince;
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

  /** Shows the canvas at a past seq (indices of the live board's size) in place of the board. */
  showPast(past: { seq: number; indices: Uint8Array } | null): void {
    const board = this.board;
    this.past = board && past?.indices.length === board.width * board.height ? past : null;
    this.d.renderer.showPast(this.past?.indices ?? null, board?.width ?? 0, board?.height ?? 0);
    if (this.hoverPixel) this.showCursor(this.hoverPixel);
  }

  /** The palette index on screen at (x, y): the past canvas while History shows one, else the board. */
  shownColourAt(x: number, y: number): number | null {
    const board = this.board;
    if (!board?.inBounds(x, y)) return null;
    return this.past ? (this.past.indices[y * board.width + x] ?? null) : board.colourAt(x, y);
  }

  hover(p: Point | null): void {
    const pixel = p && this.view ? this.view.pixelAt(p) : null;
    this.d.renderer.setHover(pixel);
    this.showCursor(pixel);
  }

  protected showCursor(pixel: Point | null): void {
    this.hoverPixel = pixel;
    this.d.ui.setCursor(pixel, pixel ? this.shownColourAt(pixel.x, pixel.y) : null);
  }

  protected resetBoard(board: Board): void {
    this.board = board;
    this.past = null; // the renderer drops its past canvas in setBoard
    if (this.selected !== null && this.selected >= board.palette.length) this.selected = null;
    // The position link (and, on the first board, its colour), pulled onto this canvas.
    const fitted = this.link.fittedTo(board);
    if (fitted.colour !== null && this.view === null) this.selected = fitted.colour;
    // Palette first: its bar takes room from the canvas, so the size measured next is the final one
    // and the first fit does not shift when the layout settles.
    this.d.ui.setPalette(board.palette, this.selected);
    const { w, h } = this.d.viewportSize();
    this.view = new View(board.width, board.height, w, h);
    this.link.apply(this.view, fitted, { w, h });
    this.d.renderer.setBoard(board, this.view);
  }

  /** A whole-canvas snapshot, from the WebSocket or the poller. `seq` null: unknown (keep ours). */
  protected applyPng(png: Uint8Array, seq: number | null): void {
    const decoded = tryDecodeIndexedPng(png);
    if (!decoded) return;
    let board = this.board;
    if (!board || board.width !== decoded.width || board.height !== decoded.height) {
      // Polling before any hello: the PNG itself says the size and (PLTE) the palette.
      board = new Board(decoded.width, decoded.height, board?.palette ?? decoded.palette);
      this.resetBoard(board);
    }
    const indices = remapToPalette(decoded, board.palette);
    if (!indices) {
      console.warn('the canvas PNG uses colours outside the palette; ignored');
      return;
    }
    board.applySnapshot(indices, seq ?? board.seq);
    this.seqKnown = seq !== null;
    this.awaitingSnapshot = false;
    if (!this.loaded) {
      this.loaded = true;
      this.d.ui.hideLoading();
      this.refreshStatus();
      this.refreshTimers();
    }
    this.d.renderer.paintAll(board);
    if (this.hoverPixel) this.showCursor(this.hoverPixel);
    document.body.dataset['seq'] = String(board.seq);
    this.onSeq(board.seq);
  }

  protected onDelta(delta: DeltaMsg): void {
    const board = this.board;
    if (!board || this.awaitingSnapshot) return;
    const result = board.applyDelta(delta.fromSeq, delta.toSeq, delta.px);
    if (result === 'applied') {
      this.d.renderer.paintDelta(board, delta.px);
      if (this.hoverPixel) this.showCursor(this.hoverPixel);
      document.body.dataset['seq'] = String(board.seq);
      this.onSeq(board.seq);
    } else if (result === 'gap') {
      // A missed tick (skipped under backpressure) or a payload that does not fit: start over from a
      // snapshot, ignoring deltas until it arrives (PROTOCOL.md, "Keeping a board on the delta stream").
      this.awaitingSnapshot = true;
      this.send({ t: MsgType.RESYNC });
    }
  }

  protected send(msg: ClientMessage): boolean {
    return this.d.connection.send(encodeMessage(msg));
  }
}
