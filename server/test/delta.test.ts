import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { applyDeltaPixels } from '../../protocol/delta.ts';
import { ErrorCode, type DeltaMsg, type PngMsg, type ServerMessage } from '../../protocol/messages.ts';
import {
  decodeToIndices,
  fetchImageGrid,
  startTestServer,
  TestClient,
  type TestServer,
} from '../../testkit/fixture.ts';
import { Rng } from '../../testkit/rng.ts';

/** What a delta client keeps: the board as palette indices and the seq it reflects. */
class Board {
  grid: Uint8Array = new Uint8Array(0);
  seq = -1;
  constructor(private readonly ts: TestServer) {}

  /** Applies a png or delta; returns false on a gap (the caller resyncs). */
  apply(m: ServerMessage): boolean {
    if (m.t === 'png') {
      this.grid = decodeToIndices(m.png, this.ts.config.palette).grid;
      this.seq = m.seq;
      return true;
    }
    if (m.t !== 'delta') return true;
    if (m.fromSeq !== this.seq) return false;
    assert.equal(m.px.length, m.n * 5);
    assert.ok(applyDeltaPixels(m.px, this.grid, this.ts.config.width, this.ts.config.height));
    this.seq = m.toSeq;
    return true;
  }
}

const isFrame = (m: ServerMessage): m is PngMsg | DeltaMsg => m.t === 'png' || m.t === 'delta';

function randomPlacer(client: TestClient, width: number, height: number, seed: number) {
  const rng = new Rng(seed);
  let id = 0;
  return (count: number) => {
    for (let i = 0; i < count; i++)
      client.send({ t: 'place', id: id++, x: rng.int(width), y: rng.int(height), c: rng.int(16) });
  };
}

test('delta subscribers applying every delta match the PNG of the same seq at every tick', async (t) => {
  const ts = await startTestServer({ width: 40, height: 30, tickMs: 30 });
  t.after(() => ts.dispose());
  const watcher = await TestClient.connect(`${ts.ws}?stream=delta`);
  const pngWatcher = await TestClient.connect(ts.ws);
  const hello = await watcher.nextOf('hello');
  assert.equal(hello.stream, 'delta');
  const placers = await Promise.all([1, 2, 3].map(() => TestClient.connect(ts.ws)));
  const board = new Board(ts);
  assert.ok(board.apply(await watcher.nextOf('png')), 'a snapshot first');

  const place = placers.map((c, i) => randomPlacer(c, 40, 30, 17 + i));
  let deltas = 0;
  let last = 0;
  for (let round = 0; round < 15; round++) {
    for (const p of place) p(20);
    for (const c of placers) for (let i = 0; i < 20; i++) last = Math.max(last, (await c.nextOf('ack')).seq);
    // Every tick: each delta's result equals the PNG published in the same tick.
    while (board.seq < last) {
      const m = await watcher.next(isFrame);
      assert.equal(m.t, 'delta', 'small ticks are deltas');
      assert.ok(board.apply(m), `no gap at ${board.seq}`);
      deltas++;
      const png = await pngWatcher.next<PngMsg>((x) => x.t === 'png' && x.seq === board.seq);
      assert.deepEqual(board.grid, decodeToIndices(png.png, ts.config.palette).grid, `seq ${board.seq}`);
    }
  }
  assert.ok(deltas >= 2, `several ticks (${deltas})`);
  assert.deepEqual(board.grid, await fetchImageGrid(ts));
  await Promise.all([watcher, pngWatcher, ...placers].map((c) => c.close()));
});

test('a delta changes each pixel once, with its last colour', async (t) => {
  const ts = await startTestServer({ width: 10, height: 10, tickMs: 200, commitDelayMs: 0 });
  t.after(() => ts.dispose());
  const watcher = await TestClient.connect(`${ts.ws}?stream=delta`);
  const start = (await watcher.nextOf('png')).seq;
  const c = await TestClient.connect(ts.ws);
  for (let i = 0; i < 5; i++) c.send({ t: 'place', id: i, x: 3, y: 4, c: i + 1 });
  for (let i = 0; i < 5; i++) await c.nextOf('ack');
  const d = await watcher.nextOf('delta');
  assert.equal(d.fromSeq, start);
  assert.equal(d.toSeq, start + 5);
  assert.equal(d.n, 1);
  assert.deepEqual([...d.px], [3, 0, 4, 0, 5]);
  await watcher.close();
  await c.close();
});

test('a client that misses a delta detects the gap, resyncs and matches the server exactly', async (t) => {
  const ts = await startTestServer({ width: 20, height: 20, tickMs: 30 });
  t.after(() => ts.dispose());
  const watcher = await TestClient.connect(`${ts.ws}?stream=delta`);
  const board = new Board(ts);
  board.apply(await watcher.nextOf('png'));
  const placer = await TestClient.connect(ts.ws);
  const place = randomPlacer(placer, 20, 20, 5);

  place(10);
  let seq = 0;
  for (let i = 0; i < 10; i++) seq = (await placer.nextOf('ack')).seq;
  const dropped = await watcher.nextOf('delta'); // forced gap: received but never applied
  assert.ok(dropped.toSeq <= seq);
  while (dropped.toSeq < seq) assert.equal((await watcher.nextOf('delta')).t, 'delta');

  place(10);
  for (let i = 0; i < 10; i++) seq = (await placer.nextOf('ack')).seq;
  const next = await watcher.nextOf('delta');
  assert.equal(board.apply(next), false, 'gap detected: fromSeq is not our seq');
  watcher.send({ t: 'resync' });
  const snap = await watcher.nextOf('png');
  assert.ok(board.apply(snap));
  assert.ok(snap.seq >= next.toSeq);
  assert.deepEqual(board.grid, await fetchImageGrid(ts));
  await watcher.close();
  await placer.close();
});

test('reconnecting with a recent seq gets the missing deltas; with an old seq a snapshot', async (t) => {
  const ts = await startTestServer({ width: 20, height: 20, tickMs: 30, deltaRing: 3 });
  t.after(() => ts.dispose());
  const placer = await TestClient.connect(ts.ws);
  const place = randomPlacer(placer, 20, 20, 9);
  const seqs: number[] = [];
  for (let round = 0; round < 6; round++) {
    place(5);
    let seq = 0;
    for (let i = 0; i < 5; i++) seq = (await placer.nextOf('ack')).seq;
    await placer.pngAtLeast(seq); // one tick per round
    seqs.push(seq);
  }
  const recent = seqs[seqs.length - 3] as number;
  const back = await TestClient.connect(`${ts.ws}?stream=delta&since=${recent}`);
  await back.nextOf('hello');
  const first = await back.next(isFrame);
  assert.equal(first.t, 'delta', 'missing ticks come as deltas');
  assert.equal((first as DeltaMsg).fromSeq, recent);

  const old = await TestClient.connect(`${ts.ws}?stream=delta&since=${seqs[0]}`);
  await old.nextOf('hello');
  const snap = await old.next(isFrame);
  assert.equal(snap.t, 'png', 'too old for the ring: a snapshot');
  assert.equal(snap.t === 'png' && snap.seq, seqs[5]);
  await Promise.all([placer, back, old].map((c) => c.close()));
});

test('a tick changing more than the configured share of the canvas sends delta subscribers a PNG', async (t) => {
  const ts = await startTestServer({ width: 10, height: 10, tickMs: 200, deltaMaxPercent: 10 });
  t.after(() => ts.dispose());
  const watcher = await TestClient.connect(`${ts.ws}?stream=delta`);
  const board = new Board(ts);
  board.apply(await watcher.nextOf('png'));
  const c = await TestClient.connect(ts.ws);
  for (let i = 0; i < 11; i++) c.send({ t: 'place', id: i, x: i % 10, y: Math.floor(i / 10), c: 2 });
  let seq = 0;
  for (let i = 0; i < 11; i++) seq = (await c.nextOf('ack')).seq;
  const m = await watcher.next(isFrame);
  assert.equal(m.t, 'png');
  assert.ok(board.apply(m));
  assert.equal(board.seq, seq);
  assert.deepEqual(board.grid, await fetchImageGrid(ts));
  await watcher.close();
  await c.close();
});

test('subscribe switches a PNG socket to deltas; malformed subscribe and stream requests get errors', async (t) => {
  const ts = await startTestServer({ width: 10, height: 10, tickMs: 30 });
  t.after(() => ts.dispose());
  const c = await TestClient.connect(ts.ws);
  const start = (await c.nextOf('png')).seq;
  const bad: Array<[Record<string, unknown>, ErrorCode]> = [
    [{ t: 'subscribe', stream: 'pixels' }, ErrorCode.UNKNOWN_STREAM],
    [{ t: 'subscribe', stream: 5 }, ErrorCode.INVALID_FIELD],
    [{ t: 'subscribe' }, ErrorCode.INVALID_FIELD],
    [{ t: 'subscribe', stream: 'delta', since: -1 }, ErrorCode.INVALID_FIELD],
    [{ t: 'subscribe', stream: 'delta', since: 'x' }, ErrorCode.INVALID_FIELD],
    [{ t: 'subscribe', stream: 'delta', since: 1.5 }, ErrorCode.INVALID_FIELD],
  ];
  for (const [msg, code] of bad) {
    c.send(msg);
    assert.equal((await c.nextOf('error')).code, code, JSON.stringify(msg));
  }
  c.send({ t: 'subscribe', stream: 'delta', since: start });
  c.send({ t: 'place', id: 1, x: 1, y: 1, c: 1 });
  const d = await c.nextOf('delta');
  assert.equal(d.fromSeq, start);
  // A resync always answers with a PNG of the current seq.
  c.send({ t: 'resync' });
  assert.equal((await c.nextOf('png')).seq, d.toSeq);
  await c.close();

  for (const query of ['stream=pixels', 'stream=delta&since=abc', 'stream=delta&since=-4', 'online=yes']) {
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${ts.http}/ws?${query}`, {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('upgrade', () => reject(new Error(`upgraded despite ${query}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(refused.status, 400, query);
    assert.match(refused.body, /stream|since|online/);
  }
});
