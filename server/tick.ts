/**
 * The tick: once per interval, if the canvas changed since the last encode, encode it once and hand
 * the result to every consumer (HTTP cache and WebSocket publish). At most one encode is in flight.
 */
import { encodeMessage } from '../protocol/codec.ts';
import { MsgType } from '../protocol/messages.ts';
import type { Canvas } from './canvas.ts';
import type { PngEncoder } from './png-encoder.ts';

/** One encoded frame, shared by every reader until the next changed tick. */
export interface Frame {
  seq: number;
  png: Buffer;
  /** Strong ETag: canvas id + seq identify the grid exactly. */
  etag: string;
  /** The `png` WebSocket message carrying these bytes, encoded once for all subscribers. */
  message: Uint8Array;
}

export class Ticker {
  private current: Frame | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly canvas: Canvas,
    private readonly encoder: PngEncoder,
    private readonly canvasId: string,
    private readonly onFrame: (frame: Frame) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The latest frame. Valid after `encodeNow` resolved once. */
  get frame(): Frame {
    if (!this.current) throw new Error('no frame encoded yet');
    return this.current;
  }

  async encodeNow(): Promise<Frame> {
    const seq = this.canvas.seq;
    const png = await this.encoder.encode(this.canvas.grid);
    const frame: Frame = {
      seq,
      png,
      etag: `"${this.canvasId}-${seq}"`,
      message: encodeMessage({ t: MsgType.PNG, seq, png }),
    };
    this.current = frame;
    return frame;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  /** Encodes and publishes when the grid changed and no encode is running; otherwise does nothing. */
  tick(): void {
    if (this.inFlight || (this.current && this.current.seq === this.canvas.seq)) return;
    this.inFlight = this.encodeNow()
      .then((frame) => this.onFrame(frame))
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
