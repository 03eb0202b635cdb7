import {
  ErrorCode,
  MsgType,
  PROTOCOL_VERSION,
  type AckMsg,
  type ErrorMsg,
  type HelloMsg,
} from '../../protocol/messages.ts';
import { Board } from './board/board.ts';
import { type AppDeps, BoardFeed } from './board-feed.ts';

export type { AppDeps };
import { type ConnectionStatus, tryDecodeServerMessage } from './connection/connection.ts';
import { deadlineFromAck, deadlineFromWait } from './place/cooldown.ts';
import {
  CONNECTION_LOST_TEXT,
  HISTORY_TEXT,
  NOT_CONNECTED_TEXT,
  POLLING_TEXT,
  refusalText,
  versionMismatchText,
} from './ui/error-text.ts';
import { panToShow, stepAim } from './place/aim.ts';
import { cycleColour } from './input/key-map.ts';
import { StatusBar } from './ui/status-bar.ts';
import { PLACE_MIN_SCALE, PLACE_ZOOM_SCALE, type Point } from './view/view.ts';

/** Refresh rate of the cooldown and reconnect countdowns. */
const TIMER_MS = 250;

export class CanvasApp extends BoardFeed {
  private cooldownMs = 0;
  private nextAllowedAt = 0;
  private nextId = 1;
  private readonly bar: StatusBar;
  /**
   * The identity token the server minted for this page when it had no cookie (hello.token); sent
   * back on reconnects, since cooldowns belong to the identity. Kept in memory only: it is a secret.
   */
  token: string | null = null;
  /** The reticle: where the confirm button (touch) or Enter (keyboard) places; null when not aiming. */
  private aim: Point | null = null;

  constructor(d: AppDeps) {
    super(d);
    this.bar = new StatusBar(d);
    d.connection.onMessage = (bytes) => this.onFrame(bytes);
    d.connection.onStatus = (s) => this.onConnectionStatus(s);
    d.poller.onImage = (png, seq) => this.applyPng(png, seq);
    d.poller.onResult = (ok) => {
      this.bar.polled(ok);
      this.refreshStatus();
    };
    d.ui.onPick = (i) => this.pick(i);
    d.ui.onRetry = () => this.retryNow();
    d.confirm.onConfirm = () => this.confirmAim();
  }

  start(): void {
    this.d.ui.setPlacingEnabled(false);
    this.d.connection.start();
    setInterval(() => this.refreshTimers(), TIMER_MS);
  }

  /** The view moved or the viewport resized: draw again (once per animation frame). */
  redraw(): void {
    this.d.renderer.requestDraw();
    this.scheduleLinkWrite();
  }

  /** Skip the reconnect backoff (the browser reports the network is back). */
  retryNow(): void {
    this.d.connection.retryNow();
  }

  get placingEnabled(): boolean {
    return this.d.connection.status.kind === 'open' && this.board !== null && this.loaded && !this.history;
  }

  pick(index: number): void {
    if (this.board && index >= this.board.palette.length) return;
    this.selected = index;
    this.d.ui.setSelected(index);
    this.d.info.hide(); // a colour in hand: clicks place again
    this.showAim();
    this.scheduleLinkWrite();
  }

  /** The next or previous colour of the palette (keyboard `]` and `[`). */
  cycle(step: 1 | -1): void {
    const next = cycleColour(this.selected, step, this.board?.palette.length ?? 0);
    if (next !== null) this.pick(next);
  }

  /**
   * A click or tap on the canvas at a screen point: place the selected colour there (`aimFirst`, a
   * touch screen: only move the reticle there, the confirm button places), or with no colour selected
   * show who placed that pixel (the info panel; it needs no WebSocket).
   */
  tap(p: Point, aimFirst = false): void {
    const { board, view } = this;
    if (!board || !view) return;
    const pixel = view.pixelAt(p);
    if (!pixel) return;
    if (view.scale < PLACE_MIN_SCALE) {
      view.zoomAt(p, PLACE_ZOOM_SCALE / view.scale);
      this.redraw();
      return this.d.ui.showMessage('Zoomed in so you can aim: now click or tap the exact pixel.', 'info');
    }
    if (aimFirst && this.selected !== null) return this.setAim(pixel);
    this.placeAt(pixel);
  }

  /** Moves the keyboard reticle (it starts at the centre of the view), scrolling to keep it on screen. */
  moveAim(dx: number, dy: number): void {
    const { board, view } = this;
    if (!board || !view) return;
    const from = this.aim ?? stepAim(view.centrePixel(), 0, 0, board);
    const to = this.aim ? stepAim(from, dx, dy, board) : from;
    const pan = panToShow(view, to);
    if (pan.dx !== 0 || pan.dy !== 0) view.pan(pan.dx, pan.dy);
    this.setAim(to);
    this.redraw();
  }

  /** Enter or Space: place at the reticle (zooming in first when too small to see what is aimed at). */
  placeAtAim(): void {
    const { board, view } = this;
    if (!board || !view) return;
    if (!this.aim) return this.moveAim(0, 0);
    if (view.scale < PLACE_MIN_SCALE) {
      view.centreOn(this.aim.x, this.aim.y, PLACE_ZOOM_SCALE);
      this.redraw();
      return this.d.ui.showMessage('Zoomed in so you can see the pixel: press Enter again to place.', 'info');
    }
    this.placeAt(this.aim);
  }

  /** Where the reticle is (for the page's test handle). */
  get reticle(): Point | null {
    return this.aim;
  }

  clearAim(): void {
    this.setAim(null);
  }

  private confirmAim(): void {
    if (this.aim) this.placeAt(this.aim);
  }

  private setAim(pixel: Point | null): void {
    this.aim = pixel;
    this.d.renderer.setReticle(pixel);
    if (pixel) this.showCursor(pixel);
    this.showAim();
  }

  /** The confirm button follows the reticle, the colour and whether placing is possible. */
  private showAim(): void {
    const rgb = this.selected === null ? null : (this.board?.palette[this.selected] ?? null);
    this.d.confirm.show(this.aim, rgb, this.placingEnabled);
  }

  /** Places the selected colour at a pixel, or with none selected shows who placed it. */
  private placeAt(pixel: Point): void {
    const { board, view } = this;
    if (!board || !view) return;
    const ui = this.d.ui;
    if (this.history) return ui.showMessage(HISTORY_TEXT, 'info');
    this.showCursor(pixel);
    const offline = this.d.poller.active ? POLLING_TEXT : NOT_CONNECTED_TEXT;
    if (this.selected === null) {
      this.d.info.show(pixel.x, pixel.y, view.scale, board.palette);
      if (!this.placingEnabled) ui.showMessage(offline, 'error'); // say why the palette is off
      return;
    }
    if (!this.placingEnabled) return ui.showMessage(offline, 'error');
    if (this.nextAllowedAt - this.d.now() > 0) return this.pointAtCooldown();
    const id = this.nextId++;
    board.placeOptimistic(id, pixel.x, pixel.y, this.selected);
    this.d.renderer.paintPixel(board, pixel.x, pixel.y);
    this.showCursor(pixel);
    const sent = this.send({ t: MsgType.PLACE, id, x: pixel.x, y: pixel.y, c: this.selected });
    if (!sent) this.revert(id, NOT_CONNECTED_TEXT);
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
      case MsgType.ONLINE:
        return this.d.ui.setOnline(msg.n);
      default:
        // PROTOCOL.md: clients ignore what they do not know, so the server can add messages.
        return;
    }
  }

  private onHello(h: HelloMsg): void {
    if (h.v !== PROTOCOL_VERSION) this.d.ui.showMessage(versionMismatchText(h.v), 'error');
    this.cooldownMs = h.cooldownMs;
    this.d.ui.setOnline(h.online);
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
      this.loaded = false;
      // We asked to resume a board this server does not have: deltas would not fit, ask for a snapshot.
      if (this.resumedSince !== null) this.send({ t: MsgType.RESYNC });
    }
    this.d.poller.stop();
    this.refreshStatus();
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
    if (err.code === ErrorCode.COOLDOWN && err.wait !== undefined) {
      // One cooldown message: the countdown in the top bar, not a second one that goes stale.
      if (err.id !== undefined) this.revert(err.id, null);
      return this.pointAtCooldown();
    }
    if (err.id === undefined) {
      console.warn('server error', err.code, err.message);
      this.d.ui.showMessage(text, 'error');
      return;
    }
    this.revert(err.id, text);
    this.refreshTimers();
  }

  private revert(id: number, text: string | null): void {
    const board = this.board;
    const p = board?.revert(id);
    if (board && p) this.d.renderer.paintPixel(board, p.x, p.y);
    if (this.hoverPixel) this.showCursor(this.hoverPixel);
    if (text !== null) this.d.ui.showMessage(text, 'error');
  }

  /** A placement during the cooldown: draw the eye to the countdown (which says how long is left). */
  private pointAtCooldown(): void {
    this.d.ui.hideMessage();
    this.refreshTimers();
    this.d.ui.nudgeCooldown();
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

  protected refreshStatus(): void {
    this.bar.showStatus(this.placingEnabled, this.loaded);
    this.showAim();
  }

  protected refreshTimers(): void {
    this.bar.showTimers(this.nextAllowedAt, this.cooldownMs, this.placingEnabled, this.loaded);
  }
}
