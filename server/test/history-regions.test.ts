/**
 * Past canvases by region (history/region-replay.ts): a region at any seq equals that part of the
 * whole past canvas, with and without keyframes, across resizes that add columns and rows on the left
 * and top, and where it reaches past the canvas of its time (those cells are 0); over HTTP the region
 * parameters of `/api/history/image` (ETag per region, 304, 400/413), a canvas over 4096 a side refusing
 * whole past canvases, timelapses and heatmaps but answering them by region.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import UPNG from 'upng-js';
import { PALETTE_2017 } from '../config/palette.ts';
import type { Region } from '../history/jobs.ts';
import { regionAt } from '../history/region-replay.ts';
import { HistoryReader } from '../history/replay.ts';
import { Rng } from '../../testkit/rng.ts';
import { decodeToIndices } from '../../testkit/fixture.ts';
import { decodeFrames, getBytes, getError, type Rig, startHistoryRig } from './history-rig.ts';

/** `count` random placements over the canvas's current size, in batches, as the committer writes. */
function placeAnywhere(rig: Rig, count: number, seed: number): void {
  const rng = new Rng(seed);
  for (let left = count; left > 0; ) {
    const n = Math.min(left, 1 + rng.int(23));
    const { width, height } = rig.canvas;
    rig.commit(
      Array.from({ length: n }, () => ({ x: rng.int(width), y: rng.int(height), color: 1 + rng.int(15) })),
      (rig.placed.at(-1)?.at ?? 1_700_000_000_000) + 1,
    );
    left -= n;
  }
}

/** Grows the rig's canvas at its own seq, as the committer does (canvas_sizes row, then the grid). */
function grow(rig: Rig, size: { width: number; height: number; left: number; top: number }): number {
  const seq = rig.canvas.seq + 1;
  rig.store.sizes.insert({ seq, ...size, at: Date.now(), who: 'mod:resize' });
  rig.canvas.resize(size, seq);
  return seq;
}

/** `region` of a whole `width` x `height` grid; cells outside the grid are 0. */
function crop(grid: Uint8Array, width: number, height: number, r: Region): Uint8Array {
  const out = new Uint8Array(r.w * r.h);
  for (let j = 0; j < r.h; j++)
    for (let i = 0; i < r.w; i++) {
      const x = r.x + i;
      const y = r.y + j;
      if (x < width && y < height) out[j * r.w + i] = grid[y * width + x] as number;
    }
  return out;
}

test('a region at any seq equals that part of the whole past canvas, with or without keyframes, across growth on the left and top', async (t) => {
  const rig = await startHistoryRig({ width: 40, height: 30, keyframeEvery: 120 });
  t.after(() => rig.close());
  placeAnywhere(rig, 500, 1);
  const grown1 = grow(rig, { width: 55, height: 38, left: 9, top: 5 });
  placeAnywhere(rig, 400, 2);
  const grown2 = grow(rig, { width: 70, height: 38, left: 0, top: 0 });
  placeAnywhere(rig, 300, 3);
  const reader = new HistoryReader(rig.store.db, 40, 30);
  const sizes = reader.sizes();
  const rng = new Rng(4);
  const seqs = [0, 1, 119, 120, 121, grown1 - 1, grown1, grown1 + 1, grown2, rig.canvas.seq];
  for (let i = 0; i < 25; i++) seqs.push(rng.int(rig.canvas.seq + 1));
  const check = (what: string) => {
    for (const seq of seqs) {
      const { width, height } = sizes.at(seq);
      const whole = reader.canvasAt(seq, sizes);
      const regions: Region[] = [
        { x: 0, y: 0, w: width, h: height },
        { x: 3, y: 2, w: 17, h: 11 },
        // Past the right and bottom edges of the canvas of that seq: those cells are 0.
        { x: width - 5, y: height - 4, w: 30, h: 20 },
        { x: rng.int(width), y: rng.int(height), w: 1 + rng.int(40), h: 1 + rng.int(30) },
      ];
      for (const r of regions) {
        assert.deepEqual(
          regionAt(reader, seq, r, sizes),
          crop(whole, width, height, r),
          `${what}: seq ${seq}, region ${JSON.stringify(r)}`,
        );
      }
    }
  };
  check('no keyframes');
  assert.ok((await rig.keyframes.catchUp()) >= 9, 'keyframes written');
  check('from keyframes');
});

test('over HTTP: a region of a past canvas, its ETag and 304, and malformed or oversized regions', async (t) => {
  const rig = await startHistoryRig({ width: 300, height: 200 });
  t.after(() => rig.close());
  rig.placeRandom(400, 5);
  const seq = 250;
  const whole = rig.expectedAt(seq);
  const url = (q: string) => `${rig.url}/api/history/image?seq=${seq}&${q}`;
  const r = { x: 280, y: 150, w: 40, h: 60 };
  const res = await getBytes(url(`x=${r.x}&y=${r.y}&w=${r.w}&h=${r.h}`));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-history-seq'), String(seq));
  const image = decodeToIndices(res.bytes, PALETTE_2017);
  assert.deepEqual([image.width, image.height], [r.w, r.h]);
  assert.deepEqual(image.grid, crop(whole, 300, 200, r), 'the region, 0 past the canvas');
  const etag = res.headers.get('etag') ?? '';
  assert.match(etag, /^"[^",]+"$/, 'one ETag, no comma (If-None-Match lists them with commas)');
  assert.equal((await getBytes(url(`x=${r.x}&y=${r.y}&w=${r.w}&h=${r.h}`), { 'If-None-Match': etag })).status, 304);
  const other = await getBytes(url(`x=${r.x}&y=${r.y}&w=${r.w}&h=${r.h + 1}`));
  assert.notEqual(other.headers.get('etag'), etag, 'another region, another ETag');
  assert.notEqual((await getBytes(`${rig.url}/api/history/image?seq=${seq}`)).headers.get('etag'), etag);

  const refusals: Array<[string, number, string]> = [
    ['x=1&y=2&w=3', 400, 'bad_request'],
    ['x=1&y=2&w=0&h=3', 400, 'bad_request'],
    ['x=-1&y=2&w=3&h=3', 400, 'bad_request'],
    ['x=16384&y=0&w=3&h=3', 400, 'bad_request'],
    ['x=0&y=0&w=4097&h=3', 413, 'too_large'],
  ];
  for (const [q, status, code] of refusals) {
    const e = await getError(url(q));
    assert.deepEqual([e.status, e.error], [status, code], q);
  }
});

test('a canvas over 4096 a side: whole past canvases, timelapses and heatmaps are refused, regions of them answered', async (t) => {
  const rig = await startHistoryRig({ width: 5000, height: 300, keyframeEvery: 40 });
  t.after(() => rig.close());
  const corner = { x: 4900, y: 200, w: 100, h: 100 };
  const rng = new Rng(6);
  // Placements crowded into the far corner, so the region shows something in every frame.
  for (let i = 0; i < 12; i++) {
    const cells = Array.from({ length: 10 }, () => ({
      x: corner.x + rng.int(corner.w),
      y: corner.y + rng.int(corner.h),
      color: 1 + rng.int(15),
    }));
    rig.commit(cells, 1_700_000_000_000 + i);
  }
  assert.equal(await rig.keyframes.catchUp(), 0, 'no keyframe of a canvas that starts over 4096 a side');
  const expected = (seq: number) => {
    const out = new Uint8Array(corner.w * corner.h);
    for (const p of rig.placed) if (p.seq <= seq) out[(p.y - corner.y) * corner.w + (p.x - corner.x)] = p.color;
    return out;
  };
  const region = `x=${corner.x}&y=${corner.y}&w=${corner.w}&h=${corner.h}`;
  for (const path of ['image?seq=50', 'timelapse?from=0&to=100&frames=3', 'heatmap?from=0&to=100']) {
    const e = await getError(`${rig.url}/api/history/${path}`);
    assert.deepEqual([e.status, e.error], [413, 'too_large'], path);
    assert.match(e.message, /needs a region/, path);
  }
  const image = await getBytes(`${rig.url}/api/history/image?seq=50&${region}`);
  assert.equal(image.status, 200);
  assert.deepEqual(decodeToIndices(image.bytes, PALETTE_2017).grid, expected(50));

  const seqs = [0, 60, 120];
  const lapse = await getBytes(`${rig.url}/api/history/timelapse?from=0&to=120&frames=3&${region}`);
  assert.equal(lapse.status, 200);
  const { frames } = decodeFrames(lapse.bytes, PALETTE_2017);
  assert.equal(frames.length, 3);
  for (const [i, seq] of seqs.entries()) assert.deepEqual(frames[i], expected(seq), `timelapse frame at seq ${seq}`);

  const heat = await getBytes(`${rig.url}/api/history/heatmap?from=0&to=120&${region}`);
  assert.equal(heat.status, 200);
  assert.equal(heat.headers.get('x-heatmap-total'), '120');
  const decoded = UPNG.decode(new Uint8Array(heat.bytes).buffer);
  assert.deepEqual([decoded.width, decoded.height], [corner.w, corner.h]);
});
