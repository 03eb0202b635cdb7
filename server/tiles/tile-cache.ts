/**
 * The writer's (and standalone server's) tiles: which tiles changed, the encoded tiles, and the
 * HTTP answer of each. An edge has no grid and asks the writer over the bus (bus/remote-authority.ts).
 *
 * - Versions: the ticker hands over the cells it captured on each changed tick (`tickChanged`); every
 *   tile (at every level) holding one of them gets that tick's generation. A tile's encoded bytes are
 *   kept with the generation they were made at, so a tile is encoded again only after a tick changed
 *   it: at most once per tick interval, and never when nothing in it changed.
 * - Single flight: a request for a tile whose encode is running waits for that encode.
 * - Off the loop: sampling (about 0.2 ms for 256 x 256) and scanline packing run on the loop, deflate
 *   in libuv's thread pool (canvas/png-encoder.ts).
 * - ETag: a hash of the PNG bytes, so it changes only when the tile's content does and is the same
 *   on every edge (they serve the writer's bytes).
 * - Bounded: encoded answers are kept least recently used first out within `maxBytes` (a 16,384 x
 *   16,384 pyramid is 5,461 tiles, ~10-30 KB each when busy: 50-160 MB kept for ever if unbounded).
 *   Encodes in flight are outside the bound (one per tile asked this tick, at most).
 */
import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Canvas } from '../canvas/canvas.ts';
import { PngEncoder } from '../canvas/png-encoder.ts';
import { ByteLru } from '../history/lru.ts';
import type { HttpAnswer } from '../http/answer.ts';
import { TILE_SHIFT, TileLayout, type TileRef } from './tile-layout.ts';

/** Tiles may be cached as long as /image: one second (a CDN in front absorbs pollers). */
export const TILE_CACHE_CONTROL = 'public, max-age=1';

/** An encoded tile and the generation it shows. */
interface Encoded {
  generation: number;
  answer: HttpAnswer;
}

/** An encode in flight: everyone asking for this tile at this generation waits for it. */
interface Encoding {
  generation: number;
  pending: Promise<HttpAnswer>;
}

/** Bytes an entry costs beyond its PNG: the headers, the key and the objects (a rough count). */
const ENTRY_OVERHEAD = 512;

export interface TileCacheOptions {
  canvas: Canvas;
  palette: readonly number[];
  /** zlib level, as for /image (--png-level). */
  pngLevel: number;
  registry: Registry;
  /** Bytes of encoded tiles kept (--tile-cache-mb). */
  maxBytes: number;
}

export class TileCache {
  readonly layout: TileLayout;
  private readonly canvas: Canvas;
  private readonly palette: readonly number[];
  private readonly pngLevel: number;
  /** Per level, per tile: the generation of the last tick that changed a cell in it (0: none yet). */
  private versions: Uint32Array[];
  private generation = 0;
  private readonly encoded: ByteLru<Encoded>;
  private readonly encoding = new Map<string, Encoding>();
  /** One encoder per tile size (edge tiles are cropped): a handful per canvas. */
  private readonly encoders = new Map<string, PngEncoder>();
  private readonly encodes: Counter;

  constructor(opts: TileCacheOptions) {
    this.canvas = opts.canvas;
    this.palette = opts.palette;
    this.pngLevel = opts.pngLevel;
    this.encoded = new ByteLru(opts.maxBytes, (e) => e.answer.body.length + ENTRY_OVERHEAD);
    this.layout = new TileLayout(opts.canvas.width, opts.canvas.height);
    this.versions = [];
    this.resized();
    this.encodes = new Counter({
      name: 'canvas_tile_encodes_total',
      help: 'Tile PNG encodes (GET /tiles): at most one per tile per changed tick, however many ask',
      registers: [opts.registry],
    });
  }

  /**
   * The canvas grew: the layout of its new size, and every tile changed (pixels moved by the left and
   * top growth, edge tiles widened): each is encoded again when next asked.
   */
  resized(): void {
    this.layout.resize(this.canvas.width, this.canvas.height);
    const generation = ++this.generation;
    this.versions = [];
    for (let level = 0; level <= this.layout.maxLevel; level++) {
      this.versions.push(new Uint32Array(this.layout.across(level) * this.layout.down(level)).fill(generation));
    }
    this.encoded.clear();
    // Encodes in flight finish for their askers but are not kept: their generation is below every new one.
  }

  /**
   * Marks the tiles holding `cells` (grid indices captured by one tick) as changed. Each cell costs a
   * division and a compare; each distinct level-0 tile then marks its ancestors (maxLevel steps).
   * Runs in the tick's synchronous capture, which already walks these cells for the delta.
   */
  tickChanged(cells: readonly number[]): void {
    if (cells.length === 0) return;
    const generation = ++this.generation;
    const { width } = this.canvas;
    const base = this.versions[0] as Uint32Array;
    const across0 = this.layout.across(0);
    const touched: number[] = [];
    // Shifts and one integer division per cell, no allocation: 1 M cells (a large wipe) in ~5 ms.
    for (const cell of cells) {
      const y = (cell / width) | 0;
      const i = (y >> TILE_SHIFT) * across0 + ((cell - y * width) >> TILE_SHIFT);
      if (base[i] === generation) continue;
      base[i] = generation;
      touched.push(i);
    }
    for (const i of touched) {
      const tx = i % across0;
      const ty = (i - tx) / across0;
      for (let level = 1; level <= this.layout.maxLevel; level++) {
        const v = this.versions[level] as Uint32Array;
        v[(ty >> level) * this.layout.across(level) + (tx >> level)] = generation;
      }
    }
  }

  /** The tile's answer (200 with the PNG): cached, the running encode's, or a new encode's. */
  answer(t: TileRef): HttpAnswer | Promise<HttpAnswer> {
    const generation = (this.versions[t.level] as Uint32Array)[this.layout.index(t)] as number;
    const key = `${t.level}/${t.tx}/${t.ty}`;
    const kept = this.encoded.get(key);
    if (kept && kept.generation === generation) return kept.answer;
    const running = this.encoding.get(key);
    if (running && running.generation === generation) return running.pending;
    // Sampled now, synchronously: the bytes are the grid as it is at this moment, at this seq.
    const { width, height, indices } = this.layout.sample(this.canvas, t);
    const seq = this.canvas.seq;
    this.encodes.inc();
    const encoding: Encoding = {
      generation,
      pending: this.encoder(width, height)
        .encode(indices)
        .then(
          (png) => {
            const answer = tileAnswer(png, seq);
            if (this.encoding.get(key) === encoding) {
              this.encoding.delete(key);
              this.encoded.set(key, { generation, answer });
            }
            return answer;
          },
          (err: unknown) => {
            // Not kept: the next request encodes again.
            if (this.encoding.get(key) === encoding) this.encoding.delete(key);
            throw err;
          },
        ),
    };
    this.encoding.set(key, encoding);
    return encoding.pending;
  }

  /** Bytes of encoded tiles kept now (for tests and /metrics readers). */
  get keptBytes(): number {
    return this.encoded.bytes;
  }

  private encoder(width: number, height: number): PngEncoder {
    const key = `${width}x${height}`;
    let encoder = this.encoders.get(key);
    if (!encoder) {
      encoder = new PngEncoder(width, height, this.palette, this.pngLevel);
      this.encoders.set(key, encoder);
    }
    return encoder;
  }
}

/**
 * `X-Seq`: the seq of the grid the tile was sampled from. A region subscriber applies a tile's
 * deltas with a later `toSeq` over it (PROTOCOL.md, region subscriptions).
 */
function tileAnswer(png: Buffer, seq: number): HttpAnswer {
  const etag = `"tile-${createHash('sha256').update(png).digest('base64url').slice(0, 22)}"`;
  return {
    status: '200 OK',
    headers: {
      'Content-Type': 'image/png',
      ETag: etag,
      'Cache-Control': TILE_CACHE_CONTROL,
      'X-Content-Type-Options': 'nosniff',
      'X-Seq': String(seq),
    },
    body: png,
  };
}
