/**
 * A history worker thread (started through ops/worker-thread.ts): opens the store's SQLite file read-only (WAL
 * lets it read while the writer commits) and builds one job at a time: history images, timelapses,
 * heatmaps. All the CPU of history (replay, APNG and PNG writing, deflate) runs here, never on the event loop.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { PngEncoder } from '../canvas/png-encoder.ts';
import { buildHeatmap } from './heatmap.ts';
import type { HistoryJob, HistoryJobResult, HistoryWorkerData, WorkerAnswer, WorkerRequest } from './jobs.ts';
import { regionAt } from './region-replay.ts';
import { HistoryReader } from './replay.ts';
import { buildTimelapse } from './timelapse.ts';

const data = workerData as HistoryWorkerData;
const db = new Database(data.dbPath, { readonly: true, fileMustExist: true });
const reader = new HistoryReader(db, data.width, data.height);
/** One encoder per canvas size (the canvas grows: canvas/canvas-size.ts); a handful per history. */
const encoders = new Map<string, PngEncoder>();
function encoderFor(width: number, height: number): PngEncoder {
  const key = `${width}x${height}`;
  let encoder = encoders.get(key);
  if (!encoder) {
    encoder = new PngEncoder(width, height, data.palette, data.pngLevel);
    encoders.set(key, encoder);
  }
  return encoder;
}

/**
 * The bytes in an ArrayBuffer of their own, so it can be transferred: small Buffers share Node's
 * allocation pool, which must not be transferred (it would be detached under other Buffers).
 */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

function build(job: HistoryJob): HistoryJobResult {
  switch (job.kind) {
    case 'image': {
      const sizes = reader.sizes();
      if (job.region) {
        // A region's size varies with every request: its encoder is not kept.
        const { w, h } = job.region;
        const cells = regionAt(reader, job.seq, job.region, sizes);
        return { bytes: new PngEncoder(w, h, data.palette, data.pngLevel).encodeSync(cells) };
      }
      // Of the size the canvas had at that seq.
      const { width, height } = sizes.at(job.seq);
      return { bytes: encoderFor(width, height).encodeSync(reader.canvasAt(job.seq, sizes)) };
    }
    case 'timelapse':
      return { bytes: buildTimelapse(reader, data.palette, job) };
    case 'heatmap': {
      const h = buildHeatmap(db, job.from, job.to, job.region, data.pngLevel, reader.sizes());
      return { bytes: h.png, max: h.max, total: h.total };
    }
  }
}

const port = parentPort;
if (!port) throw new Error('history-worker.ts runs as a worker thread (see worker-pool.ts)');
port.on('message', ({ id, job }: WorkerRequest) => {
  let answer: WorkerAnswer;
  try {
    const result = build(job);
    answer = { id, ok: true, result: { ...result, bytes: own(result.bytes) } };
  } catch (err) {
    answer = { id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  // Transfer the bytes (a timelapse can be megabytes): no copy into the main thread.
  const transfer = answer.ok ? [answer.result.bytes.buffer as ArrayBuffer] : [];
  port.postMessage(answer, transfer);
});
