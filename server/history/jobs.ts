/**
 * What the event loop asks history workers to build, and what they answer: plain structured-clone
 * data, shared by history-service.ts (main thread) and history-worker.ts (worker).
 */

/** A rectangle of the canvas, in canvas pixels. */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Given to every worker once, at start. */
export interface HistoryWorkerData {
  dbPath: string;
  width: number;
  height: number;
  /** 0xRRGGBB per palette index, as in the config. */
  palette: number[];
  /** Deflate level of history images: the same as /image's (--png-level). */
  pngLevel: number;
}

export type HistoryJob =
  | {
      kind: 'image';
      seq: number;
      /** A rectangle of the canvas at `seq` (region-replay.ts); absent: the whole canvas. */
      region?: Region;
    }
  | {
      kind: 'timelapse';
      /** The seq of each frame, in order. */
      seqs: readonly number[];
      region: Region;
      /** Each canvas pixel becomes scale x scale output pixels. */
      scale: number;
      delayMs: number;
      /** APNG num_plays: 0 plays forever. */
      loop: number;
    }
  | { kind: 'heatmap'; from: number; to: number; region: Region };

export interface HistoryJobResult {
  bytes: Uint8Array;
  /** Heatmap only: the largest count of one pixel, and the placements counted. */
  max?: number;
  total?: number;
}

export type WorkerRequest = { id: number; job: HistoryJob };
export type WorkerAnswer =
  | { id: number; ok: true; result: HistoryJobResult }
  | { id: number; ok: false; error: string };
