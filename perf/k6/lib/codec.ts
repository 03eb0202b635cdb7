/**
 * The k6 scripts' MessagePack: msgpackr with protocol/codec.ts's options, bundled for k6 by
 * `npm run k6:bundle` (esbuild, into codec.bundle.js, not committed): k6 runs ES modules but cannot
 * load npm packages. Not protocol/codec.ts itself: its frame scanner (protocol/msgpack-scan.ts)
 * creates a TextDecoder when loaded, which k6 1.8 does not have; msgpackr falls back to its own
 * UTF-8 code without one.
 */
import { Packr } from 'msgpackr';

// Plain maps as objects, no records, 64-bit integers (ack.next, Unix ms) as numbers: as the server's
// decodeServerMessage reads them.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decode(bytes: Uint8Array | ArrayBuffer): unknown {
  return packr.unpack(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}
