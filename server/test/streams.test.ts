/**
 * The streams object (streams/streams.ts) on a real uWS app on port 0 with real WebSocket clients,
 * without the rest of the server: what a greeted socket receives and in which order, what each
 * stream gets of a tick, resuming with `since` from the delta log, one fan-out at a time (a tick
 * that waits is replaced by a newer one, which then carries no delta), and the online count.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import type { us_listen_socket, WebSocket } from 'uWebSockets.js';
import { encodeMessage, parseStreamQuery } from '../../protocol/codec.ts';
import { type DeltaMsg, MsgType, type PngMsg, type ServerMessage, Stream } from '../../protocol/messages.ts';
import { createLogger } from '../ops/log.ts';
import { listenPort, uws } from '../ops/uws-backend.ts';
import type { Frame, TickOutput } from '../streams/frame.ts';
import { type Conn, SLICE, Streams } from '../streams/streams.ts';
import { TestClient } from '../../testkit/fixture.ts';

interface Rig {
  streams: Streams;
  url: string;
  /** The server side of every socket, in the order they opened. */
  opened: Array<WebSocket<Conn>>;
  /** Connects and waits until the socket was greeted (hello and the first state are on their way). */
  connect(query?: string): Promise<TestClient>;
}

function frame(seq: number): Frame {
  const png = Buffer.alloc(64, seq & 0xff);
  return {
    seq,
    etag: `"t-${seq}"`,
    width: 8,
    height: 8,
    image: { png, message: encodeMessage({ t: MsgType.PNG, seq, png }) },
  };
}

function tick(fromSeq: number | undefined, seq: number): TickOutput {
  const out: TickOutput = { frame: frame(seq), delta: undefined, startedAt: performance.now(), encodeSeconds: 0 };
  if (fromSeq !== undefined) {
    const px = new Uint8Array([0, 0, 0, seq & 0xf]);
    const message = encodeMessage({ t: MsgType.DELTA, fromSeq, toSeq: seq, n: 1, px });
    out.delta = { fromSeq, toSeq: seq, message, count: 1 };
  }
  return out;
}

async function rig(t: TestContext, opts: { online?: () => number; onlineIntervalMs?: number } = {}): Promise<Rig> {
  const streams = new Streams({
    maxBackpressure: 1 << 20,
    maxBufferedTotal: 64 << 20,
    stallMs: 60_000,
    deltaRing: 16,
    onlineIntervalMs: opts.onlineIntervalMs ?? 60_000,
    ...(opts.online ? { online: opts.online } : {}),
    registry: new Registry(),
    log: createLogger('silent'),
  });
  await streams.publish(tick(undefined, 10));
  const greeted = new Set<() => void>();
  const opened: Array<WebSocket<Conn>> = [];
  const app = uws.App().ws<Conn>('/*', {
    upgrade: (res, req, context) => {
      const q = parseStreamQuery(req.getQuery() ?? '');
      if (!q.ok) throw new Error(q.message);
      const conn = streams.conn({
        identityId: '0123456789abcdef',
        addressKey: '127.0.0.1/32',
        freshToken: undefined,
        stream: q.stream,
        since: q.since,
        online: q.online,
        resize: q.resize,
      });
      const key = req.getHeader('sec-websocket-key');
      res.upgrade(
        conn,
        key,
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      opened.push(ws);
      streams.open(ws);
      streams.greet(ws, {
        v: 1,
        width: 4,
        height: 4,
        palette: [0xffffff, 0],
        tickMs: 1000,
        cooldownMs: 0,
        streams: [Stream.PNG, Stream.DELTA],
        you: ws.getUserData().identityId,
        wait: 0,
      });
      for (const done of greeted) done();
    },
    drain: (ws) => ws.getUserData().outbox.pump(ws, performance.now()),
    close: (ws) => streams.closed(ws),
  });
  const socket = await new Promise<us_listen_socket | false>((resolve) => app.listen('127.0.0.1', 0, resolve));
  if (!socket) throw new Error('cannot listen');
  const url = `ws://127.0.0.1:${listenPort(socket)}/ws`;
  const clients: TestClient[] = [];
  t.after(async () => {
    streams.stop();
    await Promise.all(clients.map((c) => c.close()));
    uws.us_listen_socket_close(socket);
  });
  return {
    streams,
    url,
    opened,
    connect: async (query = '') => {
      const size = streams.size;
      const opened = new Promise<void>((resolve) => {
        const done = () => {
          if (streams.size > size) {
            greeted.delete(done);
            resolve();
          }
        };
        greeted.add(done);
      });
      const c = await TestClient.connect(`${url}${query}`);
      clients.push(c);
      await opened;
      return c;
    },
  };
}

const kinds = (c: TestClient) => c.received.map((m) => (m.t === 'png' || m.t === 'delta' ? `${m.t}:${seqOf(m)}` : m.t));
const seqOf = (m: ServerMessage) => (m.t === 'png' ? m.seq : m.t === 'delta' ? m.toSeq : undefined);

test('a greeted socket gets hello, then its stream state, then each tick in its stream', async (t) => {
  const r = await rig(t);
  const png = await r.connect();
  const delta = await r.connect('?stream=delta');
  const hello = await png.nextOf('hello');
  assert.equal(hello.seq, 10);
  assert.equal(hello.stream, Stream.PNG);
  assert.equal(hello.online, 1, 'the socket itself');
  const second = await delta.nextOf('hello');
  assert.equal(second.stream, Stream.DELTA);
  assert.equal(second.online, 2, 'both sockets count');
  await Promise.all([png.pngAtLeast(10), delta.pngAtLeast(10)]);

  await r.streams.publish(tick(10, 11));
  await png.pngAtLeast(11);
  await delta.next((m) => m.t === 'delta' && m.toSeq === 11);
  assert.equal(r.streams.frame.seq, 11);
  assert.deepEqual(kinds(png), ['hello', 'png:10', 'png:11']);
  assert.deepEqual(kinds(delta), ['hello', 'png:10', 'delta:11']);

  // A tick too large for a delta: delta subscribers get the PNG.
  await r.streams.publish(tick(undefined, 12));
  await delta.pngAtLeast(12);
  assert.deepEqual(kinds(delta), ['hello', 'png:10', 'delta:11', 'png:12']);
});

test('since: a resuming delta client gets exactly the deltas it missed, else a snapshot', async (t) => {
  const r = await rig(t);
  await r.streams.publish(tick(10, 11));
  await r.streams.publish(tick(11, 12));
  await r.streams.publish(tick(12, 13));
  const resumed = await r.connect('?stream=delta&since=11');
  await resumed.next((m) => m.t === 'delta' && m.toSeq === 13);
  assert.deepEqual(kinds(resumed), ['hello', 'delta:12', 'delta:13']);
  const current = await r.connect('?stream=delta&since=13');
  await current.nextOf('hello');
  const unknown = await r.connect('?stream=delta&since=3');
  await unknown.pngAtLeast(13);
  assert.deepEqual(kinds(unknown), ['hello', 'png:13']);
  await r.streams.publish(tick(13, 14));
  await current.next((m) => m.t === 'delta' && m.toSeq === 14);
  assert.deepEqual(kinds(current), ['hello', 'delta:14'], 'up to date: nothing to catch up on');
  // A snapshot tick breaks the chain the log can replay.
  await r.streams.publish(tick(undefined, 15));
  const late = await r.connect('?stream=delta&since=13');
  await late.pngAtLeast(15);
  assert.deepEqual(kinds(late), ['hello', 'png:15']);
});

test('resubscribe and resync bring a socket up to date on its new stream', async (t) => {
  const r = await rig(t);
  const c = await r.connect();
  await c.pngAtLeast(10);
  // What ws/handlers.ts does on `subscribe` and `resync` messages.
  const ws = r.opened[0];
  assert.ok(ws);
  r.streams.resubscribe(ws, Stream.DELTA, undefined);
  await c.next((m) => m.t === 'png' && m.seq === 10 && c.received.filter((x) => x.t === 'png').length === 2);
  await r.streams.publish(tick(10, 11));
  await c.next<DeltaMsg>((m) => m.t === 'delta' && m.toSeq === 11);
  r.streams.resync(ws);
  await c.next<PngMsg>((m) => m.t === 'png' && m.seq === 11);
  assert.deepEqual(kinds(c), ['hello', 'png:10', 'png:10', 'delta:11', 'png:11']);
});

test('one fan-out at a time: a waiting tick is replaced by a newer one, which then carries no delta', async (t) => {
  const r = await rig(t);
  // More sockets than one loop turn serves, so a fan-out spans turns and later ticks must wait.
  const clients: TestClient[] = [];
  for (let i = 0; i < SLICE + 4; i++) clients.push(await r.connect(i % 2 ? '?stream=delta' : ''));
  await Promise.all(clients.map((c) => c.pngAtLeast(10)));
  const order: string[] = [];
  const a = r.streams.publish(tick(10, 11)).then(() => order.push('a'));
  const b = r.streams.publish(tick(11, 12)).then(() => order.push('b'));
  const c = r.streams.publish(tick(12, 13)).then(() => order.push('c'));
  await Promise.all([a, b, c]);
  assert.deepEqual(order, ['a', 'b', 'c'], 'the replaced tick resolves when its replacement has gone out');
  await Promise.all(clients.map((cl) => cl.pngAtLeast(13)));
  for (const [i, cl] of clients.entries()) {
    const expected = i % 2 ? ['hello', 'png:10', 'delta:11', 'png:13'] : ['hello', 'png:10', 'png:11', 'png:13'];
    assert.deepEqual(kinds(cl), expected, `client ${i}`);
  }
});

test('the online count goes, when it changed, to the sockets that asked for it', async (t) => {
  let watching = 5;
  const r = await rig(t, { online: () => watching, onlineIntervalMs: 20 });
  r.streams.start();
  const asker = await r.connect('?online=1');
  const other = await r.connect();
  assert.equal((await asker.nextOf('hello')).online, 5);
  assert.equal((await asker.nextOf('online')).n, 5);
  watching = 7;
  assert.equal((await asker.nextOf('online')).n, 7);
  await new Promise((resolve) => setTimeout(resolve, 100)); // five intervals without a change
  assert.deepEqual(
    asker.received.filter((m) => m.t === 'online').map((m) => (m.t === 'online' ? m.n : 0)),
    [5, 7],
  );
  assert.equal(other.received.filter((m) => m.t === 'online').length, 0);
});
