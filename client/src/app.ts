/**
 * The client's controller: connects the WebSocket (or the polling fallback) to the board, the view,
 * the renderer and the page chrome, and runs the placement flow:
 * tap -> checks (connected, colour picked, cooldown) -> optimistic pixel -> `place` ->
 * `ack` (kept; cooldown starts) or `error` (reverted, explained).
 */
import { encodeMessage } from '../../protocol/codec.ts';
import {
  ErrorCode,
  MsgType,
  PROTOCOL_VERSION,
  type AckMsg,
  type ClientMessage,
  type DeltaMsg,
  type ErrorMsg,
  type HelloMsg,
} from '../../protocol/messages.ts';
import { Board } from './board.ts';
import { type Connection, type ConnectionStatus, tryDecodeServerMessage } from './connection.ts';
import { deadlineFromAck, deadlineFromWait } from './cooldown.ts';
import {
  CONNECTION_LOST_TEXT,
  NOT_CONNECTED_TEXT,
  POLLING_TEXT,
  refusalText,
  versionMismatchText,
} from './error-text.ts';
import type { ImagePoller } from './image-poller.ts';
import { remapToPalette, tryDecodeIndexedPng } from './png-indices.ts';
import type { Renderer } from './renderer.ts';
import { StatusBar } from './status-bar.ts';
import type { Ui } from './ui.ts';
import { PLACE_MIN_SCALE, PLACE_ZOOM_SCALE, type Point, View } from './view.ts';

export interface AppDeps {
  ui: Ui;
  renderer: Renderer;
  connection: Connection;
  poller: ImagePoller;
  /** Size of the drawing area in CSS pixels. */
  viewportSize(): { w: number; h: number };
  now(): number;
}

/** Refresh rate of the cooldown and reconnect countdowns. */
const TIMER_MS = 250;

export class CanvasApp {
  board: Board | null = null;
  view: View | null = null;
  private cooldownMs = 0;
  private selected: number | null = null;
  private nextAllowedAt = 0;
  private nextId = 1;
  private hoverPixel: Point | null = null;
  private readonly bar: StatusBar;
  /** The board's seq came from the server (a snapshot or delta), so a reconnect may resume from it. */
  private seqKnown = false;
  /** The `since` the current connection asked for (null: it asked for a fresh snapshot). */
  private resumedSince: number | null = null;
  /** Deltas are ignored until the next snapshot (after a gap, or before the first one). */
  private awaitingSnapshot = true;
  /**
   * The identity token the server minted for this page when it had no cookie (hello.token); sent
   * back on reconnects, since cooldowns belong to the identity. Kept in memory only: it is a secret.
   */
  token: string | null = null;

  constructor(private readonly d: AppDeps) {
    this.bar = new StatusBar(d);
    d.connection.onMessage = (bytes) => this.onFrame(bytes);
    d.connection.onStatus = (s) => this.onConnectionStatus(s);
    d.poller.onImage = (png, seq) => this.applyPng(png, seq);
    d.poller.onResult = (ok) => {
      this.bar.polled(ok);
      this.refreshStatus();
    };
    d.ui.onPick = (i) => this.pick(i);
  }

  start(): void {
    this.d.ui.setPlacingEnabled(false);
    this.d.connection.start();
    setInterval(() => this.refreshTimers(), TIMER_MS);
  }

  /**
   * `since` for the next WebSocket URL: our seq when the board is a faithful copy of the server's at
   * that seq, so a reconnect gets just the ticks it missed. Called by the connection before each attempt.
   */
  nextSince(): number | null {
    this.resumedSince = this.board && this.seqKnown && !this.awaitingSnapshot ? this.board.seq : null;
    return this.resumedSince;
  }

  /** The view moved or the viewport resized: draw again (once per animation frame). */
  redraw(): void {
    this.d.renderer.requestDraw();
  }

  /** Skip the reconnect backoff (the browser reports the network is back). */
  retryNow(): void {
    this.d.connection.retryNow();
  }

  get placingEnabled(): boolean {
    return this.d.connection.status.kind === 'open' && this.board !== null;
  }

  pick(index: number): void {
    this.selected = index;
    this.d.ui.setSelected(index);
  }

  /** A click or tap on the canvas at a screen point: place the selected colour there. */
  tap(p: Point): void {
    const { board, view } = this;
    if (!board || !view) return;
    const pixel = view.pixelAt(p);
    if (!pixel) return;
    const ui = this.d.ui;
    if (view.scale < PLACE_MIN_SCALE) {
      view.zoomAt(p, PLACE_ZOOM_SCALE / view.scale);
      this.redraw();
      return ui.showMessage('Zoomed in so you can aim: now click or tap the exact pixel.', 'info');
    }
    this.showCursor(pixel);
    if (!this.placingEnabled) return ui.showMessage(this.d.poller.active ? POLLING_TEXT : NOT_CONNECTED_TEXT, 'error');
    if (this.selected === null) return ui.showMessage('Pick a colour below first, then click a pixel.', 'info');
    const wait = this.nextAllowedAt - this.d.now();
    if (wait > 0) return ui.showMessage(refusalText(ErrorCode.COOLDOWN, '', wait), 'error');
    const id = this.nextId++;
    board.placeOptimistic(id, pixel.x, pixel.y, this.selected);
    this.d.renderer.paintPixel(board, pixel.x, pixel.y);
    this.showCursor(pixel);
    const sent = this.send({ t: MsgType.PLACE, id, x: pixel.x, y: pixel.y, c: this.selected });
    if (!sent) this.revert(id, NOT_CONNECTED_TEXT);
  }

  hover(p: Point | null): void {
    const pixel = p && this.view ? this.view.pixelAt(p) : null;
    this.d.renderer.setHover(pixel);
    this.showCursor(pixel);
  }

  private showCursor(pixel: Point | null): void {
    this.hoverPixel = pixel;
    this.d.ui.setCursor(pixel, pixel && this.board ? this.board.colourAt(pixel.x, pixel.y) : null);
  }

  private onFrame(bytes: Uint8Array): void {
    const msg = tryDecodeServerMessage(bytes);
    if (!msg) return;
    switch (msg.t) {
      case MsgType.HELLO:
        return this.onHello(msg);
      case MsgType.PNG:
        return this.applyPng(msg.png, msg.seq);
      case MsgType.DELTA:
        return this.onDelta(msg);
      case MsgType.ACK:
        return this.onAck(msg);
      case MsgType.ERROR:
        return this.onError(msg);
      default:
        // PROTOCOL.md: clients ignore what they do not know, so the server can add messages.
        return;
    }
  }

  private onHello(h: HelloMsg): void {
    if (h.v !== PROTOCOL_VERSION) this.d.ui.showMessage(versionMismatchText(h.v), 'error');
    this.cooldownMs = h.cooldownMs;
    if (h.token !== undefined) this.token = h.token;
    // The server says how long this identity must still wait (after a reload, the page knows nothing);
    // a server without the field leaves our own estimate in place.
    if (h.wait !== undefined) this.nextAllowedAt = deadlineFromWait(h.wait, this.d.now());
    const b = this.board;
    if (b?.matches(h.width, h.height, h.palette)) {
      // A reconnect: what follows (a snapshot, or the missed deltas) holds every acked placement.
      for (const p of b.clearPending()) this.d.renderer.paintPixel(b, p.x, p.y);
    } else {
      this.resetBoard(new Board(h.width, h.height, h.palette, undefined, h.seq));
      this.seqKnown = false;
      this.awaitingSnapshot = true;
      // We asked to resume a board this server does not have: deltas would not fit, ask for a snapshot.
      if (this.resumedSince !== null) this.send({ t: MsgType.RESYNC });
    }
    this.d.poller.stop();
    this.refreshStatus();
  }

  private resetBoard(board: Board): void {
    this.board = board;
    if (this.selected !== null && this.selected >= board.palette.length) this.selected = null;
    // Palette first: its bar takes room from the canvas, so the size measured next is the final one
    // and the first fit does not shift when the layout settles.
    this.d.ui.setPalette(board.palette, this.selected);
    const { w, h } = this.d.viewportSize();
    this.view = new View(board.width, board.height, w, h);
    this.d.renderer.setBoard(board, this.view);
  }

  /** A whole-canvas snapshot, from the WebSocket or the poller. `seq` null: unknown (keep ours). */
  private applyPng(png: Uint8Array, seq: number | null): void {
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
    this.d.renderer.paintAll(board);
    if (this.hoverPixel) this.showCursor(this.hoverPixel);
    document.body.dataset['seq'] = String(board.seq);
  }

  private onDelta(delta: DeltaMsg): void {
    const board = this.board;
    if (!board || this.awaitingSnapshot) return;
    const result = board.applyDelta(delta.fromSeq, delta.toSeq, delta.px);
    if (result === 'applied') {
      this.d.renderer.paintDelta(board, delta.px);
      if (this.hoverPixel) this.showCursor(this.hoverPixel);
      document.body.dataset['seq'] = String(board.seq);
    } else if (result === 'gap') {
      // A missed tick (skipped under backpressure) or a payload that does not fit: start over from a
      // snapshot, ignoring deltas until it arrives (PROTOCOL.md, "Keeping a board on the delta stream").
      this.awaitingSnapshot = true;
      this.send({ t: MsgType.RESYNC });
    }
  }

  private send(msg: ClientMessage): boolean {
    return this.d.connection.send(encodeMessage(msg));
  }

  private onAck(ack: AckMsg): void {
    const board = this.board;
    if (!board) return;
    const p = board.confirm(ack.id, ack.seq);
    if (!p) return;
    this.nextAllowedAt = deadlineFromAck(ack.next, this.d.now(), this.cooldownMs);
    this.refreshTimers();
  }

  private onError(err: ErrorMsg): void {
    if (err.code === ErrorCode.COOLDOWN && err.wait !== undefined)
      this.nextAllowedAt = deadlineFromWait(err.wait, this.d.now());
    const text = refusalText(err.code, err.message, err.wait);
    if (err.id === undefined) {
      console.warn('server error', err.code, err.message);
      this.d.ui.showMessage(text, 'error');
      return;
    }
    this.revert(err.id, text);
    this.refreshTimers();
  }

  private revert(id: number, text: string): void {
    const board = this.board;
    const p = board?.revert(id);
    if (board && p) this.d.renderer.paintPixel(board, p.x, p.y);
    if (this.hoverPixel) this.showCursor(this.hoverPixel);
    this.d.ui.showMessage(text, 'error');
  }

  private onConnectionStatus(s: ConnectionStatus): void {
    if (s.kind === 'waiting') {
      this.bar.retryIn(s.retryInMs);
      const board = this.board;
      const dropped = board?.revertUnacked() ?? [];
      for (const p of dropped) if (board) this.d.renderer.paintPixel(board, p.x, p.y);
      if (dropped.length > 0) this.d.ui.showMessage(CONNECTION_LOST_TEXT, 'error');
      if (s.blocked) this.d.poller.start();
    }
    this.refreshStatus();
  }

  private refreshStatus(): void {
    this.bar.showStatus(this.placingEnabled);
  }

  private refreshTimers(): void {
    this.bar.showTimers(this.nextAllowedAt, this.cooldownMs, this.placingEnabled);
  }
}
