/**
 * The surge webhook against a real local HTTP receiver: one POST in flight at a time, changes made
 * meanwhile collapse into the newest, and a receiver that is down or answers an error is reported as
 * a failure (the sender goes on with the next change).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { SurgeChange } from '../defence/surge.ts';
import { SurgeWebhook, type SurgeWebhookBody } from '../defence/surge-webhook.ts';

const change = (state: SurgeChange['state'], from: SurgeChange['state'], at: number): SurgeChange => ({
  from,
  state,
  reason: 'surge: too many new players',
  at,
  rate: 40,
  newRate: 30,
  baseline: 5,
  newBaseline: 1,
});

/** A receiver whose answers the test releases one by one, so it decides when a POST ends. */
async function heldReceiver(status = 200) {
  const bodies: SurgeWebhookBody[] = [];
  const held: ServerResponse[] = [];
  let arrived: () => void = () => {};
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as SurgeWebhookBody);
      held.push(res);
      arrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    /** Resolves once `n` POSTs have arrived. */
    arrivals: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (bodies.length >= n ? resolve() : undefined);
        arrived = check;
        check();
      }),
    release: () => held.shift()?.writeHead(status).end(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function reporter() {
  const delivered: SurgeWebhookBody[] = [];
  const failed: Array<{ err: Error; body: SurgeWebhookBody }> = [];
  let settled: () => void = () => {};
  const report = {
    delivered: (body: SurgeWebhookBody) => {
      delivered.push(body);
      settled();
    },
    failed: (err: Error, body: SurgeWebhookBody) => {
      failed.push({ err, body });
      settled();
    },
  };
  /** Resolves once `n` POSTs ended, either way. */
  const ended = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (delivered.length + failed.length >= n ? resolve() : undefined);
      settled = check;
      check();
    });
  return { delivered, failed, report, ended };
}

test('one POST in flight: changes meanwhile collapse into the newest, sent when it ends', async (t) => {
  const hook = await heldReceiver();
  t.after(() => hook.close());
  const r = reporter();
  const webhook = new SurgeWebhook(hook.url, r.report);
  webhook.post(change('challenge', 'normal', 1));
  await hook.arrivals(1);
  webhook.post(change('locked', 'challenge', 2)); // replaced by the next before it is sent
  webhook.post(change('challenge', 'locked', 3));
  hook.release();
  await hook.arrivals(2);
  hook.release();
  await r.ended(2);
  assert.deepEqual(
    hook.bodies.map((b) => [b.event, b.state, b.at]),
    [
      ['surge.started', 'challenge', 1],
      ['surge.unlocked', 'challenge', 3],
    ],
  );
  assert.equal(r.delivered.length, 2);
  assert.deepEqual(hook.bodies[0], {
    event: 'surge.started',
    from: 'normal',
    state: 'challenge',
    reason: 'surge: too many new players',
    at: 1,
    rate: 40,
    newRate: 30,
    baseline: 5,
    newBaseline: 1,
  });
});

test('a receiver that answers an error, is down, or does not answer in time counts as a failure', async (t) => {
  const hook = await heldReceiver(500);
  t.after(() => hook.close());
  const r = reporter();
  new SurgeWebhook(hook.url, r.report).post(change('locked', 'challenge', 1));
  await hook.arrivals(1);
  hook.release();
  await r.ended(1);
  assert.match(r.failed[0]?.err.message ?? '', /answered 500/);

  const silent = await heldReceiver();
  t.after(async () => {
    silent.release();
    await silent.close();
  });
  new SurgeWebhook(silent.url, r.report, 200).post(change('normal', 'challenge', 2));
  await r.ended(2);
  assert.match(r.failed[1]?.err.name ?? '', /TimeoutError/);

  const down = await heldReceiver();
  await down.close(); // nothing listens on its port now
  new SurgeWebhook(down.url, r.report).post(change('normal', 'challenge', 3));
  await r.ended(3);
  assert.equal(r.failed.length, 3);
  assert.equal(r.delivered.length, 0);
});
