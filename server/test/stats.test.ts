/**
 * Placement statistics: the Stats unit on its own clock (minute windows, top lists and their ties,
 * ranks, moderation rows kept apart), then a real server on a real SQLite file, where `GET /api/stats`
 * and `/api/stats/me` must equal a recount from the placements table after random placements by
 * several identities, a rollback, a wipe and a restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { Stats, type CountedRow } from '../stats/stats.ts';
import { restoreStats } from '../stats/restore.ts';
import { PlacementLog } from '../store/placement-log.ts';
import { decodeCheckpoint, StatsStore } from '../store/stats-store.ts';
import type { PlacementRow } from '../store/store.ts';
import { openTestStore } from '../../testkit/fixture.ts';
import { httpRequest, startTestServer, tempDir, type TestServer } from '../../testkit/fixture.ts';
import { recountIdentity, recountStats, statsSince } from '../../testkit/stats-recount.ts';

const MIN = 60_000;

function clocked(start: number) {
  let now = start;
  const stats = new Stats({ paletteSize: 4, topSize: 3, now: () => now });
  return {
    stats,
    at: () => now,
    /** Moves the clock; past the one-second summary reuse whenever it moves. */
    set: (t: number) => {
      now = t;
    },
  };
}

test('counts, per colour, windows of whole minutes and active identities follow the clock', () => {
  const t0 = 1_000 * MIN;
  const c = clocked(t0);
  c.stats.add([
    { seq: 1, who: 'a', color: 1, at: t0 - 70 * MIN }, // older than the hour: totals only
    { seq: 2, who: 'a', color: 1, at: t0 - 10 * MIN },
    { seq: 3, who: 'b', color: 2, at: t0 - 3 * MIN },
    { seq: 4, who: 'a', color: 3, at: t0 },
    { seq: 5, who: 'mod:wipe', color: 0, at: t0 },
  ]);
  let s = c.stats.summary();
  assert.deepEqual(
    { placements: s.placements, lastHour: s.lastHour, perColor: s.perColor, active5m: s.active5m, mod: s.modChanges },
    { placements: 4, lastHour: 3, perColor: [0, 2, 1, 1], active5m: 2, mod: 1 },
  );
  assert.deepEqual(s.topHour, [
    { id: 'a', placed: 2 },
    { id: 'b', placed: 1 },
  ]);
  assert.equal(c.stats.summary(), s, 'the same summary object within a second');
  c.set(t0 + 2 * MIN); // b's minute (t0 - 3) is now 5 minutes back: no longer active
  s = c.stats.summary();
  assert.equal(s.active5m, 1);
  c.set(t0 + 51 * MIN); // a's t0 - 10 placement leaves the hour
  s = c.stats.summary();
  assert.equal(s.lastHour, 2);
  assert.deepEqual(s.topHour, [
    { id: 'a', placed: 1 },
    { id: 'b', placed: 1 },
  ]);
  c.set(t0 + 120 * MIN);
  s = c.stats.summary();
  assert.deepEqual([s.lastHour, s.active5m, s.topHour.length, s.placements], [0, 0, 0, 4]);
});

test('the top list stays exact as counts grow, ties in id order; rank counts who has more', () => {
  const c = clocked(0);
  const place = (who: string) => c.stats.addOne(who, 0, c.at());
  for (const who of ['d', 'c', 'b', 'a']) place(who); // all on 1: a, b, c (id order), d out
  assert.deepEqual(
    c.stats.summary().top.map((e) => e.id),
    ['a', 'b', 'c'],
  );
  place('d');
  place('d'); // d on 3 enters first
  place('c'); // c on 2
  c.set(2_000);
  assert.deepEqual(c.stats.summary().top, [
    { id: 'd', placed: 3 },
    { id: 'c', placed: 2 },
    { id: 'a', placed: 1 },
  ]);
  assert.deepEqual(
    ['a', 'b', 'c', 'd', 'e'].map((id) => c.stats.of(id).rank),
    [3, 3, 2, 1, null],
  );
  assert.deepEqual(c.stats.of('d'), { id: 'd', placed: 3, first: 0, last: 0, rank: 1 });
  c.stats.addOne('mod:rollback', 0, 0);
  assert.equal(c.stats.of('mod:rollback').placed, 0, 'moderation rows are not a player');
});

test('startup from a checkpoint and the placements after it equals counting every placement; a bad or future checkpoint is ignored', (t) => {
  const { store, close } = openTestStore(8, 8);
  t.after(close);
  const now = 5_000 * MIN + 30_000;
  // Two hours of placements by 6 identities and moderation, ending now: all windows have something.
  const rows: PlacementRow[] = [];
  let seed = 3;
  const rnd = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  for (let seq = 1; seq <= 600; seq++) {
    const who = rnd(10) === 0 ? 'mod:wipe' : `${'0'.repeat(15)}${rnd(6)}`;
    const at = now - 2 * 3_600_000 + seq * 12_000;
    rows.push({ seq, x: rnd(8), y: rnd(8), color: rnd(16), who, addr: '', nextAt: 0, at, prevSeq: 0 });
  }
  store.commit(rows);
  const clock = () => now;
  const all = new Stats({ paletteSize: 16, now: clock });
  all.add(rows);
  const ids = [...new Set(rows.map((r) => r.who))];
  const figures = (s: Stats) => ({ ...s.summary(), per: ids.map((id) => s.of(id)) });
  const log = new PlacementLog(store.db);
  const stats = new StatsStore(store.db);
  const restore = () => restoreStats({ paletteSize: 16, log, store: stats, seq: 600, now, clock });
  assert.deepEqual(figures(restore().stats), figures(all), 'no checkpoint: the whole history scanned');
  for (const at of [1, 250, 599, 600]) {
    const part = new Stats({ paletteSize: 16, now: clock });
    part.add(rows.slice(0, at) as CountedRow[]);
    stats.save(part.checkpoint());
    const restored = restore();
    assert.equal(restored.checkpointSeq, at);
    assert.equal(restored.scanned, 600 - at);
    assert.deepEqual(figures(restored.stats), figures(all), `checkpoint at ${at}`);
  }
  // A checkpoint of placements the database no longer has (restored from an older copy): not used.
  assert.equal(restoreStats({ paletteSize: 16, log, store: stats, seq: 599, now, clock }).checkpointSeq, 0);
  assert.equal(decodeCheckpoint(Buffer.from('not msgpack at all')), undefined);
  store.db.prepare('UPDATE stats_checkpoint SET data = ?').run(Buffer.from([0x93, 1, 2, 3]));
  assert.deepEqual(figures(restore().stats), figures(all), 'an unreadable checkpoint: scanned instead');
});

async function session(ts: TestServer): Promise<{ id: string; token: string }> {
  return (await httpRequest(`${ts.http}/api/session`, { method: 'POST' })).json() as { id: string; token: string };
}

async function place(ts: TestServer, token: string, x: number, y: number, color: number): Promise<void> {
  const res = await httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x, y, color }),
    headers: { Cookie: `canvas_token=${token}` },
  });
  assert.equal(res.status, 200, res.body);
}

async function admin(ts: TestServer, path: string, body: unknown): Promise<void> {
  const res = await httpRequest(`${ts.http}/api/admin/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { Authorization: 'Bearer sesame' },
  });
  assert.equal(res.status, 200, res.body);
}

/** The server's stats and each identity's equal a recount from the database file. */
async function assertRecount(ts: TestServer, ids: readonly string[]): Promise<void> {
  const { at, ...served } = await statsSince(ts.http, Date.now());
  assert.deepEqual(served, recountStats(ts.config.db, at, ts.config.palette.length));
  for (const id of ids) {
    const me = await httpRequest(`${ts.http}/api/stats/me?id=${id}`);
    assert.deepEqual(me.json(), recountIdentity(ts.config.db, id));
  }
}

test('GET /api/stats equals a recount from the placements after placements, a rollback, a wipe and a restart', async (t) => {
  const dir = tempDir();
  const opts = { width: 16, height: 16, adminToken: 'sesame' };
  let ts = await startTestServer(opts, dir);
  t.after(() => ts.dispose());
  const players = await Promise.all([1, 2, 3, 4, 5].map(() => session(ts)));
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const placeRandom = async (count: number) => {
    for (let i = 0; i < count; i++) {
      // Skewed, so the top list has a clear order and some ties.
      const who = players[Math.min(rnd(7), 4)] as { token: string };
      await place(ts, who.token, rnd(16), rnd(16), rnd(ts.config.palette.length));
    }
  };
  await placeRandom(120);
  const ids = [...players.map((p) => p.id), '0123456789abcdef'];
  await assertRecount(ts, ids);

  const vandal = players[0] as { id: string };
  await admin(ts, 'rollback', { id: vandal.id, since: 0 });
  await admin(ts, 'wipe', { x: 0, y: 0, width: 4, height: 4, color: 0 });
  const before = await httpRequest(`${ts.http}/api/stats/me?id=${vandal.id}`);
  await assertRecount(ts, ids);
  assert.deepEqual(
    (await httpRequest(`${ts.http}/api/stats/me?id=${vandal.id}`)).json(),
    before.json(),
    'a rollback keeps the counts: they count acts, not pixels on the canvas',
  );

  await placeRandom(30);
  await ts.stop();
  ts = await startTestServer(opts, dir);
  assert.equal(ts.config.db, join(dir, 'canvas.db'));
  await assertRecount(ts, ids);
});

test('GET /api/stats is cacheable: max-age=1, an ETag, 304 for it; /api/stats/me answers the caller', async (t) => {
  const ts = await startTestServer({ width: 8, height: 8 });
  t.after(() => ts.dispose());
  const me = await session(ts);
  await place(ts, me.token, 1, 1, 2);
  const res = await httpRequest(`${ts.http}/api/stats`);
  assert.equal(res.headers['cache-control'], 'public, max-age=1');
  const etag = res.headers.etag;
  assert.ok(etag);
  const again = await httpRequest(`${ts.http}/api/stats`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);

  const mine = await httpRequest(`${ts.http}/api/stats/me`, { headers: { Cookie: `canvas_token=${me.token}` } });
  assert.deepEqual({ ...mine.json(), first: 0, last: 0 }, { id: me.id, placed: 1, first: 0, last: 0, rank: 1 });
  const bearer = await httpRequest(`${ts.http}/api/stats/me`, { headers: { Authorization: `Bearer ${me.token}` } });
  assert.equal(bearer.json()['placed'], 1);
  const nobody = await httpRequest(`${ts.http}/api/stats/me`);
  assert.deepEqual(nobody.json(), { id: null, placed: 0, first: null, last: null, rank: null });
  assert.equal(nobody.headers['set-cookie'], undefined, 'reading stats mints no identity');
  const bad = await httpRequest(`${ts.http}/api/stats/me?id=mod:wipe`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json()['error'], 'invalid_field');
});
