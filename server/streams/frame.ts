/**
 * What a tick hands the streams: the encoded frame every reader shares until the next changed tick,
 * and the change since the previous one. The writer's ticker (tick/ticker.ts) makes these; an edge
 * receives them from the writer over the bus (bus/edge-bus.ts); the streams (streams.ts) send them.
 */
import { encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import type { ProgressBlock } from '../projects/progress-block.ts';
import type { DeltaEntry } from './delta-log.ts';

/** One encoded frame, shared by every reader until the next changed tick. */
export interface Frame {
  seq: number;
  /** The canvas's size at `seq`: an edge learns every size from it, with or without a PNG. */
  width: number;
  height: number;
  /** Strong ETag: canvas id + seq identify the grid exactly. */
  etag: string;
  /**
   * The whole canvas as one PNG; absent on a canvas over 4096 a side (canvas.ts
   * `WHOLE_CANVAS_MAX_SIDE`), which is served as tiles and region deltas only.
   */
  image?: WholeImage;
}

/** The whole-canvas PNG and the `png` WebSocket message carrying it, encoded once for all. */
export interface WholeImage {
  png: Buffer;
  message: Uint8Array;
}

export interface TickOutput {
  frame: Frame;
  /** The change since the previous frame; undefined when it was too large (send the frame instead). */
  delta: (DeltaEntry & { count: number }) | undefined;
  /** performance.now() when the tick captured the grid (or the edge received it). */
  startedAt: number;
  /** Wall time of the PNG encode (pack + deflate); 0 on an edge or without a whole image. */
  encodeSeconds: number;
  /**
   * The projects this tick touched, as packed records (projects/progress-block.ts); each process
   * encodes the `progress` of those its sockets watch, sent to them after the delta.
   */
  progress?: ProgressBlock;
  /**
   * The resizes since the previous frame, oldest first, each at its own seq: the sockets that asked
   * (`?resize=1`) get one `resize` message per resize before this frame, and no delta goes with it.
   */
  resizes?: FrameResize[];
}

/** A tick's resize: the new size, the columns and rows added on the left and top, and its message. */
export interface FrameResize {
  seq: number;
  width: number;
  height: number;
  left: number;
  top: number;
  /** The `resize` WebSocket message, encoded once. */
  message: Uint8Array;
}

/** A resize with its `resize` WebSocket message, encoded once for every socket (the ticker's, an edge's). */
export function resizeMessage(e: Omit<FrameResize, 'message'>): FrameResize {
  const { seq, width, height, left, top } = e;
  return {
    seq,
    width,
    height,
    left,
    top,
    message: encodeMessage({ t: MsgType.RESIZE, seq, width, height, left, top }),
  };
}
