/**
 * The placed pixels of every sparse chunk (canvas.ts), in one hash table keyed by (y << 16) | x:
 * colour and seq per pixel, in three typed arrays per shard and no object per pixel or per chunk. Why
 * not an object per chunk: 1 M placements spread over 16,384 x 16,384 touch all 65,536 chunks of
 * 64 x 64, and 65,536 chunk objects with their typed arrays (~460,000 heap objects) made each full
 * garbage collection 100-190 ms (a forced `gc()` with --expose-gc; 4-5 ms with no canvas at all);
 * this holds the same pixels in 3 x 64 objects, and the same collection takes 5-15 ms.
 *
 * Open addressing with linear probing, at most 70% full; deletion shifts the following entries back
 * (no tombstones). Split in SHARDS tables (the caller picks the shard, from the chunk) so that growing
 * one rehashes a 64th of the pixels, not all of them: ~15 ms at 10 M pixels instead of ~1 s.
 */

export const SHARDS = 64;
const MIN_CAPACITY = 16;

class Shard {
  /** key + 1 per slot; 0: empty. */
  keys = new Uint32Array(MIN_CAPACITY);
  colours = new Uint8Array(MIN_CAPACITY);
  seqs = new Uint32Array(MIN_CAPACITY);
  size = 0;
  /** 32 - log2(capacity): the multiplicative hash keeps the top bits. */
  shift = 32 - Math.log2(MIN_CAPACITY);

  home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  /** The slot holding `key`, or -1. */
  find(key: number): number {
    const mask = this.keys.length - 1;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const k = this.keys[i] as number;
      if (k === key) return i;
      if (k === 0) return -1;
    }
  }

  /** Sets `key`; returns its previous seq, or -1 when it was not there. */
  set(key: number, colour: number, seq: number): number {
    if ((this.size + 1) * 10 > this.keys.length * 7) this.grow();
    const mask = this.keys.length - 1;
    let i = this.home(key);
    for (; ; i = (i + 1) & mask) {
      const k = this.keys[i] as number;
      if (k === key) {
        const before = this.seqs[i] as number;
        this.colours[i] = colour;
        this.seqs[i] = seq;
        return before;
      }
      if (k === 0) break;
    }
    this.keys[i] = key;
    this.colours[i] = colour;
    this.seqs[i] = seq;
    this.size++;
    return -1;
  }

  /** Removes the entry in slot `i`, moving back the entries that probed past it. */
  removeAt(slot: number): void {
    const mask = this.keys.length - 1;
    let i = slot;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = this.keys[j] as number;
      if (k === 0) break;
      const h = this.home(k);
      // The entry at j stays when its home lies cyclically in (i, j].
      if (i <= j ? i < h && h <= j : i < h || h <= j) continue;
      this.keys[i] = k;
      this.colours[i] = this.colours[j] as number;
      this.seqs[i] = this.seqs[j] as number;
      i = j;
    }
    this.keys[i] = 0;
    this.size--;
  }

  private grow(): void {
    const { keys, colours, seqs } = this;
    const capacity = keys.length * 2;
    this.keys = new Uint32Array(capacity);
    this.colours = new Uint8Array(capacity);
    this.seqs = new Uint32Array(capacity);
    this.shift--;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k !== 0) this.set(k, colours[i] as number, seqs[i] as number);
    }
  }
}

export class SparsePixels {
  private readonly shards: Shard[] = Array.from({ length: SHARDS }, () => new Shard());

  /** Pixels held. */
  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  /** Bytes of the tables (9 per slot). */
  get bytes(): number {
    let n = 0;
    for (const s of this.shards) n += s.keys.length * 9;
    return n;
  }

  colour(shard: number, key: number): number {
    const s = this.shards[shard] as Shard;
    const i = s.find(key + 1);
    return i < 0 ? 0 : (s.colours[i] as number);
  }

  seq(shard: number, key: number): number {
    const s = this.shards[shard] as Shard;
    const i = s.find(key + 1);
    return i < 0 ? 0 : (s.seqs[i] as number);
  }

  /** Sets a pixel; returns its previous seq, or -1 when it was not held. */
  set(shard: number, key: number, colour: number, seq: number): number {
    return (this.shards[shard] as Shard).set(key + 1, colour, seq);
  }

  /** Takes a pixel out (its chunk turned dense); calls `fn` with what it held, if anything. */
  take(shard: number, key: number, fn: (colour: number, seq: number) => void): void {
    const s = this.shards[shard] as Shard;
    const i = s.find(key + 1);
    if (i < 0) return;
    fn(s.colours[i] as number, s.seqs[i] as number);
    s.removeAt(i);
  }

  /** Calls `fn` for every pixel of the shard, in no particular order. */
  forEach(shard: number, fn: (key: number, colour: number, seq: number) => void): void {
    const s = this.shards[shard] as Shard;
    for (let i = 0; i < s.keys.length; i++) {
      const k = s.keys[i] as number;
      if (k !== 0) fn(k - 1, s.colours[i] as number, s.seqs[i] as number);
    }
  }
}
