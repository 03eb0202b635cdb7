/**
 * A tiny MessagePack (https://msgpack.org) encoder and decoder for the k6 scripts. k6 has no
 * MessagePack library built in and cannot load npm packages, and the canvas protocol is plain
 * MessagePack maps (protocol/PROTOCOL.md), so this file implements the format itself:
 *
 * - encode: null, booleans, numbers (integers up to 2^53 in the smallest MessagePack int, other
 *   numbers as float64), strings (UTF-8), Uint8Array / ArrayBuffer (bin), arrays and plain objects (maps with
 *   string keys). Enough for `place`, `subscribe` and `resync`.
 * - decode: every MessagePack type except extensions (the server sends none). 64-bit integers become
 *   Numbers (exact up to 2^53); bin becomes a Uint8Array view of the input (no copy: a 150 KB PNG
 *   arrives once per tick per subscriber). Truncated input, trailing bytes, 0xc1 and extension types
 *   throw, as the server's own parser refuses them.
 *
 * Strings are UTF-8 coded by hand: TextEncoder is not available in every k6 version.
 * Checked against msgpackr and PROTOCOL.md's example bytes by perf/k6/msgpack-check.ts.
 */

/** @typedef {null | boolean | number | string | Uint8Array | MsgArray | MsgMap} MsgValue */
/** @typedef {MsgValue[]} MsgArray */
/** @typedef {{ [key: string]: MsgValue }} MsgMap */

/** @param {string} s @returns {number[]} */
function utf8(s) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    // A surrogate pair is one code point; a lone surrogate becomes U+FFFD, as TextEncoder does.
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return out;
}

/** @param {Uint8Array} b @param {number} start @param {number} end @returns {string} */
function fromUtf8(b, start, end) {
  let s = '';
  let i = start;
  while (i < end) {
    const c = /** @type {number} */ (b[i++]);
    let cp = c;
    const cont = () => /** @type {number} */ (b[i++]) & 63;
    if (c >= 0xf0) cp = ((c & 7) << 18) | (cont() << 12) | (cont() << 6) | cont();
    else if (c >= 0xe0) cp = ((c & 15) << 12) | (cont() << 6) | cont();
    else if (c >= 0xc0) cp = ((c & 31) << 6) | cont();
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** Appends big-endian unsigned integers of 1, 2, 4 or 8 bytes. */
class Writer {
  constructor() {
    /** @type {number[]} */
    this.bytes = [];
  }
  /** @param {number} v @param {number} n */
  uint(v, n) {
    if (n === 8) {
      this.uint(Math.floor(v / 4294967296), 4);
      this.uint(v >>> 0, 4);
      return;
    }
    for (let shift = (n - 1) * 8; shift >= 0; shift -= 8) this.bytes.push(Math.floor(v / 2 ** shift) & 0xff);
  }
  /** @param {number} v */
  float64(v) {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, v);
    for (let i = 0; i < 8; i++) this.bytes.push(view.getUint8(i));
  }
  /** Header of a str/bin/array/map: the fix form when `fix` allows it, else 8/16/32-bit lengths.
   * @param {number} len @param {number | undefined} fixBase @param {number} fixMax
   * @param {(number | undefined)[]} codes */
  header(len, fixBase, fixMax, codes) {
    if (fixBase !== undefined && len <= fixMax) return void this.bytes.push(fixBase | len);
    const [c8, c16, c32] = codes;
    if (c8 !== undefined && len <= 0xff) return void this.bytes.push(c8, len);
    if (len <= 0xffff) return (this.bytes.push(/** @type {number} */ (c16)), this.uint(len, 2));
    this.bytes.push(/** @type {number} */ (c32));
    this.uint(len, 4);
  }
  /** @param {MsgValue} v */
  value(v) {
    if (v === null) this.bytes.push(0xc0);
    else if (v === false || v === true) this.bytes.push(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') this.number(v);
    else if (typeof v === 'string') {
      const b = utf8(v);
      this.header(b.length, 0xa0, 31, [0xd9, 0xda, 0xdb]);
      for (const x of b) this.bytes.push(x);
    } else if (v instanceof Uint8Array) {
      this.header(v.length, undefined, 0, [0xc4, 0xc5, 0xc6]);
      for (let i = 0; i < v.length; i++) this.bytes.push(/** @type {number} */ (v[i]));
    } else if (Array.isArray(v)) {
      this.header(v.length, 0x90, 15, [undefined, 0xdc, 0xdd]);
      for (const item of v) this.value(item);
    } else {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      this.header(keys.length, 0x80, 15, [undefined, 0xde, 0xdf]);
      for (const k of keys) {
        this.value(k);
        this.value(/** @type {MsgValue} */ (v[k]));
      }
    }
  }
  /** Safe integers in the smallest int form; other numbers as float64. @param {number} v */
  number(v) {
    if (!Number.isSafeInteger(v)) return (this.bytes.push(0xcb), this.float64(v));
    if (v >= 0) {
      if (v < 0x80) return void this.bytes.push(v);
      const [code, n] = v <= 0xff ? [0xcc, 1] : v <= 0xffff ? [0xcd, 2] : v <= 0xffffffff ? [0xce, 4] : [0xcf, 8];
      this.bytes.push(code);
      return this.uint(v, n);
    }
    if (v >= -32) return void this.bytes.push(v & 0xff);
    const [code, n] = v >= -0x80 ? [0xd0, 1] : v >= -0x8000 ? [0xd1, 2] : v >= -0x80000000 ? [0xd2, 4] : [0xd3, 8];
    this.bytes.push(code);
    // Two's complement of n bytes: add 2^(8n) (for n = 8 split in two 32-bit halves).
    if (n === 8) {
      const hi = Math.floor(v / 4294967296);
      this.uint((hi + 4294967296) % 4294967296, 4);
      this.uint(v - hi * 4294967296, 4);
    } else this.uint(v + 2 ** (8 * n), n);
  }
}

/** Encodes one value as MessagePack.
 * @param {MsgValue | Record<string, MsgValue | undefined>} value @returns {Uint8Array} */
export function encode(value) {
  const w = new Writer();
  w.value(/** @type {MsgValue} */ (value));
  return new Uint8Array(w.bytes);
}

/** Reads one value at a time from `b`; throws on truncation. */
class Reader {
  /** @param {Uint8Array} b */
  constructor(b) {
    this.b = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = 0;
  }
  /** @param {number} n */
  need(n) {
    if (this.pos + n > this.b.length) throw new Error(`msgpack: truncated at byte ${this.pos} (need ${n} more)`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  /** @param {number} n bytes: 1, 2, 4 or 8 @param {boolean} signed */
  int(n, signed) {
    const at = this.need(n);
    const v = this.view;
    if (n === 1) return signed ? v.getInt8(at) : v.getUint8(at);
    if (n === 2) return signed ? v.getInt16(at) : v.getUint16(at);
    if (n === 4) return signed ? v.getInt32(at) : v.getUint32(at);
    return (signed ? v.getInt32(at) : v.getUint32(at)) * 4294967296 + v.getUint32(at + 4);
  }
  /** @param {number} len */
  str(len) {
    const at = this.need(len);
    return fromUtf8(this.b, at, at + len);
  }
  /** @param {number} len */
  bin(len) {
    const at = this.need(len);
    return this.b.subarray(at, at + len);
  }
  /** @param {number} len */
  array(len) {
    /** @type {MsgValue[]} */
    const out = [];
    for (let i = 0; i < len; i++) out.push(this.value());
    return out;
  }
  /** @param {number} len */
  map(len) {
    /** @type {MsgMap} */
    const out = {};
    for (let i = 0; i < len; i++) {
      const k = this.value();
      if (typeof k !== 'string' && typeof k !== 'number') throw new Error('msgpack: map key is not a string or number');
      out[String(k)] = this.value();
    }
    return out;
  }
  /** @returns {MsgValue} */
  value() {
    const c = this.int(1, false);
    if (c <= 0x7f) return c;
    if (c >= 0xe0) return c - 0x100;
    if (c >= 0xa0 && c <= 0xbf) return this.str(c & 31);
    if (c >= 0x90 && c <= 0x9f) return this.array(c & 15);
    if (c >= 0x80 && c <= 0x8f) return this.map(c & 15);
    switch (c) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: case 0xc5: case 0xc6: return this.bin(this.int(1 << (c - 0xc4), false));
      case 0xca: return this.view.getFloat32(this.need(4));
      case 0xcb: return this.view.getFloat64(this.need(8));
      case 0xcc: case 0xcd: case 0xce: case 0xcf: return this.int(1 << (c - 0xcc), false);
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: return this.int(1 << (c - 0xd0), true);
      case 0xd9: case 0xda: case 0xdb: return this.str(this.int(1 << (c - 0xd9), false));
      case 0xdc: case 0xdd: return this.array(this.int(2 << (c - 0xdc), false));
      case 0xde: case 0xdf: return this.map(this.int(2 << (c - 0xde), false));
      default: throw new Error(`msgpack: unsupported type byte 0x${c.toString(16)} at ${this.pos - 1}`);
    }
  }
}

/** Decodes exactly one MessagePack value. @param {Uint8Array | ArrayBuffer} bytes @returns {MsgValue} */
export function decode(bytes) {
  const r = new Reader(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const v = r.value();
  if (r.pos !== r.b.length) throw new Error(`msgpack: ${r.b.length - r.pos} trailing bytes`);
  return v;
}
