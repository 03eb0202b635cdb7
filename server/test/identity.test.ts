import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { HttpCode } from '../http/status.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import { parseIpRanges } from '../identity/client-address.ts';
import { IdentityIssuer } from '../identity/tokens.ts';
import { httpRequest, startTestServer, tempDir, TestClient, type TestServer } from '../../testkit/fixture.ts';

/** A fresh identity's token, as a client without cookies gets it. */
async function newToken(ts: TestServer, from = '127.0.0.1'): Promise<{ id: string; token: string }> {
  const res = await httpRequest(`${ts.http}/api/session`, { method: 'POST', from });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['set-cookie']), /canvas_token=.*HttpOnly/);
  return res.json() as { id: string; token: string };
}

async function placeWs(ts: TestServer, from: string, token: string | undefined, x: number, y: number, c: number) {
  const client = await TestClient.connect(token ? `${ts.ws}?token=${token}` : ts.ws, { from });
  client.send({ t: 'place', id: 1, x, y, c });
  const answer = await client.next((m) => m.t === 'ack' || m.t === 'error');
  await client.close();
  return answer;
}

/** The address key stored with each placement, in seq order: what the address cooldown was keyed by. */
function storedAddressKeys(ts: TestServer): string[] {
  const db = new Database(ts.config.db, { readonly: true });
  try {
    return db.prepare('SELECT addr FROM placements ORDER BY seq').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** A dual-stack test needs an IPv6 loopback; some containers and CI machines have none. */
async function ipv6LoopbackMissing(): Promise<string | false> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve('this machine has no IPv6 loopback (::1)'));
    probe.listen(0, '::1', () => probe.close(() => resolve(false)));
  });
}
const noIpv6 = await ipv6LoopbackMissing();

function postPixel(ts: TestServer, body: unknown, opts: { from?: string; token?: string } = {}) {
  return httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...(opts.token ? { Cookie: `canvas_token=${opts.token}` } : {}) },
    ...(opts.from ? { from: opts.from } : {}),
  });
}

test('two sockets with one identity share the cooldown, even from different addresses', async (t) => {
  const ts = await startTestServer({ cooldownMs: 60_000, width: 10, height: 10 });
  t.after(() => ts.dispose());
  const { token } = await newToken(ts);
  assert.equal((await placeWs(ts, '127.0.0.2', token, 1, 1, 1)).t, 'ack');
  const second = await placeWs(ts, '127.0.0.3', token, 2, 2, 2);
  assert.equal(second.t, 'error');
  assert.equal(second.t === 'error' && second.code, ErrorCode.COOLDOWN);
  // A different identity from yet another address is independent.
  assert.equal((await placeWs(ts, '127.0.0.4', (await newToken(ts)).token, 3, 3, 3)).t, 'ack');
});

test('two identities from one address share the cooldown (minting tokens does not multiply the rate)', async (t) => {
  const ts = await startTestServer({ cooldownMs: 60_000, width: 10, height: 10 });
  t.after(() => ts.dispose());
  assert.equal((await placeWs(ts, '127.0.0.5', (await newToken(ts)).token, 1, 1, 1)).t, 'ack');
  const second = await placeWs(ts, '127.0.0.5', (await newToken(ts)).token, 2, 2, 2);
  assert.equal(second.t === 'error' && second.code, ErrorCode.COOLDOWN);
  const noToken = await placeWs(ts, '127.0.0.5', undefined, 3, 3, 3);
  assert.equal(noToken.t === 'error' && noToken.code, ErrorCode.COOLDOWN);
});

test("a forged or missing token gets a fresh identity, never another user's", async (t) => {
  const ts = await startTestServer({ width: 10, height: 10 });
  t.after(() => ts.dispose());
  const real = await newToken(ts);
  const withReal = await TestClient.connect(`${ts.ws}?token=${real.token}`);
  const hello = await withReal.nextOf('hello');
  assert.equal(hello.you, real.id);
  assert.equal(hello.token, undefined, 'a known identity is not re-sent its token');

  const forgedSig = `${real.id}.${Buffer.alloc(32).toString('base64url')}`;
  for (const token of [forgedSig, `${real.id}.`, 'garbage', `${'f'.repeat(16)}.${real.token.split('.')[1]}`]) {
    const c = await TestClient.connect(`${ts.ws}?token=${encodeURIComponent(token)}`);
    const h = await c.nextOf('hello');
    assert.notEqual(h.you, real.id, token);
    assert.match(h.you, /^[0-9a-f]{16}$/);
    assert.ok(h.token?.startsWith(`${h.you}.`), 'fresh identity comes with its token');
    await c.close();
  }
  const cookie = await TestClient.connect(ts.ws, { cookie: `other=1; canvas_token=${real.token}` });
  assert.equal((await cookie.nextOf('hello')).you, real.id, 'the cookie identifies too');
  await cookie.close();
  await withReal.close();
});

test('HTTP placement: 200 with seq, 400 with a reason, 429 with Retry-After, 403 when banned', async (t) => {
  const ts = await startTestServer({ cooldownMs: 30_000, width: 10, height: 10, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const me = await newToken(ts, '127.0.0.6');
  const ok = await postPixel(ts, { x: 4, y: 5, color: 6 }, { from: '127.0.0.6', token: me.token });
  assert.equal(ok.status, 200, ok.body);
  const body = ok.json();
  assert.equal(body['seq'], 1);
  assert.ok(Number(body['next']) > Date.now() + 25_000);

  const bad: Array<[unknown, string]> = [
    ['{not json', HttpCode.BAD_JSON],
    [{ x: 1, y: 1 }, ErrorCode.INVALID_FIELD],
    [{ x: '1', y: 1, color: 1 }, ErrorCode.INVALID_FIELD],
    [[1, 2, 3], ErrorCode.INVALID_FIELD],
    [{ x: 10, y: 1, color: 1 }, ErrorCode.OUT_OF_BOUNDS],
    [{ x: 1, y: 1, color: 16 }, ErrorCode.BAD_COLOR],
  ];
  for (const [payload, code] of bad) {
    const res = await postPixel(ts, payload, { from: '127.0.0.7' });
    assert.equal(res.status, 400, JSON.stringify(payload));
    assert.equal(res.json()['error'], code);
    assert.equal(typeof res.json()['message'], 'string');
  }
  const tooBig = await postPixel(ts, JSON.stringify({ x: 1, y: 1, color: 1, pad: 'x'.repeat(5000) }), {
    from: '127.0.0.7',
  });
  assert.equal(tooBig.status, 413);

  const again = await postPixel(ts, { x: 1, y: 1, color: 1 }, { from: '127.0.0.6', token: me.token });
  assert.equal(again.status, 429);
  assert.equal(again.json()['error'], ErrorCode.COOLDOWN);
  const retry = Number(again.headers['retry-after']);
  assert.ok(retry > 25 && retry <= 30, `Retry-After ${retry}`);

  const banned = await newToken(ts, '127.0.0.8');
  const ban = await httpRequest(`${ts.http}/api/admin/ban`, {
    method: 'POST',
    body: JSON.stringify({ id: banned.id }),
    headers: { Authorization: 'Bearer sesame' },
  });
  assert.equal(ban.status, 200, ban.body);
  const refused = await postPixel(ts, { x: 1, y: 1, color: 1 }, { from: '127.0.0.8', token: banned.token });
  assert.equal(refused.status, 403);
  assert.equal(refused.json()['error'], ErrorCode.BANNED);
  const wsRefused = await placeWs(ts, '127.0.0.9', banned.token, 1, 1, 1);
  assert.equal(wsRefused.t === 'error' && wsRefused.code, ErrorCode.BANNED, 'banned on the WebSocket too');
  assert.equal(ts.server.canvas.seq, 1, 'only the first placement landed');
});

test('pixel lookup returns colour, identity id and time of the last placement', async (t) => {
  const ts = await startTestServer({ width: 10, height: 10 });
  t.after(() => ts.dispose());
  const me = await newToken(ts);
  const before = Date.now();
  assert.equal((await postPixel(ts, { x: 2, y: 3, color: 9 }, { token: me.token })).status, 200);
  const res = await httpRequest(`${ts.http}/api/pixel?x=2&y=3`);
  assert.equal(res.status, 200);
  const info = res.json();
  assert.equal(info['color'], 9);
  assert.equal(info['who'], me.id);
  assert.ok(Number(info['at']) >= before);
  assert.ok(!res.body.includes(me.token), 'never the token');
  const blank = (await httpRequest(`${ts.http}/api/pixel?x=0&y=0`)).json();
  assert.equal(blank['who'], null);
  assert.equal((await httpRequest(`${ts.http}/api/pixel?x=10&y=0`)).status, 400);
  assert.equal((await httpRequest(`${ts.http}/api/pixel?x=a&y=0`)).status, 400);
});

test('cooldown survives a restart, by identity and by address', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await startTestServer({ cooldownMs: 60_000, width: 10, height: 10 }, dir);
  const me = await newToken(first);
  assert.equal((await placeWs(first, '127.0.0.2', me.token, 1, 1, 1)).t, 'ack');
  await first.stop();
  const second = await startTestServer({ cooldownMs: 60_000, width: 10, height: 10 }, dir);
  const sameIdentity = await placeWs(second, '127.0.0.3', me.token, 2, 2, 2);
  assert.equal(sameIdentity.t === 'error' && sameIdentity.code, ErrorCode.COOLDOWN);
  assert.ok(sameIdentity.t === 'error' && (sameIdentity.wait ?? 0) > 50_000);
  const sameAddress = await placeWs(second, '127.0.0.2', (await newToken(second)).token, 2, 2, 2);
  assert.equal(sameAddress.t === 'error' && sameAddress.code, ErrorCode.COOLDOWN);
  assert.equal((await placeWs(second, '127.0.0.4', undefined, 2, 2, 2)).t, 'ack', 'others may place');
  await second.stop();
});

test('X-Forwarded-For is believed only from a trusted proxy', async (t) => {
  for (const trusted of [true, false]) {
    const ts = await startTestServer({
      cooldownMs: 60_000,
      width: 10,
      height: 10,
      trustedProxies: parseIpRanges(trusted ? '127.0.0.1' : ''),
    });
    t.after(() => ts.dispose());
    // The proxy's own address places first and starts its cooldown.
    assert.equal((await postPixel(ts, { x: 1, y: 1, color: 1 })).status, 200);
    const viaProxy = (xff: string) =>
      httpRequest(`${ts.http}/api/pixel`, {
        method: 'POST',
        body: JSON.stringify({ x: 2, y: 2, color: 2 }),
        headers: { 'X-Forwarded-For': xff },
      });
    const res = await viaProxy('198.51.100.7');
    assert.equal(res.status, trusted ? 200 : 429, `trusted=${trusted}`);
  }
});

test('GET / hands a new visitor the identity cookie once; the WebSocket then uses that identity', async (t) => {
  const ts = await startTestServer({ width: 10, height: 10 });
  t.after(() => ts.dispose());
  const first = await httpRequest(`${ts.http}/`);
  assert.equal(first.status, 200);
  const setCookie = String(first.headers['set-cookie']);
  assert.match(setCookie, /^canvas_token=[0-9a-f]{16}\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax/);
  const token = (/canvas_token=([^;]+)/.exec(setCookie) as RegExpExecArray)[1] as string;
  const again = await httpRequest(`${ts.http}/`, { headers: { Cookie: `canvas_token=${token}` } });
  assert.equal(again.headers['set-cookie'], undefined, 'a valid cookie is kept, not replaced');
  const c = await TestClient.connect(ts.ws, { cookie: `canvas_token=${token}` });
  assert.equal((await c.nextOf('hello')).you, token.split('.')[0]);
  await c.close();
});

test('IPv4 clients of a dual-stack listener are keyed by their own IPv4 address', { skip: noIpv6 }, async (t) => {
  const ts = await startTestServer({ host: '::', cooldownMs: 60_000, width: 10, height: 10 });
  t.after(() => ts.dispose());
  assert.equal((await placeWs(ts, '127.0.0.2', (await newToken(ts)).token, 1, 1, 1)).t, 'ack');
  assert.equal(
    (await placeWs(ts, '127.0.0.3', (await newToken(ts)).token, 2, 2, 2)).t,
    'ack',
    'another IPv4 address has its own cooldown',
  );
  const sameAddress = await placeWs(ts, '127.0.0.2', (await newToken(ts)).token, 3, 3, 3);
  assert.equal(
    sameAddress.t === 'error' && sameAddress.code,
    ErrorCode.COOLDOWN,
    'two identities from one address share it',
  );
  assert.deepEqual(storedAddressKeys(ts), ['127.0.0.2/32', '127.0.0.3/32']);
});

test('a trusted proxy given as a CIDR range or an IPv6 address is believed on a dual-stack listener', {
  skip: noIpv6,
}, async (t) => {
  const ts = await startTestServer({
    host: '::',
    cooldownMs: 60_000,
    width: 10,
    height: 10,
    trustedProxies: parseIpRanges('127.0.0.0/30, ::1'),
  });
  t.after(() => ts.dispose());
  const viaProxy = (base: string, from: string, forwardedFor: string, x: number) =>
    httpRequest(`${base}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x, y: 0, color: 1 }),
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': forwardedFor },
      from,
    });
  const overIpv6 = `http://[::1]:${ts.server.port}`;
  assert.equal((await viaProxy(ts.http, '127.0.0.2', '198.51.100.7', 1)).status, 200);
  assert.equal(
    (await viaProxy(ts.http, '127.0.0.2', '198.51.100.8', 2)).status,
    200,
    'each forwarded client has its own cooldown',
  );
  assert.equal((await viaProxy(overIpv6, '::1', '198.51.100.9', 3)).status, 200);
  assert.equal((await viaProxy(ts.http, '127.0.0.5', '198.51.100.10', 4)).status, 200);
  const blocked = await viaProxy(ts.http, '127.0.0.5', '198.51.100.11', 5);
  assert.equal(blocked.status, 429, 'outside the range: keyed by the peer, whatever it forwards');
  assert.deepEqual(storedAddressKeys(ts), ['198.51.100.7/32', '198.51.100.8/32', '198.51.100.9/32', '127.0.0.5/32']);
});

test('an account token proves its account; the mark cannot be added, removed or moved to another id', () => {
  const issuer = new IdentityIssuer(Buffer.from('unit-secret'));
  const alice = issuer.account('https://id.example.com', 'alice');
  assert.match(alice.id, /^[0-9a-f]{16}$/);
  assert.deepEqual(issuer.verify(alice.token), { id: alice.id, account: true });
  assert.equal(issuer.account('https://id.example.com', 'alice').id, alice.id, 'derived: the same on every device');
  assert.notEqual(issuer.account('https://other.example.com', 'alice').id, alice.id, 'subjects are per issuer');
  assert.notEqual(
    new IdentityIssuer(Buffer.from('other-secret')).account('https://id.example.com', 'alice').id,
    alice.id,
  );
  const [, id, mac] = alice.token.split('.');
  assert.equal(issuer.verify(`${id}.${mac}`), undefined, 'mark removed');
  const anonymous = issuer.mint();
  assert.deepEqual(issuer.verify(anonymous.token), { id: anonymous.id, account: false });
  assert.equal(issuer.verify(`acct.${anonymous.token}`), undefined, 'mark added');
  assert.equal(issuer.verify(`acct.${anonymous.id}.${mac}`), undefined, 'signature of another id');
  assert.equal(issuer.known(alice.token)?.account, true);
  assert.equal(issuer.known(anonymous.token)?.account, undefined);
});

test('a bot token proves its bot; the mark cannot be added, removed or turned into an account', () => {
  const issuer = new IdentityIssuer(Buffer.from('unit-secret'));
  const id = '0123456789abcdef';
  const bot = issuer.bot(id);
  assert.deepEqual(issuer.verify(bot.token), { id, account: false, bot: true });
  assert.deepEqual(issuer.known(bot.token), { id, token: bot.token, fresh: false, bot: id });
  const mac = bot.token.split('.')[2];
  assert.equal(issuer.verify(`${id}.${mac}`), undefined, 'mark removed');
  assert.equal(issuer.verify(`acct.${id}.${mac}`), undefined, 'mark swapped for an account');
  const anonymous = issuer.mint();
  assert.equal(issuer.verify(`bot.${anonymous.token}`), undefined, 'mark added');
  assert.equal(new IdentityIssuer(Buffer.from('other-secret')).verify(bot.token), undefined, 'another secret');
});
