/**
 * The chunked canvas (canvas/canvas.ts, canvas/chunk.ts) against a plain array: reads, rows at any
 * step across chunk edges, sparse chunks turning dense, the stored form of both, the changes a tick
 * takes and the chunks a snapshot takes, and a resize re-laying them all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Canvas } from '../canvas/canvas.ts';
import { CHUNK, SPARSE_MAX } from '../canvas/chunk.ts';
import { Rng } from '../../testkit/rng.ts';

/** A canvas and the plain grid and seqs it must equal, after `n` random placements. */
function randomCanvas(width: number, height: number, n: number, seed: number) {
  const rng = new Rng(seed);
  const canvas = new Canvas(width, height, 32);
  const grid = new Uint8Array(width * height);
  const seqs = new Uint32Array(width * height);
  for (let seq = 1; seq <= n; seq++) {
    // Half the placements in one corner chunk, so it turns dense; the rest anywhere.
    const x = seq % 2 ? rng.u32() % Math.min(width, CHUNK) : rng.u32() % width;
    const y = seq % 2 ? rng.u32() % Math.min(height, CHUNK) : rng.u32() % height;
    const colour = rng.u32() % 32;
    canvas.apply(x, y, colour, seq);
    grid[y * width + x] = colour;
    seqs[y * width + x] = seq;
  }
  return { canvas, grid, seqs };
}

test('reads equal a plain grid: colours, seqs, rows at steps 1 to 64 across chunk edges', () => {
  const W = 300;
  const H = 200;
  const { canvas, grid, seqs } = randomCanvas(W, H, 6000, 1);
  assert.ok(canvas.footprint().dense >= 1, 'the busy corner chunk turned dense');
  assert.ok(canvas.footprint().chunks > canvas.footprint().dense, 'the others stayed sparse');
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      assert.equal(canvas.get(x, y), grid[y * W + x]);
      assert.equal(canvas.lastSeqAt(x, y), seqs[y * W + x]);
    }
  assert.deepEqual(canvas.toGrid(), grid);
  for (const step of [1, 2, 3, 7, 64]) {
    for (const [x0, y] of [
      [0, 0],
      [5, 63],
      [63, 64],
      [130, 199],
    ] as const) {
      const count = Math.floor((W - 1 - x0) / step) + 1;
      const out = new Uint8Array(count + 2).fill(99);
      canvas.copyRow(x0, y, count, step, out, 1);
      const want = Array.from({ length: count }, (_, i) => grid[y * W + x0 + i * step]);
      assert.deepEqual([...out.subarray(1, 1 + count)], want, `row ${y} from ${x0} step ${step}`);
      assert.equal(out[0], 99, 'nothing written before `at`');
      assert.equal(out[count + 1], 99, 'nothing written past `count`');
    }
  }
});

test('a pixel never placed reads 0 without allocating a chunk', () => {
  const canvas = new Canvas(16_384, 16_384, 16);
  assert.equal(canvas.get(16_383, 16_383), 0);
  assert.equal(canvas.lastSeqAt(5, 5), 0);
  const row = new Uint8Array(16_384).fill(7);
  canvas.copyRow(0, 9000, 16_384, 1, row, 0);
  assert.ok(row.every((c) => c === 0));
  assert.deepEqual({ ...canvas.footprint(), sparseBytes: 0 }, { chunks: 0, dense: 0, placed: 0, sparseBytes: 0 });
});

test('a chunk turns dense past SPARSE_MAX pixels and keeps every pixel', () => {
  const canvas = new Canvas(200, 200, 256);
  const want = new Map<string, [number, number]>();
  const rng = new Rng(3);
  for (let seq = 1; want.size <= SPARSE_MAX; seq++) {
    const x = 64 + (rng.u32() % CHUNK);
    const y = 128 + (rng.u32() % CHUNK);
    assert.equal(canvas.lastSeqAt(x, y), want.get(`${x},${y}`)?.[1] ?? 0);
    canvas.apply(x, y, seq % 256, seq);
    want.set(`${x},${y}`, [seq % 256, seq]);
    assert.equal(canvas.footprint().dense, want.size > SPARSE_MAX ? 1 : 0, `dense once over ${SPARSE_MAX} pixels`);
  }
  for (const [key, [colour, seq]] of want) {
    const [x, y] = key.split(',').map(Number) as [number, number];
    assert.equal(canvas.get(x, y), colour);
    assert.equal(canvas.lastSeqAt(x, y), seq);
  }
  assert.deepEqual(canvas.footprint().placed, want.size);
  assert.equal(canvas.footprint().chunks, 1);
});

test('the stored form of sparse and dense chunks reads back to the same pixels; damaged bytes are refused', () => {
  for (const n of [1, 40, SPARSE_MAX, 3000]) {
    const { canvas } = randomCanvas(130, 70, n, n);
    const back = new Canvas(130, 70, 32);
    for (const c of canvas.takeUnsaved()) back.restoreChunk(c.cx, c.cy, c.bytes);
    assert.deepEqual(back.toGrid(), canvas.toGrid(), `${n} placements`);
    for (let y = 0; y < 70; y++)
      for (let x = 0; x < 130; x++) assert.equal(back.lastSeqAt(x, y), canvas.lastSeqAt(x, y));
    const { sparseBytes: _a, ...restored } = back.footprint();
    const { sparseBytes: _b, ...original } = canvas.footprint();
    assert.deepEqual(restored, original, 'the same chunks, dense ones dense');
  }
  const canvas = new Canvas(100, 100, 16);
  assert.throws(() => canvas.restoreChunk(0, 0, new Uint8Array(8)), /8 bytes/);
  const past = Buffer.alloc(7);
  past.writeUInt16LE(CHUNK * CHUNK, 0);
  assert.throws(() => canvas.restoreChunk(0, 0, past), /past its end/);
});

test('takeChanges lists each changed cell once per tick; touchAll lists every cell', () => {
  const canvas = new Canvas(100, 100, 16);
  canvas.apply(1, 1, 3, 1);
  canvas.apply(99, 99, 4, 2);
  canvas.apply(1, 1, 5, 3);
  assert.deepEqual(canvas.takeChanges(), [101, 9999]);
  assert.deepEqual(canvas.takeChanges(), []);
  canvas.apply(1, 1, 6, 4);
  assert.deepEqual(canvas.takeChanges(), [101], 'changed again after the last take: listed again');
  canvas.touchAll();
  canvas.apply(2, 2, 6, 5);
  assert.equal(canvas.takeChanges().length, 100 * 100);
  const untracked = new Canvas(100, 100, 16, 0, false);
  untracked.apply(1, 1, 3, 1);
  assert.deepEqual(untracked.takeChanges(), [], 'a standby copy lists nothing');
});

test('takeUnsaved lists each chunk changed since the last call once; unsavedAgain lists them again', () => {
  const canvas = new Canvas(1000, 1000, 16);
  canvas.apply(0, 0, 1, 1);
  canvas.apply(1, 1, 1, 2);
  canvas.apply(999, 999, 1, 3);
  const first = canvas.takeUnsaved();
  assert.deepEqual(
    first.map((c) => [c.cx, c.cy]),
    [
      [0, 0],
      [15, 15],
    ],
  );
  assert.deepEqual(canvas.takeUnsaved(), []);
  canvas.unsavedAgain(first);
  canvas.apply(999, 999, 2, 4);
  assert.equal(canvas.takeUnsaved().length, 2, 'the failed ones, (15, 15) once');
  const restored = new Canvas(1000, 1000, 16);
  for (const c of first) restored.restoreChunk(c.cx, c.cy, c.bytes);
  assert.equal(restored.get(999, 999), 1, 'the chunk as it was when taken');
  assert.equal(restored.lastSeqAt(1, 1), 2);
  assert.throws(() => restored.restoreChunk(16, 0, first[0]?.bytes ?? new Uint8Array()), /outside/);
});

test('resize re-lays the chunks: sparse and dense pixels move by (left, top), across chunk edges, as a plain grid grows', () => {
  const W = 150;
  const H = 100;
  const cases = [
    { width: 150, height: 100 + CHUNK, left: 0, top: 0 }, // down only: same chunks across
    { width: 150 + 3 * CHUNK, height: 100, left: 0, top: 0 }, // right only: more chunks across
    { width: 301, height: 250, left: 37, top: 70 }, // left and top, off the chunk grid
    { width: 150 + 2 * CHUNK, height: 100 + CHUNK, left: CHUNK, top: CHUNK }, // on the chunk grid: chunks move whole
  ];
  for (const [i, to] of cases.entries()) {
    const { canvas, grid, seqs } = randomCanvas(W, H, 4000, 10 + i);
    assert.ok(canvas.footprint().dense >= 1, 'a dense chunk to move');
    canvas.takeChanges();
    canvas.takeUnsaved();
    canvas.apply(W - 1, H - 1, 3, 4001); // listed for the tick before the resize, then dropped
    grid[(H - 1) * W + W - 1] = 3;
    seqs[(H - 1) * W + W - 1] = 4001;
    const placed = canvas.footprint().placed;
    canvas.resize(to, 4002);
    const wantGrid = new Uint8Array(to.width * to.height);
    const wantSeqs = new Uint32Array(to.width * to.height);
    for (let y = 0; y < H; y++) {
      wantGrid.set(grid.subarray(y * W, (y + 1) * W), (y + to.top) * to.width + to.left);
      wantSeqs.set(seqs.subarray(y * W, (y + 1) * W), (y + to.top) * to.width + to.left);
    }
    assert.deepEqual([canvas.width, canvas.height, canvas.seq], [to.width, to.height, 4002]);
    assert.deepEqual(canvas.toGrid(), wantGrid);
    for (let cell = 0; cell < wantSeqs.length; cell++) assert.equal(canvas.lastSeqOf(cell), wantSeqs[cell]);
    assert.equal(canvas.footprint().placed, placed, 'every pixel moved, none lost or doubled');
    assert.deepEqual(canvas.takeChanges(), [], 'the old cells are dropped: the tick after sends a whole frame');
    // Every chunk holding pixels is unsaved, and its stored form reads back at the new size.
    const restored = new Canvas(to.width, to.height, 32);
    for (const c of canvas.takeUnsaved()) restored.restoreChunk(c.cx, c.cy, c.bytes);
    assert.deepEqual(restored.toGrid(), wantGrid);
    // A placement after the resize is listed once, in the new coordinates.
    canvas.apply(to.width - 1, to.height - 1, 5, 4003);
    canvas.apply(to.width - 1, to.height - 1, 6, 4004);
    assert.deepEqual(canvas.takeChanges(), [to.width * to.height - 1]);
  }
});
