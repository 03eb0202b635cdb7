/**
 * One tick as region subscribers receive it (a `subscribe` with tx, ty, tw, th): the tick's delta cut
 * by level-0 tile, one `delta` message per changed tile (with `tx`, `ty`), each encoded once and
 * shared by every subscriber whose region holds that tile, so a client looking at a corner of a
 * large canvas gets only that corner's pixels. A tick without a delta (too large for one, or replaced
 * by a newer tick while waiting) tells them to load their tiles again (`tiles`), as the whole-canvas
 * delta stream falls back to the PNG.
 */
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import { DELTA_RECORD_BYTES } from '../../protocol/delta.ts';
import { type DeltaMsg, MsgType, type TileRegion } from '../../protocol/messages.ts';
import { TILE_SHIFT } from '../tiles/tile-layout.ts';
import type { TickOutput } from './frame.ts';
import type { FrameSink, Outbox } from './outbox.ts';

/** The `tiles` message: load the region's tiles; they show `seq` or later. */
export function tilesMessage(seq: number): Uint8Array {
  return encodeMessage({ t: MsgType.TILES, seq });
}

/** A tile's key in the map below: 16 bits each way (tile numbers of a 65,536-pixel side fit). */
const tileKey = (tx: number, ty: number) => ty * 0x10000 + tx;

export class RegionTick {
  /** The tick's delta message per changed tile; undefined when the tick has no delta. */
  private readonly byTile: Map<number, Uint8Array> | undefined;
  /** What supersedes region deltas: load the tiles again, as of this tick. */
  private readonly reload: Uint8Array;

  constructor(out: TickOutput) {
    this.reload = tilesMessage(out.frame.seq);
    if (!out.delta) return;
    const delta = decodeServerMessage(out.delta.message) as DeltaMsg;
    this.byTile = splitByTile(delta);
  }

  /** Queues what `region` gets of this tick on one socket. */
  deliver(sink: FrameSink, outbox: Outbox, region: TileRegion, now: number): void {
    const byTile = this.byTile;
    if (!byTile) return outbox.push(sink, this.reload, 'png', now);
    const { tx, ty, tw, th } = region;
    // Whichever is fewer: the changed tiles, or the region's tiles (at most MAX_REGION_TILES).
    if (byTile.size <= tw * th) {
      for (const [key, message] of byTile) {
        const x = key % 0x10000;
        const y = (key - x) / 0x10000;
        if (x >= tx && x < tx + tw && y >= ty && y < ty + th) outbox.push(sink, message, 'delta', now, this.reload);
      }
      return;
    }
    for (let y = ty; y < ty + th; y++)
      for (let x = tx; x < tx + tw; x++) {
        const message = byTile.get(tileKey(x, y));
        if (message) outbox.push(sink, message, 'delta', now, this.reload);
      }
  }
}

/** One `delta` per level-0 tile holding records of `delta`, records in their order. */
function splitByTile(delta: DeltaMsg): Map<number, Uint8Array> {
  const { px, fromSeq, toSeq } = delta;
  const records = new Map<number, number[]>();
  for (let o = 0; o < px.length; o += DELTA_RECORD_BYTES) {
    const x = (px[o] as number) | ((px[o + 1] as number) << 8);
    const y = (px[o + 2] as number) | ((px[o + 3] as number) << 8);
    const key = tileKey(x >> TILE_SHIFT, y >> TILE_SHIFT);
    const list = records.get(key);
    if (list) list.push(o);
    else records.set(key, [o]);
  }
  const out = new Map<number, Uint8Array>();
  for (const [key, offsets] of records) {
    const part = new Uint8Array(offsets.length * DELTA_RECORD_BYTES);
    for (const [i, o] of offsets.entries()) part.set(px.subarray(o, o + DELTA_RECORD_BYTES), i * DELTA_RECORD_BYTES);
    const tx = key % 0x10000;
    const message: DeltaMsg = {
      t: MsgType.DELTA,
      fromSeq,
      toSeq,
      n: offsets.length,
      px: part,
      tx,
      ty: (key - tx) / 0x10000,
    };
    out.set(key, encodeMessage(message));
  }
  return out;
}
