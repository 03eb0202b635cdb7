import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import { packDeltaPixels } from '../../protocol/delta.ts';
import { MsgType, PROTOCOL_VERSION, Stream, type ServerMessage } from '../../protocol/messages.ts';
import { PngEncoder } from '../../server/canvas/png-encoder.ts';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import type { Board } from '../src/board/board.ts';
import { BoardSync } from '../src/board/board-sync.ts';
import { decodeIndexedPng } from '../src/board/png-indices.ts';

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
  return { t: MsgType.DELTA, fromSeq, toSeq, n: cells.length, px: packDeltaPixels(cells, grid, W) };
}

/** A board-sync fed frames through the real codec, recording what it asks the page to do. */
function harness() {
  const events: string[] = [];
  const warnings: string[] = [];
  let resyncs = 0;
  const sync = new BoardSync({
    decodePng: (bytes) => {
      try {
        return decodeIndexedPng(bytes);
      } catch {
        return null;
      }
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
  const deliver = (msg: ServerMessage): void => {
    const m = decodeServerMessage(encodeMessage(msg));
    switch (m.t) {
      case MsgType.HELLO:
        return sync.hello(m);
      case MsgType.PNG:
        return sync.png(m.png, m.seq);
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
  return { sync, deliver, took, board, warnings, resyncs: () => resyncs };
}

/** A harness whose board is live at `seq` with an all-white (index 0) canvas. */
async function liveAt(seq: number) {
  const h = harness();
  h.deliver(hello(seq));
  h.deliver(await png(new Uint8Array(W * H), seq));
  h.took();
  return h;
}

test('a snapshot after hello fills the board, ends loading and reports its seq; earlier deltas are ignored', async () => {
  const h = harness();
  assert.equal(h.sync.nextSince(), null, 'no board yet: a fresh snapshot');
  h.deliver(hello(5));
  assert.deepEqual(h.took(), ['replaced 4x3']);
  assert.equal(h.sync.loaded, false);
  h.deliver(delta(5, 6, [[0, 0, RED]]));
  assert.deepEqual(h.took(), [], 'a delta before the first snapshot has nothing to apply to');
  const grid = Uint8Array.from({ length: W * H }, (_, i) => i % 16);
  h.deliver(await png(grid, 5));
  assert.deepEqual(h.took(), ['loaded', 'drawAll', 'seq 5']);
  assert.deepEqual(h.board().grid, grid);
  assert.deepEqual(h.sync.state, { kind: 'live', seqKnown: true });
  assert.equal(h.resyncs(), 0);
});

test('consecutive deltas apply in order, move the seq and become the since of a reconnect', async () => {
  const h = await liveAt(5);
  h.deliver(delta(5, 6, [[1, 0, RED]]));
  h.deliver(
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
  h.deliver(delta(6, 7, [[0, 0, RED]]));
  assert.equal(h.resyncs(), 1);
  assert.deepEqual(h.sync.state, { kind: 'resyncing' });
  assert.equal(h.sync.loaded, true, 'the last snapshot stays on screen while resyncing');
  h.deliver(delta(7, 8, [[0, 0, RED]]));
  h.deliver(delta(5, 6, [[0, 0, RED]]));
  assert.equal(h.resyncs(), 1, 'one resync per gap, not one per delta that follows');
  assert.deepEqual(h.took(), []);
  assert.equal(h.board().colourAt(0, 0), 0);
  assert.equal(h.sync.nextSince(), null, 'a reconnect while resyncing asks for a snapshot');
});

test('the snapshot answering a resync makes the board live again, and deltas from its seq apply', async () => {
  const h = await liveAt(5);
  h.deliver(delta(6, 7, [[0, 0, RED]]));
  const grid = new Uint8Array(W * H);
  grid[0] = RED;
  h.deliver(await png(grid, 7));
  assert.deepEqual(h.took(), ['drawAll', 'seq 7'], 'no second "loaded": the page never went back to loading');
  h.deliver(delta(7, 8, [[2, 1, BLUE]]));
  assert.deepEqual(h.took(), ['drawDelta 1', 'seq 8']);
  assert.equal(h.board().colourAt(0, 0), RED);
  assert.equal(h.board().colourAt(2, 1), BLUE);
  assert.equal(h.resyncs(), 1);
});

test('a delta whose pixels do not fit the canvas, or whose seqs run backwards, is a gap', async () => {
  const h = await liveAt(5);
  h.deliver({ t: MsgType.DELTA, fromSeq: 5, toSeq: 6, n: 1, px: Uint8Array.from([W, 0, 0, 0, RED]) });
  assert.equal(h.resyncs(), 1);
  assert.equal(h.board().seq, 5, 'nothing of it applied');
  const again = await liveAt(5);
  again.deliver(delta(5, 4, []));
  assert.equal(again.resyncs(), 1);
});

test('stale and duplicate deltas are ignored without a resync', async () => {
  const h = await liveAt(5);
  h.deliver(delta(5, 6, [[0, 0, RED]]));
  h.took();
  h.deliver(delta(5, 6, [[0, 0, RED]])); // the same frame again
  h.deliver(delta(3, 4, [[0, 0, BLUE]])); // from before our snapshot
  assert.deepEqual(h.took(), []);
  assert.equal(h.board().colourAt(0, 0), RED);
  assert.equal(h.board().seq, 6);
  assert.equal(h.resyncs(), 0);
});

test('a reconnect resumes with since: the same canvas is kept and the missed deltas apply', async () => {
  const h = await liveAt(8);
  h.board().placeOptimistic(1, 2, 2, RED); // in flight when the connection dropped
  assert.equal(h.sync.nextSince(), 8);
  h.deliver(hello(10));
  assert.deepEqual(h.took(), ['drawPixels 2,2'], 'the old connection’s unanswered pixel is dropped, nothing else');
  assert.equal(h.board().colourAt(2, 2), 0);
  h.deliver(delta(8, 10, [[1, 1, BLUE]]));
  assert.deepEqual(h.took(), ['drawDelta 1', 'seq 10']);
  assert.equal(h.board().colourAt(1, 1), BLUE);
  assert.equal(h.resyncs(), 0, 'the server sends the missed ticks unasked');
});

test('a reconnect whose since the server no longer holds is answered by a snapshot, which applies', async () => {
  const h = await liveAt(8);
  assert.equal(h.sync.nextSince(), 8);
  h.deliver(hello(500));
  const grid = new Uint8Array(W * H).fill(BLUE);
  h.deliver(await png(grid, 500));
  assert.deepEqual(h.took(), ['drawAll', 'seq 500']);
  assert.deepEqual(h.board().grid, grid);
  h.deliver(delta(500, 501, [[0, 0, RED]]));
  assert.equal(h.board().seq, 501);
});

test('a reconnect after resuming that meets a different canvas starts over and asks for a snapshot', async () => {
  const h = await liveAt(8);
  assert.equal(h.sync.nextSince(), 8);
  h.deliver(hello(3, 6, 2));
  assert.deepEqual(h.took(), ['replaced 6x2']);
  assert.equal(h.resyncs(), 1, 'deltas from our since would not fit this canvas');
  assert.equal(h.sync.loaded, false);
  h.deliver(await png(new Uint8Array(12).fill(RED), 3, 6, 2));
  assert.deepEqual(h.took(), ['loaded', 'drawAll', 'seq 3']);
});

test('without a known seq a reconnect asks for a fresh snapshot, and a fresh connection needs no resync', async () => {
  const h = harness();
  // Polling (the WebSocket blocked) before any hello: the PNG says the size and palette; the ETag
  // gave no seq, so the board's seq is not the server's.
  const decoded = decodeServerMessage(encodeMessage(await png(new Uint8Array(W * H).fill(RED), 0)));
  assert.equal(decoded.t, MsgType.PNG);
  h.sync.png(decoded.png, null);
  assert.deepEqual(h.took(), ['replaced 4x3', 'loaded', 'drawAll', 'seq 0']);
  assert.deepEqual(h.board().palette, [...PALETTE_2017]);
  assert.deepEqual(h.sync.state, { kind: 'live', seqKnown: false });
  assert.equal(h.sync.nextSince(), null);
  h.deliver(hello(40));
  assert.deepEqual(h.took(), []);
  assert.equal(h.resyncs(), 0, 'no since was asked for: the server sends a snapshot anyway');
  h.deliver(await png(new Uint8Array(W * H), 40));
  assert.equal(h.sync.nextSince(), 40);
});

test('bytes that are not a PNG, and a PNG with colours outside the palette, change nothing', async () => {
  const h = await liveAt(5);
  h.sync.png(Uint8Array.from([1, 2, 3]), 6);
  const foreign = [0x123456, ...PALETTE_2017.slice(1)];
  h.sync.png(await new PngEncoder(W, H, foreign).encode(new Uint8Array(W * H)), 6);
  assert.deepEqual(h.took(), []);
  assert.equal(h.warnings.length, 1);
  assert.equal(h.board().seq, 5);
  assert.deepEqual(h.sync.state, { kind: 'live', seqKnown: true });
});
