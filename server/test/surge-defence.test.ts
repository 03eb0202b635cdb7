/**
 * Surge defence end to end, with short windows so it runs in seconds: a quiet trickle, then a
 * scripted burst of new identities placing from many addresses turns challenges on, then the lock
 * (placements refused `locked` with the time left, hello says so), which lifts by itself; every
 * change reaches /healthz, /metrics and a webhook receiver. Then the same through an edge.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SurgeWebhookBody } from '../defence/surge-webhook.ts';
import { parseIpRanges } from '../identity/client-address.ts';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { type HttpAnswer, httpRequest, startTestServer, TestClient, tempDir } from '../../testkit/fixture.ts';
import { startRedis } from '../../testkit/redis.ts';
import { solvePow } from '../../testkit/pow.ts';
import type { PowChallenge } from '../../protocol/messages.ts';

/** Windows short enough for a test: a 2 s window, a lock of 1.5 s, a calm of 1 s, a floor of 1/s. */
const SURGE = {
  surgeFactor: 2,
  surgeLockFactor: 6,
  surgeMinRate: 1,
  surgeWindowMs: 2000,
  surgeBaselineMs: 60_000,
  surgeLockMs: 1500,
  surgeCalmMs: 1000,
  // Challenges for everyone during a surge: quick to solve, so the swarm below keeps its pace.
  challengeDifficulty: 20,
  challengeCost: 10,
} as const;

/**
 * Waits until the baseline has learnt (a window of calm seconds, which enter it as they leave the
 * window: two windows after a start), as /healthz says; meanwhile `meanwhile` runs once a second.
 */
async function learnt(http: string, meanwhile?: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const surge = (await httpRequest(`${http}/healthz`)).json()['surge'] as Record<string, unknown>;
    if (surge['learning'] === false) return;
    await meanwhile?.();
    await sleep(1000);
  }
  throw new Error('the surge baseline never finished learning');
}

/** A local receiver of the webhook's POSTs; `next` awaits the next body not yet taken. */
async function webhookReceiver(): Promise<{
  url: string;
  bodies: SurgeWebhookBody[];
  next: (event: SurgeWebhookBody['event']) => Promise<SurgeWebhookBody>;
  close: () => Promise<void>;
}> {
  const bodies: SurgeWebhookBody[] = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as SurgeWebhookBody);
      res.end('ok');
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let taken = 0;
  const next = async (event: SurgeWebhookBody['event']): Promise<SurgeWebhookBody> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = bodies.findIndex((b, k) => k >= taken && b.event === event);
      if (i >= 0) {
        taken = i + 1;
        return bodies[i] as SurgeWebhookBody;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${event} webhook; got ${JSON.stringify(bodies.map((b) => b.event))}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), sleep(left)]);
    }
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    next,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let nextAddress = 1;
/** `challenge_required` refusals the newcomers met (and solved) so far. */
let challengesMet = 0;
/**
 * A placement by a new identity (no cookie) from an address of its own, behind the trusted proxy.
 * Asked for a proof of work (a surge's challenges for everyone), it solves it and places again as
 * the same identity, as the browser client does: a swarm that pays the work.
 */
async function placeAsNewcomer(http: string): Promise<HttpAnswer> {
  const n = nextAddress++;
  const body = { x: n % 8, y: (n >> 3) % 8, color: 1 + (n % 10) };
  const headers: Record<string, string> = { 'X-Forwarded-For': `10.9.${n >> 8}.${n & 255}` };
  const first = await httpRequest(`${http}/api/pixel`, { method: 'POST', body: JSON.stringify(body), headers });
  if (first.json()['error'] !== 'challenge_required') return first;
  challengesMet++;
  const pow = await solvePow(first.json()['challenge'] as PowChallenge);
  headers['Cookie'] = String(first.headers['set-cookie']?.[0]).split(';')[0] as string;
  return httpRequest(`${http}/api/pixel`, { method: 'POST', body: JSON.stringify({ ...body, pow }), headers });
}

/**
 * Places as newcomers, ten at a time (a burst fast enough for the lock even on a loaded machine),
 * until one is refused; returns that refusal.
 */
async function burstUntilRefused(http: string, max = 300): Promise<HttpAnswer> {
  for (let sent = 0; sent < max; sent += 10) {
    const answers = await Promise.all(Array.from({ length: 10 }, () => placeAsNewcomer(http)));
    const refused = answers.find((a) => a.status !== 200);
    if (refused) return refused;
  }
  const health = (await httpRequest(`${http}/healthz`)).json()['surge'];
  throw new Error(`${max} placements in a burst, none refused; surge ${JSON.stringify(health)}`);
}

async function hello(ws: string) {
  const c = await TestClient.connect(ws);
  try {
    return await c.nextOf('hello');
  } finally {
    await c.close();
  }
}

test('a burst of new identities turns challenges on, then locks the canvas; both lift by themselves and are seen everywhere', async (t) => {
  const hook = await webhookReceiver();
  t.after(() => hook.close());
  const ts = await startTestServer({
    width: 8,
    height: 8,
    cooldownMs: 60_000, // each identity and each address places once: the burst is of newcomers
    trustedProxies: parseIpRanges('127.0.0.1'),
    adminToken: 'sesame',
    ...SURGE,
    surgeWebhook: hook.url,
  });
  t.after(() => ts.dispose());
  const health = async () => (await httpRequest(`${ts.http}/healthz`)).json()['surge'] as Record<string, unknown>;

  // A trickle of about one a second while the baseline learns: under the floor, nothing happens.
  await learnt(ts.http, async () => assert.equal((await placeAsNewcomer(ts.http)).status, 200));
  assert.equal((await placeAsNewcomer(ts.http)).status, 200);
  assert.equal((await health())['state'], 'normal');
  assert.equal(hook.bodies.length, 0, 'no change, no webhook');

  const asked = challengesMet;
  const refused = await burstUntilRefused(ts.http);
  assert.ok(challengesMet > asked, 'the surge asked the newcomers for a proof of work before it locked');
  assert.equal(refused.status, 423, refused.body);
  assert.equal(refused.json()['error'], 'locked');
  assert.match(String(refused.json()['message']), /surge: too many new players/);
  const wait = Number(refused.json()['wait']);
  assert.ok(wait > 0 && wait <= SURGE.surgeLockMs, refused.body);
  assert.ok(Number(refused.headers['retry-after']) >= 1);

  const started = await hook.next('surge.started');
  assert.equal(started.state, 'challenge');
  assert.ok(started.newRate > SURGE.surgeFactor * started.newBaseline, JSON.stringify(started));
  const locked = await hook.next('surge.locked');
  assert.equal(locked.state, 'locked');
  assert.equal(typeof locked.at, 'number');
  assert.equal(locked.until, locked.at + SURGE.surgeLockMs);

  const h = await hello(ts.ws);
  assert.match(String(h.locked?.reason), /^surge: /);
  assert.equal(h.locked?.until, locked.until);
  const surgeHealth = await health();
  assert.equal(surgeHealth['state'], 'locked');
  assert.equal(surgeHealth['until'], locked.until);
  assert.equal(typeof surgeHealth['baseline'], 'number');
  const metrics = (await httpRequest(`${ts.http}/metrics`)).body;
  assert.match(metrics, /canvas_surge_state 2/);
  assert.match(metrics, /canvas_locked_seconds [12]\b/);
  assert.match(metrics, /canvas_surge_changes_total\{state="locked"\} 1/);

  // The lock ends by itself, into challenges; placing works again; after a calm second, normal.
  const unlocked = await hook.next('surge.unlocked');
  assert.equal(unlocked.state, 'challenge');
  assert.equal((await placeAsNewcomer(ts.http)).status, 200);
  const ended = await hook.next('surge.ended');
  assert.equal(ended.state, 'normal');
  assert.equal((await health())['state'], 'normal');
  assert.equal((await hello(ts.ws)).locked, undefined);
  assert.deepEqual(
    hook.bodies.map((b) => b.event),
    ['surge.started', 'surge.locked', 'surge.unlocked', 'surge.ended'],
  );
  assert.match((await httpRequest(`${ts.http}/metrics`)).body, /canvas_surge_webhook_total\{result="delivered"\} 4/);
});

test('moderators set the surge defence off, or hold challenges on; an unlock lifts a surge lock too', async (t) => {
  const ts = await startTestServer({ width: 8, height: 8, adminToken: 'sesame', ...SURGE, surgeLockMs: 600_000 });
  t.after(() => ts.dispose());
  const off = await startTestServer({ width: 8, height: 8, adminToken: 'sesame' });
  t.after(() => off.dispose());
  const admin = (server: typeof ts, path: string, body: unknown) =>
    httpRequest(`${server.http}/api/admin/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { Authorization: 'Bearer sesame' },
    });
  const state = async () =>
    ((await httpRequest(`${ts.http}/healthz`)).json()['surge'] as Record<string, unknown>)['state'];

  const held = await admin(ts, 'surge', { mode: 'challenge' });
  assert.equal(held.status, 200, held.body);
  assert.equal(held.json()['state'], 'challenge');
  assert.equal(await state(), 'challenge');
  assert.equal((await admin(ts, 'surge', { mode: 'auto' })).status, 200);
  assert.equal((await admin(ts, 'surge', { mode: 'sideways' })).status, 400);

  // Past the learning time, a burst locks for ten minutes; the moderator's unlock ends it at once.
  await learnt(ts.http);
  assert.equal((await burstUntilRefused(ts.http)).status, 423);
  assert.equal(await state(), 'locked');
  const unlock = await admin(ts, 'unlock', {});
  assert.equal(unlock.json()['wasLocked'], true);
  assert.equal(await state(), 'challenge');
  assert.equal((await placeAsNewcomer(ts.http)).status, 200);
  assert.equal((await admin(ts, 'surge', { mode: 'off' })).status, 200);
  assert.equal(await state(), 'normal');
  for (let i = 0; i < 30; i++) assert.equal((await placeAsNewcomer(ts.http)).status, 200, 'off stays off');
  const audit = (
    await httpRequest(`${ts.http}/api/admin/audit`, { headers: { Authorization: 'Bearer sesame' } })
  ).json()['entries'] as Array<Record<string, unknown>>;
  assert.deepEqual(
    audit.map((e) => e['action']),
    ['surge', 'unlock', 'surge', 'surge'],
  );

  // A server without --surge-factor has none: no field in /healthz, and the mode cannot be set.
  assert.equal((await httpRequest(`${off.http}/healthz`)).json()['surge'], undefined);
  assert.equal((await admin(off, 'surge', { mode: 'auto' })).status, 400);
});

test('through an edge: the surge lock refuses placements with locked, hello says it, and it lifts', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hook = await webhookReceiver();
  t.after(() => hook.close());
  const flags = {
    'surge-factor': SURGE.surgeFactor,
    'surge-lock-factor': SURGE.surgeLockFactor,
    'surge-min-rate': SURGE.surgeMinRate,
    'surge-window-ms': SURGE.surgeWindowMs,
    'surge-baseline-ms': SURGE.surgeBaselineMs,
    'surge-lock-ms': SURGE.surgeLockMs,
    'surge-calm-ms': SURGE.surgeCalmMs,
    'surge-webhook': hook.url,
    'challenge-difficulty': SURGE.challengeDifficulty,
    'challenge-cost': SURGE.challengeCost,
  };
  const writer = await startWriter(redis.url, `${dir}/canvas.db`, {
    width: 8,
    height: 8,
    'tick-ms': 100,
    'cooldown-ms': 60_000,
    ...flags,
  });
  t.after(() => writer.stop());
  // The edge reads X-Forwarded-For from loopback, as behind a proxy; the surge lives in the writer.
  const edge = await startEdge(redis.url, {
    'tick-ms': 100,
    'trusted-proxies': '127.0.0.1',
    'challenge-difficulty': SURGE.challengeDifficulty,
    'challenge-cost': SURGE.challengeCost,
  });
  t.after(() => edge.stop());

  await learnt(writer.http);
  const refused = await burstUntilRefused(edge.http);
  assert.equal(refused.status, 423, refused.body);
  assert.equal(refused.json()['error'], 'locked');
  assert.match(String(refused.json()['message']), /surge/);
  const locked = await hook.next('surge.locked');
  const h = await hello(edge.ws);
  assert.match(String(h.locked?.reason), /^surge: /);
  assert.equal(h.locked?.until, locked.until);
  const ws = await TestClient.connect(edge.ws);
  t.after(() => ws.close());
  ws.send({ t: 'place', id: 1, x: 1, y: 1, c: 2 });
  const error = await ws.nextOf('error');
  assert.equal(error.code, 'locked');
  assert.ok((error.wait ?? 0) > 0);
  const writerHealth = (await httpRequest(`${writer.http}/healthz`)).json()['surge'] as Record<string, unknown>;
  assert.equal(writerHealth['state'], 'locked');

  await hook.next('surge.unlocked');
  assert.equal((await placeAsNewcomer(edge.http)).status, 200, 'placing works again through the edge');
  await hook.next('surge.ended');
});
