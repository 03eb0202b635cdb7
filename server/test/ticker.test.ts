/**
 * The tick on a real canvas and the real PNG encoder, without a server: one encode per changed tick
 * and none otherwise, a frame whose PNG and ETag describe the grid, the delta since the previous
 * frame (or none when it is too large), and a stop that waits for the tick in flight.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { decodeServerMessage } from '../../protocol/codec.ts';
import { applyDeltaPixels } from '../../protocol/delta.ts';
import type { DeltaMsg, PngMsg } from '../../protocol/messages.ts';
import { Canvas } from '../canvas/canvas.ts';
import { PngEncoder } from '../canvas/png-encoder.ts';
import { PALETTE_2017 } from '../config/palette.ts';
import { type Frame, Ticker, type TickOutput } from '../tick/ticker.ts';
import { decodeToIndices } from '../../testkit/fixture.ts';

const W = 33; // odd: the last 4-bit scanline byte carries padding
const H = 17;

interface Rig {
  canvas: Canvas;
  ticker: Ticker;
  /** Outputs handed to onTick by tick(), in order. */
  published: TickOutput[];
  /** Resolves with the next output handed to onTick. */
  nextTick(): Promise<TickOutput>;
}

function rig(t: TestContext, opts: { maxDeltaCells?: number; onTick?: (out: TickOutput) => Promise<void> } = {}): Rig {
  const canvas = new Canvas(W, H, PALETTE_2017.length);
  const published: TickOutput[] = [];
  let waiters: Array<(out: TickOutput) => void> = [];
  const ticker = new Ticker({
    canvas,
    encoder: new PngEncoder(W, H, PALETTE_2017),
    newEncoder: (width, height) => new PngEncoder(width, height, PALETTE_2017),
    canvasId: 'c4nv45',
    maxDeltaCells: () => opts.maxDeltaCells ?? W * H,
    deliver: async (out) => {
      published.push(out);
      for (const w of waiters) w(out);
      waiters = [];
      await opts.onTick?.(out);
    },
    onError: (err) => assert.fail(`tick failed: ${String(err)}`),
  });
  t.after(() => ticker.stop());
  return { canvas, ticker, published, nextTick: () => new Promise((resolve) => waiters.push(resolve)) };
}

/** Applies placements as the committer would after a commit: consecutive seqs. */
function place(canvas: Canvas, ...pixels: Array<[number, number, number]>): void {
  for (const [x, y, c] of pixels) canvas.apply(x, y, c, canvas.seq + 1);
}

/** The frame's whole-canvas PNG (every canvas here has one: 4096 a side or less). */
function pngOf(frame: Frame): Buffer {
  assert.ok(frame.image, 'a whole-canvas image');
  return frame.image.png;
}

function decodeGrid(png: Uint8Array): Uint8Array {
  const img = decodeToIndices(png, PALETTE_2017);
  assert.equal(img.width, W);
  assert.equal(img.height, H);
  return img.grid;
}

test(
  'a frame carries a PNG of the grid at its seq, ' +
    'a strong ETag of canvas id and seq, and the same PNG as a message',
  async (t) => {
    const r = rig(t);
    place(r.canvas, [0, 0, 5], [32, 0, 15], [32, 16, 3], [7, 9, 12]);
    const out = await r.ticker.run();
    assert.equal(out.delta, undefined, 'the first frame has no previous one to be a delta from');
    assert.equal(out.frame.seq, 4);
    assert.equal(out.frame.etag, '"c4nv45-4"');
    assert.deepEqual(decodeGrid(pngOf(out.frame)), r.canvas.toGrid());
    const msg = decodeServerMessage(out.frame.image?.message as Uint8Array) as PngMsg;
    assert.equal(msg.t, 'png');
    assert.equal(msg.seq, 4);
    assert.deepEqual(Buffer.from(msg.png), pngOf(out.frame));
    assert.equal(r.ticker.frame, out.frame);
  },
);

test(
  'a tick lists each pixel changed since the previous frame once, ' +
    'with its last colour, from that frame seq to the current',
  async (t) => {
    const r = rig(t);
    place(r.canvas, [1, 1, 1]);
    const first = await r.ticker.run();
    const before = decodeGrid(pngOf(first.frame));
    place(r.canvas, [2, 2, 4], [3, 3, 6], [2, 2, 9], [0, 16, 2]); // (2, 2) twice: last colour 9
    const out = await r.ticker.run();
    assert.ok(out.delta);
    assert.equal(out.delta.fromSeq, 1);
    assert.equal(out.delta.toSeq, 5);
    assert.equal(out.delta.count, 3, 'three distinct pixels');
    const msg = decodeServerMessage(out.delta.message) as DeltaMsg;
    assert.deepEqual([msg.t, msg.fromSeq, msg.toSeq, msg.n], ['delta', 1, 5, 3]);
    assert.ok(applyDeltaPixels(msg.px, before, W, H));
    assert.deepEqual(before, decodeGrid(pngOf(out.frame)), 'previous frame + delta = this frame');
    assert.equal(before[2 * W + 2], 9);
  },
);

test('tick does nothing while the seq is unchanged: no encode, no publish, the same frame object', async (t) => {
  const r = rig(t);
  place(r.canvas, [1, 1, 1]);
  r.ticker.tick();
  const first = await r.nextTick();
  await r.ticker.stop(); // the tick in flight is over
  r.ticker.tick();
  r.ticker.tick();
  await r.ticker.stop();
  assert.equal(r.published.length, 1, 'unchanged seq: nothing published');
  assert.equal(r.ticker.frame, first.frame, 'the frame object is reused');

  place(r.canvas, [4, 4, 4]);
  const pending = r.nextTick();
  r.ticker.tick();
  r.ticker.tick(); // one tick in flight at most
  const second = await pending;
  await r.ticker.stop();
  assert.equal(r.published.length, 2);
  assert.notEqual(second.frame, first.frame);
  assert.equal(second.frame.seq, 2);
  assert.deepEqual(decodeGrid(pngOf(second.frame)), r.canvas.toGrid());
});

test(
  'a tick that changed more pixels than maxDeltaCells has no delta; ' + 'the next small tick is a delta from its frame',
  async (t) => {
    const r = rig(t, { maxDeltaCells: 3 });
    await r.ticker.run();
    place(r.canvas, [0, 0, 1], [1, 0, 1], [2, 0, 1], [3, 0, 1]);
    const big = await r.ticker.run();
    assert.equal(big.delta, undefined, 'four cells over a limit of three');
    assert.equal(big.frame.seq, 4);
    assert.deepEqual(decodeGrid(pngOf(big.frame)), r.canvas.toGrid());
    place(r.canvas, [0, 1, 2], [1, 1, 2], [2, 1, 2]);
    const small = await r.ticker.run();
    assert.equal(small.delta?.count, 3, 'three cells: exactly at the limit, still a delta');
    assert.equal(small.delta?.fromSeq, 4);
    assert.equal(small.delta?.toSeq, 7);
  },
);

test(
  'start ticks on its interval once the grid changed, ' + 'and stop waits for the tick in flight to be published',
  async (t) => {
    const order: string[] = [];
    const r = rig(t, {
      // A publish that takes a turn of the event loop, like the sharded fan-out.
      onTick: () =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            order.push('published');
            resolve();
          }),
        ),
    });
    await r.ticker.run();
    r.ticker.start(5);
    place(r.canvas, [5, 5, 5]);
    const out = await r.nextTick();
    assert.equal(out.frame.seq, 1);
    assert.equal(out.delta?.count, 1);
    await r.ticker.stop().then(() => order.push('stopped'));
    assert.deepEqual(order, ['published', 'stopped']);
  },
);
