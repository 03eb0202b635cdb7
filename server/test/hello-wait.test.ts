/**
 * `hello.wait`: a connection learns how long its identity (and address) must still wait, so a
 * reloaded page does not claim "ready" and have its first pixel refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HelloMsg } from '../../protocol/messages.ts';
import { startTestServer, TestClient } from '../../testkit/fixture.ts';

test('hello tells a reconnecting identity how long its cooldown still runs, and 0 to a new one', async (t) => {
  const ts = await startTestServer({ cooldownMs: 60_000, width: 10, height: 10 });
  t.after(() => ts.dispose());
  const first = await TestClient.connect(ts.ws, { from: '127.0.0.2' });
  const hello1 = await first.nextOf('hello');
  assert.equal(hello1.wait, 0, 'nothing placed yet: no wait');
  first.send({ t: 'place', id: 1, x: 1, y: 1, c: 3 });
  const ack = await first.nextOf('ack');
  first.socket.close();

  const cookie = `canvas_token=${hello1.token}`;
  const again = await TestClient.connect(ts.ws, { from: '127.0.0.2', cookie });
  const hello2: HelloMsg = await again.nextOf('hello');
  assert.equal(hello2.you, hello1.you, 'the same identity');
  assert.ok(hello2.wait !== undefined && hello2.wait > 0 && hello2.wait <= 60_000, `wait ${hello2.wait}`);
  assert.ok(Math.abs(Date.now() + hello2.wait - ack.next) < 5_000, 'the wait ends when the ack said');
  again.socket.close();

  // Another identity from the same address shares the address's cooldown, and hello says so too.
  const sameAddress = await TestClient.connect(ts.ws, { from: '127.0.0.2' });
  const hello3 = await sameAddress.nextOf('hello');
  assert.notEqual(hello3.you, hello1.you);
  assert.ok((hello3.wait ?? 0) > 0, 'the address cooldown counts');
  sameAddress.socket.close();

  const elsewhere = await TestClient.connect(ts.ws, { from: '127.0.0.3' });
  assert.equal((await elsewhere.nextOf('hello')).wait, 0);
  elsewhere.socket.close();
});
