/**
 * Pixel charges through real servers: hello and ack carry them over the WebSocket and POST /api/pixel
 * answers with them; a restart on the same file keeps every identity's and address's bucket; and
 * the same through an edge (real redis-server, writer and edge processes), whose decoders check the
 * new fields. Refill timing only within generous bounds here; charges.test.ts pins it on a clock.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import type { HelloMsg } from '../../protocol/messages.ts';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, startTestServer, TestClient, tempDir } from '../../testkit/fixture.ts';
import { startRedis } from '../../testkit/redis.ts';

const CHARGES = { cooldownModel: 'charges', maxCharges: 3, chargeMs: 60_000, width: 10, height: 10 } as const;

/** Places at (x, 0) and returns the answer frame (ack or error). */
async function placeWs(client: TestClient, id: number, x: number) {
  client.send({ t: 'place', id, x, y: 0, c: 2 });
  return client.next((m) => (m.t === 'ack' || m.t === 'error') && m.id === id);
}

test('charges over the WebSocket and HTTP: N in a row, counted down in each ack, then cooldown', async (t) => {
  const ts = await startTestServer(CHARGES);
  t.after(() => ts.dispose());
  const c = await TestClient.connect(ts.ws, { from: '127.0.0.2' });
  t.after(() => c.close());
  const hello = await c.nextOf('hello');
  assert.deepEqual(hello.charges, { left: 3, max: 3 }, 'a new identity is full');
  assert.equal(hello.cooldownMs, 60_000, 'hello.cooldownMs is the ms per charge');
  for (const [i, left] of [2, 1, 0].entries()) {
    const ack = await placeWs(c, i + 1, i);
    assert.equal(ack.t, 'ack');
    if (ack.t !== 'ack') return;
    assert.equal(ack.charges?.left, left);
    assert.equal(ack.charges?.max, 3);
    assert.ok(ack.charges?.next !== undefined && ack.charges.next - Date.now() <= 60_000);
    if (left > 0) assert.ok(ack.next <= Date.now(), 'charges left: may place now');
    else assert.ok(ack.next > Date.now() + 55_000, 'none left: next is the refill');
  }
  const refused = await placeWs(c, 4, 3);
  assert.ok(refused.t === 'error' && refused.code === 'cooldown' && (refused.wait ?? 0) > 55_000);

  // HTTP answers with them too (another address, a fresh identity).
  const session = (await httpRequest(`${ts.http}/api/session`, { method: 'POST', body: '{}' })).json() as {
    token: string;
  };
  const res = await httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x: 5, y: 5, color: 1 }),
    headers: { Cookie: `canvas_token=${session.token}` },
  });
  assert.equal(res.status, 200, res.body);
  const body = res.json() as { charges?: { left: number; max: number; next?: number } };
  assert.equal(body.charges?.left, 2);
});

test('the fixed model says nothing of charges (old clients see nothing new)', async (t) => {
  const ts = await startTestServer({ cooldownMs: 60_000, width: 10, height: 10 });
  t.after(() => ts.dispose());
  const c = await TestClient.connect(ts.ws, { from: '127.0.0.3' });
  t.after(() => c.close());
  assert.equal((await c.nextOf('hello')).charges, undefined);
  const ack = await placeWs(c, 1, 0);
  assert.ok(ack.t === 'ack' && !('charges' in ack));
});

test('a restart keeps the buckets: the identity from its stored full time, the address from its placements', async (t) => {
  const dir = tempDir();
  let ts = await startTestServer(CHARGES, dir);
  t.after(() => ts.dispose());
  const drained = await TestClient.connect(ts.ws, { from: '127.0.0.4' });
  const drainedHello = await drained.nextOf('hello');
  for (const id of [1, 2, 3]) assert.equal((await placeWs(drained, id, id)).t, 'ack');
  await drained.close();
  const once = await TestClient.connect(ts.ws, { from: '127.0.0.5' });
  const onceHello = await once.nextOf('hello');
  assert.equal((await placeWs(once, 1, 5)).t, 'ack');
  await once.close();
  await ts.stop();

  ts = await startTestServer(CHARGES, dir);
  const hello = async (from: string, token?: string): Promise<HelloMsg> => {
    const c = await TestClient.connect(ts.ws, { from, ...(token ? { cookie: `canvas_token=${token}` } : {}) });
    const h = await c.nextOf('hello');
    await c.close();
    return h;
  };
  const d = await hello('127.0.0.4', drainedHello.token);
  assert.equal(d.charges?.left, 0, 'the drained identity is still empty');
  assert.ok((d.wait ?? 0) > 50_000, `wait ${d.wait}`);
  const o = await hello('127.0.0.5', onceHello.token);
  assert.equal(o.charges?.left, 2, 'one spent, two left: exact');
  assert.equal(o.wait, 0);
  const neighbour = await hello('127.0.0.4');
  assert.equal(neighbour.charges?.left, 3, 'a new identity has its own charges');
  assert.ok((neighbour.wait ?? 0) > 50_000, 'but its network spent its bucket before the restart');
  rmSync(dir, { recursive: true, force: true });
});

test('charges through an edge: hello and acks carry them from the writer, refill within bounds', async (t) => {
  const redis = await startRedis();
  const dir = tempDir();
  t.after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const common = { 'tick-ms': 100, 'log-level': 'info' };
  const writer = await startWriter(redis.url, `${dir}/canvas.db`, {
    ...common,
    width: 10,
    height: 10,
    'cooldown-model': 'charges',
    'max-charges': 2,
    'charge-ms': 1_000,
  });
  t.after(() => writer.stop());
  const edge = await startEdge(redis.url, common);
  t.after(() => edge.stop());
  const c = await TestClient.connect(edge.ws);
  t.after(() => c.close());
  const hello = await c.nextOf('hello');
  assert.deepEqual(hello.charges, { left: 2, max: 2 });
  assert.equal(hello.cooldownMs, 1_000);
  const first = await placeWs(c, 1, 0);
  const second = await placeWs(c, 2, 1);
  assert.ok(first.t === 'ack' && first.charges?.left === 1, JSON.stringify(first));
  assert.ok(second.t === 'ack' && second.charges?.left === 0, JSON.stringify(second));
  const refused = await placeWs(c, 3, 2);
  assert.ok(refused.t === 'error' && refused.code === 'cooldown', JSON.stringify(refused));
  const wait = refused.t === 'error' ? (refused.wait ?? 0) : 0;
  assert.ok(wait > 0 && wait <= 1_000, `wait ${wait}`);
  await new Promise((resolve) => setTimeout(resolve, wait + 100));
  const again = await placeWs(c, 4, 2);
  assert.ok(again.t === 'ack' && again.charges?.left === 0, JSON.stringify(again));
});
