import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubscribeMsg } from '../../protocol/messages.ts';
import type { Board } from '../src/board/board.ts';
import type { DecodedIndices } from '../src/board/png-indices.ts';
import {
  FOLLOW_DEBOUNCE_MS,
  KEEP_LEVEL0_TILES,
  PYRAMID_REFRESH_MS,
  TOP_EVERY,
  type TileAnswer,
  TileSync,
  type TileSyncDeps,
  type ViewNow,
} from '../src/tiles/tile-sync.ts';

const PALETTE = [0xffffff, 0xff0000, 0x0000ff, 0x00ff00];
const LAYOUT = { width: 600, height: 300, tileSize: 256, maxLevel: 2 };

/** A tile answer whose "PNG" is a key into `pictures` (decodePng is faked: the sync never looks inside). */
interface Served {
  colour: number;
  seq: number;
  etag: string;
}

function rig(view: ViewNow, extra: Pick<TileSyncDeps, 'afterPaint'> = {}, layout = LAYOUT) {
  const sent: SubscribeMsg[] = [];
  const asked: Array<{ path: string; etag: string | null; answer: (a: TileAnswer) => void }> = [];
  const pictures = new Map<number, DecodedIndices>();
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const drawn: string[] = [];
  let loaded = 0;
  let nextPicture = 1;
  const sync = new TileSync({
    layout,
    seq: 5,
    fetchTile: (level, tx, ty, etag) =>
      new Promise((resolve) => asked.push({ path: `${level}/${tx}/${ty}`, etag, answer: resolve })),
    decodePng: async (png) => pictures.get(png[0] as number) ?? null,
    send: (msg) => {
      sent.push(msg);
      return true;
    },
    view: () => view,
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return () => timers.splice(timers.indexOf(t), 1);
    },
    sink: {
      replaced: () => {},
      loaded: () => loaded++,
      drawRect: (_b, r) => drawn.push(`rect ${r.x},${r.y} ${r.w}x${r.h}`),
      dropRect: (_b, r) => drawn.push(`drop ${r.x},${r.y}`),
      drawPyramid: (_b, t) => drawn.push(`pyramid ${t.level}/${t.tx}/${t.ty}`),
      drawDelta: () => drawn.push('delta'),
      drawPixels: () => {},
      seq: () => {},
    },
    ...extra,
  });
  /** Answers the oldest request for `path` with a tile of one colour (its size as the server crops it). */
  const serve = async (path: string, s: Served | 'same'): Promise<void> => {
    const i = asked.findIndex((a) => a.path === path);
    assert.ok(i >= 0, `${path} was asked for`);
    const [a] = asked.splice(i, 1);
    if (!a) return;
    if (s === 'same') {
      a.answer({ kind: 'same' });
      return new Promise((r) => setImmediate(r));
    }
    const [level, tx, ty] = path.split('/').map(Number) as [number, number, number];
    const span = 256 * 2 ** level;
    const w = Math.ceil(Math.min(span, layout.width - tx * span) / 2 ** level);
    const h = Math.ceil(Math.min(span, layout.height - ty * span) / 2 ** level);
    const id = nextPicture++;
    pictures.set(id, { width: w, height: h, palette: PALETTE, indices: new Uint8Array(w * h).fill(s.colour) });
    a.answer({ kind: 'png', png: new Uint8Array([id]), seq: s.seq, etag: s.etag });
    await new Promise((r) => setImmediate(r));
  };
  const board = (): Board => {
    assert.ok(sync.board);
    return sync.board;
  };
  return { sync, sent, asked, timers, drawn, serve, board, loaded: () => loaded };
}

/** Delta records (protocol/delta.ts): x, y uint16 LE, colour. */
function encodeDeltaPixels(cells: Array<{ x: number; y: number; c: number }>): Uint8Array {
  const out = new Uint8Array(cells.length * 5);
  for (const [i, { x, y, c }] of cells.entries()) out.set([x & 255, x >> 8, y & 255, y >> 8, c], i * 5);
  return out;
}

const hello = { width: 600, height: 300, palette: PALETTE, seq: 5 };
const delta = (tx: number, ty: number, fromSeq: number, toSeq: number, x: number, y: number, c: number) => ({
  fromSeq,
  toSeq,
  tx,
  ty,
  px: encodeDeltaPixels([{ x, y, c }]),
});

test('hello subscribes to the view region; tiles loads it and resumes from the /api/canvas seq', async () => {
  const r = rig({ rect: { x: 0, y: 0, w: 200, h: 100 }, devicePerPixel: 4 });
  assert.equal(r.sync.nextSince(), 5);
  r.sync.hello(hello);
  assert.deepEqual(r.sent, [{ t: 'subscribe', stream: 'delta', tx: 0, ty: 0, tw: 2, th: 2 }]);
  r.sync.tiles({ t: 'tiles', seq: 9 });
  const level0 = () => r.asked.map((a) => a.path).filter((p) => p.startsWith('0/'));
  assert.deepEqual(
    r.asked.map((a) => a.path),
    ['0/0/0'],
    'the tile on screen first, alone',
  );
  await r.serve('0/0/0', { colour: 1, seq: 9, etag: '"a"' });
  assert.deepEqual(level0().sort(), ['0/0/1', '0/1/0', '0/1/1'], 'then the margin');
  assert.ok(
    r.asked.some((a) => a.path === '2/0/0'),
    'and the top of the pyramid, for the rest',
  );
  assert.equal(r.loaded(), 1);
  assert.equal(r.board().colourAt(255, 255), 1);
  assert.equal(r.board().colourAt(256, 0), 0);
  assert.equal(r.board().seq, 9);
  assert.deepEqual(r.drawn, ['rect 0,0 256x256']);
  await r.serve('0/1/1', { colour: 2, seq: 9, etag: '"b"' });
  assert.equal(r.board().colourAt(511, 299), 2, 'the bottom tile, cropped to 44 rows');
});

test('deltas that come before their tile wait for it, and apply only above the seq the tile shows', async () => {
  const r = rig({ rect: { x: 0, y: 0, w: 200, h: 100 }, devicePerPixel: 4 });
  r.sync.hello(hello);
  r.sync.tiles({ t: 'tiles', seq: 9 });
  r.sync.delta(delta(0, 0, 5, 9, 10, 10, 3)); // already in the tile (X-Seq 9)
  r.sync.delta(delta(0, 0, 9, 12, 11, 10, 2)); // newer than the tile
  assert.equal(r.board().colourAt(11, 10), 0, 'not applied before the tile');
  await r.serve('0/0/0', { colour: 1, seq: 9, etag: '"a"' });
  assert.equal(r.board().colourAt(10, 10), 1, 'the old delta did not repaint the tile');
  assert.equal(r.board().colourAt(11, 10), 2);
  assert.equal(r.board().seq, 12);
  // Live now: the next delta applies at once; one already applied is ignored.
  r.sync.delta(delta(0, 0, 12, 15, 12, 10, 3));
  assert.equal(r.board().colourAt(12, 10), 3);
  r.sync.delta(delta(0, 0, 9, 12, 12, 10, 2));
  assert.equal(r.board().colourAt(12, 10), 3);
  assert.equal(r.sync.nextSince(), 15);
  r.sync.tiles({ t: 'tiles', seq: 18 });
  r.sync.resumeFrom(17);
  assert.equal(r.sync.nextSince(), 18, 'the newest tick seq known, from deltas, tiles or GET /api/canvas');
  // Whole-canvas deltas (before the subscription took effect) are ignored.
  r.sync.delta({ fromSeq: 15, toSeq: 16, px: encodeDeltaPixels([{ x: 1, y: 1, c: 3 }]) });
  assert.equal(r.board().colourAt(1, 1), 1);
});

test('tiles again reloads conditionally: unchanged tiles answer 304, a tile changed by deltas loads in full', async () => {
  const r = rig({ rect: { x: 0, y: 0, w: 200, h: 100 }, devicePerPixel: 4 });
  r.sync.hello(hello);
  r.sync.tiles({ t: 'tiles', seq: 9 });
  for (const p of ['0/0/0', '0/1/0', '0/0/1', '0/1/1']) await r.serve(p, { colour: 1, seq: 9, etag: `"${p}"` });
  r.sync.delta(delta(1, 0, 9, 12, 300, 10, 2));
  r.sync.tiles({ t: 'tiles', seq: 20 });
  const etags = () => Object.fromEntries(r.asked.filter((a) => a.path.startsWith('0/')).map((a) => [a.path, a.etag]));
  assert.deepEqual(etags(), { '0/0/0': '"0/0/0"' });
  await r.serve('0/0/0', 'same');
  assert.deepEqual(etags(), { '0/1/0': null, '0/0/1': '"0/0/1"', '0/1/1': '"0/1/1"' });
  assert.equal(r.board().colourAt(0, 0), 1);
  await r.serve('0/1/0', { colour: 3, seq: 20, etag: '"new"' });
  assert.equal(r.board().colourAt(300, 10), 3);
});

test('a view moving to other tiles subscribes again once it rests', async () => {
  const view: ViewNow = { rect: { x: 0, y: 0, w: 100, h: 100 }, devicePerPixel: 4 };
  const r = rig(view);
  r.sync.hello(hello);
  assert.deepEqual(r.sent.at(-1), { t: 'subscribe', stream: 'delta', tx: 0, ty: 0, tw: 2, th: 2 });
  view.rect = { x: 520, y: 0, w: 60, h: 100 };
  r.sync.viewMoved();
  r.sync.viewMoved();
  const debounced = r.timers.filter((t) => t.ms === FOLLOW_DEBOUNCE_MS);
  assert.equal(debounced.length, 1, 'debounced');
  debounced[0]?.fn();
  assert.deepEqual(r.sent.at(-1), { t: 'subscribe', stream: 'delta', tx: 1, ty: 0, tw: 2, th: 2 });
  assert.deepEqual(r.sync.subscribed, { tx: 1, ty: 0, tw: 2, th: 2 });
  // A move inside the same tiles sends nothing.
  view.rect = { x: 530, y: 10, w: 60, h: 100 };
  r.sync.viewMoved();
  r.timers.find((t) => t.ms === FOLLOW_DEBOUNCE_MS)?.fn();
  assert.equal(r.sent.length, 2);
});

test('zoomed out past one region, the view is drawn from the pyramid, refreshed with If-None-Match', async () => {
  const view: ViewNow = { rect: { x: 0, y: 0, w: 600, h: 300 }, devicePerPixel: 0.3 };
  const r = rig(view);
  r.sync.hello(hello);
  assert.equal(r.sync.drawLevel, 1);
  assert.deepEqual(r.asked.map((a) => a.path).sort(), ['1/0/0', '1/1/0', '2/0/0']);
  await r.serve('1/0/0', { colour: 2, seq: 9, etag: '"p"' });
  assert.equal(r.board().colourAt(511, 299), 2, 'each pyramid pixel stands for its 2 x 2 block');
  assert.equal(r.board().cells.allocatedBlocks, 0, 'kept as its own tile, not spread over the cells');
  assert.ok(r.drawn.includes('pyramid 1/0/0'));
  assert.equal(r.loaded(), 1);
  // The region's `tiles` loads no level-0 tile while the pyramid draws.
  r.sync.tiles({ t: 'tiles', seq: 9 });
  assert.deepEqual(r.asked.map((a) => a.path).sort(), ['1/1/0', '2/0/0']);
  const refresh = r.timers.find((t) => t.ms === 5_000);
  assert.ok(refresh, 'a refresh is due');
  refresh.fn();
  assert.equal(r.asked.find((a) => a.path === '1/0/0')?.etag, '"p"');
});

test('the top of the pyramid answers where no tile is loaded, never over a loaded one', async () => {
  const r = rig({ rect: { x: 0, y: 0, w: 200, h: 100 }, devicePerPixel: 4 });
  r.sync.hello(hello);
  r.sync.tiles({ t: 'tiles', seq: 9 });
  await r.serve('0/0/0', { colour: 1, seq: 9, etag: '"a"' });
  await r.serve('2/0/0', { colour: 3, seq: 9, etag: '"top"' });
  assert.equal(r.board().colourAt(0, 0), 1, 'the live tile is kept');
  assert.equal(r.board().colourAt(590, 10), 3, 'tile (2, 0), outside the region, from the pyramid');
  assert.equal(r.board().colourAt(300, 10), 3, 'tile (1, 0) is loading: the pyramid answers meanwhile');
  // A reconnect: nothing is live until the next `tiles`; the top changed meanwhile and paints over.
  r.sync.hello(hello);
  // Zoomed in, the top is asked again once a minute: every TOP_EVERY refreshes.
  for (let i = 0; i < TOP_EVERY && !r.asked.some((a) => a.path === '2/0/0'); i++) {
    const refresh = r.timers.find((t) => t.ms === PYRAMID_REFRESH_MS);
    assert.ok(refresh);
    r.timers.splice(r.timers.indexOf(refresh), 1);
    refresh.fn();
  }
  assert.equal(r.asked.find((a) => a.path === '2/0/0')?.etag, '"top"');
  await r.serve('2/0/0', { colour: 2, seq: 12, etag: '"top2"' });
  assert.equal(r.board().colourAt(590, 10), 2, 'the new top answers where no tile is loaded');
  assert.equal(r.board().colourAt(0, 0), 1, 'a loaded tile is never overwritten by the pyramid: its reload updates it');
  r.sync.tiles({ t: 'tiles', seq: 12 });
  assert.equal(r.asked.find((a) => a.path === '0/0/0')?.etag, '"a"', 'reloaded conditionally');
});

test('zoomed in on a first load, the margin and the pyramid top wait until the tiles in view are on screen', async () => {
  const painted: Array<() => void> = [];
  const r = rig({ rect: { x: 0, y: 0, w: 200, h: 100 }, devicePerPixel: 4 }, { afterPaint: (fn) => painted.push(fn) });
  r.sync.hello(hello);
  r.sync.tiles({ t: 'tiles', seq: 9 });
  assert.deepEqual(
    r.asked.map((a) => a.path),
    ['0/0/0'],
  );
  r.sync.tiles({ t: 'tiles', seq: 9 }); // as when the page loaded the region before its WebSocket opened
  await new Promise((done) => setImmediate(done));
  assert.deepEqual(
    r.asked.map((a) => a.path),
    ['0/0/0'],
    'a second `tiles` while the tile in view loads waits for that load',
  );
  await r.serve('0/0/0', { colour: 1, seq: 9, etag: '"a"' });
  assert.deepEqual(
    r.asked.map((a) => a.path),
    ['0/0/0'],
    'asked again (a `tiles` came while it loaded), and nothing more until the frame showing it',
  );
  assert.equal(painted.length, 2, 'each reload waits for the frame');
  for (const fn of painted.splice(0)) fn();
  assert.deepEqual(r.asked.map((a) => a.path).sort(), ['0/0/0', '0/0/1', '0/1/0', '0/1/1', '2/0/0']);
  const zoomedOut = rig(
    { rect: { x: 0, y: 0, w: 600, h: 300 }, devicePerPixel: 0.3 },
    { afterPaint: (fn) => painted.push(fn) },
  );
  zoomedOut.sync.hello(hello);
  assert.ok(
    zoomedOut.asked.some((a) => a.path === '2/0/0'),
    'zoomed out, the pyramid is what shows: asked at once',
  );
});

test('resize: the board of the new size replaces the old one, with the new layout, and the region is subscribed again', () => {
  const view: ViewNow = { rect: { x: 0, y: 0, w: 300, h: 200 }, devicePerPixel: 1 };
  const r = rig(view);
  r.sync.hello(hello);
  r.timers.length = 0;
  const before = r.board();
  r.sync.resize({ seq: 9, width: 1100, height: 300 });
  assert.notEqual(r.board(), before);
  assert.deepEqual([r.board().width, r.board().height], [1100, 300]);
  assert.equal(r.sync.nextSince(), 9);
  const last = r.sent[r.sent.length - 1];
  assert.equal(last?.t, 'subscribe');
  // The caller's layout is its own: the sync keeps a copy that grows.
  assert.equal(LAYOUT.width, 600);
});

test('a view panning across a 16,384 x 16,384 canvas keeps at most KEEP_LEVEL0_TILES tiles in memory', async () => {
  const layout = { width: 16_384, height: 16_384, tileSize: 256, maxLevel: 6 };
  // A desktop view at 1 device pixel per canvas pixel: 8 x 4 tiles, 10 x 6 with the margin.
  const view: ViewNow = { rect: { x: 0, y: 0, w: 2048, h: 1024 }, devicePerPixel: 1 };
  const r = rig(view, {}, layout);
  r.sync.hello({ width: 16_384, height: 16_384, palette: PALETTE });
  let seq = 10;
  // Pan right along a row of tiles, then down: 16 views of 60 tiles each.
  for (let step = 0; step < 16; step++) {
    view.rect = { x: (step % 8) * 2048, y: Math.floor(step / 8) * 4096, w: 2048, h: 1024 };
    r.sync.viewMoved();
    const follow = r.timers.filter((t) => t.ms === FOLLOW_DEBOUNCE_MS).at(-1);
    assert.ok(follow);
    r.timers.splice(r.timers.indexOf(follow), 1);
    follow.fn();
    r.sync.tiles({ t: 'tiles', seq: ++seq });
    for (let guard = 0; guard < 200; guard++) {
      const next = r.asked.find((a) => a.path.startsWith('0/'));
      if (!next) break;
      await r.serve(next.path, { colour: 1, seq, etag: `"${next.path}"` });
    }
    assert.ok(
      r.board().cells.allocatedBlocks <= KEEP_LEVEL0_TILES,
      `step ${step}: ${r.board().cells.allocatedBlocks} blocks`,
    );
  }
  // Full, less the entries of tiles in flight when the last eviction ran (those are never dropped).
  assert.ok(r.board().cells.allocatedBlocks > KEEP_LEVEL0_TILES - 60);
  assert.ok(
    r.drawn.some((d) => d.startsWith('drop ')),
    'dropped tiles were dropped from the picture too',
  );
  // The tiles in view now are kept; the first ones, farthest away, went.
  const v = view.rect;
  assert.equal(r.board().colourAt(v.x + 10, v.y + 10), 1);
  assert.equal(r.board().cells.get(10, 10), -1);
});
