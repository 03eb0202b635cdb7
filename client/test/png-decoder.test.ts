import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PngEncoder } from '../../server/canvas/png-encoder.ts';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import {
  type DecodeReply,
  type DecodeRequest,
  type DecodeWorker,
  decodeSnapshot,
  PngDecoder,
} from '../src/board/png-decoder.ts';
import { pixelWords } from '../src/view/pixel-words.ts';

const W = 5;
const H = 3;
const grid = Uint8Array.from({ length: W * H }, (_, i) => (i * 3) % 16);

/** Stands in for png-worker.ts: answers on a later turn with what the worker computes, or fails. */
class FakeWorker implements DecodeWorker {
  received: DecodeRequest[] = [];
  terminated = false;
  private onMessage: ((ev: MessageEvent<DecodeReply>) => void) | null = null;
  private onError: ((ev: Event) => void) | null = null;

  addEventListener(
    type: 'message' | 'error',
    listener: ((ev: MessageEvent<DecodeReply>) => void) | ((ev: Event) => void),
  ): void {
    if (type === 'message') this.onMessage = listener as (ev: MessageEvent<DecodeReply>) => void;
    else this.onError = listener as (ev: Event) => void;
  }

  postMessage(message: DecodeRequest): void {
    this.received.push(message);
  }

  /** Answers the oldest request as the worker would. */
  async answer(): Promise<void> {
    const req = this.received.shift();
    assert.ok(req);
    let reply: DecodeReply;
    try {
      reply = { id: req.id, ok: true, snapshot: await decodeSnapshot(req.png) };
    } catch (err) {
      reply = { id: req.id, ok: false, error: String(err) };
    }
    this.onMessage?.({ data: reply } as MessageEvent<DecodeReply>);
  }

  fail(): void {
    this.onError?.(new Event('error'));
  }

  terminate(): void {
    this.terminated = true;
  }
}

test('a snapshot decodes to its indices and the pixel words the renderer would write', async () => {
  const png = await new PngEncoder(W, H, PALETTE_2017).encode(grid);
  const s = await decodeSnapshot(png);
  assert.deepEqual(s.indices, grid);
  const words = pixelWords(PALETTE_2017);
  assert.deepEqual(
    s.pixels,
    Uint32Array.from(grid, (c) => words[c] as number),
  );
});

test('the worker gets a copy of the PNG it can take, and its answer resolves the decode', async () => {
  const png = await new PngEncoder(W, H, PALETTE_2017).encode(grid);
  const framed = new Uint8Array(png.length + 8);
  framed.set(png, 4);
  const worker = new FakeWorker();
  const decoder = new PngDecoder(worker);
  const pending = decoder.decode(framed.subarray(4, 4 + png.length));
  const req = worker.received[0];
  assert.ok(req);
  assert.equal(req.png.byteLength, req.png.buffer.byteLength, 'exactly the PNG, in a buffer of its own');
  await worker.answer();
  assert.deepEqual((await pending)?.indices, grid);
  const bad = decoder.decode(Uint8Array.from([1, 2, 3]));
  await worker.answer();
  assert.equal(await bad, null, 'bytes that are not a PNG decode to null');
});

test('when the worker fails, what it owed and what follows are decoded on the main thread', async () => {
  const png = await new PngEncoder(W, H, PALETTE_2017).encode(grid);
  const worker = new FakeWorker();
  const decoder = new PngDecoder(worker);
  const owed = decoder.decode(png);
  worker.fail();
  assert.ok(worker.terminated);
  assert.deepEqual((await owed)?.indices, grid);
  const later = decoder.decode(png);
  assert.equal(worker.received.length, 1, 'nothing more is posted to the failed worker');
  assert.deepEqual((await later)?.indices, grid);
});

test('one decode at a time: a PNG waiting behind it is replaced by a newer one, which decodes next', async () => {
  const encode = (c: number) => new PngEncoder(W, H, PALETTE_2017).encode(new Uint8Array(W * H).fill(c));
  const worker = new FakeWorker();
  const decoder = new PngDecoder(worker);
  const first = decoder.decode(await encode(1));
  const second = decoder.decode(await encode(2));
  const third = decoder.decode(await encode(3));
  assert.equal(worker.received.length, 1, 'the worker has one PNG at a time');
  assert.equal(await second, null, 'superseded before it started');
  await worker.answer();
  assert.equal((await first)?.indices[0], 1);
  assert.equal(worker.received.length, 1, 'the newest was sent when the worker was free');
  await worker.answer();
  assert.equal((await third)?.indices[0], 3);
});
