import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerMessage, encodeMessage, parseClientMessage } from '../../protocol/codec.ts';
import { ErrorCode } from '../../protocol/messages.ts';

test('the place example in PROTOCOL.md parses to the documented message', () => {
  const hex = '85 a1 74 a5 70 6c 61 63 65 a2 69 64 01 a1 78 0a a1 79 14 a1 63 05';
  const parsed = parseClientMessage(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  assert.deepEqual(parsed, { ok: true, msg: { t: 'place', id: 1, x: 10, y: 20, c: 5 } });
});

test('server frames are plain MessagePack maps without msgpackr extensions', () => {
  const bytes = encodeMessage({ t: 'png', seq: 3, png: Uint8Array.from([1, 2, 3]) });
  // A map header (fixmap 0x8N, map16 0xde or map32 0xdf), and the bin payload as bin8 (0xc4).
  assert.ok((bytes[0]! & 0xf0) === 0x80 || bytes[0] === 0xde || bytes[0] === 0xdf);
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
  const frame = Buffer.from('85a174a5706c616365a26964' + '01' + 'a178' + '01' + 'a179' + '02' + 'a9' + Buffer.from('__proto__').toString('hex') + '05', 'hex');
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
