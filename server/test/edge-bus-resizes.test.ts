/**
 * An edge's bus following resizes without a PNG (bus/edge-bus.ts), against a real redis-server: the
 * test plays the writer, writing `P:meta` and `P:frame` and publishing ticks as writer-bus.ts does.
 * Each tick's resizes reach the streams one by one at their own seqs; a tick counting more resizes
 * than the edge knows (it missed the tick that carried one) makes it take the frame and the resize
 * list from the keys, and it tells its clients the resizes it missed, in order, exactly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { Redis } from 'ioredis';
import { busKeys, type CanvasMeta, encodeBus, type FrameMsg } from '../bus/bus-messages.ts';
import { EdgeBus } from '../bus/edge-bus.ts';
import type { SizeEvent } from '../canvas/canvas-size.ts';
import { createLogger } from '../ops/log.ts';
import type { TickOutput } from '../streams/frame.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import { decodeServerMessage } from '../../protocol/codec.ts';

const keys = busKeys('edgetest');
let redis: TestRedis;
let writer: Redis;

before(async () => {
  redis = await startRedis();
  writer = new Redis(redis.url);
});
after(async () => {
  writer?.disconnect();
  await redis?.stop();
});

const meta = (resizes: SizeEvent[], { width, height }: { width: number; height: number }): CanvasMeta => ({
  canvasId: 'c',
  width,
  height,
  palette: [0xffffff, 0],
  tickMs: 100,
  cooldownMs: 0,
  secret: 'ab',
  resizes,
});

function tick(
  seq: number,
  { width, height }: { width: number; height: number },
  resizes: SizeEvent[],
  count: number,
): FrameMsg {
  const msg: FrameMsg = {
    k: 'tick',
    epoch: 1,
    canvasId: 'c',
    seq,
    etag: `"c-${seq}"`,
    width,
    height,
    at: Date.now(),
    resizeCount: count,
  };
  if (resizes.length > 0) msg.resizes = resizes;
  return msg;
}

/** As writer-bus.ts publishes a tick: the meta key (when it carries resizes), the frame key, the channel. */
async function publish(t: FrameMsg, all: SizeEvent[], opts: { channel: boolean } = { channel: true }) {
  const bytes = encodeBus(t);
  const multi = writer
    .multi()
    .set(keys.meta, encodeBus(meta(all, t)))
    .set(keys.frame, bytes);
  if (opts.channel) multi.publish(keys.ticks, bytes);
  await multi.exec();
}

const A = { seq: 2, width: 20, height: 10, left: 5, top: 0 };
const B = { seq: 3, width: 30, height: 12, left: 0, top: 2 };
const C = { seq: 5, width: 5000, height: 12, left: 70, top: 0 };
const D = { seq: 7, width: 5000, height: 40, left: 0, top: 20 };
const E1 = { seq: 8, width: 5500, height: 40, left: 1, top: 0 };
const E2 = { seq: 9, width: 6000, height: 41, left: 0, top: 1 };

test('an edge tells each resize of a tick at its own seq, and catches up from the keys on the resizes of a tick it missed', {
  timeout: 10_000,
}, async (t) => {
  await publish(tick(2, A, [A], 1), [A], { channel: false });
  const bus = new EdgeBus({
    primary: redis.url,
    keys,
    timeoutMs: 2000,
    registry: new Registry(),
    log: createLogger('silent'),
  });
  t.after(() => bus.close());
  const started = await bus.start();
  assert.equal(started.canvasId, 'c');
  assert.deepEqual([bus.frame.width, bus.frame.height, bus.resizes], [20, 10, [A]]);

  const outs: TickOutput[] = [];
  let wake: (() => void) | undefined;
  bus.follow((out) => {
    outs.push(out);
    wake?.();
  });
  const nextOut = async (): Promise<TickOutput> => {
    while (outs.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return outs.shift() as TickOutput;
  };
  const told = (out: TickOutput) => (out.resizes ?? []).map((r) => decodeServerMessage(r.message));

  // A tick carrying one resize: told as is.
  await publish(tick(3, B, [B], 2), [A, B]);
  let out = await nextOut();
  assert.deepEqual([out.frame.seq, out.frame.width, out.frame.height, out.frame.image], [3, 30, 12, undefined]);
  assert.deepEqual(told(out), [{ t: 'resize', ...B }]);

  // The tick carrying C never reaches the channel (a Redis hiccup); the next one carries D and counts 4.
  await publish(tick(5, C, [C], 3), [A, B, C], { channel: false });
  await publish(tick(7, D, [D], 4), [A, B, C, D]);
  out = await nextOut();
  assert.equal(out.frame.seq, 7);
  assert.deepEqual(
    told(out),
    [C, D].map((e) => ({ t: 'resize', ...e })),
    'the missed one first, from the meta key',
  );
  assert.deepEqual(bus.resizes, [A, B, C, D]);

  // Two resizes in one tick: two messages, each with its own left/top.
  await publish(tick(9, E2, [E1, E2], 6), [A, B, C, D, E1, E2]);
  out = await nextOut();
  assert.deepEqual(
    told(out),
    [E1, E2].map((e) => ({ t: 'resize', ...e })),
  );
  assert.deepEqual([out.frame.width, out.frame.height, bus.resizes.length], [6000, 41, 6]);

  // A tick without a resize changes nothing.
  await publish(tick(10, E2, [], 6), [A, B, C, D, E1, E2]);
  out = await nextOut();
  assert.equal(out.resizes, undefined);
  assert.equal(bus.resizes.length, 6);
});
