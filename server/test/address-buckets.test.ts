/**
 * The address limit as a bucket (--address-placements N): N placements per cooldown for one address
 * prefix, whatever the identities; the refusal says it is the network's limit; a failed commit gives
 * the claim back. N = 1 is one placement per cooldown per network, as the cooldown always was.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorMsg } from '../../protocol/messages.ts';
import { AddressBuckets } from '../placement/address-buckets.ts';
import { startTestServer, TestClient } from '../../testkit/fixture.ts';

test('a bucket holds N claims per cooldown; the oldest ending frees a place; undo gives a claim back', () => {
  const b = new AddressBuckets(3);
  assert.equal(b.nextAllowed('net', 0), 0);
  b.claim('net', 1000, 0);
  b.claim('net', 1200, 200);
  const undo = b.claim('net', 1400, 400);
  assert.equal(b.nextAllowed('net', 400), 1000, 'full: free again when the oldest claim ends');
  assert.equal(b.nextAllowed('other', 400), 0, 'another network has its own bucket');
  undo();
  assert.equal(b.nextAllowed('net', 400), 0, 'a failed commit gives its claim back');
  b.claim('net', 1400, 400);
  assert.equal(b.nextAllowed('net', 1000), 0, 'one claim ended at 1000');
  b.prune(5000);
  assert.equal(b.nextAllowed('net', 5000), 0);
  const one = new AddressBuckets(1, new Map([['net', [900, 700]]]));
  assert.equal(one.nextAllowed('net', 0), 900, 'restored claims: the latest counts for a bucket of one');
});

test('--address-placements 3: three identities behind one address place, the fourth is told it is the network', async (t) => {
  const ts = await startTestServer({ cooldownMs: 60_000, addressPlacements: 3 });
  t.after(() => ts.dispose());
  const answers: Array<{ t: string; code?: string; limit?: string }> = [];
  for (let i = 0; i < 4; i++) {
    const c = await TestClient.connect(ts.ws, { from: '127.0.0.20' }); // a new identity each time
    t.after(() => c.close());
    c.send({ t: 'place', id: 1, x: i, y: 0, c: 2 });
    answers.push(await c.next((m) => m.t === 'ack' || m.t === 'error'));
  }
  assert.deepEqual(
    answers.map((a) => a.t),
    ['ack', 'ack', 'ack', 'error'],
  );
  const refused = answers[3] as ErrorMsg;
  assert.equal(refused.code, 'cooldown');
  assert.equal(refused.limit, 'network');
  assert.match(refused.message, /network/);
  // An identity that placed is held by its own cooldown: no `limit` then.
  const own = await TestClient.connect(ts.ws, { from: '127.0.0.21' });
  t.after(() => own.close());
  own.send({ t: 'place', id: 1, x: 9, y: 0, c: 2 });
  await own.nextOf('ack');
  own.send({ t: 'place', id: 2, x: 9, y: 1, c: 2 });
  const again = await own.nextOf('error');
  assert.equal(again.code, 'cooldown');
  assert.equal(again.limit, undefined);
});
