/**
 * The hostile frame generator: each frame comes with the answer PROTOCOL.md promises for it, so the
 * driver checks codes, not just survival. Categories: random bytes, truncated and trailing-garbage
 * MessagePack, wrong field types (float-encoded integers, -0.0, NaN, 64-bit ints, strings, maps...),
 * huge and lying length headers, deep nesting, odd keys, extension types, negative and out-of-range
 * coordinates, colours out of range, oversize binary frames, text frames, and some valid placements.
 */
import { ErrorCode, MAX_CLIENT_FRAME_BYTES } from '../protocol/messages.ts';
import type { Rng } from '../testkit/rng.ts';
import { placeEntries, withField, wrongTypes } from './hostile-fields.ts';
import { arr, cat, ext, int, map, mapRaw, nil, str, type Bytes } from './msgpack-writer.ts';

export type Expect =
  /** An `error` frame; with `code` that exact code, with `id` that id echoed. */
  | { kind: 'error'; code?: ErrorCode; id?: number }
  /** The connection closes; `code` as seen by the client (1006: dropped without a close frame). */
  | { kind: 'close'; code: number }
  /** A valid placement: must be acked. */
  | { kind: 'ack'; id: number; x: number; y: number; c: number };

export interface HostileFrame {
  category: string;
  data: Bytes | string;
  expect: Expect;
}

export interface CanvasShape {
  width: number;
  height: number;
  colours: number;
}

const HARD_LIMIT = 64 * 1024;

function randomBytes(rng: Rng): HostileFrame {
  return { category: 'random bytes', data: rng.bytes(rng.int(300)), expect: { kind: 'error' } };
}

function truncated(rng: Rng, s: CanvasShape, id: number): HostileFrame {
  const whole = map(placeEntries(id, rng.int(s.width), rng.int(s.height), rng.int(s.colours)));
  if (rng.int(3) === 0) {
    // A complete value followed by more bytes is not "exactly one value" either.
    return {
      category: 'trailing bytes',
      data: cat(whole, rng.bytes(1 + rng.int(20))),
      expect: { kind: 'error', code: ErrorCode.NOT_MSGPACK },
    };
  }
  return {
    category: 'truncated',
    data: whole.subarray(0, rng.int(whole.length)),
    expect: { kind: 'error', code: ErrorCode.NOT_MSGPACK },
  };
}

function huge(rng: Rng, _s: CanvasShape, id: number): HostileFrame {
  const lying = [0xdd, 0xdf, 0xdb, 0xc6, 0xc9, 0xdc, 0xde, 0xda, 0xc5];
  switch (rng.int(5)) {
    case 0: {
      // A 32- or 16-bit length header promising far more than the frame holds: the maximum, or a
      // size a decoder could really allocate (up to 2^25 items: 256 MiB of array slots).
      const head = rng.pick(lying);
      const size = head === 0xdc || head === 0xde || head === 0xda || head === 0xc5 ? 2 : 4;
      const n = rng.int(2) ? 2 ** (8 * size) - 1 : rng.range(5000, size === 2 ? 0xffff : 2 ** 25);
      const len = Uint8Array.from({ length: size }, (_, i) => Math.floor(n / 256 ** (size - 1 - i)) & 0xff);
      return {
        category: 'lying length',
        data: cat(Uint8Array.of(head), len, rng.bytes(rng.int(50))),
        expect: { kind: 'error', code: ErrorCode.NOT_MSGPACK },
      };
    }
    case 1: {
      const n = 100 + rng.int(3800);
      return {
        category: 'huge array',
        data: arr(Array.from({ length: n }, () => nil())),
        expect: { kind: 'error', code: ErrorCode.BAD_MESSAGE },
      };
    }
    case 2: {
      const value = rng.int(2)
        ? str('x'.repeat(1000 + rng.int(2800)))
        : arr(Array.from({ length: 1000 + rng.int(2000) }, () => int(1)));
      return {
        category: 'huge field',
        data: map(withField(placeEntries(id, 0, 0, 0), rng.pick(['x', 'y', 'c']), value)),
        expect: { kind: 'error', code: ErrorCode.INVALID_FIELD, id },
      };
    }
    case 3: {
      const t = 'place'.repeat(100 + rng.int(600));
      return {
        category: 'huge string',
        data: map(withField(placeEntries(id, 0, 0, 0), 't', str(t))),
        expect: { kind: 'error', code: ErrorCode.UNKNOWN_TYPE, id },
      };
    }
    default: {
      // Hundreds of junk keys next to a valid-looking placement with one key missing.
      const junk: Array<[string, Bytes]> = Array.from({ length: 200 + rng.int(300) }, (_, i) => [`k${i}`, int(i)]);
      return {
        category: 'many keys',
        data: map([...withField(placeEntries(id, 0, 0, 0), 'c', undefined), ...junk]),
        expect: { kind: 'error', code: ErrorCode.INVALID_FIELD, id },
      };
    }
  }
}

function nested(rng: Rng, _s: CanvasShape, id: number): HostileFrame {
  const depth = rng.pick([10, 100, 1000, 2000, 4000]);
  if (rng.int(2)) {
    const bytes = new Uint8Array(depth + 1).fill(0x91); // [[[[...1]]]]
    bytes[depth] = 0x01;
    return { category: 'deep nesting', data: bytes, expect: { kind: 'error' } };
  }
  // {t: place, ..., x: {a: {a: {... 1}}}}
  const inner = new Uint8Array(Math.min(depth, 1300) * 3 + 1);
  for (let i = 0; i + 2 < inner.length; i += 3) inner.set([0x81, 0xa1, 0x61], i);
  inner[inner.length - 1] = 0x01;
  return {
    category: 'deep nesting',
    data: map(withField(placeEntries(id, 0, 0, 0), 'x', inner)),
    expect: { kind: 'error' },
  };
}

function oddKeys(rng: Rng, s: CanvasShape, id: number): HostileFrame {
  const base = placeEntries(id, rng.int(s.width), rng.int(s.height), rng.int(s.colours));
  switch (rng.int(4)) {
    case 0: // x only inside an inherited-looking __proto__ map: must not be read as a field
      return {
        category: 'odd keys',
        data: map([...withField(base, 'x', undefined), ['__proto__', map([['x', int(1)]])]]),
        expect: { kind: 'error', code: ErrorCode.INVALID_FIELD, id },
      };
    case 1: // non-string keys
      return {
        category: 'odd keys',
        data: mapRaw([
          [str('t'), str('place')],
          [int(1), int(1)],
          [nil(), nil()],
          [arr([]), int(0)],
        ]),
        expect: { kind: 'error' },
      };
    case 2: // a key twice: the protocol does not say which wins, only that something sane answers
      return { category: 'odd keys', data: map([...base, ['t', str('resync?')]]), expect: { kind: 'error' } };
    default: {
      // extension types, including msgpackr's own (Error, Set, RegExp, typed arrays, references)
      const type = rng.pick([-1, 0, 1, 0x42, 0x65, 0x69, 0x70, 0x73, 0x74, 0x78, 127, -128]);
      const e = ext(type, rng.bytes(rng.pick([1, 2, 4, 8, 16, 3, 40])));
      // Anywhere in the frame, under a known key or one the server ignores: PROTOCOL.md says not_msgpack.
      const data = rng.int(2) ? e : map(withField(base, rng.pick(['x', 'y', 'c', 't', 'ignored']), e));
      return { category: 'extension type', data, expect: { kind: 'error', code: ErrorCode.NOT_MSGPACK } };
    }
  }
}

function coordinates(rng: Rng, s: CanvasShape, id: number): HostileFrame {
  const axis = rng.pick(['x', 'y'] as const);
  const size = axis === 'x' ? s.width : s.height;
  const v = rng.pick([-1, -2, -size, -32768, -(2 ** 31), size, size + 1, 65535, 2 ** 31 - 1, 2 ** 32 - 1]);
  return {
    category: 'coordinates out of range',
    data: map(withField(placeEntries(id, 0, 0, 1), axis, int(v))),
    expect: { kind: 'error', code: ErrorCode.OUT_OF_BOUNDS, id },
  };
}

function colour(rng: Rng, s: CanvasShape, id: number): HostileFrame {
  const c = rng.pick([s.colours, s.colours + 1, 255, 256, 65535, 2 ** 31 - 1, -1, -128, -(2 ** 31)]);
  return {
    category: 'colour out of range',
    data: map(placeEntries(id, rng.int(s.width), rng.int(s.height), c)),
    expect: { kind: 'error', code: ErrorCode.BAD_COLOR, id },
  };
}

function oversize(rng: Rng): HostileFrame {
  if (rng.int(4) === 0) {
    // Past uWS's hard cap the connection is dropped without reading the frame (PROTOCOL.md: 1006).
    return {
      category: 'oversize frame',
      data: rng.bytes(HARD_LIMIT + 1 + rng.int(200_000)),
      expect: { kind: 'close', code: 1006 },
    };
  }
  return {
    category: 'oversize frame',
    data: rng.bytes(MAX_CLIENT_FRAME_BYTES + 1 + rng.int(HARD_LIMIT - MAX_CLIENT_FRAME_BYTES - 1)),
    expect: { kind: 'close', code: 1009 },
  };
}

function text(rng: Rng): HostileFrame {
  const body = rng.pick(['{"t":"place","id":1,"x":1,"y":1,"c":1}', '', 'hello', '\u0000\u00ff', 'x'.repeat(5000)]);
  return { category: 'text frame', data: body, expect: { kind: 'close', code: 1003 } };
}

function valid(rng: Rng, s: CanvasShape, id: number): HostileFrame {
  const p = { x: rng.int(s.width), y: rng.int(s.height), c: rng.int(s.colours) };
  return { category: 'valid placement', data: map(placeEntries(id, p.x, p.y, p.c)), expect: { kind: 'ack', id, ...p } };
}

/** Category weights (per 1,000 frames). Closing categories are rare: each costs a reconnect. */
const CATEGORIES: ReadonlyArray<[number, (rng: Rng, s: CanvasShape, id: number) => HostileFrame]> = [
  [150, randomBytes],
  [130, truncated],
  [200, wrongTypes],
  [100, huge],
  [60, nested],
  [80, oddKeys],
  [100, coordinates],
  [80, colour],
  [10, oversize],
  [10, text],
  [80, valid],
];
const TOTAL = CATEGORIES.reduce((n, [w]) => n + w, 0);

/** The next hostile frame; `id` is used when the frame carries one. */
export function hostileFrame(rng: Rng, shape: CanvasShape, id: number): HostileFrame {
  let r = rng.int(TOTAL);
  for (const [w, make] of CATEGORIES) {
    if (r < w) return make(rng, shape, id);
    r -= w;
  }
  return randomBytes(rng);
}
