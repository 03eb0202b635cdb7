/**
 * Accounts in a writer/edge deployment, all real (redis-server, the CLI processes, oidc-provider):
 * the writer's --login reaches the edge through P:meta, a player signs in through the edge, and a
 * sign-in started on the edge finishes on the writer (the flow lives in a signed cookie, not in a
 * process). The writer refuses anonymous placements forwarded by the edge.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/messages.ts';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, TestClient, tempDir } from '../../testkit/fixture.ts';
import { Browser, CLIENT_ID, CLIENT_SECRET, freePort, startProvider, type TestProvider } from '../../testkit/oidc.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import type { StartedServer } from '../../testkit/server-process.ts';
import { IdentityIssuer } from '../identity/tokens.ts';

const SECRET = 'scale-out-login-secret';

describe('accounts through an edge', () => {
  let redis: TestRedis;
  let provider: TestProvider;
  let dir = '';
  let writer: StartedServer;
  let edge: StartedServer;
  let edgeUrl = '';

  before(async () => {
    const edgePort = await freePort();
    edgeUrl = `http://127.0.0.1:${edgePort}`;
    [redis, provider] = await Promise.all([startRedis(), startProvider([`${edgeUrl}/auth/callback`])]);
    dir = tempDir();
    writer = await startWriter(redis.url, `${dir}/canvas.db`, {
      width: 16,
      height: 16,
      'tick-ms': 200,
      'cooldown-ms': 0,
      secret: SECRET,
      login: 'required',
      'oidc-issuer': provider.issuer,
      'oidc-client-id': CLIENT_ID,
      'oidc-client-secret': CLIENT_SECRET,
      'public-url': edgeUrl,
    });
    // No login flags on the edge: it takes them from the writer.
    edge = await startEdge(redis.url, { port: edgePort, 'tick-ms': 200 });
    for (let i = 0; i < 100 && (await httpRequest(`${edgeUrl}/auth/login`)).status === 503; i++)
      await new Promise((resolve) => setTimeout(resolve, 50)); // discovery has no event to await from outside
  });
  after(async () => {
    await Promise.all([edge?.stop(), writer?.stop()]);
    await Promise.all([redis?.stop(), provider?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('sign-in through the edge gives the account identity, and the edge forwards its placements', async () => {
    const browser = new Browser();
    const done = await browser.signIn(`${edgeUrl}/auth/login`, 'alice');
    assert.equal(done.status, 302, done.body);
    const ws = await TestClient.connect(edge.ws, { cookie: browser.cookieHeader(), from: '127.0.0.2' });
    const hello = await ws.nextOf('hello');
    assert.equal(hello.login, 'required');
    assert.equal(hello.account, true);
    assert.equal(hello.you, new IdentityIssuer(Buffer.from(SECRET, 'utf8')).account(provider.issuer, 'alice').id);
    ws.send({ t: 'place', id: 1, x: 3, y: 3, c: 1 });
    assert.equal((await ws.next((m) => m.t === 'ack' || m.t === 'error')).t, 'ack');
    await ws.close();
  });

  test('the writer refuses anonymous placements through the edge with login_required', async () => {
    const ws = await TestClient.connect(edge.ws, { from: '127.0.0.3' });
    const hello = await ws.nextOf('hello');
    assert.equal(hello.login, 'required');
    assert.equal(hello.account, undefined);
    ws.send({ t: 'place', id: 1, x: 4, y: 4, c: 1 });
    const refused = await ws.next((m) => m.t === 'ack' || m.t === 'error');
    assert.equal(refused.t === 'error' && refused.code, ErrorCode.LOGIN_REQUIRED);
    await ws.close();
    const overHttp = await httpRequest(`${edgeUrl}/api/pixel`, {
      method: 'POST',
      body: '{"x":4,"y":4,"color":1}',
      headers: { 'Content-Type': 'application/json' },
      from: '127.0.0.3',
    });
    assert.equal(overHttp.status, 403, overHttp.body);
    assert.equal(overHttp.json()['error'], ErrorCode.LOGIN_REQUIRED);
  });

  test('a sign-in started on the edge finishes on the writer: no process keeps the flow', async () => {
    const browser = new Browser();
    const callback = new URL(await browser.toCallback(`${edgeUrl}/auth/login`, 'bob'));
    const done = await browser.request(`${writer.http}${callback.pathname}${callback.search}`);
    assert.equal(done.status, 302, done.body);
    assert.ok(browser.cookies.get('canvas_token')?.startsWith('acct.'));
  });
});
