/**
 * The projects API's limits on a standalone server (real uWS on port 0, SQLite in a temp dir):
 * projects per identity, registrations per interval, the body limit, paging; and a project that
 * survives a restart with its progress recounted from the canvas.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PALETTE_2017 } from '../config/palette.ts';
import { httpRequest, startTestServer, type TestServer } from '../../testkit/fixture.ts';
import { projectPng } from '../../testkit/projects.ts';

const png = projectPng(4, 4, PALETTE_2017, (x, y) => (x + y) % 3).toString('base64');

async function session(ts: TestServer): Promise<Record<string, string>> {
  const s = (await httpRequest(`${ts.http}/api/session`, { method: 'POST' })).json() as { token: string };
  return { Cookie: `canvas_token=${s.token}` };
}

const register = (ts: TestServer, headers: Record<string, string>, name: string, x = 0) =>
  httpRequest(`${ts.http}/api/projects`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name, x, y: 0, image: png }),
  });

describe('projects API limits', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const ts of servers) await ts.dispose();
  });

  test('an identity registers --projects-per-identity projects, one per --project-every-ms', async () => {
    const limited = await startTestServer({ projectsPerIdentity: 1, projectEveryMs: 0 });
    servers.push(limited);
    const me = await session(limited);
    assert.equal((await register(limited, me, 'first')).status, 201);
    const second = await register(limited, me, 'second');
    assert.equal(second.status, 403, second.body);
    assert.equal(second.json().error, 'project_limit');
    assert.equal((await register(limited, await session(limited), 'other identity')).status, 201);

    const paced = await startTestServer({ projectsPerIdentity: 5, projectEveryMs: 60_000 });
    servers.push(paced);
    const you = await session(paced);
    assert.equal((await register(paced, you, 'first')).status, 201);
    const soon = await register(paced, you, 'too soon');
    assert.equal(soon.status, 429, soon.body);
    assert.equal(soon.json().error, 'project_rate');
    assert.ok(Number(soon.headers['retry-after']) > 0);
  });

  test('a body over 2 MiB is 413, a name out of range 400, a bad page 400; the list pages', async () => {
    const ts = await startTestServer({ projectEveryMs: 0 });
    servers.push(ts);
    const me = await session(ts);
    const huge = await httpRequest(`${ts.http}/api/projects`, {
      method: 'POST',
      headers: me,
      body: JSON.stringify({ name: 'huge', x: 0, y: 0, image: 'A'.repeat(3 << 20) }),
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.json().error, 'body_too_large');
    const unnamed = await register(ts, me, '   ');
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.json().error, 'invalid_field');
    for (let i = 0; i < 3; i++) assert.equal((await register(ts, me, `p${i}`, i * 4)).status, 201);
    const page = (await httpRequest(`${ts.http}/api/projects?limit=2&page=1`)).json() as {
      count: number;
      projects: Array<{ name: string }>;
    };
    assert.equal(page.count, 3);
    assert.deepEqual(
      page.projects.map((p) => p.name),
      ['p0'],
    );
    assert.equal((await httpRequest(`${ts.http}/api/projects?limit=0`)).status, 400);
    assert.equal((await httpRequest(`${ts.http}/api/projects?sort=old`)).status, 400);
  });

  test('a project survives a restart, its progress recounted from the canvas', async () => {
    const first = await startTestServer({ projectEveryMs: 0 });
    const me = await session(first);
    const made = (await register(first, me, 'kept', 8)).json() as { id: number; total: number };
    // (8, 0) wants (0 + 0) % 3 = 0, the blank colour: already done; (9, 0) wants 1.
    const before = (await httpRequest(`${first.http}/api/projects/${made.id}`)).json() as { done: number };
    const placed = await httpRequest(`${first.http}/api/pixel`, {
      method: 'POST',
      headers: me,
      body: JSON.stringify({ x: 9, y: 0, color: 1 }),
    });
    assert.equal(placed.status, 200, placed.body);
    await first.stop();
    const second = await startTestServer({ projectEveryMs: 0 }, first.dir);
    servers.push(second);
    const after = (await httpRequest(`${second.http}/api/projects/${made.id}`)).json() as {
      done: number;
      total: number;
      contributors: Array<{ placed: number }>;
    };
    assert.equal(after.total, made.total);
    assert.equal(after.done, before.done + 1);
    assert.deepEqual(
      after.contributors.map((c) => c.placed),
      [1],
    );
  });
});
