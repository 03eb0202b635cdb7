/**
 * The tick: once per interval, if the canvas changed since the last frame, capture the change (the
 * delta) and the grid (packed PNG scanlines) in one synchronous step, deflate off the loop, then hand
 * both to the publisher. One encode per tick for everyone; at most one tick in flight.
 */
import { encodeMessage } from '../../protocol/codec.ts';
import { packDeltaPixels } from '../../protocol/delta.ts';
import { MsgType } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import type { DeltaEntry } from './delta-log.ts';
import type { PngEncoder } from '../canvas/png-encoder.ts';

/** One encoded frame, shared by every reader until the next changed tick. */
export interface Frame {
  seq: number;
  png: Buffer;
  /** Strong ETag: canvas id + seq identify the grid exactly. */
  etag: string;
  /** The `png` WebSocket message carrying these bytes, encoded once for all subscribers. */
  message: Uint8Array;
}

export interface TickOutput {
  frame: Frame;
  /** The change since the previous frame; undefined when it was too large (send the frame instead). */
  delta: (DeltaEntry & { count: number }) | undefined;
  /** performance.now() when the tick captured the grid. */
  startedAt: number;
  /** Wall time of the PNG encode (pack + deflate). */
  encodeSeconds: number;
}

export class Ticker {
  private current: Frame | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** Set when a tick failed after taking the changes: the next tick must be a snapshot. */
  private changesLost = false;

  constructor(
    private readonly canvas: Canvas,
    private readonly encoder: PngEncoder,
    private readonly canvasId: string,
    /** Deltas with more changed cells than this are replaced by a PNG snapshot. */
    private readonly maxDeltaCells: number,
    /** Publishes a tick; the next tick waits for the returned promise (sharded fan-out). */
    private readonly onTick: (out: TickOutput) => void | Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The latest frame. Valid after `run` resolved once. */
  get frame(): Frame {
    if (!this.current) throw new Error('no frame encoded yet');
    return this.current;
  }

  /** Captures and encodes the current grid; the first call (startup) has no delta. */
  async run(): Promise<TickOutput> {
    const { canvas } = this;
    const startedAt = performance.now();
    const fromSeq = this.current?.seq;
    const toSeq = canvas.seq;
    // Everything up to the first await is synchronous: delta and scanlines describe the same grid.
    const cells = canvas.takeChanges();
    const pending = this.encoder.encode(canvas.grid);
    let delta: TickOutput['delta'];
    if (fromSeq !== undefined && !this.changesLost && cells.length <= this.maxDeltaCells) {
      const px = packDeltaPixels(cells, canvas.grid, canvas.width);
      const message = encodeMessage({ t: MsgType.DELTA, fromSeq, toSeq, n: cells.length, px });
      delta = { fromSeq, toSeq, message, count: cells.length };
    }
    let png: Buffer;
    try {
      png = await pending;
    } catch (err) {
      this.changesLost = true;
      throw err;
    }
    this.changesLost = false;
    const frame: Frame = {
      seq: toSeq,
      png,
      etag: `"${this.canvasId}-${toSeq}"`,
      message: encodeMessage({ t: MsgType.PNG, seq: toSeq, png }),
    };
    this.current = frame;
    return { frame, delta, startedAt, encodeSeconds: (performance.now() - startedAt) / 1000 };
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  /** Runs a tick when the grid changed and none is running; otherwise does nothing. */
  tick(): void {
    if (this.inFlight || (this.current && this.current.seq === this.canvas.seq)) return;
    this.inFlight = this.run()
      .then((out) => this.onTick(out))
      .catch(this.onError)
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
