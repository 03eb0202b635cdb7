import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerMessage, encodeMessage, isClientInt, parseClientMessage } from '../../protocol/codec.ts';
import { ErrorCode, MAX_POW_CHARS } from '../../protocol/messages.ts';
import { scanFrame } from '../../protocol/msgpack-scan.ts';

test('the place example in PROTOCOL.md parses to the documented message', () => {
  const hex = '85 a1 74 a5 70 6c 61 63 65 a2 69 64 01 a1 78 0a a1 79 14 a1 63 05';
  const parsed = parseClientMessage(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  assert.deepEqual(parsed, { ok: true, msg: { t: 'place', id: 1, x: 10, y: 20, c: 5 } });
});

test('server frames are plain MessagePack maps without msgpackr extensions', () => {
  const bytes = encodeMessage({ t: 'png', seq: 3, png: Uint8Array.from([1, 2, 3]) });
  // A map header (fixmap 0x8N, map16 0xde or map32 0xdf), and the bin payload as bin8 (0xc4).
  assert.ok(((bytes[0] ?? 0) & 0xf0) === 0x80 || bytes[0] === 0xde || bytes[0] === 0xdf);
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0xc4, 0x03, 1, 2, 3])), 'bin8 payload');
  assert.ok(!Buffer.from(bytes).includes(Buffer.from([0xd4])), 'no fixext');
  const back = decodeServerMessage(bytes);
  assert.equal(back.t, 'png');
});

test('64-bit integers, floats and negative ids are invalid fields', () => {
  // {t:'place', id: 2^32 as uint64, x:1, y:1, c:1}
  const uint64 = Buffer.from('85a174a5706c616365a26964cf0000000100000000a17801a17901a16301', 'hex');
  const cases = [
    encodeMessage({ t: 'place', id: 1, x: 1.25, y: 0, c: 0 }),
    encodeMessage({ t: 'place', id: -1, x: 1, y: 0, c: 0 }),
  ];
  for (const frame of cases) {
    const r = parseClientMessage(frame);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, ErrorCode.INVALID_FIELD);
  }
  const r = parseClientMessage(uint64);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.code, ErrorCode.INVALID_FIELD);
});

test('__proto__ keys do not reach the parsed message', () => {
  const frame = Buffer.from(
    '85a174a5706c616365a26964' +
      '01' +
      'a178' +
      '01' +
      'a179' +
      '02' +
      'a9' +
      Buffer.from('__proto__').toString('hex') +
      '05',
    'hex',
  );
  const r = parseClientMessage(frame);
  assert.equal(r.ok, false, 'c is missing: the __proto__ key is not read as a field');
  assert.equal(({} as Record<string, unknown>).c, undefined, 'Object.prototype untouched');
});

test('integers beyond 32 bits (ack.next timestamps) go out as int64, never float64, and decode exactly', () => {
  const next = 1_795_575_980_931;
  const bytes = Buffer.from(encodeMessage({ t: 'ack', id: 7, seq: 3, next }));
  assert.ok(!bytes.includes(0xcb), 'no float64');
  const int64 = Buffer.alloc(9);
  int64[0] = 0xd3;
  int64.writeBigInt64BE(BigInt(next), 1);
  assert.ok(bytes.includes(int64), 'int64 0xd3');
  const back = decodeServerMessage(bytes);
  assert.equal(back.t === 'ack' && back.next, next);
});

/** `{t:'place', id:1, x:1, y:1, c:1, z: <value>}`: a valid place with `value` under an ignored key. */
function placeWithIgnored(valueHex: string): Buffer {
  return Buffer.from(`86a174a5706c616365a2696401a17801a17901a16301a17a${valueHex}`, 'hex');
}

test('every extension type anywhere in a frame is not_msgpack, the timestamp type included', () => {
  const extensions = [
    'd40000', // fixext 1, type 0 (msgpackr reads it as undefined)
    'd6ff00000001', // fixext 4, type -1: timestamp 32
    'd7ff0000000000000001', // fixext 8, type -1: timestamp 64
    'c70cff' + '00000000' + '0000000000000001', // ext 8, type -1: timestamp 96
    'd50100ff', // fixext 2
    `d801${'00'.repeat(16)}`, // fixext 16
    'c8000101ff', // ext 16
    'c90000000101ff', // ext 32
    'c70005', // ext 8 with an empty payload
  ];
  for (const ext of extensions) {
    const frames = [
      placeWithIgnored(ext), // under a key the server ignores
      placeWithIgnored(`91${ext}`), // nested in an array
      placeWithIgnored(`81a161${ext}`), // nested in a map
      Buffer.from(ext, 'hex'), // the whole frame
    ];
    for (const frame of frames) {
      const r = parseClientMessage(frame);
      assert.equal(r.ok, false, frame.toString('hex'));
      if (!r.ok) assert.equal(r.code, ErrorCode.NOT_MSGPACK, frame.toString('hex'));
      assert.equal(scanFrame(frame).ok, false, frame.toString('hex'));
    }
  }
});

test('0xc1 and extension bytes inside str, bin and integer payloads are data, not type bytes', () => {
  const payloads = [
    'a3c1d4c7', // str of 3 bytes (not UTF-8, still a str)
    'c404c1d4d6c9', // bin 8
    'c50002c1c7', // bin 16
    'cdc1d4', // uint16 0xc1d4
    'cec1d4d6c7', // uint32
    'd2c1c8c9d8', // int32
    'ca c1 d4 00 00'.replace(/ /g, ''), // float32: a float is fine under an ignored key
  ];
  for (const payload of payloads) {
    const r = parseClientMessage(placeWithIgnored(payload));
    assert.deepEqual(r, { ok: true, msg: { t: 'place', id: 1, x: 1, y: 1, c: 1 } }, payload);
  }
  // The same bytes as a field's integer: parsed as the number (the canvas rules refuse it later).
  const x = Buffer.from('85a174a5706c616365a2696401a178cdc1d4a17901a16301', 'hex');
  assert.deepEqual(parseClientMessage(x), { ok: true, msg: { t: 'place', id: 1, x: 0xc1d4, y: 1, c: 1 } });
  // But 0xc1 as a type byte is refused wherever it stands.
  for (const frame of [placeWithIgnored('c1'), placeWithIgnored('91c1'), Buffer.from([0xc1])]) {
    const r = parseClientMessage(frame);
    assert.equal(!r.ok && r.code, ErrorCode.NOT_MSGPACK, frame.toString('hex'));
  }
});

test('client integers are exactly the int32 and uint32 range: beyond is invalid_field, as on the wire', () => {
  for (const v of [0, 1, -1, 0x7fffffff, -0x80000000, 0xffffffff]) assert.equal(isClientInt(v), true, String(v));
  for (const v of [-0x80000001, 0x100000000, 1.5, Number.NaN, Infinity, '1', 1n, null, undefined]) {
    assert.equal(isClientInt(v), false, String(v));
  }
  // The wire side: int32 -2^31 and uint32 2^32-1 parse; int64 -2^31-1 and uint64 2^32 do not.
  const withX = (hex: string) => Buffer.from(`85a174a5706c616365a2696401a178${hex}a17901a16301`, 'hex');
  assert.equal(parseClientMessage(withX('d280000000')).ok, true);
  assert.equal(parseClientMessage(withX('ceffffffff')).ok, true);
  for (const hex of ['d3ffffffff7fffffff', 'cf0000000100000000', 'cb3ff0000000000000', 'cb8000000000000000']) {
    const r = parseClientMessage(withX(hex));
    assert.equal(!r.ok && r.code, ErrorCode.INVALID_FIELD, hex);
  }
});

test('a negative place id is invalid_field, answered without the id', () => {
  for (const id of [-1, -0x80000000]) {
    const r = parseClientMessage(encodeMessage({ t: 'place', id, x: 1, y: 1, c: 1 }));
    assert.deepEqual(r.ok ? r : { ok: r.ok, code: r.code, id: r.id }, {
      ok: false,
      code: ErrorCode.INVALID_FIELD,
      id: undefined,
    });
  }
});

test(
  'subscribe: a missing or non-string stream is invalid_field, ' +
    'an unknown name unknown_stream, a negative since invalid_field',
  () => {
    const cases: Array<[Record<string, unknown>, ErrorCode]> = [
      [{ t: 'subscribe' }, ErrorCode.INVALID_FIELD],
      [{ t: 'subscribe', stream: null }, ErrorCode.INVALID_FIELD],
      [{ t: 'subscribe', stream: 1 }, ErrorCode.INVALID_FIELD],
      [{ t: 'subscribe', stream: ['delta'] }, ErrorCode.INVALID_FIELD],
      [{ t: 'subscribe', stream: 'pixels' }, ErrorCode.UNKNOWN_STREAM],
      [{ t: 'subscribe', stream: '' }, ErrorCode.UNKNOWN_STREAM],
      [{ t: 'subscribe', stream: 'delta', since: -1 }, ErrorCode.INVALID_FIELD],
      [{ t: 'subscribe', stream: 'png', since: -1 }, ErrorCode.INVALID_FIELD],
    ];
    for (const [msg, code] of cases) {
      const r = parseClientMessage(encodeMessage(msg as never));
      assert.equal(!r.ok && r.code, code, JSON.stringify(msg));
    }
  },
);

test('place carries an optional pow: a string of 1..MAX_POW_CHARS, anything else is invalid_field', () => {
  const ok = parseClientMessage(encodeMessage({ t: 'place', id: 3, x: 1, y: 2, c: 0, pow: 'abc' }));
  assert.deepEqual(ok, { ok: true, msg: { t: 'place', id: 3, x: 1, y: 2, c: 0, pow: 'abc' } });
  const none = parseClientMessage(encodeMessage({ t: 'place', id: 3, x: 1, y: 2, c: 0, pow: null } as never));
  assert.deepEqual(none, { ok: true, msg: { t: 'place', id: 3, x: 1, y: 2, c: 0 } }, 'nil: no solution');
  for (const pow of [7, '', 'x'.repeat(MAX_POW_CHARS + 1), ['a'], { a: 1 }]) {
    const r = parseClientMessage(encodeMessage({ t: 'place', id: 4, x: 1, y: 2, c: 0, pow } as never));
    assert.deepEqual(
      r.ok ? r : { code: r.code, id: r.id },
      { code: ErrorCode.INVALID_FIELD, id: 4 },
      JSON.stringify(pow),
    );
  }
  const longest = parseClientMessage(
    encodeMessage({ t: 'place', id: 5, x: 1, y: 2, c: 0, pow: 'y'.repeat(MAX_POW_CHARS) }),
  );
  assert.equal(longest.ok, true, 'a pow of exactly MAX_POW_CHARS fits in one client frame');
});
