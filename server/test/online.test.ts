/**
 * "N watching": hello carries the count, and every client gets an `online` message when it changes
 * (one per tick interval at most), in both streams.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OnlineMsg } from '../../protocol/messages.ts';
import { startTestServer, TestClient } from '../../testkit/fixture.ts';

test('hello says how many watch, and watchers hear of arrivals and departures', async (t) => {
  const ts = await startTestServer({ tickMs: 50 });
  t.after(() => ts.dispose());
  const first = await TestClient.connect(ts.ws);
  t.after(() => first.close());
  assert.equal((await first.nextOf('hello')).online, 1);
  const second = await TestClient.connect(`${ts.ws}?stream=delta`);
  assert.equal((await second.nextOf('hello')).online, 2);
  const count = (c: TestClient, n: number) => c.next<OnlineMsg>((m) => m.t === 'online' && m.n === n);
  await Promise.all([count(first, 2), count(second, 2)]);
  await second.close();
  await count(first, 1);
});

test('no online message while the count stays the same', async (t) => {
  const ts = await startTestServer({ tickMs: 20 });
  t.after(() => ts.dispose());
  const c = await TestClient.connect(ts.ws);
  t.after(() => c.close());
  await c.nextOf('hello');
  const firstCount = await c.nextOf('online');
  assert.equal(firstCount.n, 1);
  // Ten tick intervals later there is still exactly one online message.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(c.received.filter((m) => m.t === 'online').length, 1);
});
