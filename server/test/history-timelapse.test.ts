/**
 * GET /api/history/timelapse: an APNG (decoded with upng-js) whose frame count, first and last
 * frames (and every frame between) are exact; region, scale, delay and loop; documented limits;
 * concurrent builds beyond the cap answered 429 with Retry-After; the same build shared, then cached.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frameSeqs, HISTORY_LIMITS } from '../history/params.ts';
import { decodeFrames, getBytes, getError, startHistoryRig } from './history-rig.ts';

/** acTL num_plays of an APNG (the chunk follows IHDR and sRGB in upng-js output). */
function loopCount(png: Uint8Array): number | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let off = 8; off + 12 <= png.length; off += 12 + view.getUint32(off)) {
    if (String.fromCharCode(...png.subarray(off + 4, off + 8)) === 'acTL') return view.getUint32(off + 12);
  }
  return undefined;
}

function crop(grid: Uint8Array, width: number, x: number, y: number, w: number, h: number, scale: number) {
  const out = new Uint8Array(w * scale * h * scale);
  for (let oy = 0; oy < h * scale; oy++) {
    for (let ox = 0; ox < w * scale; ox++) {
      out[oy * w * scale + ox] = grid[(y + Math.floor(oy / scale)) * width + x + Math.floor(ox / scale)] as number;
    }
  }
  return out;
}

test('a timelapse has the frames asked for: the first at from, the last at to, evenly spaced between', async (t) => {
  const rig = await startHistoryRig({ width: 20, height: 12, keyframeEvery: 40 });
  t.after(() => rig.close());
  rig.placeRandom(500, 11);
  await rig.keyframes.catchUp();
  const res = await getBytes(`${rig.url}/api/history/timelapse?from=17&to=480&frames=9&delay=250`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(res.headers.get('x-timelapse-frames'), '9');
  const apng = decodeFrames(res.bytes, rig.palette);
  assert.equal(apng.frames.length, 9);
  assert.deepEqual(apng.frames[0], rig.expectedAt(17), 'first frame');
  assert.deepEqual(apng.frames[8], rig.expectedAt(480), 'last frame');
  const seqs = frameSeqs(17, 480, 9);
  apng.frames.forEach((f, i) => {
    assert.deepEqual(f, rig.expectedAt(seqs[i] as number), `frame ${i}`);
  });
  assert.deepEqual(apng.delays, Array(9).fill(250));
  assert.equal(loopCount(res.bytes), 0, 'plays forever by default');
});

test('by time, with a region, a scale and a play count', async (t) => {
  const rig = await startHistoryRig({ width: 16, height: 16 });
  t.after(() => rig.close());
  rig.placeRandom(400, 12, 1_700_000_000_000);
  const fromAt = rig.placed[50]?.at as number;
  const toAt = rig.placed[350]?.at as number;
  const from = rig.placed.filter((p) => p.at <= fromAt).at(-1)?.seq as number;
  const to = rig.placed.filter((p) => p.at <= toAt).at(-1)?.seq as number;
  const q = `fromAt=${fromAt}&toAt=${toAt}&frames=5&x=3&y=2&w=7&h=5&scale=3&loop=2`;
  const res = await getBytes(`${rig.url}/api/history/timelapse?${q}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-history-from'), String(from));
  assert.equal(res.headers.get('x-history-to'), String(to));
  const apng = decodeFrames(res.bytes, rig.palette);
  assert.equal(apng.width, 21);
  assert.equal(apng.height, 15);
  assert.equal(apng.frames.length, 5);
  assert.deepEqual(apng.frames[0], crop(rig.expectedAt(from), 16, 3, 2, 7, 5, 3));
  assert.deepEqual(apng.frames[4], crop(rig.expectedAt(to), 16, 3, 2, 7, 5, 3));
  assert.equal(loopCount(res.bytes), 2);
});

test('limits and malformed parameters: 400 bad_request, 413 too_large', async (t) => {
  const rig = await startHistoryRig({ width: 64, height: 64 });
  t.after(() => rig.close());
  rig.placeRandom(100, 13);
  const bad: string[] = [
    'frames=1',
    `frames=${HISTORY_LIMITS.maxFrames + 1}`,
    'frames=ten',
    'from=50&to=10',
    'to=101',
    `toAt=${Date.now() + 60_000}`,
    'from=1&fromAt=5',
    'x=0&y=0&w=10',
    'x=60&y=0&w=10&h=10',
    'x=0&y=0&w=0&h=10',
    'scale=0',
    `scale=${HISTORY_LIMITS.maxScale + 1}`,
    'delay=5',
    'loop=70000',
  ];
  for (const query of bad) {
    const res = await getError(`${rig.url}/api/history/timelapse?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.error, 'bad_request', query);
  }
  // 100 frames of 64 x 64 at scale 16 are 104,857,600 pixels, over the 100 M limit.
  const big = await getError(`${rig.url}/api/history/timelapse?frames=100&scale=16`);
  assert.equal(big.status, 413);
  assert.equal(big.error, 'too_large');
  assert.match(big.message, /fewer frames, a region or a smaller scale/);
});

test('a second distinct build from one address answers 429 with Retry-After; the same build is shared, then cached', async (t) => {
  const rig = await startHistoryRig({ width: 64, height: 64, service: { maxBuilds: 1 } });
  t.after(() => rig.close());
  rig.placeRandom(3000, 14);
  // About a second of work (40 frames of 512 x 512), so the other requests arrive while it runs.
  const heavy = `${rig.url}/api/history/timelapse?to=3000&frames=40&scale=8`;
  const first = getBytes(heavy);
  // Wait (loop turns, not time) until the server took that build, so the next requests find it busy.
  while (rig.history.buildsInProgress === 0) await new Promise(setImmediate);
  const shared = getBytes(heavy);
  const refused = await getError(`${rig.url}/api/history/timelapse?to=2000&frames=3`);
  assert.equal(refused.status, 429);
  assert.equal(refused.error, 'busy');
  assert.equal(refused.retryAfter, '5');
  const heatmapRefused = await getError(`${rig.url}/api/history/heatmap?to=100`);
  assert.equal(heatmapRefused.status, 429, 'heatmaps count in the same share');
  const [a, b] = await Promise.all([first, shared]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200, 'a second request for a build in progress waits for it');
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(decodeFrames(a.bytes, rig.palette).frames.length, 40);
  // Images have their own worker: they are not refused while builds run.
  const image = await getBytes(`${rig.url}/api/history/image?seq=10`);
  assert.equal(image.status, 200);
  const startedAt = performance.now();
  const cached = await getBytes(heavy);
  assert.ok(performance.now() - startedAt < 500, 'served from the cache');
  assert.deepEqual(cached.bytes, a.bytes);
  assert.equal(cached.headers.get('etag'), a.headers.get('etag'));
  const afterwards = await getBytes(`${rig.url}/api/history/timelapse?to=2000&frames=3`);
  assert.equal(afterwards.status, 200, 'a refused build succeeds once the worker is free');
});
