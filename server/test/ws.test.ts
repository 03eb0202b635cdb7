import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeMessage } from '../../protocol/codec.ts';
import { CloseCode, ErrorCode, MAX_CLIENT_FRAME_BYTES, PROTOCOL_VERSION } from '../../protocol/messages.ts';
import { SLICE } from '../streams/streams.ts';
import {
  decodeToIndices,
  fetchImageGrid,
  startTestServer,
  TestClient,
  type TestServer,
} from '../../testkit/fixture.ts';

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ width: 50, height: 40, cooldownMs: 0 });
});
after(() => ts.dispose());

test('on open: hello with canvas facts, then the current PNG', async () => {
  const c = await TestClient.connect(ts.ws);
  const hello = await c.next();
  assert.equal(hello.t, 'hello');
  if (hello.t !== 'hello') return;
  assert.equal(hello.v, PROTOCOL_VERSION);
  assert.equal(hello.width, 50);
  assert.equal(hello.height, 40);
  assert.deepEqual(hello.palette, [...ts.config.palette]);
  assert.equal(hello.tickMs, ts.config.tickMs);
  assert.equal(hello.cooldownMs, 0);
  assert.equal(hello.stream, 'png');
  assert.deepEqual(hello.streams, ['png', 'delta']);
  const png = await c.next();
  assert.equal(png.t, 'png');
  if (png.t !== 'png') return;
  assert.equal(png.seq, hello.seq);
  const img = decodeToIndices(png.png, ts.config.palette);
  assert.deepEqual(img.grid, await fetchImageGrid(ts));
  await c.close();
});

test('a placement is acked and the next tick PNG shows it, also to another client', async () => {
  const placer = await TestClient.connect(ts.ws);
  const watcher = await TestClient.connect(ts.ws);
  await watcher.nextOf('png');
  placer.send({ t: 'place', id: 42, x: 49, y: 39, c: 7 });
  const ack = await placer.nextOf('ack');
  assert.equal(ack.id, 42);
  assert.ok(ack.seq > 0);
  assert.ok(ack.next <= Date.now() + 1, 'cooldown 0: next placement allowed now');
  for (const client of [placer, watcher]) {
    const png = await client.pngAtLeast(ack.seq);
    const img = decodeToIndices(png.png, ts.config.palette);
    assert.equal(img.grid[39 * 50 + 49], 7);
  }
  await placer.close();
  await watcher.close();
});

test('every bad input gets an error with its own code and leaves the grid alone', async () => {
  const c = await TestClient.connect(ts.ws);
  await c.nextOf('png');
  const gridBefore = await fetchImageGrid(ts);
  const seqBefore = ts.server.canvas.seq;
  const cases: Array<{ frame: Uint8Array; code: ErrorCode; id?: number }> = [
    { frame: Uint8Array.from([0xc1]), code: ErrorCode.NOT_MSGPACK }, // 0xc1 is never used in MessagePack
    { frame: Uint8Array.from([0x93, 0x01]), code: ErrorCode.NOT_MSGPACK }, // truncated array
    { frame: Uint8Array.from([0x01, 0x02]), code: ErrorCode.NOT_MSGPACK }, // two values in one frame
    { frame: encodeMessage([1, 2, 3] as never), code: ErrorCode.BAD_MESSAGE },
    { frame: encodeMessage({ x: 1 } as never), code: ErrorCode.BAD_MESSAGE },
    { frame: encodeMessage({ t: 'explode', id: 9 } as never), code: ErrorCode.UNKNOWN_TYPE, id: 9 },
    { frame: encodeMessage({ t: 'place', id: 1, x: '3', y: 1, c: 1 } as never), code: ErrorCode.INVALID_FIELD, id: 1 },
    { frame: encodeMessage({ t: 'place', id: 2, x: 1.5, y: 1, c: 1 } as never), code: ErrorCode.INVALID_FIELD, id: 2 },
    { frame: encodeMessage({ t: 'place', id: 3, x: 1, y: 1 } as never), code: ErrorCode.INVALID_FIELD, id: 3 },
    { frame: encodeMessage({ t: 'place', id: 4, x: NaN, y: 1, c: 1 } as never), code: ErrorCode.INVALID_FIELD, id: 4 },
    { frame: encodeMessage({ t: 'place', x: 1, y: 1, c: 1 } as never), code: ErrorCode.INVALID_FIELD },
    { frame: encodeMessage({ t: 'place', id: 5, x: 50, y: 0, c: 1 }), code: ErrorCode.OUT_OF_BOUNDS, id: 5 },
    { frame: encodeMessage({ t: 'place', id: 6, x: -1, y: 0, c: 1 }), code: ErrorCode.OUT_OF_BOUNDS, id: 6 },
    { frame: encodeMessage({ t: 'place', id: 7, x: 0, y: 40, c: 1 }), code: ErrorCode.OUT_OF_BOUNDS, id: 7 },
    { frame: encodeMessage({ t: 'place', id: 8, x: 0, y: 0, c: 16 }), code: ErrorCode.BAD_COLOR, id: 8 },
    { frame: encodeMessage({ t: 'place', id: 10, x: 0, y: 0, c: -1 }), code: ErrorCode.BAD_COLOR, id: 10 },
  ];
  for (const k of cases) {
    c.socket.send(k.frame);
    const err = await c.nextOf('error');
    assert.equal(err.code, k.code, `frame ${Buffer.from(k.frame).toString('hex')}`);
    assert.equal(err.id, k.id);
    assert.equal(typeof err.message, 'string');
  }
  assert.equal(new Set(cases.map((k) => k.code)).size, 6, 'six distinct codes exercised');
  assert.equal(ts.server.canvas.seq, seqBefore);
  assert.deepEqual(await fetchImageGrid(ts), gridBefore);
  // The connection still works after all that.
  c.send({ t: 'place', id: 11, x: 0, y: 0, c: 3 });
  assert.equal((await c.nextOf('ack')).id, 11);
  await c.close();
});

test('a text frame closes the socket with 1003', async () => {
  const c = await TestClient.connect(ts.ws);
  c.socket.send('{"t":"place"}');
  const closed = await c.closed;
  assert.equal(closed.code, CloseCode.UNSUPPORTED_DATA);
});

test('a frame over the payload limit closes the socket with 1009', async () => {
  const c = await TestClient.connect(ts.ws);
  c.socket.send(new Uint8Array(MAX_CLIENT_FRAME_BYTES + 1));
  const closed = await c.closed;
  assert.equal(closed.code, CloseCode.TOO_BIG);
});

test('a frame far over the hard limit drops the connection and the server keeps serving', async () => {
  const c = await TestClient.connect(ts.ws);
  c.socket.send(new Uint8Array(1 << 20));
  const closed = await c.closed;
  assert.notEqual(closed.code, 1000);
  const res = await fetch(`${ts.http}/image`);
  assert.equal(res.status, 200);
});

test('cooldown: a second placement within it is refused with the wait; the grid keeps the first', async (t) => {
  const cool = await startTestServer({ width: 8, height: 8, cooldownMs: 60_000 });
  t.after(() => cool.dispose());
  const c = await TestClient.connect(cool.ws);
  c.send({ t: 'place', id: 1, x: 1, y: 1, c: 2 });
  const ack = await c.nextOf('ack');
  assert.ok(ack.next >= Date.now() + 50_000, 'next allowed about a minute later');
  c.send({ t: 'place', id: 2, x: 1, y: 1, c: 3 });
  const err = await c.nextOf('error');
  assert.equal(err.code, ErrorCode.COOLDOWN);
  assert.equal(err.id, 2);
  assert.ok(err.wait !== undefined && err.wait > 50_000 && err.wait <= 60_000, `wait ${err.wait}`);
  await c.pngAtLeast(ack.seq);
  assert.equal((await fetchImageGrid(cool))[9], 2);
  assert.equal(cool.server.canvas.seq, 1);
  // Another socket from the same address shares the cooldown (identity.test.ts has the details).
  const other = await TestClient.connect(cool.ws);
  other.send({ t: 'place', id: 1, x: 2, y: 2, c: 4 });
  assert.equal((await other.nextOf('error')).code, ErrorCode.COOLDOWN);
  await c.close();
  await other.close();
});

test('a burst of placements from several clients is acked with consecutive seqs and all shown', async () => {
  const clients = await Promise.all([0, 1, 2].map(() => TestClient.connect(ts.ws)));
  const start = ts.server.canvas.seq;
  const expected = new Map<number, number>();
  let id = 0;
  for (let i = 0; i < 300; i++) {
    const x = i % 50;
    const y = Math.floor(i / 50);
    const colour = (i * 5) % 16;
    expected.set(y * 50 + x, colour);
    (clients[i % 3] as TestClient).send({ t: 'place', id: id++, x, y, c: colour });
  }
  const acks = [];
  for (const c of clients) for (let i = 0; i < 100; i++) acks.push(await c.nextOf('ack'));
  const seqs = acks.map((a) => a.seq).sort((a, b) => a - b);
  assert.deepEqual(
    seqs,
    Array.from({ length: 300 }, (_, i) => start + 1 + i),
  );
  const png = await (clients[0] as TestClient).pngAtLeast(start + 300);
  const grid = decodeToIndices(png.png, ts.config.palette).grid;
  for (const [cell, colour] of expected) assert.equal(grid[cell], colour, `cell ${cell}`);
  await Promise.all(clients.map((c) => c.close()));
});

test('fan-out reaches every subscriber across all slices of a tick, on both streams', async () => {
  const n = SLICE + 5;
  const clients = await Promise.all(
    Array.from({ length: n }, (_, i) => TestClient.connect(i % 2 === 0 ? ts.ws : `${ts.ws}?stream=delta`)),
  );
  const placer = clients[0] as TestClient;
  placer.send({ t: 'place', id: 1, x: 7, y: 7, c: 9 });
  const seq = (await placer.nextOf('ack')).seq;
  await Promise.all(
    clients.map((c, i) =>
      i % 2 === 0 ? c.pngAtLeast(seq) : c.next((m) => m.t !== 'hello' && 'toSeq' in m && m.toSeq >= seq),
    ),
  );
  await Promise.all(clients.map((c) => c.close()));
});

test('a place carrying an extension type, even under an ignored key, is not_msgpack and places nothing', async () => {
  const c = await TestClient.connect(ts.ws);
  await c.nextOf('png');
  const seqBefore = ts.server.canvas.seq;
  // {t:'place', id:1, x:1, y:1, c:1, z: <extension>}; msgpackr alone read ext 0 as undefined and applied it.
  const place = '86a174a5706c616365a2696401a17801a17901a16301a17a';
  for (const ext of ['d40000', 'd6ff00000001', 'c70cff000000000000000000000001', 'c70105ff']) {
    c.socket.send(Buffer.from(place + ext, 'hex'));
    const err = await c.nextOf('error');
    assert.equal(err.code, ErrorCode.NOT_MSGPACK, ext);
    assert.equal(err.id, undefined);
  }
  // Bytes 0xc1 and 0xd4 inside a bin payload are data: that frame places.
  c.socket.send(Buffer.from(`${place}c402c1d4`, 'hex'));
  assert.equal((await c.nextOf('ack')).id, 1);
  assert.equal(ts.server.canvas.seq, seqBefore + 1, 'only the last frame placed');
  await c.close();
});

test('a negative id or since is invalid_field; the error carries no id', async () => {
  const c = await TestClient.connect(ts.ws);
  await c.nextOf('png');
  const seqBefore = ts.server.canvas.seq;
  c.send({ t: 'place', id: -1, x: 1, y: 1, c: 1 });
  const badId = await c.nextOf('error');
  assert.equal(badId.code, ErrorCode.INVALID_FIELD);
  assert.equal(badId.id, undefined);
  c.send({ t: 'subscribe', stream: 'delta', since: -1 });
  assert.equal((await c.nextOf('error')).code, ErrorCode.INVALID_FIELD);
  assert.equal(ts.server.canvas.seq, seqBefore);
  await c.close();
});

test('hello.seq is the seq of the png that follows, which may lag placements acked since the last tick', async (t) => {
  const slow = await startTestServer({ width: 8, height: 8, tickMs: 60_000 });
  t.after(() => slow.dispose());
  const placer = await TestClient.connect(slow.ws);
  placer.send({ t: 'place', id: 1, x: 1, y: 1, c: 2 });
  assert.equal((await placer.nextOf('ack')).seq, 1);
  const late = await TestClient.connect(slow.ws);
  const hello = await late.nextOf('hello');
  const png = await late.nextOf('png');
  assert.equal(hello.seq, 0, 'no tick has run since the placement');
  assert.equal(png.seq, hello.seq);
  await Promise.all([placer.close(), late.close()]);
});

test('resuming with since: the first delta starts exactly at since, the last ends at hello.seq', async (t) => {
  const srv = await startTestServer({ width: 8, height: 8, tickMs: 20 });
  t.after(() => srv.dispose());
  const live = await TestClient.connect(`${srv.ws}?stream=delta`);
  const start = (await live.nextOf('png')).seq;
  for (let i = 0; i < 3; i++) {
    live.send({ t: 'place', id: i, x: i, y: 0, c: 3 });
    const seq = (await live.nextOf('ack')).seq;
    await live.next((m) => m.t === 'delta' && m.toSeq >= seq);
  }
  const back = await TestClient.connect(`${srv.ws}?stream=delta&since=${start}`);
  const hello = await back.nextOf('hello');
  const first = await back.next((m) => m.t === 'delta' || m.t === 'png');
  assert.equal(first.t, 'delta');
  assert.equal(first.t === 'delta' && first.fromSeq, start);
  let last = first;
  while (last.t === 'delta' && last.toSeq < hello.seq) last = await back.next((m) => m.t === 'delta' || m.t === 'png');
  assert.equal(last.t === 'delta' && last.toSeq, hello.seq);
  await Promise.all([live.close(), back.close()]);
});

test('a since ahead of the server gets a png of the current canvas, by URL and by subscribe', async () => {
  const c = await TestClient.connect(`${ts.ws}?stream=delta&since=${ts.server.canvas.seq + 1000}`);
  const hello = await c.nextOf('hello');
  const first = await c.next((m) => m.t === 'delta' || m.t === 'png');
  assert.equal(first.t, 'png');
  assert.equal(first.t === 'png' && first.seq, hello.seq);
  c.send({ t: 'subscribe', stream: 'delta', since: hello.seq + 1000 });
  const again = await c.next((m) => m.t === 'delta' || m.t === 'png');
  assert.equal(again.t, 'png');
  await c.close();
});
