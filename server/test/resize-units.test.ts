/**
 * The parts of a resize below the server: the checks and the grid copy (canvas/canvas-size.ts), the
 * committer's ordered resize on a real SQLite file (after what was queued, refused when fenced, the
 * grid untouched when the store refuses), the store's load across resizes (snapshot before and after),
 * the ticker's frame of the new size (each resize of a tick on its own; none past 4096 a side), and
 * the bus's log entry, admin request, meta and tick with its resizes.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { decodeServerMessage, parseStreamQuery } from '../../protocol/codec.ts';
import { ErrorCode, type ResizeMsg } from '../../protocol/messages.ts';
import {
  decodeLogEntry,
  decodeMeta,
  decodeRequests,
  decodeTicks,
  encodeBus,
  encodeLogEntry,
  type FrameMsg,
} from '../bus/bus-messages.ts';
import { checkResize, growCells, MAX_CANVAS_SIDE, type SizeEvent, SizeHistory } from '../canvas/canvas-size.ts';
import { Canvas } from '../canvas/canvas.ts';
import { PngEncoder } from '../canvas/png-encoder.ts';
import { PALETTE_2017 } from '../config/palette.ts';
import { type CommitterOptions, PlacementCommitter, type PlacementOutcome } from '../placement/committer.ts';
import type { SizeRow } from '../store/size-store.ts';
import { Ticker } from '../tick/ticker.ts';
import { decodeToIndices, openTestStore, seqsOf } from '../../testkit/fixture.ts';

test('checkResize: grows on any side up to the maximum; a shrink, no change or a bad left/top is refused', () => {
  const from = { width: 10, height: 8 };
  assert.deepEqual(checkResize(from, { width: 12, height: 8, left: 2, top: 0 }, 4096), { ok: true });
  assert.deepEqual(checkResize(from, { width: 10, height: 20, left: 0, top: 12 }, 4096), { ok: true });
  const why = (to: { width: number; height: number; left: number; top: number }) => {
    const c = checkResize(from, to, 4096);
    return c.ok ? 'ok' : c.why;
  };
  assert.equal(why({ width: 9, height: 20, left: 0, top: 0 }), 'shrink');
  assert.equal(why({ width: 20, height: 7, left: 0, top: 0 }), 'shrink');
  assert.equal(why({ width: 4097, height: 8, left: 0, top: 0 }), 'too_large');
  assert.equal(why({ width: 10, height: 8, left: 0, top: 0 }), 'invalid');
  assert.equal(why({ width: 12, height: 8, left: 3, top: 0 }), 'invalid');
  assert.equal(why({ width: 12, height: 9, left: 0, top: -1 }), 'invalid');
  assert.equal(MAX_CANVAS_SIDE, 16_384, "the flags' limit: a resize may take a canvas past 4096 a side");
});

test('growCells copies every cell to (x + left, y + top) and leaves the added cells 0', () => {
  const grid = Uint8Array.from([1, 2, 3, 4, 5, 6]); // 3 x 2
  assert.deepEqual(
    growCells(grid, 3, 2, { width: 5, height: 4, left: 1, top: 2 }),
    Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0]),
  );
  const seqs = growCells(Uint32Array.from([7, 8]), 2, 1, { width: 3, height: 1, left: 0, top: 0 });
  assert.ok(seqs instanceof Uint32Array);
  assert.deepEqual([...seqs], [7, 8, 0]);
});

test('SizeHistory: the size at any seq and how far a past pixel moved', () => {
  const h = new SizeHistory({ width: 10, height: 10 }, [
    { seq: 5, width: 12, height: 10, left: 2, top: 0 },
    { seq: 9, width: 12, height: 15, left: 0, top: 5 },
  ]);
  assert.deepEqual(h.at(4), { width: 10, height: 10 });
  assert.deepEqual(h.at(5), { width: 12, height: 10 });
  assert.deepEqual(h.current, { width: 12, height: 15 });
  assert.deepEqual(h.shift(4, 100), { left: 2, top: 5 });
  assert.deepEqual(h.shift(5, 100), { left: 0, top: 5 });
  assert.deepEqual(h.shift(0, 8), { left: 2, top: 0 });
});

function committerRig(t: TestContext, opts: Partial<CommitterOptions> = {}) {
  const s = openTestStore(4, 3);
  const resized: SizeRow[] = [];
  const committer = new PlacementCommitter(
    s.store,
    s.canvas,
    { commitDelayMs: 60_000, commitBatch: 1000, snapshotEvery: 1e9, ...opts },
    {
      commitFailed: () => {},
      committed: () => {},
      callbackFailed: (err) => assert.fail(String(err)),
      resized: (row) => resized.push(row),
    },
  );
  t.after(() => {
    committer.close();
    s.close();
  });
  return { ...s, committer, resized };
}

test('committer.resize: after every queued placement (in the old coordinates), at a seq of its own, then applied', async (t) => {
  const r = committerRig(t);
  const outcomes: PlacementOutcome[] = [];
  r.committer.submit({ x: 3, y: 2, color: 5, who: 'a', addr: '', nextAt: 0 }, (o) => outcomes.push(o));
  const done = await r.committer.resize({ width: 6, height: 4, left: 2, top: 1 }, 'mod:resize');
  assert.deepEqual(
    outcomes.map((o) => o.ok && o.seq),
    [1],
    'the queued placement was committed first',
  );
  assert.ok(done.ok);
  assert.equal(done.seq, 2);
  assert.deepEqual([r.canvas.width, r.canvas.height, r.canvas.seq], [6, 4, 2]);
  assert.equal(r.canvas.get(5, 3), 5, 'the pixel moved by (2, 1)');
  assert.equal(r.canvas.lastSeqAt(5, 3), 1);
  assert.equal(r.resized.length, 1);
  // The next placement is in the new coordinates and links to the moved pixel's history.
  r.committer.submit({ x: 5, y: 3, color: 6, who: 'a', addr: '', nextAt: 0 }, (o) => outcomes.push(o));
  r.committer.flush();
  const row = r.store.db.prepare('SELECT seq, prev_seq FROM placements WHERE seq = 3').get();
  assert.deepEqual(row, { seq: 3, prev_seq: 1 });
  // Stored: a fresh load has the grown grid.
  const loaded = r.store.load(16);
  assert.deepEqual([loaded.canvas.width, loaded.canvas.height, loaded.seq], [6, 4, 3]);
  assert.deepEqual(loaded.canvas.toGrid(), r.canvas.toGrid());
  assert.deepEqual(seqsOf(loaded.canvas), seqsOf(r.canvas));
});

test('committer.resize: a fenced writer refuses it, a store failure changes nothing', async (t) => {
  const fenced = committerRig(t, { fenced: () => true });
  const refused = await fenced.committer.resize({ width: 6, height: 4, left: 0, top: 0 }, 'mod:resize');
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.code, ErrorCode.UNAVAILABLE);
  assert.deepEqual([fenced.canvas.width, fenced.canvas.seq], [4, 0]);

  const broken = committerRig(t);
  broken.store.db.exec('DROP TABLE canvas_sizes');
  const failed = await broken.committer.resize({ width: 6, height: 4, left: 0, top: 0 }, 'mod:resize');
  assert.equal(!failed.ok && failed.code, ErrorCode.STORE_FAILED);
  assert.deepEqual([broken.canvas.width, broken.canvas.seq, broken.resized.length], [4, 0, 0]);
});

test('committer.resize waits for the replicated log: an append that fails answers outcome_unknown', async (t) => {
  const appended: Array<SizeRow | undefined> = [];
  const r = committerRig(t, {
    replicate: (_rows, resize) => {
      appended.push(resize);
      return Promise.resolve(false);
    },
  });
  const out = await r.committer.resize({ width: 5, height: 3, left: 1, top: 0 }, 'mod:resize');
  assert.equal(!out.ok && out.code, ErrorCode.OUTCOME_UNKNOWN);
  assert.equal(appended[0]?.seq, 1);
  assert.equal(appended[0]?.left, 1);
});

test('Store.load from a snapshot before a resize and one after it gives the same grid', async (t) => {
  const r = committerRig(t);
  const placeNow = (x: number, y: number, color: number) =>
    r.committer.commitNow([{ x, y, color, who: 'a', addr: '', nextAt: 0 }]);
  placeNow(0, 0, 1);
  r.committer.snapshot(); // at seq 1, 4 x 3
  placeNow(3, 2, 2);
  await r.committer.resize({ width: 7, height: 5, left: 3, top: 2 }, 'mod:resize');
  placeNow(6, 4, 3);
  const fromOld = r.store.load(16);
  assert.deepEqual([fromOld.canvas.width, fromOld.canvas.height], [7, 5]);
  assert.deepEqual(fromOld.canvas.toGrid(), r.canvas.toGrid());
  assert.equal(fromOld.canvas.get(3, 2), 1);
  r.committer.snapshot(); // at seq 4, 7 x 5
  const fromNew = r.store.load(16);
  assert.deepEqual([fromNew.canvas.width, fromNew.canvas.height], [7, 5]);
  assert.deepEqual(fromNew.canvas.toGrid(), r.canvas.toGrid());
  assert.deepEqual(seqsOf(fromNew.canvas), seqsOf(r.canvas));
  assert.equal(fromNew.replayed, 0);
});

/** A ticker of a 4 x 4 canvas that grows (each resize gets an encoder of its size), delivering nowhere. */
function tickerOn(canvas: Canvas): Ticker {
  return new Ticker({
    canvas,
    encoder: new PngEncoder(4, 4, PALETTE_2017),
    newEncoder: (w, h) => new PngEncoder(w, h, PALETTE_2017),
    canvasId: 'c',
    maxDeltaCells: () => 1000,
    deliver: async () => {},
    onError: (err) => assert.fail(String(err)),
  });
}

test('the ticker: the tick after a resize is a whole frame of the new size with the resize message, no delta', async (t) => {
  const canvas = new Canvas(4, 4, 16);
  const ticker = tickerOn(canvas);
  t.after(() => ticker.stop());
  canvas.apply(1, 1, 5, 1);
  await ticker.run();
  canvas.resize({ width: 6, height: 5, left: 2, top: 1 }, 2);
  ticker.resized({ seq: 2, width: 6, height: 5, left: 2, top: 1 });
  canvas.apply(5, 4, 7, 3);
  const out = await ticker.run();
  assert.equal(out.delta, undefined);
  assert.equal(out.frame.seq, 3);
  const img = decodeToIndices(out.frame.image?.png ?? Buffer.alloc(0), PALETTE_2017);
  assert.deepEqual([img.width, img.height], [6, 5]);
  assert.deepEqual(img.grid, canvas.toGrid());
  assert.equal(img.grid[2 * 6 + 3], 5);
  const msg = decodeServerMessage(out.resizes?.[0]?.message ?? new Uint8Array()) as ResizeMsg;
  assert.deepEqual(msg, { t: 'resize', seq: 2, width: 6, height: 5, left: 2, top: 1 });
  // The tick after is a delta again.
  canvas.apply(0, 0, 1, 4);
  const next = await ticker.run();
  assert.equal(next.resizes, undefined);
  assert.equal(next.delta?.fromSeq, 3);
});

test('the ticker: two resizes in one tick are two resize messages, each at its own seq with its own left/top', async (t) => {
  const canvas = new Canvas(4, 4, 16);
  const ticker = tickerOn(canvas);
  t.after(() => ticker.stop());
  canvas.apply(0, 0, 5, 1);
  await ticker.run();
  const first = { seq: 2, width: 6, height: 5, left: 2, top: 1 };
  const second = { seq: 3, width: 9, height: 5, left: 3, top: 0 };
  for (const e of [first, second]) {
    canvas.resize(e, e.seq);
    ticker.resized(e);
  }
  const out = await ticker.run();
  assert.deepEqual([out.frame.width, out.frame.height], [9, 5]);
  assert.deepEqual(
    (out.resizes ?? []).map((r) => decodeServerMessage(r.message)),
    [first, second].map((e) => ({ t: 'resize', ...e })),
  );
  const img = decodeToIndices(out.frame.image?.png ?? Buffer.alloc(0), PALETTE_2017);
  assert.equal(img.grid[1 * 9 + 5], 5, 'the pixel moved by both: (0 + 2 + 3, 0 + 1)');
});

test('the ticker: a resize past 4096 a side drops the whole-canvas PNG for good; ticks go on as deltas sized to the new canvas', async (t) => {
  const canvas = new Canvas(4000, 8, 16);
  const made: Array<[number, number]> = [];
  let deltaCells = 0;
  const ticker = new Ticker({
    canvas,
    encoder: new PngEncoder(4000, 8, PALETTE_2017),
    newEncoder: (w, h) => {
      made.push([w, h]);
      return new PngEncoder(w, h, PALETTE_2017);
    },
    canvasId: 'c',
    // Asked each tick: of the canvas's size then (1% here).
    maxDeltaCells: () => (deltaCells = Math.floor((canvas.width * canvas.height) / 100)),
    deliver: async () => {},
    onError: (err) => assert.fail(String(err)),
  });
  t.after(() => ticker.stop());
  canvas.apply(3999, 7, 5, 1);
  assert.ok((await ticker.run()).frame.image);
  const grow = { seq: 2, width: 5000, height: 8, left: 1000, top: 0 };
  canvas.resize(grow, grow.seq);
  ticker.resized(grow);
  const out = await ticker.run();
  assert.equal(out.frame.image, undefined, 'no PNG of 5000 x 8');
  assert.deepEqual([out.frame.width, out.frame.height, out.resizes?.length], [5000, 8, 1]);
  assert.deepEqual(made, [], 'no encoder made for the grown size');
  canvas.apply(4999, 7, 3, 3);
  const next = await ticker.run();
  assert.equal(next.frame.image, undefined);
  assert.equal(next.delta?.fromSeq, 2);
  assert.equal(deltaCells, 400, 'the threshold is 1% of 5000 x 8, not of the first 4000 x 8');
});

test('bus: a tick lists its resizes oldest first, ending at its size; one that does not is refused', () => {
  const tick: FrameMsg = {
    k: 'tick',
    epoch: 1,
    canvasId: 'c',
    seq: 9,
    etag: '"c-9"',
    width: 30,
    height: 12,
    at: 1,
    resizeCount: 3,
    resizes: [
      { seq: 7, width: 20, height: 10, left: 3, top: 0 },
      { seq: 8, width: 30, height: 12, left: 0, top: 2 },
    ],
  };
  assert.deepEqual(decodeTicks(encodeBus(tick)), tick);
  const [a, b] = tick.resizes as [SizeEvent, SizeEvent];
  const bad: Array<Partial<FrameMsg>> = [
    { resizes: [b, a] },
    { resizes: [a] },
    { resizes: [] },
    { resizeCount: 1 },
    { width: 31 },
    { resizes: [a, { ...b, left: 31 }] },
    { resizes: [a, { ...b, seq: 10 }] },
    { resizeCount: undefined } as unknown as Partial<FrameMsg>,
  ];
  for (const patch of bad)
    assert.equal(decodeTicks(encodeBus({ ...tick, ...patch })), undefined, JSON.stringify(patch));
});

test('bus: a resize log entry, an admin resize request and the meta list round-trip; malformed ones are refused', () => {
  const resize: SizeRow = { seq: 7, width: 20, height: 10, left: 3, top: 0, at: 123, who: 'mod:resize' };
  const entry = { epoch: 2, from: 7, to: 7, rows: [], changes: [], resize };
  assert.deepEqual(decodeLogEntry(encodeLogEntry(entry)), entry);
  assert.equal(decodeLogEntry(encodeLogEntry({ ...entry, to: 8 })), undefined, 'a resize is an entry of its own');
  assert.equal(decodeLogEntry(encodeLogEntry({ ...entry, from: 6, to: 6 })), undefined);

  const action = { op: 'resize', actor: 'admin@x', width: 20, height: 10, left: 3, top: 0 } as const;
  const batch = decodeRequests(encodeBus({ edge: 'e1', reqs: [{ i: 1, k: 'admin', a: action }] }));
  assert.deepEqual(batch?.reqs[0], { i: 1, k: 'admin', a: action });

  const meta = {
    canvasId: 'c',
    width: 20,
    height: 10,
    palette: [0, 0xffffff],
    tickMs: 100,
    cooldownMs: 0,
    secret: 'ab',
    resizes: [{ seq: 7, width: 20, height: 10, left: 3, top: 0 }],
  };
  assert.deepEqual(decodeMeta(encodeBus(meta)), meta);
  assert.equal(decodeMeta(encodeBus({ ...meta, resizes: [{ ...meta.resizes[0], seq: -1 }] } as never)), undefined);
});

test('the upgrade query: resize=1 asks for resize messages, resize=0 or none does not, anything else is refused', () => {
  const q = (s: string) => parseStreamQuery(s);
  assert.deepEqual(q('stream=delta&resize=1'), { ok: true, stream: 'delta', online: false, resize: true });
  assert.deepEqual(q(''), { ok: true, stream: 'png', online: false, resize: false });
  assert.deepEqual(q('resize=0'), { ok: true, stream: 'png', online: false, resize: false });
  assert.equal(q('resize=yes').ok, false);
});
