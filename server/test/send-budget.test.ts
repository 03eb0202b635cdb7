/**
 * The cap on bytes buffered for slow WebSocket readers, on a real uWS app on port 0 with real `ws`
 * clients. Slow readers are clients that paused reading, so the kernel buffers fill and uWS really
 * holds the bytes `getBufferedAmount` reports; a fake socket would only test the arithmetic.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { us_listen_socket, WebSocket as UwsSocket } from 'uWebSockets.js';
import WebSocket from 'ws';
import { uws } from '../ops/uws-backend.ts';
import { SendBudget } from '../streams/send-budget.ts';

interface Peer {
  name: string;
}

interface Connected {
  client: WebSocket;
  server: UwsSocket<Peer>;
  /** Close code the client saw. */
  closed: Promise<number>;
}

interface Rig {
  sockets: Set<UwsSocket<Peer>>;
  connect(name: string): Promise<Connected>;
  /** A client that stops reading, holding at least `extra` bytes in uWS beyond what the kernel took. */
  slowReader(name: string, extra: number): Promise<Connected>;
  /** A client that reads everything: it was sent 1 MiB and received it. */
  fastReader(name: string): Promise<Connected>;
}

const CHUNK = Buffer.alloc(64 * 1024, 7);

/** A uWS app on port 0 that keeps its open sockets in a set, as server.ts does; closed after the test. */
async function rig(t: TestContext): Promise<Rig> {
  const sockets = new Set<UwsSocket<Peer>>();
  const opened = new Map<string, (ws: UwsSocket<Peer>) => void>();
  const clients: WebSocket[] = [];
  const app = uws.App().ws<Peer>('/*', {
    maxPayloadLength: 1 << 20,
    maxBackpressure: 64 << 20, // far above what the tests buffer: uWS itself drops nothing
    upgrade: (res, req, context) => {
      res.upgrade<Peer>(
        { name: req.getQuery('name') ?? '' },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      sockets.add(ws);
      opened.get(ws.getUserData().name)?.(ws);
    },
    close: (ws) => {
      sockets.delete(ws);
    },
  });
  const listen = await new Promise<us_listen_socket | false>((resolve) => app.listen('127.0.0.1', 0, resolve));
  if (!listen) throw new Error('cannot listen on 127.0.0.1:0');
  const port = uws.us_socket_local_port(listen as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
  t.after(async () => {
    uws.us_listen_socket_close(listen);
    const gone = clients.map(
      (c) => new Promise((resolve) => (c.readyState === WebSocket.CLOSED ? resolve(0) : c.once('close', resolve))),
    );
    for (const ws of [...sockets]) ws.close();
    for (const c of clients) c.terminate();
    await Promise.all(gone);
  });

  const connect = async (name: string): Promise<Connected> => {
    const server = new Promise<UwsSocket<Peer>>((resolve) => opened.set(name, resolve));
    const client = new WebSocket(`ws://127.0.0.1:${port}/?name=${name}`);
    clients.push(client);
    client.on('error', () => {}); // a dropped socket may be reset; its close event says so
    const closed = new Promise<number>((resolve) => client.once('close', resolve));
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('unexpected-response', reject);
    });
    return { client, server: await server, closed };
  };

  const slowReader = async (name: string, extra: number): Promise<Connected> => {
    const c = await connect(name);
    c.client.pause(); // stop reading: the kernel buffers fill, then uWS holds the rest
    let sent = 0;
    while (c.server.getBufferedAmount() === 0) {
      c.server.send(CHUNK, true);
      sent += CHUNK.length;
      assert.ok(sent < 256 << 20, 'the kernel took 256 MiB from a paused reader');
    }
    for (let n = 0; n < extra; n += CHUNK.length) c.server.send(CHUNK, true);
    return c;
  };

  const fastReader = async (name: string): Promise<Connected> => {
    const c = await connect(name);
    const received = new Promise((resolve) => c.client.once('message', resolve));
    c.server.send(Buffer.alloc(1 << 20), true);
    await received;
    return c;
  };

  return { sockets, connect, slowReader, fastReader };
}

/** The budget's evictions, as [count, bytes]. */
function recorder(): { evictions: Array<[number, number]>; events: { evicted(count: number, bytes: number): void } } {
  const evictions: Array<[number, number]> = [];
  return { evictions, events: { evicted: (count, bytes) => evictions.push([count, bytes]) } };
}

test(
  'over the cap, the largest holders are dropped until the total is under 90% of the cap; ' +
    'smaller holders and fast readers stay',
  async (t) => {
    const r = await rig(t);
    const small = await r.slowReader('small', 256 << 10);
    const mid = await r.slowReader('mid', 1 << 20);
    const large = await r.slowReader('large', 3 << 20);
    const fast = await r.fastReader('fast');
    const [hs, hm, hl] = [small, mid, large].map((c) => c.server.getBufferedAmount()) as [number, number, number];
    assert.equal(fast.server.getBufferedAmount(), 0);
    assert.ok(hs < hm && hm < hl, `held ${hs} < ${hm} < ${hl}`);
    // Dropping the largest alone brings the total under the cap but not under 90% of it: the
    // hysteresis drops the next largest too.
    const cap = Math.floor((hs + hm) * 1.05);
    const { evictions, events } = recorder();
    const budget = new SendBudget(r.sockets, cap, events);

    budget.beforePublish();

    assert.deepEqual(evictions, [[2, hl + hm]]);
    assert.deepEqual([...r.sockets].map((ws) => ws.getUserData().name).sort(), ['fast', 'small']);
    assert.equal(small.server.getBufferedAmount(), hs, 'the small holder keeps its bytes');
    assert.equal(budget.willSend(large.server, 1), false, 'a dropped socket must not be sent to');
    assert.equal(budget.willSend(fast.server, 1), true);
    large.client.resume();
    mid.client.resume();
    assert.equal(await large.closed, 1006, 'dropped without a close frame');
    assert.equal(await mid.closed, 1006);
    assert.equal(fast.client.readyState, WebSocket.OPEN);
  },
);

test('before a publish only what uWS holds counts; sockets holding nothing are never dropped', async (t) => {
  const r = await rig(t);
  const slow = await r.slowReader('slow', 1 << 20);
  const fast = await r.fastReader('fast');
  const held = slow.server.getBufferedAmount();

  const above = recorder();
  new SendBudget(r.sockets, Math.floor(held * 1.1), above.events).beforePublish();
  assert.deepEqual(above.evictions, [], 'the cap is above what slow holds');
  assert.equal(r.sockets.size, 2);

  const below = recorder();
  new SendBudget(r.sockets, Math.floor(held * 0.9), below.events).beforePublish();
  assert.deepEqual(below.evictions, [[1, held]], 'slow alone is over the cap');
  assert.deepEqual([...r.sockets], [fast.server]);
  slow.client.resume();
  assert.equal(await slow.closed, 1006);
});

test(
  'sends between ticks are counted and, once past the cap, ' +
    'trigger a count that drops the largest holder, which willSend then refuses',
  async (t) => {
    const r = await rig(t);
    const small = await r.slowReader('small', 256 << 10);
    const large = await r.slowReader('large', 2 << 20);
    const fast = await r.fastReader('fast');
    const [hs, hl] = [small.server.getBufferedAmount(), large.server.getBufferedAmount()];
    const cap = Math.floor((hs + hl) * 0.8);
    const { evictions, events } = recorder();
    const budget = new SendBudget(r.sockets, cap, events);

    // The estimate starts at 0 and only sends add to it: no count (no drop) until it passes the cap.
    assert.equal(budget.willSend(fast.server, cap - 1), true);
    assert.deepEqual(evictions, []);
    assert.equal(budget.willSend(large.server, 2), false, 'the send that passed the cap dropped its own socket');
    assert.deepEqual(evictions, [[1, hl]]);
    assert.equal(budget.willSend(small.server, 1), true);
    assert.deepEqual(evictions, [[1, hl]]);

    // After the count the estimate restarts from the real total (what small holds), not from 0: a
    // later publish that grows small past the cap is caught by the next send that passes it.
    const counted = hs + 1;
    for (let n = 0; n < cap; n += CHUNK.length) small.server.send(CHUNK, true);
    const grown = small.server.getBufferedAmount();
    assert.equal(budget.willSend(fast.server, cap - counted + 1), true);
    assert.deepEqual(evictions, [
      [1, hl],
      [1, grown],
    ]);
    assert.deepEqual([...r.sockets], [fast.server]);
  },
);

test('a cap of 0 disables the budget: nothing is dropped however much slow readers hold', async (t) => {
  const r = await rig(t);
  const slow = await r.slowReader('slow', 1 << 20);
  const fast = await r.fastReader('fast');
  const { evictions, events } = recorder();
  const budget = new SendBudget(r.sockets, 0, events);
  budget.beforePublish();
  assert.equal(budget.willSend(slow.server, 1 << 30), true);
  assert.equal(budget.willSend(fast.server, 1 << 30), true);
  assert.deepEqual(evictions, []);
  assert.equal(r.sockets.size, 2);
  assert.ok(slow.server.getBufferedAmount() > 1 << 20);
});
