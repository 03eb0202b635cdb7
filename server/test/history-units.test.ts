/**
 * The logic units of history/ without a server: frame spacing and parameter checks (params.ts), the
 * byte-bounded cache (lru.ts), the heatmap scale (heatmap.ts), the APNG play count (timelapse.ts),
 * and a worker that cannot start failing its job instead of hanging (worker-pool.ts).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import UPNG from 'upng-js';
import { PALETTE_2017 } from '../config/palette.ts';
import { heatIndex, HEATMAP_PALETTE, viridis } from '../history/heatmap.ts';
import { HistoryService } from '../history/history-service.ts';
import { ByteLru } from '../history/lru.ts';
import {
  frameSeqs,
  OPEN_END_STEP_MS,
  openEndAt,
  parseHeatmap,
  parseTimelapse,
  type HistoryState,
} from '../history/params.ts';
import { ApngWriter, changedRect } from '../history/timelapse.ts';
import { openTestStore } from '../../testkit/fixture.ts';

const state: HistoryState = { currentSeq: 1000, width: 100, height: 50, now: 2e12, seqAt: (ms) => ms % 1000 };
const query = (text: string) => {
  const params = new URLSearchParams(text);
  return (name: string) => params.get(name) ?? undefined;
};

test('frames are evenly spaced from the first seq to the last, both included', () => {
  assert.deepEqual(frameSeqs(0, 100, 5), [0, 25, 50, 75, 100]);
  assert.deepEqual(frameSeqs(10, 12, 5), [10, 11, 11, 12, 12]);
  assert.deepEqual(frameSeqs(7, 7, 3), [7, 7, 7]);
});

test('timelapse parameters: defaults, moving answers, and the pixel limit counted after scaling', () => {
  const d = parseTimelapse(query(''), state);
  assert.ok(d.ok);
  assert.equal(d.immutable, false, 'no to: up to about now, which moves');
  assert.equal(d.value.seqs.length, 100);
  // state.seqAt is ms % 1000: the seq at the last closed 10 s step, 1999999990000 ms.
  assert.deepEqual([d.value.seqs[0], d.value.seqs.at(-1)], [0, 0]);
  assert.deepEqual(d.value.region, { x: 0, y: 0, w: 100, h: 50 });
  const fixed = parseTimelapse(query('from=1&to=999&frames=2'), state);
  assert.ok(fixed.ok && fixed.immutable);
  const recent = parseTimelapse(query(`toAt=${2e12 - 10}`), state);
  assert.ok(recent.ok && !recent.immutable, 'a time within the last second may still gain placements');
  // 300 frames x (100 x 16) x (50 x 16) = 384 M pixels: over the limit only because of the scale.
  const big = parseTimelapse(query('frames=300&scale=16'), state);
  assert.ok(!big.ok && big.code === 'too_large');
  const side = parseTimelapse(query('frames=2&x=0&y=0&w=100&h=50&scale=16'), state);
  assert.ok(side.ok, '1600 x 800 frames are under 4096 a side');
});

test('an open end is rounded down to the last closed step, so viewers seconds apart ask for the same build', () => {
  assert.equal(OPEN_END_STEP_MS, 10_000);
  assert.equal(
    openEndAt(1_700_000_010_999),
    1_700_000_000_000,
    'the step that closed under a second ago is not yet final',
  );
  assert.equal(openEndAt(1_700_000_011_000), 1_700_000_010_000);
  const seqAt = (ms: number) => (ms - 1_700_000_000_000) / 10; // one placement every 10 ms
  const at = (now: number): HistoryState => ({ currentSeq: 5000, width: 10, height: 10, now, seqAt });
  const ends = [1_700_000_021_000, 1_700_000_025_000, 1_700_000_030_999].map((now) => {
    const p = parseTimelapse(query('frames=5'), at(now));
    assert.ok(p.ok && !p.immutable);
    return p.value.seqs.at(-1);
  });
  assert.deepEqual(ends, [2000, 2000, 2000], 'the same end for ten seconds');
  const later = parseTimelapse(query('frames=5'), at(1_700_000_031_000));
  assert.ok(later.ok);
  assert.equal(later.value.seqs.at(-1), 3000);
  const capped = parseTimelapse(query('frames=5'), at(1_700_001_000_000));
  assert.ok(capped.ok);
  assert.equal(capped.value.seqs.at(-1), 5000, 'never past the current seq');
  // A toAt within the last second is an open end; one over a second old is exact and fixed.
  const recent = parseHeatmap(query(`toAt=${1_700_000_024_500}`), at(1_700_000_025_000));
  assert.ok(recent.ok && !recent.immutable);
  assert.equal(recent.value.to, 2000);
  const past = parseHeatmap(query(`toAt=${1_700_000_023_000}`), at(1_700_000_025_000));
  assert.ok(past.ok && past.immutable);
  assert.equal(past.value.to, 2300);
});

test('moving answers are keyed by their parameters without the moving end or parameters nobody reads', () => {
  const key = (q: string) => {
    const p = parseTimelapse(query(q), { ...state, now: 2_000_000_000_000, seqAt: () => 900 });
    assert.ok(p.ok);
    return p.moving;
  };
  assert.equal(key(''), '');
  assert.equal(key('frames=50&from=3'), key('from=3&frames=50&_=12345'), 'sorted; a cache-buster is ignored');
  assert.equal(key('frames=50'), key(`frames=50&toAt=${2_000_000_000_000 - 200}`), 'a rounded toAt is no part of it');
  assert.notEqual(key('frames=50'), key('frames=60'));
  assert.equal(key('from=1&to=999'), undefined, 'a fixed range does not move');
});

test('the cache keeps the most recently used entries within its byte bound', () => {
  const lru = new ByteLru<Uint8Array>(10, (v) => v.length);
  lru.set('a', new Uint8Array(4));
  lru.set('b', new Uint8Array(4));
  assert.ok(lru.get('a'), 'a is now the most recent');
  lru.set('c', new Uint8Array(4));
  assert.equal(lru.get('b'), undefined, 'b was the least recently used');
  assert.ok(lru.get('a') && lru.get('c'));
  assert.equal(lru.bytes, 8);
  lru.set('huge', new Uint8Array(11));
  assert.equal(lru.get('huge'), undefined, 'an entry over the whole bound is not kept');
  assert.equal(lru.bytes, 8);
});

test('the heatmap scale: black for none, viridis from dark purple to yellow on a log scale', () => {
  assert.equal(HEATMAP_PALETTE.length, 256);
  assert.equal(HEATMAP_PALETTE[0], 0);
  const rgb = (c: number) => [c >> 16, (c >> 8) & 255, c & 255];
  const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= 4);
  assert.ok(near(rgb(viridis(0)), [0x44, 0x01, 0x54]), 'matplotlib viridis starts at #440154');
  assert.ok(near(rgb(viridis(1)), [0xfd, 0xe7, 0x25]), 'and ends at #fde725');
  assert.deepEqual(
    [1, 2, 10, 100, 1000].map((c) => heatIndex(c, 1000)),
    [1, 26, 86, 170, 255],
  );
  assert.equal(heatIndex(5, 1), 255, 'max 1: every placed pixel is the top colour');
});

test('the APNG writer: play count, changed rectangles blended over the previous frame, decoded by upng-js', () => {
  const palette = PALETTE_2017.slice(0, 4);
  const a = new Uint8Array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]); // 4 x 3
  const b = a.slice();
  b[6] = 3; // (2, 1)
  b[7] = 0; // (3, 1)
  assert.deepEqual(changedRect(a, b, 4, 3), { x: 2, y: 1, w: 2, h: 1 });
  assert.equal(changedRect(a, a, 4, 3), undefined);
  const apng = new ApngWriter(4, 3, palette, 2, 3, 250);
  apng.add(a, { x: 0, y: 0, w: 4, h: 3 }, false);
  apng.add(new Uint8Array([apng.clearIndex, 0]), { x: 2, y: 1, w: 2, h: 1 }, true); // (2, 1) unchanged
  const png = apng.end();
  const decoded = UPNG.decode(new Uint8Array(png).buffer);
  assert.equal(decoded.tabs.acTL?.num_frames, 2);
  assert.equal(decoded.tabs.acTL?.num_plays, 3);
  const frames = UPNG.toRGBA8(decoded).map((f) => new Uint32Array(f));
  const rgba = (i: number) => {
    const rgb = palette[i] as number;
    return (0xff000000 | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff)) >>> 0;
  };
  const expected1 = [...a];
  expected1[7] = 0;
  assert.deepEqual([...(frames[0] ?? [])], [...a].map(rgba));
  assert.deepEqual([...(frames[1] ?? [])], expected1.map(rgba));
  assert.throws(() => new ApngWriter(4, 3, palette, 3, 0, 100).end(), /3 frames got 0/);
});

test('a worker that cannot open the database fails its job (500 upstream) instead of hanging', async (t) => {
  const ts = openTestStore(4, 4);
  t.after(() => ts.close());
  const history = new HistoryService(ts.store.db, {
    dbPath: join(ts.dir, 'missing.db'),
    width: 4,
    height: 4,
    palette: PALETTE_2017,
    pngLevel: 6,
  });
  t.after(() => history.close());
  await assert.rejects(history.run({ kind: 'image', seq: 0 }, 'test') as Promise<unknown>);
  await assert.rejects(history.run({ kind: 'image', seq: 1 }, 'test') as Promise<unknown>, 'the next job too, no hang');
});
