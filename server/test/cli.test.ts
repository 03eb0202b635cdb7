/** The server as a user runs it: a child process started like `npm start`, flags, env and signals. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloseCode } from '../../protocol/messages.ts';
import { parseIpRanges } from '../identity/client-address.ts';
import { configWith, loadConfig, OPTIONS, type Config } from '../config/config.ts';
import { OperatorError } from '../ops/operator-error.ts';
import { tempDir, TestClient } from '../../testkit/fixture.ts';
import { loopbackArgs, spawnServer, startServer, type ServerProcess } from '../../testkit/server-process.ts';

/** server/main.ts with these flags and environment, not waited for: most of these runs must fail. */
function run(args: string[], env: Record<string, string> = {}): ServerProcess {
  return spawnServer({ args, env });
}

function assertOneLineError(r: ServerProcess, pattern: RegExp): void {
  const lines = r.stderr().trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr()}`);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(r.stderr(), /\n\s+at /, 'no stack trace');
}

test('--help lists every option with its environment variable and default', async () => {
  const r = run(['--help']);
  assert.equal(await r.exited, 0);
  for (const spec of OPTIONS) {
    assert.ok(r.stdout().includes(`--${spec.flag}`), `--${spec.flag}`);
    assert.ok(r.stdout().includes(spec.env), spec.env);
    assert.ok(r.stdout().includes(`default ${spec.default}`), `default of ${spec.flag}`);
  }
});

test('a bad flag or environment value is named in a one-line error, exit 1', async () => {
  const flag = run(['--port', 'abc']);
  assert.equal(await flag.exited, 1);
  assertOneLineError(flag, /--port="abc" is not an integer/);
  const env = run([], { CANVAS_WIDTH: '0' });
  assert.equal(await env.exited, 1);
  assertOneLineError(env, /CANVAS_WIDTH=0 is out of range/);
  const unknown = run(['--colour', 'red']);
  assert.equal(await unknown.exited, 1);
  assertOneLineError(unknown, /colour/);
});

/** The config loadConfig builds from these flags and environment (throws OperatorError on bad values). */
function configOf(argv: string[], env: Record<string, string> = {}): Config {
  const loaded = loadConfig(argv, env);
  assert.equal(loaded.kind, 'config');
  return (loaded as { kind: 'config'; config: Config }).config;
}

test('an admin token that could never match a Bearer header is refused without echoing it', () => {
  for (const token of [
    'open sesame',
    'tab\there',
    'line\nbreak',
    'nul\u0000',
    'del\u007f',
    'caf\u00e9',
    'nbsp\u00a0x',
    ' leading',
  ]) {
    for (const [argv, env, source] of [
      [['--admin-token', token], {}, '--admin-token'],
      [[], { ADMIN_TOKEN: token }, 'ADMIN_TOKEN'],
    ] as const) {
      assert.throws(
        () => configOf([...argv], env),
        (err: Error) => err instanceof OperatorError && err.message.startsWith(source) && !err.message.includes(token),
        JSON.stringify(token),
      );
    }
  }
  assert.equal(configOf(['--admin-token', 'Abc-123._~+/=!$']).adminToken, 'Abc-123._~+/=!$');
  assert.equal(configOf([]).adminToken, '', 'empty still means the moderation API is off');
});

test('Redis URLs: redis:// or rediss:// with optional credentials; anything else is refused without echoing it', () => {
  const writer = (url: string) => configOf(['--role', 'writer', '--redis', url]);
  assert.equal(writer('redis://:s3cret@10.0.0.5:6379').redis, 'redis://:s3cret@10.0.0.5:6379');
  assert.equal(
    writer('rediss://canvas:s3cret@redis.internal:6380/0').redis,
    'rediss://canvas:s3cret@redis.internal:6380/0',
  );
  for (const bad of ['10.0.0.5:6379', 'http://:s3cret@10.0.0.5', 'redis:///s3cret', 'not a url s3cret']) {
    assert.throws(
      () => writer(bad),
      (err: Error) =>
        err instanceof OperatorError && err.message.startsWith('--redis') && !err.message.includes('s3cret'),
      bad,
    );
  }
});

test('--login needs an issuer, a client id and a public URL; the issuer is https except on loopback', () => {
  const login = (extra: string[]) => configOf(['--login', 'required', ...extra]);
  const full = [
    '--oidc-issuer',
    'https://id.example.com',
    '--oidc-client-id',
    'canvas',
    '--public-url',
    'https://canvas.example.com/',
  ];
  const ok = login([...full, '--oidc-client-secret', 's3cret']);
  assert.equal(ok.login, 'required');
  assert.equal(
    ok.publicUrl,
    'https://canvas.example.com',
    'no trailing slash: the redirect URI is <public-url>/auth/callback',
  );
  assert.equal(
    login(['--oidc-issuer', 'http://127.0.0.1:9000', '--oidc-client-id', 'c', '--public-url', 'http://127.0.0.1:8080'])
      .oidcIssuer,
    'http://127.0.0.1:9000',
  );
  const refused = (extra: string[], pattern: RegExp) =>
    assert.throws(
      () => login([...extra, '--oidc-client-secret', 's3cret']),
      (err: Error) => err instanceof OperatorError && pattern.test(err.message) && !err.message.includes('s3cret'),
      extra.join(' '),
    );
  refused([], /needs --oidc-issuer, --oidc-client-id, --public-url/);
  refused(['--oidc-issuer', 'https://id.example.com', '--oidc-client-id', 'canvas'], /needs --public-url/);
  refused([...full.slice(0, 0), '--oidc-issuer', 'http://id.example.com', ...full.slice(2)], /must be https/);
  refused([...full, '--oidc-scopes', 'profile email'], /must include openid/);
  refused([...full.slice(0, 4), '--public-url', 'canvas.example.com'], /--public-url/);
  assert.equal(configOf([]).login, 'off', 'off by default, and then nothing else is needed');
});

test('an admin token with a space stops startup with a one-line error naming ADMIN_TOKEN, not the token', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = run(['--host', '127.0.0.1', '--port', '0', '--db', join(dir, 'c.db')], { ADMIN_TOKEN: 'open sesame' });
  const started = await r.listening.then(
    () => true,
    () => false,
  );
  if (started) r.proc.kill('SIGTERM');
  assert.equal(started, false, 'the server must not start with a token no request can present');
  assert.equal(await r.exited, 1);
  assertOneLineError(r, /ADMIN_TOKEN must be printable ASCII without spaces/);
  assert.doesNotMatch(r.stderr(), /sesame/);
});

test('trusted proxies are parsed once into canonical addresses and ranges; a bad entry is named', async () => {
  const config = configOf(['--trusted-proxies', '10.0.0.0/8, FD00::/8,0000::0001,::ffff:192.0.2.1']);
  assert.deepEqual(config.trustedProxies, [
    { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
    { address: 'fd00::', prefix: 8, family: 'ipv6' },
    { address: '::1', prefix: 128, family: 'ipv6' },
    { address: '192.0.2.1', prefix: 32, family: 'ipv4' },
  ]);
  assert.ok(Object.isFrozen(config.trustedProxies));
  assert.deepEqual(
    configWith({ trustedProxies: config.trustedProxies }).trustedProxies,
    config.trustedProxies,
    'configWith round-trips',
  );
  assert.deepEqual(configWith({ trustedProxies: parseIpRanges('') }).trustedProxies, []);
  assert.throws(
    () => configOf([], { TRUSTED_PROXIES: '10.0.0.0/8,10.0.0.0/33' }),
    (err: Error) => err instanceof OperatorError && err.message.startsWith('TRUSTED_PROXIES: "10.0.0.0/33"'),
  );

  const r = run(['--trusted-proxies', '10.0.0.0/8,proxy.internal']);
  assert.equal(await r.exited, 1);
  assertOneLineError(r, /--trusted-proxies: "proxy\.internal" is not an IP address or CIDR range/);
});

test('allowed origins are normalised to lower case without a trailing slash; a bad one is named', () => {
  const config = configOf([
    '--allowed-origins',
    'HTTPS://Canvas.Example.com/, http://localhost:8080,https://a.example:443',
  ]);
  assert.deepEqual(config.allowedOrigins, ['https://canvas.example.com', 'http://localhost:8080', 'https://a.example']);
  assert.ok(Object.isFrozen(config.allowedOrigins));
  assert.deepEqual(
    configWith({ allowedOrigins: config.allowedOrigins }).allowedOrigins,
    config.allowedOrigins,
    'configWith round-trips',
  );
  assert.deepEqual(configOf([]).allowedOrigins, [], 'off by default');
  for (const bad of [
    'canvas.example.com',
    'https://canvas.example.com/play',
    'https://canvas.example.com?x',
    'https://u@canvas.example.com',
    'ftp://canvas.example.com',
    '*',
    'null',
  ]) {
    assert.throws(
      () => configOf([], { ALLOWED_ORIGINS: `https://ok.example,${bad}` }),
      (err: Error) => err instanceof OperatorError && err.message.startsWith(`ALLOWED_ORIGINS: "${bad}"`),
      bad,
    );
  }
});

test('the pure-JS uWS fallback is refused with a clear message', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = run(['--port', '0', '--db', join(dir, 'c.db')], { UWS_USE_FALLBACK: '1' });
  assert.equal(await r.exited, 1);
  assertOneLineError(
    r,
    /pure-JavaScript fallback.*Node 20 on glibc.*uNetworking\/uWebSockets\.js.*--allow-uws-fallback/,
  );
});

test('a port in use gives a one-line error and exit 1', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const port = (blocker.address() as { port: number }).port;
  const dir = tempDir();
  t.after(() => {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const r = run(['--host', '127.0.0.1', '--port', String(port), '--db', join(dir, 'c.db')]);
  assert.equal(await r.exited, 1);
  assertOneLineError(r, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
});

test('an unwritable database path gives a one-line error and exit 1', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notADir = join(dir, 'file');
  writeFileSync(notADir, 'x');
  const r = run(['--port', '0', '--db', join(notADir, 'canvas.db')]);
  assert.equal(await r.exited, 1);
  assertOneLineError(r, /cannot open database/);
});

test('SIGTERM: acks pending placements, closes sockets with 1001, exits 0; restart keeps them', async (t) => {
  const dir = tempDir();
  const args = loopbackArgs(join(dir, 'c.db'), { 'cooldown-ms': 0, 'commit-delay-ms': 200, width: 20, height: 20 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await startServer({ args });
  t.after(() => r.kill()); // if an assertion failed before it exited
  const c = await TestClient.connect(r.ws);
  await c.nextOf('png');
  for (let i = 0; i < 20; i++) c.send({ t: 'place', id: i, x: i, y: i, c: 1 + (i % 15) });
  // A placement outside the canvas is refused at once, and frames are handled in order: its error
  // means the 20 before it have arrived. The commit delay is long, so they are still queued when the
  // signal lands.
  c.send({ t: 'place', id: 20, x: 20, y: 0, c: 1 });
  await c.next((m) => m.t === 'error' && m.id === 20);
  r.proc.kill('SIGTERM');
  const closed = await c.closed;
  assert.equal(closed.code, CloseCode.GOING_AWAY);
  const acks = c.received.filter((m) => m.t === 'ack');
  assert.equal(acks.length, 20, 'every queued placement was flushed and acked before the close');
  assert.equal(await r.exited, 0);

  const again = await startServer({ args });
  t.after(() => again.kill());
  const health = (await (await fetch(`${again.http}/healthz`)).json()) as { seq: number };
  assert.equal(health.seq, 20);
  again.proc.kill('SIGINT');
  assert.equal(await again.exited, 0);
});
