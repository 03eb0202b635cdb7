/**
 * The tick: once per interval, if the canvas changed since the last frame, capture the change (the
 * delta) and the grid (packed PNG scanlines) in one synchronous step, deflate off the loop, then hand
 * both on. A canvas over 4096 a side has no whole PNG: its tick is the delta alone (work that follows
 * the changed pixels, never the area), served as region deltas and tiles (`deliver`: the streams, and on a writer the bus). One encode per tick for everyone. One
 * tick at a time, publish included: a tick waits for the previous fan-out rather than racing it, so
 * its delta starts where the last one ended and delta subscribers never need the PNG for a slow tick.
 * A resize that takes the canvas past 4096 a side drops the encoder (and its full-size scanlines)
 * for good: from that tick on the canvas is served as tiles only.
 */
import { encodeMessage } from '../../protocol/codec.ts';
import { packDeltaPixels } from '../../protocol/delta.ts';
import { MsgType } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import type { PngEncoder } from '../canvas/png-encoder.ts';
import type { ProgressBlock } from '../projects/progress-block.ts';
import { type Frame, resizeMessage, type TickOutput } from '../streams/frame.ts';
import type { SizeEvent } from '../canvas/canvas-size.ts';

export type { Frame, TickOutput };

export interface TickerOptions {
  canvas: Canvas;
  /** The whole-canvas PNG's encoder; absent on a canvas without whole images (over 4096 a side). */
  encoder: PngEncoder | undefined;
  /**
   * An encoder for the grown canvas (a resize): the old one's scanlines are of the old size. Not
   * called when the canvas grew past 4096 a side (no whole image there).
   */
  newEncoder: (width: number, height: number) => PngEncoder;
  /** Part of every ETag: canvas id + seq identify the grid exactly. */
  canvasId: string;
  /**
   * Deltas with more changed cells than this are replaced by a PNG snapshot (or, without one, by
   * `tiles`); asked each tick, so it follows the canvas's current size.
   */
  maxDeltaCells: () => number;
  /** Hands a tick on; the next tick waits for the returned promise. */
  deliver: (out: TickOutput) => Promise<void>;
  /** Told synchronously of the cells each tick captured (the tiles mark what changed: tiles/tile-cache.ts). */
  captured?: (cells: readonly number[]) => void;
  /**
   * The projects' progress of the tick ending at `seq` (projects/projects.ts `takeTick`; undefined
   * when no project changed), taken in the same synchronous step as the delta, so both describe the
   * same placements.
   */
  progress?: (seq: number) => ProgressBlock | undefined;
  onError: (err: unknown) => void;
}

export class Ticker {
  private current: Frame | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** Set when a tick failed after taking the changes: the next tick must be a snapshot. */
  private changesLost = false;
  private encoder: PngEncoder | undefined;
  /** Resizes since the last tick, oldest first: the next frame is of the new size and carries each. */
  private grown: SizeEvent[] = [];

  constructor(private readonly opts: TickerOptions) {
    this.encoder = opts.encoder;
  }

  /** The canvas grew at `e.seq` (committer's `resized`): the next tick is a whole frame of the new size. */
  resized(e: SizeEvent): void {
    const { seq, width, height, left, top } = e;
    this.grown.push({ seq, width, height, left, top });
  }

  /** The latest frame. Valid after `run` resolved once. */
  get frame(): Frame {
    if (!this.current) throw new Error('no frame encoded yet');
    return this.current;
  }

  /**
   * Captures and encodes the current grid; the first call (startup) has no delta. `level` overrides
   * the PNG's deflate level for this tick (see PngEncoder.encodeChanged).
   */
  async run(level?: number): Promise<TickOutput> {
    const { canvas } = this.opts;
    const startedAt = performance.now();
    const fromSeq = this.current?.seq;
    const toSeq = canvas.seq;
    // Everything up to the first await is synchronous: delta and scanlines describe the same grid.
    const cells = canvas.takeChanges();
    const grown = this.grown;
    this.grown = [];
    // A failed tick after a resize is retried from scratch (changesLost): the resize messages are
    // sent only with a frame, so they are kept until one went out. Past 4096 a side the encoder goes:
    // its scanlines (16 MB at 4096 x 4096) are of a size nothing serves any more.
    if (grown.length > 0)
      this.encoder = canvas.wholeImages ? this.opts.newEncoder(canvas.width, canvas.height) : undefined;
    // Until this tick is done, a failure anywhere below loses these changes: the next tick then
    // sends a snapshot and packs every scanline again.
    const lost = this.changesLost || grown.length > 0;
    this.changesLost = true;
    this.opts.captured?.(cells);
    const progress = this.opts.progress?.(toSeq);
    const pending = this.encoder?.encodeChanged(canvas, lost ? undefined : cells, level);
    let delta: TickOutput['delta'];
    if (fromSeq !== undefined && !lost && cells.length <= this.opts.maxDeltaCells()) {
      const px = packDeltaPixels(cells, canvas.coloursOf(cells), canvas.width);
      const message = encodeMessage({ t: MsgType.DELTA, fromSeq, toSeq, n: cells.length, px });
      delta = { fromSeq, toSeq, message, count: cells.length };
    }
    let png: Buffer | undefined;
    try {
      png = await pending;
    } catch (err) {
      // Sent with the next frame instead, before any resize since.
      this.grown = [...grown, ...this.grown];
      throw err;
    }
    this.changesLost = false;
    const frame: Frame = {
      seq: toSeq,
      etag: `"${this.opts.canvasId}-${toSeq}"`,
      width: canvas.width,
      height: canvas.height,
    };
    if (png) frame.image = { png, message: encodeMessage({ t: MsgType.PNG, seq: toSeq, png }) };
    this.current = frame;
    const out: TickOutput = { frame, delta, startedAt, encodeSeconds: (performance.now() - startedAt) / 1000 };
    if (progress) out.progress = progress;
    if (grown.length > 0) out.resizes = grown.map(resizeMessage);
    return out;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  /** Runs a tick when the grid changed and none is running; otherwise does nothing. */
  tick(): void {
    if (this.inFlight || (this.current && this.current.seq === this.opts.canvas.seq)) return;
    this.inFlight = this.run()
      .then((out) => this.opts.deliver(out))
      .catch(this.opts.onError)
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
