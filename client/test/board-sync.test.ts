import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import { packDeltaPixels } from '../../protocol/delta.ts';
import { MsgType, PROTOCOL_VERSION, Stream, type ServerMessage } from '../../protocol/messages.ts';
import { PngEncoder } from '../../server/canvas/png-encoder.ts';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import type { Board } from '../src/board/board.ts';
import { BoardSync } from '../src/board/board-sync.ts';
import { type DecodedIndices, decodeIndexedPng } from '../src/board/png-indices.ts';

/** Lets the promise callbacks queued so far run (a finished decode applies within them). */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const W = 4;
const H = 3;
const RED = 5;
const BLUE = 13;

function hello(seq: number, width = W, height = H): ServerMessage {
  return {
    t: MsgType.HELLO,
    v: PROTOCOL_VERSION,
    width,
    height,
    palette: [...PALETTE_2017],
    seq,
    tickMs: 100,
    cooldownMs: 0,
    stream: Stream.DELTA,
    streams: [Stream.PNG, Stream.DELTA],
    you: 'tester',
  };
}

/** The server's snapshot of `grid`: a real indexed PNG, as the server encodes it. */
async function png(grid: Uint8Array, seq: number, width = W, height = H): Promise<ServerMessage> {
  return { t: MsgType.PNG, seq, png: await new PngEncoder(width, height, PALETTE_2017).encode(grid) };
}

/** A delta setting (x, y) to c for each change, packed as the server packs it. */
function delta(fromSeq: number, toSeq: number, changes: Array<[number, number, number]>): ServerMessage {
  const grid = new Uint8Array(W * H);
  const cells = changes.map(([x, y, c]) => {
    grid[y * W + x] = c;
    return y * W + x;
  });
  return {
    t: MsgType.DELTA,
    fromSeq,
    toSeq,
    n: cells.length,
    px: packDeltaPixels(
      cells,
      Array.from(cells, (c) => grid[c] as number),
      W,
    ),
  };
}

const decodeOrNull = (bytes: Uint8Array): Promise<DecodedIndices | null> => decodeIndexedPng(bytes).catch(() => null);

/**
 * A board-sync fed frames through the real codec, recording what it asks the page to do. PNGs decode
 * at once (`held` false) or, like the page's worker, later: each waits in `decodes` until the test
 * calls its `finish`, so a test can deliver frames while snapshots are still decoding.
 */
function harness(held = false) {
  const events: string[] = [];
  const warnings: string[] = [];
  const decodes: Array<{ finish(): Promise<void> }> = [];
  let resyncs = 0;
  const sync = new BoardSync({
    decodePng: (bytes) => {
      if (!held) return decodeOrNull(bytes);
      return new Promise((resolve) => {
        decodes.push({
          finish: async () => {
            resolve(await decodeOrNull(bytes));
            await settled();
          },
        });
      });
    },
    resync: () => resyncs++,
    warn: (text) => warnings.push(text),
    sink: {
      replaced: (b: Board) => events.push(`replaced ${b.width}x${b.height}`),
      loaded: () => events.push('loaded'),
      drawAll: () => events.push('drawAll'),
      drawDelta: (_b, px) => events.push(`drawDelta ${px.length / 5}`),
      drawPixels: (_b, pixels) => events.push(`drawPixels ${pixels.map((p) => `${p.x},${p.y}`).join(' ')}`),
      seq: (seq) => events.push(`seq ${seq}`),
    },
  });
  /** Delivers a frame; resolves once a snapshot has been applied (when decodes are not held). */
  const deliver = async (msg: ServerMessage): Promise<void> => {
    const m = decodeServerMessage(encodeMessage(msg));
    switch (m.t) {
      case MsgType.HELLO:
        return sync.hello(m);
      case MsgType.PNG: {
        const applied = sync.png(m.png, m.seq);
        if (!held) await applied;
        return;
      }
      case MsgType.DELTA:
        return sync.delta(m);
      default:
        throw new Error(`not a board frame: ${m.t}`);
    }
  };
  /** Takes the events recorded since the last call. */
  const took = (): string[] => events.splice(0);
  const board = (): Board => {
    assert.ok(sync.board, 'a board');
    return sync.board;
  };
  return { sync, deliver, took, board, warnings, decodes, resyncs: () => resyncs };
}

/** A harness whose board is live at `seq` with an all-white (index 0) canvas. */
async function liveAt(seq: number) {
  const h = harness();
  await h.deliver(hello(seq));
  await h.deliver(await png(new Uint8Array(W * H), seq));
  h.took();
  return h;
}

test('a snapshot after hello fills the board, ends loading and reports its seq; earlier deltas are ignored', async () => {
  const h = harness();
  assert.equal(h.sync.nextSince(), null, 'no board yet: a fresh snapshot');
  await h.deliver(hello(5));
  assert.deepEqual(h.took(), ['replaced 4x3']);
  assert.equal(h.sync.loaded, false);
  await h.deliver(delta(5, 6, [[0, 0, RED]]));
  assert.deepEqual(h.took(), [], 'a delta before the first snapshot has nothing to apply to');
  const grid = Uint8Array.from({ length: W * H }, (_, i) => i % 16);
  await h.deliver(await png(grid, 5));
  assert.deepEqual(h.took(), ['loaded', 'drawAll', 'seq 5']);
  assert.deepEqual(h.board().cells.single, grid);
  assert.deepEqual(h.sync.state, { kind: 'live', seqKnown: true });
  assert.equal(h.resyncs(), 0);
});

test('consecutive deltas apply in order, move the seq and become the since of a reconnect', async () => {
  const h = await liveAt(5);
  await h.deliver(delta(5, 6, [[1, 0, RED]]));
  await h.deliver(
    delta(6, 8, [
      [1, 0, BLUE],
      [3, 2, RED],
    ]),
  );
  assert.deepEqual(h.took(), ['drawDelta 1', 'seq 6', 'drawDelta 2', 'seq 8']);
  assert.equal(h.board().colourAt(1, 0), BLUE, 'the later delta wins');
  assert.equal(h.board().colourAt(3, 2), RED);
  assert.equal(h.board().seq, 8);
  assert.equal(h.sync.nextSince(), 8);
  assert.equal(h.resyncs(), 0);
});

test('a delta that skips a tick asks for one resync and deltas are ignored until the snapshot', async () => {
  const h = await liveAt(5);
  await h.deliver(delta(6, 7, [[0, 0, RED]]));
  assert.equal(h.resyncs(), 1);
  assert.deepEqual(h.sync.state, { kind: 'resyncing' });
  assert.equal(h.sync.loaded, true, 'the last snapshot stays on screen while resyncing');
  await h.deliver(delta(7, 8, [[0, 0, RED]]));
  await h.deliver(delta(5, 6, [[0, 0, RED]]));
  assert.equal(h.resyncs(), 1, 'one resync per gap, not one per delta that follows');
  assert.deepEqual(h.took(), []);
  assert.equal(h.board().colourAt(0, 0), 0);
  assert.equal(h.sync.nextSince(), null, 'a reconnect while resyncing asks for a snapshot');
});

test('the snapshot answering a resync makes the board live again, and deltas from its seq apply', async () => {
  const h = await liveAt(5);
  await h.deliver(delta(6, 7, [[0, 0, RED]]));
  const grid = new Uint8Array(W * H);
  grid[0] = RED;
  await h.deliver(await png(grid, 7));
  assert.deepEqual(h.took(), ['drawAll', 'seq 7'], 'no second "loaded": the page never went back to loading');
  await h.deliver(delta(7, 8, [[2, 1, BLUE]]));
  assert.deepEqual(h.took(), ['drawDelta 1', 'seq 8']);
  assert.equal(h.board().colourAt(0, 0), RED);
  assert.equal(h.board().colourAt(2, 1), BLUE);
  assert.equal(h.resyncs(), 1);
});

test('a delta whose pixels do not fit the canvas, or whose seqs run backwards, is a gap', async () => {
  const h = await liveAt(5);
  await h.deliver({ t: MsgType.DELTA, fromSeq: 5, toSeq: 6, n: 1, px: Uint8Array.from([W, 0, 0, 0, RED]) });
  assert.equal(h.resyncs(), 1);
  assert.equal(h.board().seq, 5, 'nothing of it applied');
  const again = await liveAt(5);
  await again.deliver(delta(5, 4, []));
  assert.equal(again.resyncs(), 1);
});

test('stale and duplicate deltas are ignored without a resync', async () => {
  const h = await liveAt(5);
  await h.deliver(delta(5, 6, [[0, 0, RED]]));
  h.took();
  await h.deliver(delta(5, 6, [[0, 0, RED]])); // the same frame again
  await h.deliver(delta(3, 4, [[0, 0, BLUE]])); // from before our snapshot
  assert.deepEqual(h.took(), []);
  assert.equal(h.board().colourAt(0, 0), RED);
  assert.equal(h.board().seq, 6);
  assert.equal(h.resyncs(), 0);
});

test('a reconnect resumes with since: the same canvas is kept and the missed deltas apply', async () => {
  const h = await liveAt(8);
  h.board().placeOptimistic(1, 2, 2, RED); // in flight when the connection dropped
  assert.equal(h.sync.nextSince(), 8);
  await h.deliver(hello(10));
  assert.deepEqual(h.took(), ['drawPixels 2,2'], 'the old connection’s unanswered pixel is dropped, nothing else');
  assert.equal(h.board().colourAt(2, 2), 0);
  await h.deliver(delta(8, 10, [[1, 1, BLUE]]));
  assert.deepEqual(h.took(), ['drawDelta 1', 'seq 10']);
  assert.equal(h.board().colourAt(1, 1), BLUE);
  assert.equal(h.resyncs(), 0, 'the server sends the missed ticks unasked');
});

test('a reconnect whose since the server no longer holds is answered by a snapshot, which applies', async () => {
  const h = await liveAt(8);
  assert.equal(h.sync.nextSince(), 8);
  await h.deliver(hello(500));
  const grid = new Uint8Array(W * H).fill(BLUE);
  await h.deliver(await png(grid, 500));
  assert.deepEqual(h.took(), ['drawAll', 'seq 500']);
  assert.deepEqual(h.board().cells.single, grid);
  await h.deliver(delta(500, 501, [[0, 0, RED]]));
  assert.equal(h.board().seq, 501);
});

test('a reconnect after resuming that meets a different canvas starts over and asks for a snapshot', async () => {
  const h = await liveAt(8);
  assert.equal(h.sync.nextSince(), 8);
  await h.deliver(hello(3, 6, 2));
  assert.deepEqual(h.took(), ['replaced 6x2']);
  assert.equal(h.resyncs(), 1, 'deltas from our since would not fit this canvas');
  assert.equal(h.sync.loaded, false);
  await h.deliver(await png(new Uint8Array(12).fill(RED), 3, 6, 2));
  assert.deepEqual(h.took(), ['loaded', 'drawAll', 'seq 3']);
});

test('without a known seq a reconnect asks for a fresh snapshot, and a fresh connection needs no resync', async () => {
  const h = harness();
  // Polling (the WebSocket blocked) before any hello: the PNG says the size and palette; the ETag
  // gave no seq, so the board's seq is not the server's.
  const decoded = decodeServerMessage(encodeMessage(await png(new Uint8Array(W * H).fill(RED), 0)));
  assert.equal(decoded.t, MsgType.PNG);
  await h.sync.png(decoded.png, null);
  assert.deepEqual(h.took(), ['replaced 4x3', 'loaded', 'drawAll', 'seq 0']);
  assert.deepEqual(h.board().palette, [...PALETTE_2017]);
  assert.deepEqual(h.sync.state, { kind: 'live', seqKnown: false });
  assert.equal(h.sync.nextSince(), null);
  await h.deliver(hello(40));
  assert.deepEqual(h.took(), []);
  assert.equal(h.resyncs(), 0, 'no since was asked for: the server sends a snapshot anyway');
  await h.deliver(await png(new Uint8Array(W * H), 40));
  assert.equal(h.sync.nextSince(), 40);
});

test('bytes that are not a PNG, and a PNG with colours outside the palette, change nothing', async () => {
  const h = await liveAt(5);
  await h.sync.png(Uint8Array.from([1, 2, 3]), 6);
  const foreign = [0x123456, ...PALETTE_2017.slice(1)];
  await h.sync.png(await new PngEncoder(W, H, foreign).encode(new Uint8Array(W * H)), 6);
  assert.deepEqual(h.took(), []);
  assert.equal(h.warnings.length, 1);
  assert.equal(h.board().seq, 5);
  assert.deepEqual(h.sync.state, { kind: 'live', seqKnown: true });
});

test('deltas that arrive while the first snapshot decodes apply after it, in order', async () => {
  const h = harness(true);
  await h.deliver(hello(5));
  const grid = new Uint8Array(W * H).fill(BLUE);
  await h.deliver(await png(grid, 5));
  await h.deliver(delta(5, 6, [[0, 0, RED]]));
  await h.deliver(delta(6, 7, [[1, 0, RED]]));
  assert.deepEqual(h.took(), ['replaced 4x3'], 'nothing drawn while the snapshot decodes');
  await h.decodes[0]?.finish();
  assert.deepEqual(h.took(), ['loaded', 'drawAll', 'seq 5', 'drawDelta 1', 'seq 6', 'drawDelta 1', 'seq 7']);
  assert.equal(h.board().colourAt(0, 0), RED);
  assert.equal(h.board().colourAt(1, 0), RED);
  assert.equal(h.board().colourAt(2, 0), BLUE);
  assert.equal(h.resyncs(), 0);
});

test('deltas waiting behind a resync snapshot are judged against it: stale ones ignored, a gap resyncs again', async () => {
  const h = harness(true);
  await h.deliver(hello(5));
  await h.deliver(await png(new Uint8Array(W * H), 5));
  await h.decodes[0]?.finish();
  await h.deliver(delta(6, 7, [[0, 0, RED]])); // a missed tick
  assert.equal(h.resyncs(), 1);
  h.took();
  await h.deliver(await png(new Uint8Array(W * H).fill(BLUE), 9));
  await h.deliver(delta(8, 9, [[0, 0, RED]])); // already in the snapshot
  await h.deliver(delta(9, 10, [[1, 1, RED]]));
  await h.deliver(delta(11, 12, [[2, 2, RED]])); // tick 10 -> 11 missed
  await h.decodes[1]?.finish();
  assert.deepEqual(h.took(), ['drawAll', 'seq 9', 'drawDelta 1', 'seq 10']);
  assert.equal(h.board().colourAt(0, 0), BLUE);
  assert.equal(h.board().colourAt(1, 1), RED);
  assert.equal(h.resyncs(), 2);
  assert.deepEqual(h.sync.state, { kind: 'resyncing' });
});

test('a snapshot that finishes after a newer one is dropped; deltas wait for the newest', async () => {
  const h = harness(true);
  await h.deliver(hello(5));
  await h.deliver(await png(new Uint8Array(W * H).fill(RED), 5));
  await h.deliver(await png(new Uint8Array(W * H).fill(BLUE), 8));
  await h.deliver(delta(8, 9, [[0, 0, RED]]));
  h.took();
  await h.decodes[1]?.finish();
  assert.deepEqual(h.took(), ['loaded', 'drawAll', 'seq 8', 'drawDelta 1', 'seq 9']);
  await h.decodes[0]?.finish();
  assert.deepEqual(h.took(), [], 'the older snapshot never applies over the newer one');
  assert.equal(h.board().colourAt(1, 0), BLUE);
  assert.equal(h.board().colourAt(0, 0), RED);
  assert.equal(h.board().seq, 9);
});

test('snapshots that each arrive before the last has decoded (a PNG stream on a slow phone) all show, in order', async () => {
  const h = harness(true);
  await h.deliver(hello(5));
  await h.deliver(await png(new Uint8Array(W * H).fill(RED), 5));
  await h.deliver(delta(5, 6, [[0, 0, BLUE]])); // from a delta stream: waits for the newest snapshot
  for (let seq = 6; seq <= 8; seq++) {
    await h.deliver(await png(new Uint8Array(W * H).fill(seq), seq));
    await h.decodes[seq - 6]?.finish(); // the one before it finishes only now
  }
  assert.deepEqual(h.took(), ['replaced 4x3', 'loaded', 'drawAll', 'seq 5', 'drawAll', 'seq 6', 'drawAll', 'seq 7']);
  assert.equal(h.board().colourAt(0, 0), 7, 'the board follows the stream while it decodes');
  await h.decodes[3]?.finish();
  assert.deepEqual(h.took(), ['drawAll', 'seq 8'], 'the waiting delta is stale against the newest snapshot');
  assert.equal(h.board().colourAt(0, 0), 8);
  assert.equal(h.resyncs(), 0);
});

test('a snapshot still decoding when a hello replaces the canvas is dropped, with the deltas behind it', async () => {
  const h = harness(true);
  await h.deliver(hello(5));
  await h.deliver(await png(new Uint8Array(W * H).fill(RED), 5));
  await h.deliver(delta(5, 6, [[0, 0, BLUE]]));
  await h.deliver(hello(3, 6, 2)); // the server now has another canvas
  h.took();
  await h.decodes[0]?.finish();
  assert.deepEqual(h.took(), [], 'nothing of the old canvas applies to the new board');
  assert.equal(h.board().width, 6);
  assert.equal(h.sync.loaded, false);
  await h.deliver(await png(new Uint8Array(12).fill(BLUE), 3, 6, 2));
  await h.decodes[1]?.finish();
  assert.deepEqual(h.took(), ['loaded', 'drawAll', 'seq 3']);
  assert.equal(h.board().colourAt(0, 0), BLUE);
});

test('a snapshot that fails to decode lets the deltas waiting behind it apply to the board as it was', async () => {
  const h = harness(true);
  await h.deliver(hello(5));
  await h.deliver(await png(new Uint8Array(W * H), 5));
  await h.decodes[0]?.finish();
  h.took();
  void h.sync.png(Uint8Array.from([1, 2, 3]), 7);
  await h.deliver(delta(5, 6, [[0, 0, RED]]));
  assert.deepEqual(h.took(), []);
  await h.decodes[1]?.finish();
  assert.deepEqual(h.took(), ['drawDelta 1', 'seq 6']);
  assert.equal(h.board().seq, 6);
});
