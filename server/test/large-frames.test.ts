/**
 * Large messages on the wire, seen by a client written on a bare TCP socket: no frame of 16 KiB or
 * more ever leaves the server (uWebSockets #1662 corrupts those in uWS.js v20.30.0), fragmented
 * messages reassemble and decode, nothing is slipped into a fragmented message, a reader that keeps
 * up leaves nothing held for it, and one that stops is closed after --stall-ms.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import { fillNoise, startTestServer, TestClient, type TestServer, decodeToIndices } from '../../testkit/fixture.ts';
import { RawWebSocket } from '../../testkit/raw-websocket.ts';

const WIRE_LIMIT = 16 * 1024;

async function metric(ts: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${ts.http}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20)); // polling server state that has no event to await
  }
}

test('a reader pausing between small reads gets every PNG it is sent whole, over dozens of ticks', async (t) => {
  const ts = await startTestServer({ width: 1000, height: 1000, tickMs: 50 });
  t.after(() => ts.dispose());
  fillNoise(ts.server.canvas, 0x51ed); // noise: every PNG is about 500 KB, 30+ fragments
  const raw = await RawWebSocket.open(ts.ws);
  t.after(() => raw.close());
  const readFreely = raw.paced(4096, 2); // ~2 MB/s: slower than the stream, so the kernel fills
  const placer = await TestClient.connect(ts.ws);
  t.after(() => placer.close());
  let lastSeq = 0;
  for (let i = 0; i < 40; i++) {
    placer.send({ t: 'place', id: i, x: i, y: 0, c: i % 16 });
    lastSeq = (await placer.nextOf('ack')).seq;
    await placer.pngAtLeast(lastSeq); // one placement per tick
  }
  readFreely();
  await until(async () => {
    const last = raw.messages.at(-1);
    return last !== undefined && (decodeServerMessage(last) as { seq?: number }).seq === lastSeq;
  }, 'the reader caught up with the last tick');

  assert.equal(raw.violation, undefined);
  const tooBig = raw.frames.filter((f) => f.length >= WIRE_LIMIT - 14);
  assert.deepEqual(tooBig, [], 'no frame near 16 KiB on the wire');
  assert.ok(
    raw.frames.some((f) => f.opcode === 0),
    'large messages went out as fragments',
  );
  const pngs = raw.messages.map((m) => decodeServerMessage(m)).filter((m) => m.t === 'png');
  assert.ok(pngs.length >= 3, `${pngs.length} PNGs`);
  let prev = -1;
  for (const m of pngs) {
    if (m.t !== 'png') continue;
    assert.ok(m.seq > prev, 'in seq order (a slow reader skips superseded ones)');
    prev = m.seq;
    const decoded = decodeToIndices(m.png, ts.config.palette);
    assert.equal(decoded.width, 1000);
  }
});

test('a message queued while a fragmented one is in flight arrives after it, in order', async (t) => {
  // The largest canvas, noisy: its ~8 MB snapshot cannot all fit in the kernel's socket buffers, so
  // the server still holds part of it when the ack below is queued.
  const ts = await startTestServer({ width: 4096, height: 4096 });
  t.after(() => ts.dispose());
  fillNoise(ts.server.canvas, 0x7e57);
  const placer = await TestClient.connect(ts.ws);
  t.after(() => placer.close());
  placer.send({ t: 'place', id: 1, x: 0, y: 0, c: 1 });
  await placer.pngAtLeast((await placer.nextOf('ack')).seq, 30_000); // a tick encodes the noise
  const raw = await RawWebSocket.open(ts.ws);
  t.after(() => raw.close());
  await raw.messagesAtLeast(1); // hello: the upgrade is done and the snapshot is going out
  raw.stopReading();
  raw.send(encodeMessage({ t: 'place', id: 42, x: 3, y: 4, c: 5 }));
  await until(
    async () => ((await (await fetch(`${ts.http}/api/pixel?x=3&y=4`)).json()) as { seq: number | null }).seq !== null,
    'the placement is committed (its ack is queued)',
  );
  raw.paced(65536, 1)(); // read everything again
  await raw.messagesAtLeast(3, 30_000);
  const kinds = raw.messages.slice(0, 3).map((m) => decodeServerMessage(m).t);
  assert.deepEqual(kinds, ['hello', 'png', 'ack']);
  assert.ok(raw.frames.filter((f) => f.opcode === 0).length > 100, 'the snapshot went out in fragments');
  assert.equal(raw.violation, undefined, 'no frame slipped into the fragmented png');
});

test('a reader that keeps up leaves nothing held for it; one that stops is closed after --stall-ms', async (t) => {
  const ts = await startTestServer({ width: 1000, height: 1000, tickMs: 50, stallMs: 400 });
  t.after(() => ts.dispose());
  fillNoise(ts.server.canvas, 0xbeef);
  const reader = await TestClient.connect(ts.ws);
  t.after(() => reader.close());
  await reader.nextOf('png');
  await until(
    async () => (await metric(ts, 'canvas_ws_buffered_bytes')) === 0,
    'nothing held once the snapshot is read',
  );

  const stopped = await RawWebSocket.open(ts.ws);
  t.after(() => stopped.close());
  stopped.stopReading();
  const closed = new Promise<void>((resolve) => stopped.socket.once('close', () => resolve()));
  for (let i = 0; ; i++) {
    reader.send({ t: 'place', id: i, x: i % 1000, y: 1, c: i % 16 });
    const seq = (await reader.nextOf('ack')).seq;
    await reader.pngAtLeast(seq);
    if (stopped.socket.closed || (await metric(ts, 'canvas_ws_stalled_total')) >= 1) break;
  }
  stopped.socket.resume(); // a paused socket never reads the end of the stream: drain it to see the close
  await closed;
  assert.equal(await metric(ts, 'canvas_ws_stalled_total'), 1);
  await until(async () => (await metric(ts, 'canvas_ws_buffered_bytes')) === 0, 'its bytes are freed');
  assert.equal(await metric(ts, 'canvas_ws_connections'), 1, 'the reader stays');
});
