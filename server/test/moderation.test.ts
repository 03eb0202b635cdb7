import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  httpRequest,
  fetchImageGrid,
  startTestServer,
  tempDir,
  TestClient,
  type TestServer,
} from '../../testkit/fixture.ts';

const W = 12;

async function identity(ts: TestServer): Promise<{ id: string; token: string }> {
  return (await httpRequest(`${ts.http}/api/session`, { method: 'POST' })).json() as { id: string; token: string };
}

async function place(ts: TestServer, token: string, x: number, y: number, color: number): Promise<number> {
  const res = await httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x, y, color }),
    headers: { Cookie: `canvas_token=${token}` },
  });
  assert.equal(res.status, 200, res.body);
  return Number(res.json()['seq']);
}

function admin(ts: TestServer, path: string, body?: unknown, token = 'sesame') {
  return httpRequest(`${ts.http}/api/admin/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: token === '' ? {} : { Authorization: `Bearer ${token}` },
  });
}

/** Waits until the served PNG reflects `seq`, then returns its grid. */
async function gridAt(ts: TestServer, seq: number): Promise<Uint8Array> {
  const c = await TestClient.connect(ts.ws);
  await c.pngAtLeast(seq);
  await c.close();
  return fetchImageGrid(ts);
}

test('rollback returns each pixel to its previous colour from history; later placements by others stay', async (t) => {
  const ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const alice = await identity(ts);
  const bob = await identity(ts);
  const vandal = await identity(ts);
  await place(ts, alice.token, 1, 1, 3);
  await place(ts, alice.token, 2, 2, 4);
  const since = Date.now();
  await place(ts, vandal.token, 1, 1, 7); // over alice: back to 3
  await place(ts, vandal.token, 1, 1, 8); // twice: still back to 3
  await place(ts, vandal.token, 5, 5, 9); // blank before: back to 0
  await place(ts, vandal.token, 2, 2, 5); // over alice, then bob paints over the vandal: bob's stays
  const bobSeq = await place(ts, bob.token, 2, 2, 6);
  await gridAt(ts, bobSeq); // so the watcher's snapshot already has every placement
  const watcher = await TestClient.connect(`${ts.ws}?stream=delta`);
  assert.equal((await watcher.nextOf('png')).seq, bobSeq);

  const res = await admin(ts, 'rollback', { id: vandal.id, since });
  assert.equal(res.status, 200, res.body);
  const result = res.json();
  assert.equal(result['changed'], 2);
  const grid = await gridAt(ts, Number(result['seq']));
  assert.equal(grid[1 * W + 1], 3);
  assert.equal(grid[5 * W + 5], 0);
  assert.equal(grid[2 * W + 2], 6);
  const delta = await watcher.nextOf('delta');
  assert.equal(delta.n, 2, 'reaches clients on the next tick like any change');

  const audit = (await admin(ts, 'audit')).json()['entries'] as Array<Record<string, unknown>>;
  assert.equal(audit[0]?.['action'], 'rollback');
  assert.deepEqual(audit[0]?.['params'], { id: vandal.id, since });
  assert.match(String(audit[0]?.['actor']), /^admin@/);
  assert.ok(Number(audit[0]?.['at']) >= since);
  await watcher.close();
});

test('wipe paints a rectangle in one colour, atomically, and is audited', async (t) => {
  const ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const u = await identity(ts);
  await place(ts, u.token, 3, 3, 5);
  await place(ts, u.token, 9, 9, 5);
  const res = await admin(ts, 'wipe', { x: 2, y: 2, width: 4, height: 3, color: 1 });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json()['changed'], 12);
  const grid = await gridAt(ts, Number(res.json()['seq']));
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < W; x++) {
      const inside = x >= 2 && x < 6 && y >= 2 && y < 5;
      const expected = inside ? 1 : x === 9 && y === 9 ? 5 : 0;
      assert.equal(grid[y * W + x], expected, `(${x}, ${y})`);
    }
  }
  const lookup = (await httpRequest(`${ts.http}/api/pixel?x=3&y=3`)).json();
  assert.equal(lookup['who'], 'mod:wipe');
  assert.equal((await admin(ts, 'wipe', { x: 10, y: 10, width: 5, height: 5, color: 1 })).status, 400);
  assert.equal((await admin(ts, 'wipe', { x: 0, y: 0, width: 1, height: 1, color: 99 })).status, 400);
  const audit = (await admin(ts, 'audit')).json()['entries'] as Array<Record<string, unknown>>;
  assert.deepEqual(
    audit.map((e) => e['action']),
    ['wipe'],
  );
});

test('ban and unban: refused placements while banned, allowed after', async (t) => {
  const ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const u = await identity(ts);
  assert.equal((await admin(ts, 'ban', { id: u.id, reason: 'bot' })).status, 200);
  const refused = await httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: '{"x":1,"y":1,"color":1}',
    headers: { Cookie: `canvas_token=${u.token}` },
  });
  assert.equal(refused.status, 403);
  assert.equal((await admin(ts, 'unban', { id: u.id })).status, 200);
  await place(ts, u.token, 1, 1, 1);
  assert.equal((await admin(ts, 'ban', { id: 'not-an-id' })).status, 400);
  const actions = ((await admin(ts, 'audit')).json()['entries'] as Array<Record<string, unknown>>).map(
    (e) => e['action'],
  );
  assert.deepEqual(actions, ['unban', 'ban']);
});

test('admin routes without a token, with a wrong one, or when disabled change nothing', async (t) => {
  const ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const off = await startTestServer({ width: W, height: W });
  t.after(() => off.dispose());
  const u = await identity(ts);
  const seq = await place(ts, u.token, 1, 1, 2);
  for (const token of ['', 'wrong', 'sesam', 'sesame2']) {
    for (const [path, body] of [
      ['ban', { id: u.id }],
      ['wipe', { x: 0, y: 0, width: 12, height: 12, color: 3 }],
      ['rollback', { id: u.id, since: 0 }],
    ] as const) {
      const res = await admin(ts, path, body, token);
      assert.equal(res.status, 401, `${path} with "${token}"`);
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
    assert.equal((await admin(ts, 'audit', undefined, token)).status, 401);
  }
  assert.equal(ts.server.canvas.seq, seq, 'nothing changed');
  assert.equal(ts.server.canvas.get(1, 1), 2);
  await place(ts, u.token, 2, 2, 2); // not banned
  assert.deepEqual((await admin(ts, 'audit')).json()['entries'], [], 'nothing audited');

  for (const path of ['ban', 'audit', 'wipe']) {
    const res = await admin(off, path, path === 'audit' ? undefined : {}, 'anything');
    assert.equal(res.status, 404, `disabled: ${path}`);
  }
});

test('a moderator lock refuses every placement with locked and the time left; unlock, or its end, lifts it', async (t) => {
  const ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const u = await identity(ts);
  const locked = await admin(ts, 'lock', { seconds: 600, reason: 'raid in progress' });
  assert.equal(locked.status, 200, locked.body);
  const refused = await httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x: 1, y: 1, color: 2 }),
    headers: { Cookie: `canvas_token=${u.token}` },
  });
  assert.equal(refused.status, 423, refused.body);
  assert.equal(refused.json().error, 'locked');
  assert.match(String(refused.json().message), /raid in progress/);
  assert.ok(Number(refused.headers['retry-after']) > 590);
  const c = await TestClient.connect(ts.ws);
  t.after(() => c.close());
  c.send({ t: 'place', id: 3, x: 2, y: 2, c: 1 });
  const error = await c.nextOf('error');
  assert.equal(error.code, 'locked');
  assert.ok((error.wait ?? 0) > 590_000);
  assert.match((await httpRequest(`${ts.http}/metrics`)).body, /canvas_locked_seconds (59\d|600)/);

  assert.equal((await admin(ts, 'unlock', {})).status, 200);
  await place(ts, u.token, 1, 1, 2);
  assert.match((await httpRequest(`${ts.http}/metrics`)).body, /canvas_locked_seconds 0/);

  // A short lock ends by itself.
  assert.equal((await admin(ts, 'lock', { seconds: 1 })).status, 200);
  const started = Date.now();
  c.send({ t: 'place', id: 4, x: 3, y: 3, c: 1 });
  assert.equal((await c.nextOf('error')).code, 'locked');
  let answer: { t: string } = { t: 'error' };
  for (let id = 5; answer.t !== 'ack' && Date.now() - started < 5000; id++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    c.send({ t: 'place', id, x: 3, y: 3, c: 1 });
    answer = await c.next((m) => m.t === 'ack' || m.t === 'error');
  }
  assert.equal(answer.t, 'ack', 'placing resumes once the lock ran out');
  assert.equal((await admin(ts, 'lock', { seconds: 0 })).status, 400);
  const actions = ((await admin(ts, 'audit')).json()['entries'] as Array<Record<string, unknown>>).map(
    (e) => e['action'],
  );
  assert.deepEqual(actions.slice(0, 3), ['lock', 'unlock', 'lock']);
});

test('a network ban catches every identity from it, new ones too; timed bans say when they end; bans survive a restart', async (t) => {
  const dir = tempDir();
  let ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' }, dir);
  t.after(() => ts.dispose());
  const placeFrom = (from: string, x: number) =>
    httpRequest(`${ts.http}/api/pixel`, { method: 'POST', body: JSON.stringify({ x, y: 0, color: 1 }), from });
  assert.equal((await placeFrom('127.0.0.9', 0)).status, 200);
  const banned = await admin(ts, 'ban', { prefix: '127.0.0.8/30', reason: 'raid' });
  assert.equal(banned.status, 200, banned.body);
  assert.equal(banned.json().banned, '127.0.0.8/30');
  // Every request without a cookie is a new identity: the network ban refuses it all the same.
  const refused = await placeFrom('127.0.0.9', 1);
  assert.equal(refused.status, 403);
  assert.match(String(refused.json().message), /network is banned.*raid/);
  assert.equal((await placeFrom('127.0.0.12', 2)).status, 200, 'outside the /30');
  assert.equal((await admin(ts, 'ban', { prefix: 'not a network' })).status, 400);
  assert.equal((await admin(ts, 'ban', { prefix: '127.0.0.8/30', seconds: 0 })).status, 400);

  const u = await identity(ts);
  assert.equal((await admin(ts, 'ban', { id: u.id, reason: 'spam', seconds: 3600 })).status, 200);
  const timed = await httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x: 3, y: 0, color: 1 }),
    headers: { Cookie: `canvas_token=${u.token}` },
  });
  assert.equal(timed.status, 403);
  assert.ok(Number(timed.json().wait) > 3_590_000, timed.body);

  // Both bans are stored: a restart on the same database keeps them.
  await ts.stop();
  ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' }, dir);
  assert.equal((await placeFrom('127.0.0.10', 4)).status, 403);
  assert.equal((await admin(ts, 'unban', { prefix: '127.0.0.8/30' })).json().wasBanned, true);
  assert.equal((await placeFrom('127.0.0.10', 4)).status, 200);
});

test('hello tells a banned client it is banned, and every client that the canvas is locked', async (t) => {
  const ts = await startTestServer({ width: W, height: W, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const u = await identity(ts);
  const hello = async (token: string) => {
    const c = await TestClient.connect(`${ts.ws}?token=${encodeURIComponent(token)}`);
    try {
      return await c.nextOf('hello');
    } finally {
      await c.close();
    }
  };
  const clean = await hello(u.token);
  assert.equal(clean.banned, undefined);
  assert.equal(clean.locked, undefined);
  assert.equal((await admin(ts, 'ban', { id: u.id, reason: 'bot', seconds: 600 })).status, 200);
  assert.equal((await admin(ts, 'lock', { seconds: 60, reason: 'raid' })).status, 200);
  const restricted = await hello(u.token);
  assert.equal(restricted.banned?.scope, 'identity');
  assert.equal(restricted.banned?.reason, 'bot');
  assert.ok((restricted.banned?.until ?? 0) > Date.now() + 590_000);
  assert.equal(restricted.locked?.reason, 'raid');
  // A fresh identity from the same address is not banned (an identity ban), but sees the lock.
  const other = await identity(ts);
  const fresh = await hello(other.token);
  assert.equal(fresh.banned, undefined);
  assert.equal(fresh.locked?.reason, 'raid');
});
