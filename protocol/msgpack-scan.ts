/**
 * A structural check of one MessagePack frame, before msgpackr sees it: exactly one complete value,
 * no type byte 0xc1, no extension type, and no length header promising more items than bytes remain.
 * Also reports which top-level map keys hold a float (float32 0xca, float64 0xcb). Only type bytes
 * are judged: a 0xc1 or 0xd4 inside a str, bin or integer payload is data and stays accepted.
 *
 * Why extensions are refused: PROTOCOL.md uses none, yet msgpackr (1.12) decodes its own private ones
 * (ext 0 reads as undefined, the timestamp type -1 as a Date), so a `place` carrying one under an
 * ignored key was applied, and a client that relied on that would break against any other server.
 * Every extension (fixext 0xd4-0xd8, ext8/16/32 0xc7-0xc9, whatever its type number, timestamp
 * included) makes the frame not MessagePack as this protocol speaks it.
 *
 * Why the rest, both found by the reliability suite (reliability/):
 * - msgpackr sizes an array from its header before reading the items, so a 5-byte frame
 *   `dd 01 ff ff ff` (array32 of 33 million items) made it allocate a 256 MiB array first and fail
 *   after; random bytes did this often enough to grow the server by 130 MiB per 20,000 frames, and
 *   parsing random frames under a 64 MiB heap ran out of memory. Every announced item must have a
 *   byte left here.
 * - PROTOCOL.md rejects floats where integers are expected, but msgpackr decodes a float-encoded 1.0
 *   (or -0.0) to the number 1 (or -0), indistinguishable from an integer, with no hook to see the
 *   wire type; such frames placed pixels.
 * Reads only type bytes and lengths; iterative (a counter of values still to skip, no recursion), so
 * deep nesting cannot overflow the stack; linear in the frame's length.
 */

const decoder = new TextDecoder();

/** Bytes after the type byte, for types whose size is fixed by the type byte alone. */
const FIXED_SIZE: Record<number, number> = {
  0xc0: 0,
  0xc2: 0,
  0xc3: 0,
  0xca: 4,
  0xcb: 8,
  0xcc: 1,
  0xcd: 2,
  0xce: 4,
  0xcf: 8,
  0xd0: 1,
  0xd1: 2,
  0xd2: 4,
  0xd3: 8,
};

/** fixext 1/2/4/8/16 and ext 8/16/32: refused wherever they stand (see the header). */
const EXTENSION_TYPES: ReadonlySet<number> = new Set([0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8]);

class Walker {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private uint(size: 1 | 2 | 4): number {
    if (this.pos + size > this.bytes.length) throw new RangeError('truncated');
    const v =
      size === 1
        ? this.view.getUint8(this.pos)
        : size === 2
          ? this.view.getUint16(this.pos)
          : this.view.getUint32(this.pos);
    this.pos += size;
    return v;
  }

  /** Reads a type byte; returns how many more values (array items, map keys + values) it contains. */
  private head(): number {
    const b = this.uint(1);
    if (b <= 0x7f || b >= 0xe0) return 0;
    if (b <= 0x8f) return 2 * (b & 0x0f);
    if (b <= 0x9f) return b & 0x0f;
    if (b <= 0xbf) return this.advance(b & 0x1f);
    const fixed = FIXED_SIZE[b];
    if (fixed !== undefined) return this.advance(fixed);
    if (EXTENSION_TYPES.has(b)) throw new RangeError(`extension type byte 0x${b.toString(16)}`);
    switch (b) {
      case 0xc4:
      case 0xd9:
        return this.advance(this.uint(1));
      case 0xc5:
      case 0xda:
        return this.advance(this.uint(2));
      case 0xc6:
      case 0xdb:
        return this.advance(this.uint(4));
      case 0xdc:
        return this.uint(2);
      case 0xdd:
        return this.uint(4);
      case 0xde:
        return 2 * this.uint(2);
      case 0xdf:
        return 2 * this.uint(4);
      default:
        throw new RangeError(`type byte 0x${b.toString(16)}`); // 0xc1: never used
    }
  }

  private advance(n: number): number {
    if (this.pos + n > this.bytes.length) throw new RangeError('truncated');
    this.pos += n;
    return 0;
  }

  /** Skips one complete value. */
  skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      pending += this.head();
      if (pending > this.bytes.length - this.pos) throw new RangeError('more values announced than bytes left');
    }
  }

  /** The key if the next value is a string (it is consumed either way). */
  key(): string | undefined {
    const start = this.pos;
    const b = this.bytes[start];
    this.skip();
    if (b === undefined) return undefined;
    const header = b >= 0xa0 && b <= 0xbf ? 1 : b === 0xd9 ? 2 : b === 0xda ? 3 : b === 0xdb ? 5 : -1;
    return header < 0 ? undefined : decoder.decode(this.bytes.subarray(start + header, this.pos));
  }

  peek(): number | undefined {
    return this.bytes[this.pos];
  }

  remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** A big-endian length of `size` bytes. */
  count(size: 1 | 2 | 4): number {
    return this.uint(size);
  }
}

export type FrameScan = { ok: true; floatKeys: Set<string> } | { ok: false; reason: string };

/** Checks that `bytes` hold exactly one well-formed value; on success, the float-valued top-level keys. */
export function scanFrame(bytes: Uint8Array): FrameScan {
  try {
    const w = new Walker(bytes);
    const floats = topLevel(w);
    if (w.pos !== bytes.length) return { ok: false, reason: 'bytes after the value' };
    return { ok: true, floatKeys: floats };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** Reads the top-level value; for a map, notes the string keys whose value is float-encoded. */
function topLevel(w: Walker): Set<string> {
  const out = new Set<string>();
  const b = w.peek();
  if (b === undefined) throw new RangeError('empty frame');
  let entries: number;
  if (b >= 0x80 && b <= 0x8f) {
    entries = b & 0x0f;
    w.pos = 1;
  } else if (b === 0xde || b === 0xdf) {
    w.pos = 1;
    entries = w.count(b === 0xde ? 2 : 4);
  } else {
    w.skip();
    return out;
  }
  if (2 * entries > w.remaining()) throw new RangeError('more values announced than bytes left');
  for (let i = 0; i < entries; i++) {
    const key = w.key();
    const type = w.peek();
    if (key !== undefined && (type === 0xca || type === 0xcb)) out.add(key);
    w.skip();
  }
  return out;
}
