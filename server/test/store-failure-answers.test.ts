/**
 * When SQLite refuses, every route that touches it answers `503 store_failed` with a JSON reason and
 * the server keeps running. Before the boundary guard (http/guard.ts), a ban or unban while another
 * process held the database lock threw out of a uWS callback, which ends the process.
 * Faults are real: a second SQLite connection holds the write lock, or takes a table away.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestServer, type TestServer } from '../../testkit/fixture.ts';

const ADMIN = { Authorization: 'Bearer sesame' };
const ID = 'ab'.repeat(8);

async function call(
  ts: TestServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const res = await fetch(`${ts.http}${path}`, {
    method,
    headers: ADMIN,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

async function assertAlive(ts: TestServer): Promise<void> {
  assert.equal((await fetch(`${ts.http}/healthz`)).status, 200, 'the server is still running');
}

test(
  'admin actions and HTTP placement while another ' + 'process holds the database lock answer 503 store_failed',
  async (t) => {
    const ts = await startTestServer({ adminToken: 'sesame', busyTimeoutMs: 0, width: 10, height: 10 });
    t.after(() => ts.dispose());
    assert.equal((await call(ts, 'POST', '/api/pixel', { x: 1, y: 1, color: 2 })).status, 200);
    const placer = ((await (await fetch(`${ts.http}/api/pixel?x=1&y=1`)).json()) as { who: string }).who;

    const locker = new Database(join(ts.dir, 'canvas.db'));
    t.after(() => locker.close());
    locker.exec('BEGIN IMMEDIATE'); // holds the write lock until ROLLBACK
    const writes: Array<[string, unknown]> = [
      ['/api/admin/ban', { id: ID, reason: 'bot' }],
      ['/api/admin/unban', { id: ID }],
      ['/api/admin/rollback', { id: placer, since: 0 }],
      ['/api/admin/wipe', { x: 0, y: 0, width: 2, height: 2, color: 1 }],
      ['/api/pixel', { x: 2, y: 2, color: 3 }],
    ];
    for (const [path, body] of writes) {
      const r = await call(ts, 'POST', path, body);
      assert.equal(r.status, 503, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'store_failed', path);
      assert.equal(typeof r.body.message, 'string');
      await assertAlive(ts);
    }
    locker.exec('ROLLBACK');

    // Nothing half-done: the ban did not take, and now it does.
    assert.equal((await call(ts, 'POST', '/api/pixel', { x: 2, y: 2, color: 3 })).status, 200);
    const ban = await call(ts, 'POST', '/api/admin/ban', { id: ID, reason: 'bot' });
    assert.equal(ban.status, 200, JSON.stringify(ban.body));
  },
);

test('lookups and the audit log answer 503 store_failed when their table cannot be read, and recover', async (t) => {
  const ts = await startTestServer({ adminToken: 'sesame', busyTimeoutMs: 0, width: 10, height: 10 });
  t.after(() => ts.dispose());
  assert.equal((await call(ts, 'POST', '/api/pixel', { x: 1, y: 1, color: 2 })).status, 200);
  assert.equal((await call(ts, 'POST', '/api/admin/ban', { id: ID })).status, 200);

  const other = new Database(join(ts.dir, 'canvas.db'));
  t.after(() => other.close());
  other.exec('ALTER TABLE placements RENAME TO placements_away; ALTER TABLE audit RENAME TO audit_away;');
  for (const path of ['/api/pixel?x=1&y=1', '/api/admin/audit']) {
    const r = await call(ts, 'GET', path);
    assert.equal(r.status, 503, `${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'store_failed', path);
  }
  const rollback = await call(ts, 'POST', '/api/admin/rollback', { id: ID, since: 0 });
  assert.equal(rollback.status, 503, JSON.stringify(rollback.body));
  await assertAlive(ts);

  other.exec('ALTER TABLE placements_away RENAME TO placements; ALTER TABLE audit_away RENAME TO audit;');
  const lookup = await call(ts, 'GET', '/api/pixel?x=1&y=1');
  assert.equal(lookup.status, 200);
  assert.equal((await call(ts, 'GET', '/api/admin/audit')).status, 200);
});
