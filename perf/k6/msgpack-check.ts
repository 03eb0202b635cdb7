/**
 * Hand-run check (not part of `npm test`) that perf/k6/lib/msgpack.js, the k6 scripts' own
 * MessagePack code, writes and reads the same bytes as the server's codec and msgpackr:
 *
 *   npx tsx perf/k6/msgpack-check.ts
 *
 * Checks: PROTOCOL.md's example `place` bytes; client frames accepted by protocol/codec.ts's parser;
 * values across every length and integer-width boundary decoded by msgpackr to the same value (and
 * msgpackr's encodings decoded by ours); real server messages (hello, png, delta, ack, error)
 * decoded; malformed input refused. Prints one line per group and exits 1 on the first mismatch.
 */
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { encodeMessage, parseClientMessage } from '../../protocol/codec.ts';
import { ErrorCode, MsgType, Stream, type ServerMessage } from '../../protocol/messages.ts';

interface K6Msgpack {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array | ArrayBuffer): unknown;
}
// The module is plain JavaScript for k6 (typechecked by perf/k6/tsconfig.json); a computed specifier
// spares this Node project a declaration file for it.
const mp = (await import(new URL('./lib/msgpack.js', import.meta.url).href)) as K6Msgpack;
interface K6Protocol {
  parseServerFrame(data: ArrayBuffer | Uint8Array): { t: string };
  placeFrame(id: number, x: number, y: number, c: number): ArrayBuffer;
  resyncFrame(): ArrayBuffer;
  isPng(bytes: Uint8Array): boolean;
}
const k6proto = (await import(new URL('./lib/protocol.js', import.meta.url).href)) as K6Protocol;
// As the server decodes (protocol/codec.ts); bin comes back as Buffer, compared as bytes below.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

const hex = (b: Uint8Array) =>
  Buffer.from(b)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
/**
 * Buffers (msgpackr's bin) compared as plain Uint8Arrays; BigInt (msgpackr's uint64/int64, which the
 * server then refuses) as Number: ours writes integers above 2^32 as uint64 like any encoder must.
 */
const plain = (v: unknown): unknown =>
  typeof v === 'bigint'
    ? Number(v)
    : v instanceof Uint8Array
      ? new Uint8Array(v)
      : Array.isArray(v)
        ? v.map(plain)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
          : v;

function group(name: string, fn: () => number): void {
  const n = fn();
  process.stdout.write(`ok  ${name} (${n} cases)\n`);
}

group('PROTOCOL.md example place bytes', () => {
  const bytes = mp.encode({ t: 'place', id: 1, x: 10, y: 20, c: 5 });
  assert.equal(hex(bytes), '85 a1 74 a5 70 6c 61 63 65 a2 69 64 01 a1 78 0a a1 79 14 a1 63 05');
  return 1;
});

// Not byte-compared with msgpackr: it writes objects as map16 even when a fixmap fits (PROTOCOL.md
// leaves the forms free); ours writes the smallest forms, as in PROTOCOL.md's example.
group('client frames are accepted by the server parser as the same message', () => {
  const frames = [
    { t: MsgType.PLACE, id: 1, x: 0, y: 0, c: 0 },
    { t: MsgType.PLACE, id: 4294967295, x: 999, y: 65535, c: 31 },
    { t: MsgType.PLACE, id: 123456, x: 128, y: 256, c: 255 },
    { t: MsgType.SUBSCRIBE, stream: Stream.DELTA, since: 70000 },
    { t: MsgType.SUBSCRIBE, stream: Stream.PNG },
    { t: MsgType.RESYNC },
  ];
  for (const f of frames) {
    const ours = mp.encode(f);
    const parsed = parseClientMessage(ours);
    assert.ok(parsed.ok, `${JSON.stringify(f)}: ${parsed.ok ? '' : parsed.code}`);
    assert.deepEqual(parsed.msg, f);
  }
  return frames.length;
});

const ints = [
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 53 - 1),
];
/** ASCII strings of exact byte lengths (the str8/16/32 boundaries), and whole code points beyond ASCII. */
const str = (n: number) => 'abcdefghij'.repeat(Math.ceil(n / 10)).slice(0, n);
const unicode = (n: number) => Array.from('aé€😀'.repeat(n)).slice(0, n).join('');
const values: unknown[] = [
  null,
  true,
  false,
  0.5,
  -1.25,
  1e300,
  ...ints,
  ...[0, 1, 31, 32, 255, 256, 65535, 65536].map(str),
  ...[1, 2, 3, 4, 9, 100, 30_000].map(unicode),
  ...[0, 1, 255, 256, 65535, 65536, 150_000].map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 255)),
  [],
  Array.from({ length: 15 }, (_, i) => i),
  Array.from({ length: 16 }, (_, i) => -i - 1),
  Array.from({ length: 70_000 }, (_, i) => i % 300),
  Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
  Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, unicode(i)])),
  { nested: { a: [1, 'b', null, { c: new Uint8Array([1, 2, 3]) }] }, ключ: 'значение' },
];

group('our encoding decodes with msgpackr to the same value', () => {
  for (const v of values)
    assert.deepEqual(plain(packr.unpack(mp.encode(v))), plain(v), `value ${String(v).slice(0, 40)}`);
  return values.length;
});

group("msgpackr's encoding decodes with ours to the same value", () => {
  for (const v of values)
    assert.deepEqual(plain(mp.decode(packr.pack(v))), plain(v), `value ${String(v).slice(0, 40)}`);
  return values.length;
});

group('server messages decode with ours', () => {
  const png = Uint8Array.from({ length: 150_000 }, (_, i) => i & 255);
  const px = new Uint8Array([3, 0, 4, 0, 5, 0xe7, 3, 0xe7, 3, 15]);
  const messages = [
    {
      t: MsgType.HELLO,
      v: 1,
      width: 1000,
      height: 1000,
      palette: [0xffffff, 0xe4e4e4, 0x222222],
      seq: 4_000_000_000,
      tickMs: 1000,
      cooldownMs: 0,
      stream: Stream.PNG,
      streams: [Stream.PNG, Stream.DELTA],
      you: '0123456789abcdef',
      token: 'x.y',
    },
    { t: MsgType.PNG, seq: 400_000, png },
    { t: MsgType.DELTA, fromSeq: 10, toSeq: 15, n: 2, px },
    // `next` is Unix ms (> 2^32): msgpackr sends it as float64 (0xcb); ours must read it.
    { t: MsgType.ACK, id: 7, seq: 400_001, next: 1_764_000_005_000 },
    { t: MsgType.ERROR, id: 8, code: ErrorCode.COOLDOWN, message: 'wait — 3.1 s', wait: 3100 },
  ] satisfies ServerMessage[];
  for (const m of messages) assert.deepEqual(plain(mp.decode(encodeMessage(m))), plain(m), m.t);
  // The bin is a view into the frame, not a copy (a PNG per tick per subscriber).
  const frame = encodeMessage(messages[1] as ServerMessage);
  const decoded = mp.decode(frame) as { png: Uint8Array };
  assert.equal(decoded.png.buffer, frame.buffer);
  return messages.length;
});

group('perf/k6/lib/protocol.js: frames it builds and server frames it checks', () => {
  const place = parseClientMessage(new Uint8Array(k6proto.placeFrame(42, 999, 0, 15)));
  assert.deepEqual(place, { ok: true, msg: { t: MsgType.PLACE, id: 42, x: 999, y: 0, c: 15 } });
  assert.deepEqual(parseClientMessage(new Uint8Array(k6proto.resyncFrame())), { ok: true, msg: { t: MsgType.RESYNC } });
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
  assert.ok(k6proto.isPng(png));
  const frames = [
    encodeMessage({
      t: MsgType.HELLO,
      v: 1,
      width: 4,
      height: 2,
      palette: [0xffffff, 0],
      seq: 3,
      tickMs: 1000,
      cooldownMs: 0,
      stream: Stream.PNG,
      streams: [Stream.PNG],
      you: '0123456789abcdef',
    }),
    encodeMessage({ t: MsgType.PNG, seq: 3, png }),
    encodeMessage({ t: MsgType.DELTA, fromSeq: 1, toSeq: 3, n: 1, px: new Uint8Array([1, 0, 2, 0, 3]) }),
    encodeMessage({ t: MsgType.ACK, id: 1, seq: 3, next: 1_764_000_005_000 }),
    encodeMessage({ t: MsgType.ERROR, code: ErrorCode.COOLDOWN, message: 'm', wait: 10 }),
    encodeMessage({ t: MsgType.ONLINE, n: 12 }),
  ];
  for (const f of frames) k6proto.parseServerFrame(f);
  assert.throws(() =>
    k6proto.parseServerFrame(encodeMessage({ t: MsgType.DELTA, fromSeq: 1, toSeq: 3, n: 2, px: new Uint8Array(5) })),
  );
  return frames.length + 3;
});

group('malformed input is refused', () => {
  const bad = ['', '92 01', '01 02', 'c1', 'd4 00 00', 'c7 01 00 00', 'd9 05 61 62', 'c6 ff ff ff ff 00', '81 c0 01'];
  for (const h of bad) {
    const bytes = new Uint8Array(h ? h.split(' ').map((x) => parseInt(x, 16)) : []);
    assert.throws(() => mp.decode(bytes), Error, `"${h}" should be refused`);
  }
  return bad.length;
});
