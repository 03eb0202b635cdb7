/**
 * Canvas PNGs decoded off the main thread. Decoding a 4000 x 4000 snapshot (inflate, unfiltering,
 * unpacking indices) and turning it into pixels took 0.5-1.6 s of one main-thread task on a phone
 * (4x CPU throttle, perf/RESULTS.md "loading a big canvas"): the page froze while it loaded. A worker
 * (png-worker.ts, built by `npm run build` into client/dist/png-worker.js) does both and transfers
 * the index and pixel buffers back without a copy. Where no worker can run (it failed to load, or
 * the browser has none) the same code runs on the main thread, as before.
 */
import { decodeIndexedPng, type DecodedIndices } from './png-indices.ts';
import { indicesToPixels, pixelWords } from '../view/pixel-words.ts';

/** A decoded snapshot: palette indices, and the same picture as ImageData pixel words (its PLTE colours). */
export interface DecodedSnapshot extends DecodedIndices {
  pixels: Uint32Array<ArrayBuffer>;
}

/** What the page posts to the worker (the PNG's bytes are transferred). */
export interface DecodeRequest {
  id: number;
  png: Uint8Array;
}

/** What the worker answers (the index and pixel buffers are transferred). */
export type DecodeReply =
  | { id: number; ok: true; snapshot: DecodedSnapshot }
  | { id: number; ok: false; error: string };

/** Decodes a canvas PNG into indices and pixels; rejects for bytes that are not an indexed PNG. */
export async function decodeSnapshot(png: Uint8Array): Promise<DecodedSnapshot> {
  const decoded = await decodeIndexedPng(png);
  return { ...decoded, pixels: indicesToPixels(decoded.indices, pixelWords(decoded.palette)) };
}

/** decodeSnapshot, or null (with a console warning) for bytes that are not a PNG we can read. */
export async function tryDecodeSnapshot(png: Uint8Array): Promise<DecodedSnapshot | null> {
  try {
    return await decodeSnapshot(png);
  } catch (err) {
    console.warn('could not decode the canvas PNG', err);
    return null;
  }
}

/** The part of a Worker this uses (so tests and other hosts can stand in for it). */
export interface DecodeWorker {
  postMessage(message: DecodeRequest, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<DecodeReply>) => void): void;
  addEventListener(type: 'error', listener: (ev: Event) => void): void;
  terminate(): void;
}

interface Request {
  id: number;
  png: Uint8Array;
  resolve: (s: DecodedSnapshot | null) => void;
}

/**
 * Decodes one stream of snapshots in one worker, one at a time. A snapshot that arrives while another
 * decodes waits; a newer one replaces it (the older resolves null), so a PNG stream that comes faster
 * than it decodes (a big canvas on a slow phone) neither piles up in the worker nor falls behind.
 * A worker that fails (cannot be loaded, or throws outside a decode) is dropped, and what it still
 * owed is decoded here.
 */
export class PngDecoder {
  private worker: DecodeWorker | null;
  private nextId = 1;
  private decoding: Request | null = null;
  private waiting: Request | null = null;

  constructor(worker: DecodeWorker | null) {
    this.worker = worker;
    worker?.addEventListener('message', (ev) => this.answered(ev.data));
    worker?.addEventListener('error', (ev) => {
      ev.preventDefault?.();
      console.warn('the PNG decoder worker failed; decoding on the main thread');
      this.worker = null;
      worker.terminate();
      for (const r of [this.decoding, this.waiting]) if (r) void tryDecodeSnapshot(r.png).then(r.resolve);
      this.decoding = null;
      this.waiting = null;
    });
  }

  decode(png: Uint8Array): Promise<DecodedSnapshot | null> {
    if (!this.worker) return tryDecodeSnapshot(png);
    return new Promise((resolve) => {
      const request = { id: this.nextId++, png, resolve };
      if (!this.decoding) return this.send(request);
      this.waiting?.resolve(null); // superseded before it started
      this.waiting = request;
    });
  }

  private send(request: Request): void {
    this.decoding = request;
    // A copy to transfer: `png` is usually a view into the WebSocket frame's buffer.
    const bytes = request.png.slice();
    this.worker?.postMessage({ id: request.id, png: bytes }, [bytes.buffer]);
  }

  private answered(reply: DecodeReply): void {
    const r = this.decoding;
    if (r?.id !== reply.id) return;
    this.decoding = null;
    const next = this.waiting;
    this.waiting = null;
    if (next) this.send(next);
    if (reply.ok) return r.resolve(reply.snapshot);
    console.warn('could not decode the canvas PNG', reply.error);
    r.resolve(null);
  }
}

/** The page's decoder: a worker from client/dist/png-worker.js beside the app bundle, when it can start. */
export function browserPngDecoder(): PngDecoder {
  if (typeof Worker === 'undefined') return new PngDecoder(null);
  try {
    // Beside app.js, whatever path the page is served from; a classic (IIFE) worker, which every
    // browser with workers can start.
    return new PngDecoder(new Worker(new URL('./png-worker.js', import.meta.url)));
  } catch {
    return new PngDecoder(null); // e.g. a policy that forbids workers
  }
}
