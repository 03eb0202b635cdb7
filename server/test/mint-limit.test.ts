/**
 * New identities per address prefix (--mint-per-minute): a bucket that refills at that rate. Past
 * it, `POST /api/session`, `POST /api/pixel` and WebSocket upgrades without a valid token are answered
 * 429 `identity_limit` with Retry-After; a client that keeps its token is never affected, and another
 * address prefix mints as usual.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import WebSocket from 'ws';
import { MintLimit } from '../identity/mint-limit.ts';
import { startTestServer } from '../../testkit/fixture.ts';

test('the bucket: perMinute at once, then one per 60/perMinute seconds; 0 disables it', () => {
  const limit = new MintLimit(3);
  assert.deepEqual(
    [0, 1, 2].map(() => limit.take('a', 0)),
    [0, 0, 0],
  );
  assert.equal(limit.take('a', 0), 20_000, 'empty: the next identity in 20 s');
  assert.equal(limit.take('b', 0), 0, 'another prefix has its own bucket');
  assert.equal(limit.take('a', 10_000), 10_000, 'half refilled');
  assert.equal(limit.take('a', 21_000), 0, 'one identity refilled after 20 s');
  const off = new MintLimit(0);
  for (let i = 0; i < 1000; i++) assert.equal(off.take('a', 0), 0);
});

/** POST /api/session from a loopback source address. */
function session(
  http: string,
  from: string,
  cookie = '',
): Promise<{ status: number; retryAfter: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${http}/api/session`);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        headers: cookie ? { Cookie: cookie } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] ?? null, body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('past --mint-per-minute an address gets 429 identity_limit; kept tokens and other addresses are unaffected', async (t) => {
  const ts = await startTestServer({ mintPerMinute: 2 });
  t.after(() => ts.dispose());
  const first = await session(ts.http, '127.0.0.5');
  assert.equal(first.status, 200);
  assert.equal((await session(ts.http, '127.0.0.5')).status, 200);
  const refused = await session(ts.http, '127.0.0.5');
  assert.equal(refused.status, 429, refused.body);
  assert.equal(JSON.parse(refused.body).error, 'identity_limit');
  assert.equal(refused.retryAfter, '30');

  // The token already minted still works: an existing identity is not a new one.
  const { token } = JSON.parse(first.body) as { token: string };
  assert.equal((await session(ts.http, '127.0.0.5', `canvas_token=${token}`)).status, 200);
  assert.equal((await session(ts.http, '127.0.0.6')).status, 200, 'another address mints');

  // A WebSocket without a token from the exhausted address is refused before the upgrade; with its token it connects.
  const upgrade = (query: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${ts.ws}${query}`, { localAddress: '127.0.0.5' });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
  assert.equal(await upgrade(''), 429);
  assert.equal(await upgrade(`?token=${encodeURIComponent(token)}`), 101);
});
