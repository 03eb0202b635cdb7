/**
 * GET /api/history/image and the replay under it: the canvas at random past seqs (and times) equals a
 * replay of the placements this test made, decoded with upng-js; immutable caching; bad parameters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryReader } from '../history/replay.ts';
import { Rng } from '../../testkit/rng.ts';
import { decodeFrames, getBytes, getError, startHistoryRig } from './history-rig.ts';

test('the canvas at random past seqs equals a replay of the placements made, with and without keyframes', async (t) => {
  const rig = await startHistoryRig({ width: 23, height: 17, keyframeEvery: 64 });
  t.after(() => rig.close());
  rig.placeRandom(900, 1);
  const reader = new HistoryReader(rig.store.db, 23, 17);
  const rng = new Rng(2);
  const seqs = [0, 1, 63, 64, 65, 900, ...Array.from({ length: 20 }, () => rng.int(901))];
  for (const seq of seqs) assert.deepEqual(reader.canvasAt(seq), rig.expectedAt(seq), `no keyframes, seq ${seq}`);
  const written = await rig.keyframes.catchUp();
  assert.equal(written, 14, 'one keyframe per 64 placements');
  for (const seq of seqs) assert.deepEqual(reader.canvasAt(seq), rig.expectedAt(seq), `keyframes, seq ${seq}`);
  assert.deepEqual(reader.canvasAt(900), rig.canvas.toGrid(), 'the latest seq is the live canvas');
});

test('GET /api/history/image?seq=N answers the indexed PNG of the canvas after N, cached forever', async (t) => {
  const rig = await startHistoryRig({ width: 31, height: 9, keyframeEvery: 100 });
  t.after(() => rig.close());
  rig.placeRandom(700, 3);
  // Moderation changes are ordinary rows: a wipe of one row of pixels is part of history.
  rig.commit(
    Array.from({ length: 31 }, (_, x) => ({ x, y: 4, color: 0 })),
    rig.placed.at(-1)?.at ?? 0,
    'mod:wipe',
  );
  await rig.keyframes.catchUp();
  const rng = new Rng(4);
  for (const seq of [
    0,
    1,
    350,
    rig.canvas.seq - 31,
    rig.canvas.seq,
    ...Array.from({ length: 8 }, () => rng.int(732)),
  ]) {
    const res = await getBytes(`${rig.url}/api/history/image?seq=${seq}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(res.headers.get('etag'), `"${rig.store.canvasId}-h${seq}"`);
    assert.equal(res.headers.get('x-history-seq'), String(seq));
    const png = decodeFrames(res.bytes, rig.palette);
    assert.equal(png.width, 31);
    assert.equal(png.frames.length, 1);
    assert.deepEqual(png.frames[0], rig.expectedAt(seq), `seq ${seq}`);
    // Same encoder settings as /image: colour type 3, bit depth 4 for the 16 colours of 2017.
    assert.equal(res.bytes[24], 4, 'bit depth');
    assert.equal(res.bytes[25], 3, 'colour type');
  }
  const etag = `"${rig.store.canvasId}-h350"`;
  const again = await getBytes(`${rig.url}/api/history/image?seq=350`, { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.bytes.length, 0);
});

test('?at=UNIX_MS answers the canvas after the last placement at or before that time', async (t) => {
  const rig = await startHistoryRig({ width: 8, height: 8 });
  t.after(() => rig.close());
  rig.placeRandom(300, 5, 1_700_000_000_000);
  const rng = new Rng(6);
  for (let i = 0; i < 6; i++) {
    const p = rig.placed[rng.int(rig.placed.length)];
    assert.ok(p);
    const last = rig.placed.filter((q) => q.at <= p.at).at(-1)?.seq ?? 0;
    const res = await getBytes(`${rig.url}/api/history/image?at=${p.at}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-history-seq'), String(last));
    assert.deepEqual(decodeFrames(res.bytes, rig.palette).frames[0], rig.expectedAt(last));
  }
  const before = await getBytes(`${rig.url}/api/history/image?at=1000`);
  assert.equal(before.headers.get('x-history-seq'), '0', 'before the first placement: the blank canvas');
  assert.equal(before.headers.get('cache-control'), 'public, max-age=31536000, immutable');
});

test('malformed, future and conflicting parameters answer 400 bad_request with a reason', async (t) => {
  const rig = await startHistoryRig({ width: 4, height: 4 });
  t.after(() => rig.close());
  rig.placeRandom(10, 7);
  const future = Date.now() + 60_000;
  const cases: Array<[string, RegExp]> = [
    ['', /seq or at is required/],
    ['seq=abc', /non-negative integer/],
    ['seq=-1', /non-negative integer/],
    ['seq=1.5', /non-negative integer/],
    ['seq=1e3', /non-negative integer/],
    ['seq=11', /beyond the current seq 10/],
    ['seq=99999999999999999', /non-negative integer/],
    [`at=${future}`, /in the future/],
    ['seq=1&at=5', /not both/],
  ];
  for (const [query, reason] of cases) {
    const res = await getError(`${rig.url}/api/history/image?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.error, 'bad_request', query);
    assert.match(res.message, reason, query);
  }
  const post = await fetch(`${rig.url}/api/history/image?seq=1`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET');
});
