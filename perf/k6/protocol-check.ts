/**
 * Checks the k6 scripts' protocol code (lib/protocol.js on the msgpackr bundle) against protocol/:
 * the frames it builds are accepted by the server's parser as the same messages, and it accepts
 * every server message protocol/codec.ts encodes, refusing a malformed one. Run by
 * `npm run k6:smoke` before the scenarios (after `npm run k6:bundle`); on its own:
 *
 *   npm run k6:bundle && npx tsx perf/k6/protocol-check.ts
 */
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { encodeMessage, parseClientMessage } from '../../protocol/codec.ts';
import { ErrorCode, MsgType, Stream, type ServerMessage } from '../../protocol/messages.ts';

interface K6Protocol {
  parseServerFrame(data: ArrayBuffer | Uint8Array): unknown;
  placeFrame(id: number, x: number, y: number, c: number): ArrayBuffer;
  resyncFrame(): ArrayBuffer;
  isPng(bytes: Uint8Array): boolean;
}

/** Bins compared as plain bytes (the server's msgpackr gives Buffers, the bundle Uint8Arrays). */
const plain = (v: unknown): unknown =>
  v instanceof Uint8Array
    ? Array.from(v)
    : v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
      : v;

/** Throws an AssertionError naming the first mismatch; returns the number of frames checked. */
export async function checkK6Protocol(): Promise<number> {
  // Plain JavaScript for k6 (typechecked by perf/k6/tsconfig.json): a computed specifier spares this
  // Node project a declaration file for it.
  const k6 = (await import(pathToFileURL(`${import.meta.dirname}/lib/protocol.js`).href)) as K6Protocol;
  const place = parseClientMessage(new Uint8Array(k6.placeFrame(4294967295, 999, 65535, 31)));
  assert.deepEqual(place, { ok: true, msg: { t: MsgType.PLACE, id: 4294967295, x: 999, y: 65535, c: 31 } });
  assert.deepEqual(parseClientMessage(new Uint8Array(k6.resyncFrame())), { ok: true, msg: { t: MsgType.RESYNC } });
  const png = Uint8Array.from(
    { length: 70_000 },
    (_, i) => (i < 8 ? [0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10][i] : i) ?? 0,
  );
  assert.ok(k6.isPng(png));
  const messages: ServerMessage[] = [
    {
      t: MsgType.HELLO,
      v: 1,
      width: 1000,
      height: 1000,
      palette: [0xffffff, 0],
      seq: 4_000_000_000,
      tickMs: 1000,
      cooldownMs: 0,
      stream: Stream.PNG,
      streams: [Stream.PNG, Stream.DELTA],
      you: '0123456789abcdef',
    },
    { t: MsgType.PNG, seq: 400_000, png },
    { t: MsgType.DELTA, fromSeq: 10, toSeq: 15, n: 2, px: new Uint8Array([3, 0, 4, 0, 5, 0xe7, 3, 0xe7, 3, 15]) },
    // `next` is Unix ms, beyond 32 bits: the server writes it as int64.
    { t: MsgType.ACK, id: 7, seq: 400_001, next: 1_764_000_005_000 },
    { t: MsgType.ERROR, id: 8, code: ErrorCode.COOLDOWN, message: 'wait — 3.1 s', wait: 3100 },
    { t: MsgType.ONLINE, n: 12 },
  ];
  for (const m of messages) assert.deepEqual(plain(k6.parseServerFrame(encodeMessage(m))), plain(m), m.t);
  const short = encodeMessage({ t: MsgType.DELTA, fromSeq: 1, toSeq: 3, n: 2, px: new Uint8Array(5) });
  assert.throws(() => k6.parseServerFrame(short), /n records/);
  return messages.length + 3;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  console.log(`k6 protocol check: ${await checkK6Protocol()} frames as protocol/ says`);
