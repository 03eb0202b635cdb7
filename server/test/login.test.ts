/**
 * Accounts through OpenID Connect against a real provider (oidc-provider on loopback, its login and
 * consent forms filled over HTTP): the round trip to an account identity that is the same on every
 * device, callbacks that must fail without a session, and --login required.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/messages.ts';
import { httpRequest, startTestServer, TestClient, type TestServer } from '../../testkit/fixture.ts';
import { Browser, CLIENT_ID, CLIENT_SECRET, freePort, startProvider, type TestProvider } from '../../testkit/oidc.ts';
import type { Config } from '../config/config.ts';
import { FLOW_COOKIE, LoginFlowCookie } from '../identity/login-flow.ts';
import { IdentityIssuer } from '../identity/tokens.ts';

const SECRET = 'login-test-secret';
const issuerOfTokens = new IdentityIssuer(Buffer.from(SECRET, 'utf8'));

/** A canvas server with sign-in through `provider`, on the port its redirect URI names. */
async function startWithLogin(
  provider: TestProvider,
  port: number,
  login: 'optional' | 'required',
  overrides: Partial<Config> = {},
): Promise<TestServer> {
  const ts = await startTestServer({
    port,
    width: 10,
    height: 10,
    secret: SECRET,
    login,
    oidcIssuer: provider.issuer,
    oidcClientId: CLIENT_ID,
    oidcClientSecret: CLIENT_SECRET,
    publicUrl: `http://127.0.0.1:${port}`,
    ...overrides,
  });
  await signInAvailable(ts.http);
  return ts;
}

/** Discovery runs after listen, without an event to await from outside: ask until it answers. */
async function signInAvailable(http: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await httpRequest(`${http}/auth/login`);
    if (res.status !== 503) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('sign-in never became available');
}

function placeOverHttp(ts: TestServer, x: number, cookie: string | undefined, from: string) {
  return httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x, y: 1, color: 2 }),
    headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
    from,
  });
}

function identityCookie(page: { setCookies: string[] }): string | undefined {
  return page.setCookies.find((c) => c.startsWith('canvas_token=') && !/Max-Age=0/.test(c));
}

describe('sign-in with a real OpenID Connect provider', () => {
  let provider: TestProvider;
  let optional: TestServer;
  let required: TestServer;
  const ports: number[] = [];

  before(async () => {
    ports.push(await freePort(), await freePort());
    provider = await startProvider(ports.map((p) => `http://127.0.0.1:${p}/auth/callback`));
    optional = await startWithLogin(provider, ports[0] as number, 'optional', { cooldownMs: 60_000 });
    required = await startWithLogin(provider, ports[1] as number, 'required');
  });
  after(async () => {
    await optional?.dispose();
    await required?.dispose();
    await provider?.stop();
  });

  test('a round trip makes the account the identity, the same on a second device, cooldown included', async () => {
    const laptop = new Browser();
    const done = await laptop.signIn(`${optional.http}/auth/login`, 'alice');
    assert.equal(done.status, 302, done.body);
    assert.equal(done.headers.get('location'), '/');
    assert.ok(identityCookie(done), 'identity cookie set');
    assert.ok(!laptop.cookies.has(FLOW_COOKIE), 'flow cookie cleared');
    const expected = issuerOfTokens.account(provider.issuer, 'alice');

    const ws = await TestClient.connect(optional.ws, { cookie: laptop.cookieHeader() });
    const hello = await ws.nextOf('hello');
    assert.equal(hello.account, true);
    assert.equal(hello.login, 'optional');
    assert.equal(hello.you, expected.id);
    assert.equal(hello.token, undefined, 'no identity minted');
    await ws.close();

    const placed = await placeOverHttp(optional, 1, laptop.cookieHeader(), '127.0.0.2');
    assert.equal(placed.status, 200, placed.body);
    const lookup = await httpRequest(`${optional.http}/api/pixel?x=1&y=1`);
    assert.equal(lookup.json()['who'], expected.id);

    // Another device: a fresh jar, another address, the same person.
    const phone = new Browser();
    assert.equal((await phone.signIn(`${optional.http}/auth/login`, 'alice')).status, 302);
    assert.notEqual(phone.cookies.get('canvas_token'), undefined);
    const phoneWs = await TestClient.connect(optional.ws, { cookie: phone.cookieHeader() });
    assert.equal((await phoneWs.nextOf('hello')).you, expected.id);
    await phoneWs.close();
    const again = await placeOverHttp(optional, 2, phone.cookieHeader(), '127.0.0.3');
    assert.equal(again.status, 429, again.body);
    assert.equal(again.json()['error'], ErrorCode.COOLDOWN);
    assert.equal(again.json()['limit'], undefined, "the account's own cooldown, not the network's");

    // Someone else is someone else; and anonymous players still place with --login optional.
    const bob = new Browser();
    await bob.signIn(`${optional.http}/auth/login`, 'bob');
    const bobWs = await TestClient.connect(optional.ws, { cookie: bob.cookieHeader() });
    assert.notEqual((await bobWs.nextOf('hello')).you, expected.id);
    await bobWs.close();
    const anonymous = await placeOverHttp(optional, 3, undefined, '127.0.0.4');
    assert.equal(anonymous.status, 200, anonymous.body);
  });

  test('a forged account mark is no account', async () => {
    const anonymous = issuerOfTokens.mint();
    const forged = `acct.${anonymous.token}`;
    const ws = await TestClient.connect(`${optional.ws}?token=${forged}`);
    const hello = await ws.nextOf('hello');
    assert.equal(hello.account, undefined);
    assert.notEqual(hello.you, anonymous.id, 'the forged token is refused: a fresh identity');
    await ws.close();
  });

  test('a callback with a wrong state, no flow cookie, or a changed nonce is 400 and no session', async () => {
    const expectRefused = async (page: Awaited<ReturnType<Browser['request']>>, why: string) => {
      assert.equal(page.status, 400, `${why}: ${page.body}`);
      assert.equal(JSON.parse(page.body).error, 'login_failed', why);
      assert.equal(identityCookie(page), undefined, `${why}: no identity cookie`);
    };
    const login = `${optional.http}/auth/login`;

    const a = new Browser();
    const wrongState = new URL(await a.toCallback(login, 'carol'));
    wrongState.searchParams.set('state', 'not-the-state');
    await expectRefused(await a.request(wrongState.href), 'wrong state');

    const b = new Browser();
    const callback = await b.toCallback(login, 'carol');
    await expectRefused(await new Browser().request(callback), 'no flow cookie');

    // The nonce in the cookie changed by hand: the signature no longer matches.
    const c = new Browser();
    const cCallback = await c.toCallback(login, 'carol');
    const [payload = '', mac = ''] = (c.cookies.get(FLOW_COOKIE) ?? '').split('.');
    const flow = JSON.parse(Buffer.from(payload, 'base64url').toString());
    flow.nonce = 'changed';
    c.cookies.set(FLOW_COOKIE, `${Buffer.from(JSON.stringify(flow)).toString('base64url')}.${mac}`);
    await expectRefused(await c.request(cCallback), 'tampered nonce');

    // A properly signed cookie whose nonce is not the one the provider put in the ID token: refused
    // by openid-client after the real code exchange.
    const d = new Browser();
    const dCallback = await d.toCallback(login, 'carol');
    const dFlow = JSON.parse(
      Buffer.from((d.cookies.get(FLOW_COOKIE) ?? '').split('.')[0] ?? '', 'base64url').toString(),
    );
    const resealed = new LoginFlowCookie(Buffer.from(SECRET, 'utf8'), false).seal({ ...dFlow, nonce: 'other-nonce' });
    d.cookies.set(FLOW_COOKIE, resealed.slice(FLOW_COOKIE.length + 1).split(';')[0] ?? '');
    await expectRefused(await d.request(dCallback), 'nonce not in the ID token');

    // The provider's error (the player refused) comes back as a callback with error=...
    const e = new Browser();
    const eCallback = new URL(await e.toCallback(login, 'carol'));
    const state = eCallback.searchParams.get('state') ?? '';
    await expectRefused(
      await e.request(`${optional.http}/auth/callback?error=access_denied&state=${state}`),
      'provider error',
    );
  });

  test('sign out removes the identity cookie', async () => {
    const browser = new Browser();
    await browser.signIn(`${optional.http}/auth/login`, 'dave');
    assert.ok(browser.cookies.has('canvas_token'));
    const out = await browser.request(`${optional.http}/auth/logout`);
    assert.equal(out.status, 302);
    assert.ok(!browser.cookies.has('canvas_token'));
  });

  test('--login required refuses anonymous placements over HTTP and WebSocket, and takes an account', async () => {
    const anonymousHttp = await placeOverHttp(required, 1, undefined, '127.0.0.5');
    assert.equal(anonymousHttp.status, 403, anonymousHttp.body);
    assert.equal(anonymousHttp.json()['error'], ErrorCode.LOGIN_REQUIRED);

    const anonymousWs = await TestClient.connect(required.ws, { from: '127.0.0.5' });
    const hello = await anonymousWs.nextOf('hello');
    assert.equal(hello.login, 'required');
    assert.equal(hello.account, undefined);
    anonymousWs.send({ t: 'place', id: 1, x: 1, y: 1, c: 1 });
    const refused = await anonymousWs.next((m) => m.t === 'error' || m.t === 'ack');
    assert.equal(refused.t === 'error' && refused.code, ErrorCode.LOGIN_REQUIRED);
    await anonymousWs.close();

    const browser = new Browser();
    assert.equal((await browser.signIn(`${required.http}/auth/login`, 'erin')).status, 302);
    const ws = await TestClient.connect(required.ws, { cookie: browser.cookieHeader(), from: '127.0.0.6' });
    assert.equal((await ws.nextOf('hello')).account, true);
    ws.send({ t: 'place', id: 2, x: 2, y: 2, c: 1 });
    assert.equal((await ws.next((m) => m.t === 'error' || m.t === 'ack')).t, 'ack');
    await ws.close();
    const overHttp = await placeOverHttp(required, 3, browser.cookieHeader(), '127.0.0.7');
    assert.equal(overHttp.status, 200, overHttp.body);
  });
});

test('while the provider cannot be reached, /auth/login is 503 with the reason and the canvas serves', async (t) => {
  const deadPort = await freePort();
  const ts = await startTestServer({
    login: 'optional',
    oidcIssuer: `http://127.0.0.1:${deadPort}`,
    oidcClientId: CLIENT_ID,
    publicUrl: 'http://127.0.0.1:1',
  });
  t.after(() => ts.dispose());
  const res = await httpRequest(`${ts.http}/auth/login`);
  assert.equal(res.status, 503);
  assert.equal(res.json()['error'], 'login_unavailable');
  assert.ok(res.headers['retry-after']);
  assert.equal((await httpRequest(`${ts.http}/image`)).status, 200);
});

test('with --login off there is no /auth and hello says nothing of accounts', async (t) => {
  const ts = await startTestServer();
  t.after(() => ts.dispose());
  assert.equal((await httpRequest(`${ts.http}/auth/login`)).status, 404);
  const ws = await TestClient.connect(ts.ws);
  const hello = await ws.nextOf('hello');
  assert.equal(hello.login, undefined);
  assert.equal(hello.account, undefined);
  await ws.close();
});
