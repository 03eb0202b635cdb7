/**
 * Keeps the client's board a faithful copy of the server's, from what the WebSocket (and, when it is
 * blocked, the image poller) delivers: `hello` says the canvas's shape, a `png` replaces every pixel,
 * a `delta` applies only on top of the seq it starts from, and a gap (a missed tick, a payload that
 * does not fit) asks for a snapshot with `resync` and ignores deltas until it arrives. It also says
 * which seq a reconnect may resume from (`since`), so the server sends only the ticks it missed.
 *
 * PNG decoding is asynchronous (a worker, png-decoder.ts), and frames keep arriving meanwhile; the
 * order of the stream is kept all the same: deltas that arrive while a snapshot decodes wait and apply
 * after it (or are found stale or a gap there), a snapshot never applies after a newer one, and a
 * snapshot of a board that a new `hello` replaced is dropped.
 *
 * No DOM and no socket: PNG decoding, sending `resync` and drawing are injected, so the state machine
 * is unit tested in Node with real protocol frames.
 */
import type { DeltaMsg, HelloMsg } from '../../../protocol/messages.ts';
import { Board, type Pending } from './board.ts';
import { type DecodedIndices, remapToPalette } from './png-indices.ts';

/**
 * Deltas kept while a snapshot decodes: ten seconds of 100 ms ticks. Past that the oldest are
 * dropped, and the first delta after the snapshot is a gap that asks for a resync.
 */
const MAX_WAITING_DELTAS = 100;

type DeltaFrame = Pick<DeltaMsg, 'fromSeq' | 'toSeq' | 'px'>;

/** Where the board's changes go: the page draws them (the tests record them). */
export interface BoardSink {
  /** A board of a new shape or palette replaced the previous one (nothing of it is known yet). */
  replaced(board: Board): void;
  /** The first snapshot of the current board arrived: the page stops saying it is loading. */
  loaded(): void;
  /**
   * Every pixel may have changed (a snapshot). `pixels`: the snapshot already turned into ImageData
   * pixel words by the decoder (pending placements not included), for the page to take as they are.
   */
  drawAll(board: Board, pixels?: Uint32Array<ArrayBuffer>): void;
  /** The pixels listed in this delta payload (protocol/delta.ts) changed. */
  drawDelta(board: Board, px: Uint8Array): void;
  /** Pending placements were dropped from these pixels: the server's colours show again. */
  drawPixels(board: Board, pixels: readonly Pending[]): void;
  /** The board is now current as of this seq (after a snapshot or a delta). */
  seq(seq: number): void;
}

export interface BoardSyncDeps {
  /**
   * A canvas PNG as palette indices (and, optionally, pixel words), or null for bytes that are not an
   * indexed PNG. Asynchronous: the page decodes in a worker.
   */
  decodePng(png: Uint8Array): Promise<(DecodedIndices & { pixels?: Uint32Array<ArrayBuffer> }) | null>;
  /** Asks the server for a snapshot (a `resync` frame); a closed connection may drop it. */
  resync(): void;
  sink: BoardSink;
  /** Told about a PNG whose colours are not all in the palette (it is ignored). */
  warn?(text: string): void;
}

/**
 * - loading: no snapshot of the current board yet; deltas are ignored, placing is off.
 * - live: the grid is the server's as of board.seq (`seqKnown` false: a poll without an ETag seq, so
 *   the seq is a guess and a reconnect must not resume from it).
 * - resyncing: a gap was seen; deltas are ignored until the snapshot that `resync` asked for.
 */
export type SyncState = { kind: 'loading' } | { kind: 'live'; seqKnown: boolean } | { kind: 'resyncing' };

export class BoardSync {
  private current: Board | null = null;
  private phase: SyncState = { kind: 'loading' };
  /** The `since` the current connection asked for (null: it asked for a fresh snapshot). */
  private resumedSince: number | null = null;
  /** Numbers the snapshots received, in order. */
  private snapshotTurn = 0;
  /** The turn of the newest snapshot applied (or, after a hello replaced the board, of the last one received before it). */
  private appliedTurn = 0;
  /** A snapshot is being decoded: deltas wait in `waiting` until it applies. */
  private decoding = false;
  private waiting: DeltaFrame[] = [];

  constructor(private readonly d: BoardSyncDeps) {}

  get board(): Board | null {
    return this.current;
  }

  get state(): SyncState {
    return this.phase;
  }

  /** A snapshot of the current board has arrived (a later gap keeps it on screen while resyncing). */
  get loaded(): boolean {
    return this.phase.kind !== 'loading';
  }

  /**
   * `since` for the next connection: our seq when the board is the server's as of that seq, so a
   * reconnect gets just the ticks it missed; null asks for a snapshot. Called before each attempt.
   */
  nextSince(): number | null {
    const b = this.current;
    this.resumedSince = b && this.phase.kind === 'live' && this.phase.seqKnown ? b.seq : null;
    return this.resumedSince;
  }

  /** The first frame of a connection: the canvas's shape and palette. */
  hello(h: Pick<HelloMsg, 'width' | 'height' | 'palette' | 'seq'>): void {
    const b = this.current;
    if (b?.matches(h.width, h.height, h.palette)) {
      // A reconnect to the same canvas: what follows (a snapshot, or the missed deltas) holds every
      // acked placement, and unacked ones were dropped with the old connection.
      const dropped = b.clearPending();
      if (dropped.length > 0) this.d.sink.drawPixels(b, dropped);
      return;
    }
    this.current = new Board(h.width, h.height, h.palette, undefined, h.seq);
    this.phase = { kind: 'loading' };
    // Snapshots still decoding, and the deltas behind them, belong to the previous canvas.
    this.appliedTurn = this.snapshotTurn;
    this.decoding = false;
    this.waiting = [];
    this.d.sink.replaced(this.current);
    // We asked to resume a board this server does not have: its deltas would not fit, so ask for a
    // snapshot (the server sends none on its own when it holds our `since`).
    if (this.resumedSince !== null) this.d.resync();
  }

  /**
   * A whole-canvas snapshot, from the WebSocket or the poller. `seq` null: unknown (keep ours).
   * Resolves when it has been applied, or dropped (not a PNG of ours, or superseded meanwhile).
   */
  async png(png: Uint8Array, seq: number | null): Promise<void> {
    const turn = ++this.snapshotTurn;
    this.decoding = true;
    // A decoder that fails outright must not leave deltas waiting for good: treat it as a bad PNG.
    const decoded = await this.d.decodePng(png).catch(() => null);
    // A newer snapshot has been applied, or a hello replaced the board, while this one decoded.
    if (turn <= this.appliedTurn) return;
    // An older snapshot that finishes first still shows (a PNG stream faster than its decoding must
    // not starve), but the deltas keep waiting for the newest.
    if (decoded && this.applySnapshot(decoded, seq)) this.appliedTurn = turn;
    if (turn !== this.snapshotTurn) return;
    this.decoding = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const delta of waiting) this.delta(delta);
  }

  /** Applies a decoded snapshot; false when it does not fit the palette (ignored). */
  private applySnapshot(decoded: DecodedIndices & { pixels?: Uint32Array<ArrayBuffer> }, seq: number | null): boolean {
    let board = this.current;
    if (!board || board.width !== decoded.width || board.height !== decoded.height) {
      // Polling before any hello: the PNG itself says the size and (PLTE) the palette.
      board = new Board(decoded.width, decoded.height, board?.palette ?? decoded.palette);
      this.current = board;
      this.phase = { kind: 'loading' };
      this.d.sink.replaced(board);
    }
    const indices = remapToPalette(decoded, board.palette);
    if (!indices) {
      this.d.warn?.('the canvas PNG uses colours outside the palette; ignored');
      return false;
    }
    // The decoder's arrays are the board's to keep (a fresh decode each time).
    board.applySnapshot(indices, seq ?? board.seq, true);
    const wasLoading = this.phase.kind === 'loading';
    this.phase = { kind: 'live', seqKnown: seq !== null };
    if (wasLoading) this.d.sink.loaded();
    this.d.sink.drawAll(board, decoded.pixels?.length === board.width * board.height ? decoded.pixels : undefined);
    this.d.sink.seq(board.seq);
    return true;
  }

  /**
   * A delta frame: applied when it starts at our seq, ignored when stale, a resync when it does not
   * fit. While a snapshot decodes it waits, and is judged against the board that snapshot makes.
   */
  delta(delta: DeltaFrame): void {
    if (this.decoding) {
      this.waiting.push(delta);
      if (this.waiting.length > MAX_WAITING_DELTAS) this.waiting.shift();
      return;
    }
    const board = this.current;
    if (!board || this.phase.kind !== 'live') return;
    const result = board.applyDelta(delta.fromSeq, delta.toSeq, delta.px);
    if (result === 'applied') {
      this.d.sink.drawDelta(board, delta.px);
      this.d.sink.seq(board.seq);
    } else if (result === 'gap') {
      // A missed tick (skipped under backpressure) or a payload that does not fit: start over from a
      // snapshot (PROTOCOL.md, "Keeping a board on the delta stream").
      this.phase = { kind: 'resyncing' };
      this.d.resync();
    }
  }
}
