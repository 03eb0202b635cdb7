import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminApi, failureText, type Fetch } from '../src/mod/admin-api.ts';
import { parseActivity, parsePlacementsPage, parseRollbackStatus } from '../src/mod/answers.ts';

interface Sent {
  url: string;
  init: RequestInit;
}

function api(status: number, body: unknown, token: string | null = 'sesame') {
  const sent: Sent[] = [];
  let refused = 0;
  const fetch: Fetch = async (url, init) => {
    sent.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  const client = new AdminApi({ fetch, token: () => token, unauthorized: () => refused++ });
  return { client, sent, refused: () => refused };
}

const headers = (s: Sent | undefined): Record<string, string> => (s?.init.headers ?? {}) as Record<string, string>;

test('the token goes in the Authorization header only: never the URL, no cookies sent', async () => {
  const { client, sent } = api(200, { placements: [], next: null, identities: [] });
  const r = await client.placements({ x: 0, y: 0, width: 5, height: 5 }, { since: 0, until: null }, null);
  assert.equal(r.ok, true);
  assert.equal(headers(sent[0])['authorization'], 'Bearer sesame');
  assert.equal(sent[0]?.init.credentials, 'omit');
  assert.ok(!sent[0]?.url.includes('sesame'));
});

test('posts send JSON bodies to the existing admin routes', async () => {
  const { client, sent } = api(200, { banned: 'x', until: null });
  await client.ban({ id: '00000000000000aa' }, 'raid', 3600);
  await client.lock(300.9, ' raid ');
  await client.clearName('00000000000000aa');
  await client.mintBot({ name: 'painter', everyMs: 1000 });
  await client.revokeBot('00000000000000bb');
  assert.deepEqual(
    sent.map((s) => [s.init.method, s.url, JSON.parse(String(s.init.body))]),
    [
      ['POST', '/api/admin/ban', { id: '00000000000000aa', reason: 'raid', seconds: 3600 }],
      ['POST', '/api/admin/lock', { seconds: 300, reason: 'raid' }],
      ['POST', '/api/admin/names/clear', { id: '00000000000000aa' }],
      ['POST', '/api/admin/bots', { name: 'painter', everyMs: 1000 }],
      ['POST', '/api/admin/bots/revoke', { id: '00000000000000bb' }],
    ],
  );
  assert.equal(headers(sent[0])['content-type'], 'application/json');
});

test('a 401 tells the page to forget the token; without a token nothing is sent', async () => {
  const refused = api(401, { error: 'unauthorized', message: 'admin bearer token required' });
  const r = await refused.client.audit(10);
  assert.equal(r.ok, false);
  assert.equal(refused.refused(), 1);
  const none = api(200, {}, null);
  const r2 = await none.client.unlock();
  assert.equal(r2.ok, false);
  assert.equal(none.sent.length, 0);
});

test('failures come back as values with the server code; a 409 rollback and a missing route are explained', async () => {
  const busy = await api(409, { error: 'busy', message: 'a rollback is running' }).client.rollback({
    x: 0,
    y: 0,
    width: 1,
    height: 1,
    since: 0,
  });
  assert.ok(!busy.ok);
  assert.equal(busy.code, 'busy');
  assert.match(failureText(busy, 'Rollback'), /another rollback is running/);
  const missing = await api(404, { error: 'not_found', message: 'no such admin route' }).client.surge('off');
  assert.ok(!missing.ok);
  assert.match(failureText(missing, 'Surge'), /does not offer it yet/);
  const off = await api(404, {
    error: 'not_found',
    message: 'moderation API disabled (no admin token configured)',
  }).client.check();
  assert.ok(!off.ok);
  assert.match(failureText(off, 'Sign in'), /moderation API is off/);
});

test('an answer of the wrong shape is a failure, not undefined in a table', async () => {
  const r = await api(200, { placements: [{ seq: 1 }], next: null }).client.placements(
    { x: 0, y: 0, width: 1, height: 1 },
    { since: 0, until: null },
    null,
  );
  assert.ok(!r.ok);
  assert.equal(r.code, 'bad_answer');
});

test('the server unreachable is status 0', async () => {
  const client = new AdminApi({
    fetch: () => Promise.reject(new TypeError('failed to fetch')),
    token: () => 't',
    unauthorized: () => {},
  });
  const r = await client.activity();
  assert.ok(!r.ok);
  assert.equal(r.status, 0);
});

test('answers: placements with identities, rollback status, activity', () => {
  const page = parsePlacementsPage({
    placements: [{ seq: 9, x: 1, y: 2, color: 5, who: 'aa', at: 100 }],
    next: 8,
    identities: [
      { id: 'aa', here: 1, total: 4, firstSeen: 50, prefix: 'h1', sharedPrefix: 3, signals: { fast: true } },
    ],
  });
  assert.deepEqual(page?.identities[0]?.signals, { fast: true });
  assert.equal(page?.next, 8);
  assert.equal(page?.indexing, false);
  assert.equal(parsePlacementsPage({ placements: [], next: null, identities: [], indexing: true })?.indexing, true);
  assert.equal(parseRollbackStatus({ job: 3, state: 'running', done: 1, total: 4 })?.job, '3');
  assert.equal(parseRollbackStatus({ job: 3, state: 'sleeping', done: 1, total: 4 }), null);
  const a = parseActivity({
    placementsPerSecond: 2.5,
    newIdentitiesPerSecond: 0,
    topPlacers: [{ id: 'aa', n: 7 }],
    hotAreas: [{ x: 0, y: 0, width: 8, height: 8, n: 30 }],
    locked: null,
    surge: { mode: 'auto', active: false },
  });
  assert.equal(a?.hotAreas[0]?.n, 30);
  assert.equal(parseActivity({ placementsPerSecond: 'fast' }), null);
});
