/**
 * The guard at the uWS boundary (http/guard.ts), on a real uWS app on port 0 with routes that fail:
 * an exception leaving a uWS callback ends the process (uWS.js v20.30.0), so the guard must turn
 * each into an answer — 500 `internal`, 503 `store_failed` for SQLite, 1011 for a WebSocket — and
 * the app keeps serving.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { test } from 'node:test';
import WebSocket from 'ws';
import { HttpGuard, Router } from '../http/guard.ts';
import { createLogger } from '../ops/log.ts';
import { listenPort, uws } from '../ops/uws-backend.ts';

async function listen(app: ReturnType<typeof uws.App>): Promise<{ port: number; close: () => void }> {
  const socket = await new Promise<Parameters<typeof uws.us_listen_socket_close>[0] | false>((resolve) =>
    app.listen('127.0.0.1', 0, resolve),
  );
  if (!socket) throw new Error('cannot listen');
  return { port: listenPort(socket), close: () => uws.us_listen_socket_close(socket) };
}

test(
  'a failing handler, body callback or WebSocket callback is answered ' + '(500, 503, 1011) and the app keeps serving',
  async (t) => {
    const app = uws.App();
    const router = new Router(app, new HttpGuard(createLogger('silent')));
    const db = new Database(':memory:');
    t.after(() => db.close());
    router.route('/bug', {
      get: () => {
        throw new Error('a bug');
      },
    });
    router.route('/store', {
      get: () => {
        db.prepare('SELECT * FROM no_such_table').all(); // a real SqliteError
      },
    });
    router.route('/later', {
      post: (res) => {
        res.onAborted(() => {});
        res.onData(
          router.guard.later(res, '/later', () => {
            throw new Error('a bug after the body arrived');
          }),
        );
      },
    });
    router.route('/ok', { get: (res) => void res.end('ok') });
    router.ws('/ws', {
      message: () => {
        throw new Error('a bug in message');
      },
    });
    const server = await listen(app);
    t.after(() => server.close());
    const base = `http://127.0.0.1:${server.port}`;

    const bug = await fetch(`${base}/bug`);
    assert.equal(bug.status, 500);
    assert.deepEqual(await bug.json(), { error: 'internal', message: 'internal error' });
    const store = await fetch(`${base}/store`);
    assert.equal(store.status, 503);
    assert.equal(((await store.json()) as { error: string }).error, 'store_failed');
    const later = await fetch(`${base}/later`, { method: 'POST', body: 'x' });
    assert.equal(later.status, 500);

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(Buffer.from([0x80]));
    assert.equal(await closed, 1011);

    assert.equal(await (await fetch(`${base}/ok`)).text(), 'ok', 'still serving');
  },
);
