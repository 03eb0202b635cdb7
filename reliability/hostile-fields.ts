/**
 * Field-level hostility for the hostile frame generator (hostile-frames.ts): a valid placement's
 * entries, swapping one field, MessagePack values that are not a usable integer, and the
 * wrong-type / missing-field / bad-type / bad-subscribe category.
 */
import { ErrorCode } from '../protocol/messages.ts';
import type { Rng } from '../testkit/rng.ts';
import type { CanvasShape, HostileFrame } from './hostile-frames.ts';
import { arr, bin, bool, f32, f64, int, int64, map, nil, str, uint64, type Bytes } from './msgpack-writer.ts';

/** A valid place map's entries, so one field can be swapped for something hostile. */
export function placeEntries(id: number, x: number, y: number, c: number): Array<[string, Bytes]> {
  return [
    ['t', str('place')],
    ['id', int(id)],
    ['x', int(x)],
    ['y', int(y)],
    ['c', int(c)],
  ];
}

export function withField(
  entries: Array<[string, Bytes]>,
  key: string,
  value: Bytes | undefined,
): Array<[string, Bytes]> {
  const out = entries.filter(([k]) => k !== key);
  if (value !== undefined) out.push([key, value]);
  return out;
}

/** Values that are not a usable integer, each from a different corner of MessagePack. */
export function badValue(rng: Rng): Bytes {
  switch (rng.int(16)) {
    case 0:
      return f64(1); // an integer value, float-encoded: PROTOCOL.md says floats are rejected
    case 1:
      return f32(2);
    case 2:
      return f64(-0);
    case 3:
      return f64(NaN);
    case 4:
      return f64(rng.int(2) ? Infinity : -Infinity);
    case 5:
      return f64(rng.int(100) + 0.5);
    case 6:
      return str(String(rng.int(10)));
    case 7:
      return bool(rng.int(2) === 1);
    case 8:
      return nil();
    case 9:
      return arr([int(1), int(2)]);
    case 10:
      return map([['x', int(1)]]);
    case 11:
      return bin(rng.bytes(4));
    case 12:
      return uint64(2n ** 53n + BigInt(rng.int(1000)));
    case 13:
      return int64(-(2n ** 60n));
    case 14:
      return uint64(BigInt(rng.int(10))); // small value, 64-bit encoding: still rejected
    // (A timestamp or any other extension is not_msgpack wherever it sits: the extension category.)
    default:
      return bin(new Uint8Array(0));
  }
}
export function wrongTypes(rng: Rng, s: CanvasShape, id: number): HostileFrame {
  const base = placeEntries(id, rng.int(s.width), rng.int(s.height), rng.int(s.colours));
  switch (rng.int(8)) {
    case 0:
    case 1:
    case 2: {
      const key = rng.pick(['x', 'y', 'c']);
      return {
        category: 'wrong field type',
        data: map(withField(base, key, badValue(rng))),
        expect: { kind: 'error', code: ErrorCode.INVALID_FIELD, id },
      };
    }
    case 3:
      // The id itself is bad: an error, without asserting which id is echoed.
      return {
        category: 'wrong field type',
        data: map(withField(base, 'id', rng.int(2) ? badValue(rng) : int(-1 - rng.int(1000)))),
        expect: { kind: 'error', code: ErrorCode.INVALID_FIELD },
      };
    case 4:
      return {
        category: 'missing field',
        data: map(withField(base, rng.pick(['x', 'y', 'c']), undefined)),
        expect: { kind: 'error', code: ErrorCode.INVALID_FIELD, id },
      };
    case 5: {
      const top = rng.pick([arr([str('place')]), int(7), str('place'), nil(), bin(rng.bytes(8)), f64(1.5), bool(true)]);
      return { category: 'not a map', data: top, expect: { kind: 'error', code: ErrorCode.BAD_MESSAGE } };
    }
    case 6: {
      const t = rng.pick([int(1), nil(), arr([]), map([]), bin(Uint8Array.of(0x70)), f64(0)]);
      return {
        category: 't not a string',
        data: map(withField(base, 't', t)),
        expect: { kind: 'error', code: ErrorCode.BAD_MESSAGE },
      };
    }
    default: {
      if (rng.int(2)) {
        const t = rng.pick([
          '',
          'Place',
          'ack',
          'hello',
          'error',
          'png',
          'delta',
          'place ',
          '__proto__',
          'constructor',
        ]);
        return {
          category: 'unknown type',
          data: map(withField(base, 't', str(t))),
          expect: { kind: 'error', code: ErrorCode.UNKNOWN_TYPE, id },
        };
      }
      const named = rng.int(2) === 1; // a string naming no stream, or not a string at all
      const stream = named
        ? str(rng.pick(['', 'PNG', 'deltas', 'png\u0000', 'x'.repeat(200)]))
        : rng.pick([int(1), nil(), f64(1), arr([]), map([]), bin(Uint8Array.of(0x70))]);
      const code = named ? ErrorCode.UNKNOWN_STREAM : ErrorCode.INVALID_FIELD;
      return {
        category: 'bad subscribe',
        data: map([
          ['t', str('subscribe')],
          ['id', int(id)],
          ['stream', stream],
        ]),
        expect: { kind: 'error', code, id },
      };
    }
  }
}
