/**
 * The moderation console's API on a real server (uWS on port 0, SQLite in a temp dir): the look
 * equals a scan of the placements, an area rollback equals a replay of the history without the undone
 * placements, the preview shows what the rollback then does, one rollback at a time, bad input is
 * refused with a 4xx, and an interrupted rollback is reported after a restart and can be finished.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import {
  decodeToIndices,
  fetchImageGrid,
  httpRequest,
  startTestServer,
  tempDir,
  TestClient,
  type TestServer,
} from '../../testkit/fixture.ts';
import { Rng } from '../../testkit/rng.ts';

const ADMIN = 'sesame';

interface Row {
  seq: number;
  x: number;
  y: number;
  color: number;
  who: string;
  at: number;
}

interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function identity(ts: TestServer): Promise<{ id: string; token: string }> {
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

function admin(ts: { http: string }, path: string, body?: unknown) {
  return httpRequest(`${ts.http}/api/admin/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: { Authorization: `Bearer ${ADMIN}` },
  });
}

/** Every stored placement, oldest first (a second, read-only connection to the server's file). */
function storedRows(ts: TestServer): Row[] {
  const db = new Database(join(ts.dir, 'canvas.db'), { readonly: true });
  try {
    return db.prepare('SELECT seq, x, y, color, who, at FROM placements ORDER BY seq').all() as Row[];
  } finally {
    db.close();
  }
}

const inArea = (r: { x: number; y: number }, a: Area) =>
  r.x >= a.x && r.x < a.x + a.width && r.y >= a.y && r.y < a.y + a.height;

/** The canvas a replay of `rows` gives, without the rows `undone` picks. */
function replayWithout(rows: Row[], width: number, height: number, undone: (r: Row) => boolean): Uint8Array {
  const grid = new Uint8Array(width * height);
  for (const r of rows) if (!undone(r)) grid[r.y * width + r.x] = r.color;
  return grid;
}

/** Polls the job until it is no longer running (the API has no push for it). */
async function jobEnd(ts: { http: string }): Promise<Record<string, unknown>> {
  for (;;) {
    const s = (await admin(ts, 'rollback')).json();
    if (s['state'] !== 'running') return s;
    await delay(10);
  }
}

function assertSameGrid(actual: Uint8Array, expected: Uint8Array, width: number, what: string): void {
  for (let i = 0; i < expected.length; i++)
    assert.equal(actual[i], expected[i], `${what}: pixel (${i % width}, ${Math.floor(i / width)})`);
}

/** Random placements by `who` (tokens), in phases separated by time marks; returns the marks. */
async function randomHistory(
  ts: TestServer,
  rng: Rng,
  tokens: string[],
  size: number,
  phases: number[],
): Promise<number[]> {
  const marks = [Date.now()];
  for (const n of phases) {
    await delay(3); // placements of different phases never share a millisecond
    for (let i = 0; i < n; i++) {
      const token = tokens[rng.u32() % tokens.length] as string;
      await place(ts, token, rng.u32() % size, rng.u32() % size, 1 + (rng.u32() % 15));
    }
    await delay(3);
    marks.push(Date.now());
  }
  return marks;
}

test('an area rollback equals a replay of the history without the undone placements (with and without ids, with until)', async (t) => {
  const S = 16;
  const ts = await startTestServer({ width: S, height: S, adminToken: ADMIN });
  t.after(() => ts.dispose());
  const rng = new Rng(7);
  const people = await Promise.all([0, 1, 2, 3].map(() => identity(ts)));
  const [t0, t1, t2] = await randomHistory(
    ts,
    rng,
    people.map((p) => p.token),
    S,
    [150, 150, 100],
  );
  const cases: Array<{ body: Record<string, unknown>; undone: (r: Row) => boolean }> = [];
  const a1 = { x: 2, y: 3, width: 10, height: 9 };
  cases.push({ body: { ...a1, since: t1 }, undone: (r) => inArea(r, a1) && r.at >= (t1 as number) });
  const a2 = { x: 0, y: 0, width: S, height: 12 };
  const ids = [people[0]?.id as string, people[2]?.id as string];
  cases.push({
    body: { ...a2, since: t0, until: t2, ids },
    undone: (r) => inArea(r, a2) && r.at >= (t0 as number) && r.at < (t2 as number) && ids.includes(r.who),
  });
  const a3 = { x: 5, y: 0, width: 11, height: S };
  cases.push({
    body: { ...a3, since: t1, until: t2 },
    undone: (r) => inArea(r, a3) && r.at >= (t1 as number) && r.at < (t2 as number),
  });
  for (const c of cases) {
    const rows = storedRows(ts);
    const expected = replayWithout(rows, S, S, c.undone);
    const started = await admin(ts, 'rollback', c.body);
    assert.equal(started.status, 202, started.body);
    const { job, pixels } = started.json() as { job: number; pixels: number };
    const end = await jobEnd(ts);
    assert.equal(end['job'], job);
    assert.equal(end['state'], 'done', JSON.stringify(end));
    assert.equal(end['done'], pixels);
    assertSameGrid(ts.server.canvas.toGrid(), expected, S, JSON.stringify(c.body));
    // Clients see it like any placement: the served image catches up with the seq.
    const watcher = await TestClient.connect(ts.ws);
    await watcher.pngAtLeast(ts.server.canvas.seq);
    await watcher.close();
    assertSameGrid(await fetchImageGrid(ts), expected, S, 'GET /image');
  }
  const lookup = (await httpRequest(`${ts.http}/api/pixel?x=3&y=4`)).json();
  assert.ok(['mod:rollback', ...people.map((p) => p.id)].includes(String(lookup['who'])));
  const audit = (await admin(ts, 'audit')).json()['entries'] as Array<Record<string, unknown>>;
  assert.deepEqual(
    audit.slice(0, 2).map((e) => e['action']),
    ['rollback-area-end', 'rollback-area'],
  );
});

test('an area rollback of thousands of pixels commits in chunks and undoes a wipe', async (t) => {
  const S = 64;
  const ts = await startTestServer({ width: S, height: S, adminToken: ADMIN });
  t.after(() => ts.dispose());
  const u = await identity(ts);
  for (let i = 0; i < 20; i++) await place(ts, u.token, i, i, 3);
  const before = ts.server.canvas.toGrid();
  await delay(3);
  const since = Date.now();
  assert.equal((await admin(ts, 'wipe', { x: 0, y: 0, width: S, height: S, color: 5 })).status, 200);
  const started = await admin(ts, 'rollback', { x: 0, y: 0, width: S, height: S, since });
  assert.equal(started.status, 202, started.body);
  assert.equal(started.json()['pixels'], S * S, 'every wiped pixel returns');
  const end = await jobEnd(ts);
  assert.equal(end['state'], 'done');
  assert.equal(end['changed'], S * S);
  assertSameGrid(ts.server.canvas.toGrid(), before, S, 'after undoing the wipe');
});

test('the look equals a scan of the placements: random rectangles and windows, every page, identity summaries', async (t) => {
  const S = 16;
  const ts = await startTestServer({ width: S, height: S, adminToken: ADMIN });
  t.after(() => ts.dispose());
  const rng = new Rng(11);
  const people = await Promise.all([0, 1, 2].map(() => identity(ts)));
  const marks = await randomHistory(
    ts,
    rng,
    people.map((p) => p.token),
    S,
    [80, 80, 80],
  );
  // A moderation change in the window: shown with who = mod:..., without a summary.
  assert.equal((await admin(ts, 'wipe', { x: 0, y: 0, width: 2, height: 2, color: 1 })).status, 200);
  const rows = storedRows(ts);
  const end = Date.now() + 1;
  for (let q = 0; q < 25; q++) {
    const x = rng.u32() % S;
    const y = rng.u32() % S;
    const area = { x, y, width: 1 + (rng.u32() % (S - x)), height: 1 + (rng.u32() % (S - y)) };
    const from = rng.u32() % 3;
    const since = marks[from] as number;
    const until = q % 2 === 0 ? end : (marks[from + 1 + (rng.u32() % (3 - from))] as number);
    const limit = 1 + (rng.u32() % 7);
    const expected = rows.filter((r) => inArea(r, area) && r.at >= since && r.at < until).sort((a, b) => b.seq - a.seq);
    const got: Row[] = [];
    let before: number | null = null;
    for (;;) {
      const query = `x=${area.x}&y=${area.y}&width=${area.width}&height=${area.height}&since=${since}&until=${until}&limit=${limit}${before === null ? '' : `&before=${before}`}`;
      const res = await admin(ts, `placements?${query}`);
      assert.equal(res.status, 200, res.body);
      const page = res.json() as {
        placements: Row[];
        next: number | null;
        identities: Array<Record<string, unknown>>;
      };
      assert.ok(page.placements.length <= limit);
      got.push(...page.placements);
      const onPage = [...new Set(page.placements.map((p) => p.who).filter((w) => !w.startsWith('mod:')))];
      assert.deepEqual(page.identities.map((i) => i['id']).sort(), onPage.sort());
      for (const s of page.identities) {
        const id = s['id'] as string;
        const mine = rows.filter((r) => r.who === id);
        assert.equal(s['here'], expected.filter((r) => r.who === id).length, `here of ${id}`);
        assert.equal(s['total'], mine.length, `total of ${id}`);
        assert.equal(s['firstSeen'], Math.min(...mine.map((r) => r.at)));
        assert.match(String(s['prefix']), /^[0-9a-f]{12}$/);
        assert.equal(s['sharedPrefix'], 3, 'three identities place from 127.0.0.1');
        assert.equal(typeof (s['signals'] as Record<string, unknown>)['atCooldownShare'], 'number');
      }
      if (page.next === null) break;
      before = page.next;
    }
    assert.deepEqual(got, expected, `look ${JSON.stringify({ area, since, until, limit })}`);
  }
});

test('the preview shows the rectangle now and after the rollback, and changes nothing', async (t) => {
  const S = 16;
  const ts = await startTestServer({ width: S, height: S, adminToken: ADMIN });
  t.after(() => ts.dispose());
  const rng = new Rng(3);
  const people = await Promise.all([0, 1].map(() => identity(ts)));
  const [, t1] = await randomHistory(
    ts,
    rng,
    people.map((p) => p.token),
    S,
    [100, 100],
  );
  const area = { x: 3, y: 2, width: 9, height: 11 };
  const body = { ...area, since: t1, ids: [people[1]?.id] };
  const seq = ts.server.canvas.seq;
  const res = await admin(ts, 'rollback/preview', body);
  assert.equal(res.status, 200, res.body);
  const preview = res.json() as { pixels: number; placements: number; before: string; after: string };
  assert.equal(ts.server.canvas.seq, seq, 'a preview changes nothing');
  const crop = (grid: Uint8Array) => {
    const out = new Uint8Array(area.width * area.height);
    for (let j = 0; j < area.height; j++)
      for (let i = 0; i < area.width; i++) out[j * area.width + i] = grid[(area.y + j) * S + area.x + i] as number;
    return out;
  };
  const png = (b64: string) => decodeToIndices(Buffer.from(b64, 'base64'), ts.config.palette);
  const beforeImg = png(preview.before);
  assert.equal(beforeImg.width, area.width);
  assert.equal(beforeImg.height, area.height);
  assertSameGrid(beforeImg.grid, crop(ts.server.canvas.toGrid()), area.width, 'before');
  const rows = storedRows(ts);
  assert.equal(
    preview.placements,
    rows.filter((r) => inArea(r, area) && r.at >= (t1 as number) && r.who === people[1]?.id).length,
  );
  const started = await admin(ts, 'rollback', body);
  assert.equal(started.status, 202);
  assert.equal(started.json()['pixels'], preview.pixels);
  await jobEnd(ts);
  assertSameGrid(png(preview.after).grid, crop(ts.server.canvas.toGrid()), area.width, 'after');
});

test('one area rollback at a time: a second one while the first runs is 409 rollback_running', async (t) => {
  const S = 256;
  const ts = await startTestServer({ width: S, height: S, adminToken: ADMIN });
  t.after(() => ts.dispose());
  const since = Date.now();
  assert.equal((await admin(ts, 'wipe', { x: 0, y: 0, width: S, height: S, color: 2 })).status, 200);
  const body = { x: 0, y: 0, width: S, height: S, since };
  const [first, second] = await Promise.all([admin(ts, 'rollback', body), admin(ts, 'rollback', body)]);
  assert.equal(first.status, 202, first.body);
  assert.equal(second.status, 409, second.body);
  assert.equal(second.json()['error'], 'rollback_running');
  const end = await jobEnd(ts);
  assert.equal(end['state'], 'done');
  assert.equal(end['total'], S * S);
  assert.equal(
    ts.server.canvas.toGrid().every((c) => c === 0),
    true,
    'the wipe is undone',
  );
  assert.equal((await admin(ts, 'rollback', body)).status, 202, 'once done, the next one runs');
  await jobEnd(ts);
});

test('bad input is refused with a 4xx and changes nothing', async (t) => {
  const ts = await startTestServer({ width: 1100, height: 8, adminToken: ADMIN });
  t.after(() => ts.dispose());
  const u = await identity(ts);
  await place(ts, u.token, 1, 1, 2);
  const seq = ts.server.canvas.seq;
  const now = Date.now();
  const refusals: Array<[string, unknown, number, string]> = [
    ['rollback', { x: 0, y: 0, width: 10, height: 10, since: 0 }, 400, 'out_of_bounds'],
    ['rollback', { x: -1, y: 0, width: 1, height: 1, since: 0 }, 400, 'out_of_bounds'],
    ['rollback', { x: 0, y: 0, width: 0, height: 1, since: 0 }, 400, 'out_of_bounds'],
    ['rollback', { x: 0, y: 0, width: 4, height: 4, since: now, until: now - 1 }, 400, 'invalid_field'],
    ['rollback', { x: 0, y: 0, width: 4, height: 4, since: 0, until: now + 60_000 }, 400, 'invalid_field'],
    ['rollback', { x: 0, y: 0, width: 4, height: 4 }, 400, 'invalid_field'],
    ['rollback', { x: 0, y: 0, width: 4, height: 4, since: 1.5 }, 400, 'invalid_field'],
    ['rollback', { x: 0, y: 0, width: 4, height: 4, since: 0, ids: ['nope'] }, 400, 'invalid_field'],
    ['rollback', { x: 0, y: 0, width: 4, height: 4, since: 0, ids: [] }, 400, 'invalid_field'],
    ['rollback/preview', { x: 0, y: 0, width: 1100, height: 8, since: 0 }, 413, 'too_large'],
    ['rollback/preview', { x: 0, y: 0, width: 4, height: 40, since: 0 }, 400, 'out_of_bounds'],
    ['placements?x=0&y=0&width=4&height=4', undefined, 400, 'invalid_field'],
    ['placements?x=0&y=0&width=4&height=4&since=0&limit=1001', undefined, 400, 'invalid_field'],
    ['placements?x=0&y=0&width=4&height=4&since=abc', undefined, 400, 'invalid_field'],
    ['placements?x=0&y=0&width=4000&height=4&since=0', undefined, 400, 'out_of_bounds'],
    [`placements?x=0&y=0&width=4&height=4&since=${now}&until=${now}`, undefined, 400, 'invalid_field'],
  ];
  for (const [path, body, status, code] of refusals) {
    const res = await admin(ts, path, body);
    assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${res.body}`);
    assert.equal(res.json()['error'], code, path);
  }
  const tooLarge = await admin(ts, 'rollback/preview', { x: 0, y: 0, width: 1100, height: 8, since: 0 });
  assert.match(String(tooLarge.json()['message']), /1024 x 1024/);
  assert.equal(ts.server.canvas.seq, seq, 'nothing changed');
  assert.deepEqual((await admin(ts, 'rollback')).json(), { job: null });
});

test('the activity panel counts placements, new identities, top placers and hot areas from memory', async (t) => {
  const ts = await startTestServer({ width: 200, height: 100, adminToken: ADMIN });
  t.after(() => ts.dispose());
  const a = await identity(ts);
  const b = await identity(ts);
  for (let i = 0; i < 5; i++) await place(ts, a.token, 130 + i, 70, 1);
  await place(ts, b.token, 1, 1, 1);
  const res = await admin(ts, 'activity');
  assert.equal(res.status, 200, res.body);
  const act = res.json() as Record<string, unknown>;
  assert.equal(act['placementsPerSecond'], 0.6);
  assert.equal(act['newIdentitiesPerSecond'], 2 / 60);
  assert.deepEqual(act['topPlacers'], [
    { id: a.id, n: 5 },
    { id: b.id, n: 1 },
  ]);
  assert.deepEqual((act['hotAreas'] as unknown[])[0], { x: 128, y: 64, width: 64, height: 36, n: 5 });
  assert.equal(act['locked'], null);
  assert.equal(act['surge'], null);
  assert.equal((await admin(ts, 'lock', { seconds: 60, reason: 'raid' })).status, 200);
  assert.equal(((await admin(ts, 'activity')).json()['locked'] as Record<string, unknown>)['reason'], 'raid');
});

test('after a restart: an interrupted rollback is reported failed with how far it got, its chunks stay, the same request finishes it; totals are rebuilt', async (t) => {
  const S = 256;
  const dir = tempDir();
  let ts = await startTestServer({ width: S, height: S, adminToken: ADMIN }, dir);
  t.after(() => ts.dispose());
  const u = await identity(ts);
  await place(ts, u.token, 7, 7, 9);
  await delay(3); // the placement's `at` is before the window, never equal to its start
  const since = Date.now();
  assert.equal((await admin(ts, 'wipe', { x: 0, y: 0, width: S, height: S, color: 2 })).status, 200);
  const body = { x: 0, y: 0, width: S, height: S, since };
  const started = await admin(ts, 'rollback', body);
  assert.equal(started.status, 202, started.body);
  await ts.stop(); // while its 66 chunks commit, one per loop turn
  ts = await startTestServer({ width: S, height: S, adminToken: ADMIN }, dir);
  const status = (await admin(ts, 'rollback')).json();
  assert.equal(status['state'], 'failed', JSON.stringify(status));
  assert.ok(Number(status['done']) < S * S, 'stopped part way');
  assert.match(String(status['error']), /stopped by a shutdown|interrupted by a restart/);
  const changed = Number(status['changed']);
  const restored = ts.server.canvas.toGrid().filter((c) => c !== 2).length;
  assert.ok(restored >= changed, `${changed} pixels committed before the stop stay restored`);
  const again = await admin(ts, 'rollback', body);
  assert.equal(again.status, 202, again.body);
  assert.equal(again.json()['pixels'], S * S - restored, 'only what is left');
  assert.equal((await jobEnd(ts))['state'], 'done');
  const expected = new Uint8Array(S * S);
  expected[7 * S + 7] = 9;
  assertSameGrid(ts.server.canvas.toGrid(), expected, S, 'finished');
  // The identity index is rebuilt from the table: totals survive the restart.
  const look = await admin(ts, 'placements?x=7&y=7&width=1&height=1&since=0');
  const mine = (look.json()['identities'] as Array<Record<string, unknown>>).find((i) => i['id'] === u.id);
  assert.equal(mine?.['total'], 1);
  assert.equal(mine?.['banned'], undefined, 'not banned');
  // A name it chose and a ban in force show in its summary: the console shows who is dealt with.
  const named = await httpRequest(`${ts.http}/api/me/name`, {
    method: 'POST',
    body: JSON.stringify({ name: 'Ada' }),
    headers: { Authorization: `Bearer ${u.token}`, 'Content-Type': 'application/json' },
  });
  assert.equal(named.status, 200, named.body);
  assert.equal((await admin(ts, 'ban', { id: u.id, reason: 'raid' })).status, 200);
  const again2 = await admin(ts, 'placements?x=7&y=7&width=1&height=1&since=0');
  const dealt = (again2.json()['identities'] as Array<Record<string, unknown>>).find((i) => i['id'] === u.id);
  assert.equal(dealt?.['name'], 'Ada');
  assert.deepEqual(dealt?.['banned'], { reason: 'raid', until: null, scope: 'identity' });
});
