/**
 * A byte-exact MessagePack writer for building hostile frames. msgpackr picks encodings itself (it
 * writes 1.0 as an integer, never emits a lying length header); these helpers write exactly the
 * type byte asked for, so the generator can send float-encoded integers, -0.0, length headers that
 * promise more than follows, 64-bit integers and arbitrary extension types.
 */
export type Bytes = Uint8Array;

export function cat(...parts: readonly Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function be(n: number, bytes: number): Bytes {
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  return out;
}

export const nil = (): Bytes => Uint8Array.of(0xc0);
export const bool = (b: boolean): Bytes => Uint8Array.of(b ? 0xc3 : 0xc2);

/** The shortest integer encoding, as a conforming encoder would write it (|n| < 2^32). */
export function int(n: number): Bytes {
  if (n >= 0) {
    if (n < 0x80) return Uint8Array.of(n);
    if (n < 0x100) return Uint8Array.of(0xcc, n);
    if (n < 0x10000) return cat(Uint8Array.of(0xcd), be(n, 2));
    return cat(Uint8Array.of(0xce), be(n, 4));
  }
  if (n >= -32) return Uint8Array.of(n & 0xff);
  if (n >= -128) return Uint8Array.of(0xd0, n & 0xff);
  if (n >= -32768) return cat(Uint8Array.of(0xd1), be(n & 0xffff, 2));
  return cat(Uint8Array.of(0xd2), be(n >>> 0, 4));
}

export function uint64(n: bigint): Bytes {
  const out = new Uint8Array(9);
  out[0] = 0xcf;
  new DataView(out.buffer).setBigUint64(1, n);
  return out;
}

export function int64(n: bigint): Bytes {
  const out = new Uint8Array(9);
  out[0] = 0xd3;
  new DataView(out.buffer).setBigInt64(1, n);
  return out;
}

export function f64(n: number): Bytes {
  const out = new Uint8Array(9);
  out[0] = 0xcb;
  new DataView(out.buffer).setFloat64(1, n);
  return out;
}

export function f32(n: number): Bytes {
  const out = new Uint8Array(5);
  out[0] = 0xca;
  new DataView(out.buffer).setFloat32(1, n);
  return out;
}

export function str(s: string): Bytes {
  const b = new TextEncoder().encode(s);
  if (b.length < 32) return cat(Uint8Array.of(0xa0 | b.length), b);
  if (b.length < 0x100) return cat(Uint8Array.of(0xd9, b.length), b);
  if (b.length < 0x10000) return cat(Uint8Array.of(0xda), be(b.length, 2), b);
  return cat(Uint8Array.of(0xdb), be(b.length, 4), b);
}

export function bin(b: Bytes): Bytes {
  if (b.length < 0x100) return cat(Uint8Array.of(0xc4, b.length), b);
  if (b.length < 0x10000) return cat(Uint8Array.of(0xc5), be(b.length, 2), b);
  return cat(Uint8Array.of(0xc6), be(b.length, 4), b);
}

export function arr(items: readonly Bytes[]): Bytes {
  const n = items.length;
  const head =
    n < 16
      ? Uint8Array.of(0x90 | n)
      : n < 0x10000
        ? cat(Uint8Array.of(0xdc), be(n, 2))
        : cat(Uint8Array.of(0xdd), be(n, 4));
  return cat(head, ...items);
}

/** A map from already-encoded keys and values (keys need not be strings). */
export function mapRaw(entries: ReadonlyArray<readonly [Bytes, Bytes]>): Bytes {
  const n = entries.length;
  const head =
    n < 16
      ? Uint8Array.of(0x80 | n)
      : n < 0x10000
        ? cat(Uint8Array.of(0xde), be(n, 2))
        : cat(Uint8Array.of(0xdf), be(n, 4));
  return cat(head, ...entries.flat());
}

/** A map with string keys. */
export function map(entries: ReadonlyArray<readonly [string, Bytes]>): Bytes {
  return mapRaw(entries.map(([k, v]) => [str(k), v] as const));
}

/** An extension value of `type` (-128..127) carrying `data`, in the shortest form. */
export function ext(type: number, data: Bytes): Bytes {
  const t = type & 0xff;
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  const f = fixed[data.length];
  if (f !== undefined) return cat(Uint8Array.of(f, t), data);
  if (data.length < 0x100) return cat(Uint8Array.of(0xc7, data.length, t), data);
  if (data.length < 0x10000) return cat(Uint8Array.of(0xc8), be(data.length, 2), Uint8Array.of(t), data);
  return cat(Uint8Array.of(0xc9), be(data.length, 4), Uint8Array.of(t), data);
}
