/**
 * Keyframes and what depends on them across restarts: catch-up in bounded chunks writes one keyframe
 * per interval, each equal to a replay of the placements made; more placements are caught up
 * incrementally; reopening the store resumes from the latest keyframe and history keeps working.
 * Also the heatmap: exact counts, moderation rows not counted, the scale in headers.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PALETTE_2017 } from '../config/palette.ts';
import { heatIndex, HEATMAP_PALETTE } from '../history/heatmap.ts';
import { HistoryService } from '../history/history-service.ts';
import { Keyframes } from '../history/keyframes.ts';
import { HistoryReader, unpackKeyframe } from '../history/replay.ts';
import { KeyframeStore } from '../store/keyframe-store.ts';
import { Store, type PlacementRow } from '../store/store.ts';
import { Rng } from '../../testkit/rng.ts';
import { tempDir } from '../../testkit/fixture.ts';
import { decodeFrames, getBytes, startHistoryRig } from './history-rig.ts';

test('catch-up writes one keyframe per interval in chunks, each equal to a replay; later rows incrementally', async (t) => {
  const rig = await startHistoryRig({ width: 12, height: 10 });
  t.after(() => rig.close());
  rig.placeRandom(1000, 21);
  // A chunk of 7 rows per loop turn: the walk crosses many chunk ends and keyframe boundaries.
  const keyframes = new Keyframes(rig.store.db, 12, 10, { every: 100, chunkRows: 7 });
  t.after(() => keyframes.stop());
  const [a, b] = [keyframes.catchUp(), keyframes.catchUp()];
  assert.equal(a, b, 'concurrent calls share one run');
  assert.equal(await a, 10);
  const store = new KeyframeStore(rig.store.db);
  for (let seq = 100; seq <= 1000; seq += 100) {
    const kf = store.latestAtOrBefore(seq);
    assert.equal(kf?.seq, seq);
    assert.equal(kf?.at, rig.placed[seq - 1]?.at);
    assert.deepEqual(unpackKeyframe(kf.grid, 120), rig.expectedAt(seq), `keyframe ${seq}`);
  }
  rig.placeRandom(250, 22);
  assert.equal(await keyframes.catchUp(), 2, 'only the new boundaries');
  assert.equal(keyframes.walkedSeq, 1250);
  assert.equal(await keyframes.catchUp(), 0, 'nothing new, nothing written');
  assert.equal(store.stats().count, 12);
});

test('keyframes stop before a resize past 4096 a side: no grid of 16,384 a side is ever made', async (t) => {
  const rig = await startHistoryRig({ width: 12, height: 10 });
  t.after(() => rig.close());
  rig.placeRandom(150, 31);
  const seq = rig.canvas.seq + 1;
  const grow = { width: 16_384, height: 10, left: 0, top: 0 };
  rig.store.sizes.insert({ seq, ...grow, at: Date.now(), who: 'mod:resize' });
  rig.canvas.resize(grow, seq);
  rig.placeRandom(150, 32);
  const keyframes = new Keyframes(rig.store.db, 12, 10, { every: 100, chunkRows: 7 });
  t.after(() => keyframes.stop());
  assert.equal(await keyframes.catchUp(), 1, 'the keyframe at 100; none at 200 or 300, past the resize');
  assert.equal(keyframes.walkedSeq, seq - 1);
  assert.equal(await keyframes.catchUp(), 0);
  assert.equal(new KeyframeStore(rig.store.db).stats().count, 1);
});

test('reopening the store keeps history working: keyframes resume and history images match', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'canvas.db');
  const open = () =>
    Store.open({ path, width: 9, height: 7, paletteSize: 16, synchronous: 'NORMAL', busyTimeoutMs: 0 });
  const rng = new Rng(23);
  const expected: Array<Pick<PlacementRow, 'x' | 'y' | 'color'>> = [];
  const fill = (store: Store, n: number) => {
    const rows: PlacementRow[] = [];
    for (let i = 0; i < n; i++) {
      const seq = expected.length + 1;
      const row = { x: rng.int(9), y: rng.int(7), color: rng.int(16) };
      expected.push(row);
      rows.push({ ...row, seq, who: 'w', addr: '', nextAt: 0, at: 1_700_000_000_000 + seq, prevSeq: 0 });
    }
    store.commit(rows);
  };
  const gridAt = (seq: number) => {
    const g = new Uint8Array(63);
    for (const p of expected.slice(0, seq)) g[p.y * 9 + p.x] = p.color;
    return g;
  };

  const first = open();
  fill(first, 330);
  assert.equal(await new Keyframes(first.db, 9, 7, { every: 100 }).catchUp(), 3);
  first.close();

  const second = open();
  t.after(() => second.close());
  fill(second, 170);
  const keyframes = new Keyframes(second.db, 9, 7, { every: 100 });
  assert.equal(await keyframes.catchUp(), 2, 'resumes after keyframe 300: writes 400 and 500 only');
  const history = new HistoryService(second.db, {
    dbPath: path,
    width: 9,
    height: 7,
    palette: PALETTE_2017,
    pngLevel: 6,
  });
  t.after(() => history.close());
  for (const seq of [0, 99, 250, 301, 420, 500]) {
    const r = await history.run({ kind: 'image', seq }, 'test');
    assert.ok('bytes' in r);
    assert.deepEqual(decodeFrames(r.bytes, PALETTE_2017).frames[0], gridAt(seq), `seq ${seq}`);
  }
  assert.equal(new HistoryReader(second.db, 9, 7).seqAt(1_700_000_000_250), 250);
});

test('a heatmap counts placements per pixel in the range, not moderation rows, with the scale in headers', async (t) => {
  const rig = await startHistoryRig({ width: 6, height: 5 });
  t.after(() => rig.close());
  const at = 1_700_000_000_000;
  rig.commit([{ x: 0, y: 0, color: 1 }], at); // seq 1: outside the range below
  for (let i = 0; i < 9; i++) rig.commit([{ x: 2, y: 1, color: i }], at + 1);
  for (let i = 0; i < 3; i++) rig.commit([{ x: 5, y: 4, color: i }], at + 2);
  rig.commit([{ x: 4, y: 0, color: 2 }], at + 3);
  rig.commit(
    Array.from({ length: 30 }, (_, i) => ({ x: i % 6, y: Math.floor(i / 6), color: 0 })),
    at + 4,
    'mod:wipe',
  );
  const res = await getBytes(`${rig.url}/api/history/heatmap?from=1`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-heatmap-max'), '9');
  assert.equal(res.headers.get('x-heatmap-total'), '13');
  assert.match(res.headers.get('x-heatmap-scale') ?? '', /^log; /);
  const map = decodeFrames(res.bytes, HEATMAP_PALETTE).frames[0] as Uint8Array;
  const expected = new Uint8Array(30);
  expected[1 * 6 + 2] = heatIndex(9, 9);
  expected[4 * 6 + 5] = heatIndex(3, 9);
  expected[0 * 6 + 4] = heatIndex(1, 9);
  assert.deepEqual(map, expected);
  assert.deepEqual([heatIndex(0, 9), heatIndex(1, 9), heatIndex(9, 9)], [0, 1, 255]);
  const region = await getBytes(`${rig.url}/api/history/heatmap?x=4&y=0&w=2&h=5`);
  assert.equal(region.headers.get('x-heatmap-max'), '3');
  assert.equal(decodeFrames(region.bytes, HEATMAP_PALETTE).width, 2);
});
