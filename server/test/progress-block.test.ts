/**
 * The tick's packed project progress (projects/progress-block.ts): what the writer packs every edge
 * reads back exactly, each process's `progress` bytes are the ones `encodeMessage` would make (the
 * client wire is unchanged), and a block that is not exactly the layout is refused by the decoder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import type { Grief, ProgressMsg } from '../../protocol/messages.ts';
import { decodeTicks, encodeBus, type FrameMsg } from '../bus/bus-messages.ts';
import { GRIEFS_PER_TICK, ProgressBlock, type TickProject } from '../projects/progress-block.ts';
import { WatchedProgress } from '../streams/watched-progress.ts';
import { Rng } from '../../testkit/rng.ts';

const SEQ = 5_000_000_000;
/** Integers on every boundary of the MessagePack forms (fixint, uint8/16/32, int8/16/32, int64). */
const EDGES = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000];
const TIMES = [-1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000, -0x80000001, 1_764_000_000_000];

function grief(rng: Rng, i: number): Grief {
  const who =
    i % 7 === 0
      ? 'mod:rollback'
      : i % 11 === 0
        ? 'x'.repeat(33 + (i % 20))
        : rng
            .int(2 ** 32)
            .toString(16)
            .padStart(16, '0');
  return {
    x: EDGES[i % 9] as number,
    y: rng.int(16_384),
    color: rng.int(256),
    who,
    at: i % 3 === 0 ? (TIMES[i % TIMES.length] as number) : (EDGES[i % EDGES.length] as number),
    seq: i % 5 === 0 ? SEQ : (EDGES[i % EDGES.length] as number),
  };
}

function projects(rng: Rng): TickProject[] {
  return Array.from({ length: 40 }, (_, p) => {
    const total = EDGES[p % 9] as number;
    const n = p === 3 ? GRIEFS_PER_TICK : p === 4 ? 16 : rng.int(4);
    return {
      id: p === 0 ? 0xffffffff : p + 1,
      total,
      done: rng.int(total + 1),
      tickGriefs: Array.from({ length: n }, (_, i) => grief(rng, p * 100 + i)),
    };
  });
}

test('a packed block reads back exactly, and its messages are the bytes encodeMessage makes', () => {
  const input = projects(new Rng(7));
  const packed = ProgressBlock.pack(SEQ, input);
  const read = ProgressBlock.read(Uint8Array.from(packed.bytes));
  assert.ok(read);
  assert.equal(read.seq, SEQ);
  assert.equal(read.count, input.length);
  for (const block of [packed, read]) {
    for (const p of input) {
      const want: ProgressMsg = {
        t: 'progress',
        project: p.id,
        seq: SEQ,
        total: p.total,
        done: p.done,
        griefs: [...p.tickGriefs],
      };
      assert.deepEqual(block.progress(p.id), want);
      const bytes = block.message(p.id);
      assert.deepEqual(Buffer.from(bytes as Uint8Array), Buffer.from(encodeMessage(want)), `project ${p.id}`);
      assert.deepEqual(decodeServerMessage(bytes as Uint8Array), want);
    }
    assert.equal(block.progress(999), undefined);
    assert.equal(block.message(999), undefined);
  }
});

test('a block packs at most GRIEFS_PER_TICK griefs and done within 0..total', () => {
  const rng = new Rng(1);
  const griefs = Array.from({ length: GRIEFS_PER_TICK + 5 }, (_, i) => grief(rng, i));
  const block = ProgressBlock.pack(9, [
    { id: 1, total: 10, done: -2, tickGriefs: griefs.map((g) => ({ ...g, seq: 9 })) },
    { id: 2, total: 10, done: 12, tickGriefs: [] },
  ]);
  const read = ProgressBlock.read(block.bytes);
  assert.equal(read?.progress(1)?.griefs.length, GRIEFS_PER_TICK);
  assert.equal(read?.progress(1)?.done, 0);
  assert.equal(read?.progress(2)?.done, 10);
});

test('the fan-out encodes a project once, and a replaced tick keeps its progress before the newer', () => {
  const older = ProgressBlock.pack(3, [{ id: 7, total: 4, done: 1, tickGriefs: [] }]);
  const newer = ProgressBlock.pack(5, [
    { id: 7, total: 4, done: 2, tickGriefs: [] },
    { id: 8, total: 1, done: 1, tickGriefs: [] },
  ]);
  const watched = new WatchedProgress([older, newer]);
  const seven = watched.messages(7);
  assert.deepEqual(
    seven.map((m) => decodeServerMessage(m)),
    [older.progress(7), newer.progress(7)],
  );
  assert.equal(watched.messages(7), seven);
  assert.equal(watched.messages(8).length, 1);
  assert.deepEqual(watched.messages(9), []);
});

/** Writes a little-endian field into a copy of `bytes`. */
function patched(bytes: Buffer, at: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.from(bytes);
  write(b.subarray(at));
  return b;
}

test('the decoder refuses a block that is not exactly the layout', () => {
  const g: Grief = { x: 1, y: 2, color: 3, who: '9f2c41d07a35be88', at: 1_764_000_000_000, seq: 8 };
  const good = ProgressBlock.pack(9, [
    { id: 1, total: 5, done: 2, tickGriefs: [g] },
    { id: 2, total: 5, done: 5, tickGriefs: [] },
  ]).bytes;
  assert.ok(ProgressBlock.read(good));
  // Header 12, project 1 at 12 (13 bytes), its grief at 25 (26 + 16), project 2 at 67.
  const griefAt = 25;
  const bad: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['one byte more', Buffer.concat([good, Buffer.from([0])])],
    ['seq not an integer', patched(good, 0, (b) => b.writeDoubleLE(9.5))],
    ['seq negative', patched(good, 0, (b) => b.writeDoubleLE(-1))],
    ['seq NaN', patched(good, 0, (b) => b.writeDoubleLE(Number.NaN))],
    ['more projects than bytes', patched(good, 8, (b) => b.writeUInt32LE(1000))],
    ['one project fewer than packed', patched(good, 8, (b) => b.writeUInt32LE(1))],
    ['done over total', patched(good, 12 + 8, (b) => b.writeUInt32LE(6))],
    ['griefs over GRIEFS_PER_TICK', patched(good, 12 + 12, (b) => b.writeUInt8(GRIEFS_PER_TICK + 1))],
    ['a project twice', patched(good, 67, (b) => b.writeUInt32LE(1))],
    ['grief at not an integer', patched(good, griefAt + 9, (b) => b.writeDoubleLE(1.5))],
    ['grief at beyond safe integers', patched(good, griefAt + 9, (b) => b.writeDoubleLE(2 ** 60))],
    ['grief seq after the tick', patched(good, griefAt + 17, (b) => b.writeDoubleLE(10))],
    ['grief seq negative', patched(good, griefAt + 17, (b) => b.writeDoubleLE(-1))],
    ['who too long', patched(good, griefAt + 25, (b) => b.writeUInt8(65))],
    ['who past the end', patched(good, griefAt + 25, (b) => b.writeUInt8(60))],
    ['who with a control character', patched(good, griefAt + 26, (b) => b.writeUInt8(0x0a))],
    ['who with a space', patched(good, griefAt + 27, (b) => b.writeUInt8(0x20))],
    ['who not ASCII', patched(good, griefAt + 28, (b) => b.writeUInt8(0xe9))],
  ];
  for (let cut = 0; cut < good.length; cut++) bad.push([`cut at ${cut}`, good.subarray(0, cut)]);
  for (const [what, bytes] of bad) assert.equal(ProgressBlock.read(bytes), undefined, what);
});

test('a bus tick carries the block as bytes, checked against the tick seq', () => {
  const block = ProgressBlock.pack(42, [{ id: 3, total: 2, done: 1, tickGriefs: [] }]);
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
  const tick: FrameMsg = {
    k: 'tick',
    epoch: 1,
    canvasId: 'c',
    seq: 42,
    etag: '"c-42"',
    width: 10,
    height: 10,
    resizeCount: 0,
    png,
    at: 1,
    progress: block.bytes,
  };
  const got = decodeTicks(encodeBus(tick));
  assert.ok(got?.k === 'tick' && got.progress);
  assert.deepEqual(got.progress.progress(3), block.progress(3));
  assert.equal(decodeTicks(encodeBus({ ...tick, seq: 43 })), undefined);
  assert.equal(decodeTicks(encodeBus({ ...tick, progress: block.bytes.subarray(1) })), undefined);
  assert.equal(decodeTicks(encodeBus({ ...tick, progress: [1, 2] as unknown as Uint8Array })), undefined);
});
