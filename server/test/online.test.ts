/**
 * "N watching": hello carries the count, and clients that ask (`?online=1`) get an `online` message
 * when it changes (one per tick interval at most), in both streams; others never get one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OnlineMsg } from '../../protocol/messages.ts';
import { startTestServer, TestClient } from '../../testkit/fixture.ts';

test('hello says how many watch, and watchers hear of arrivals and departures', async (t) => {
  const ts = await startTestServer({ tickMs: 50 });
  t.after(() => ts.dispose());
  const first = await TestClient.connect(`${ts.ws}?online=1`);
  t.after(() => first.close());
  assert.equal((await first.nextOf('hello')).online, 1);
  const second = await TestClient.connect(`${ts.ws}?stream=delta&online=1`);
  assert.equal((await second.nextOf('hello')).online, 2);
  const count = (c: TestClient, n: number) => c.next<OnlineMsg>((m) => m.t === 'online' && m.n === n);
  await Promise.all([count(first, 2), count(second, 2)]);
  await second.close();
  await count(first, 1);
});

test('online messages only on a change, and only to sockets that asked for them', async (t) => {
  const ts = await startTestServer({ tickMs: 20 });
  t.after(() => ts.dispose());
  const c = await TestClient.connect(`${ts.ws}?online=1`);
  t.after(() => c.close());
  await c.nextOf('hello');
  const firstCount = await c.nextOf('online');
  assert.equal(firstCount.n, 1);
  // A client that did not ask (written before the message existed) is counted but never told.
  const plain = await TestClient.connect(ts.ws);
  t.after(() => plain.close());
  assert.equal((await plain.nextOf('hello')).online, 2);
  await c.next((m) => m.t === 'online' && m.n === 2);
  // Ten tick intervals later: one online message per change to the asker, none to the other.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(c.received.filter((m) => m.t === 'online').length, 2);
  assert.equal(plain.received.filter((m) => m.t === 'online').length, 0);
});
