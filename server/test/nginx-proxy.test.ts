/**
 * Why the server needs a proxy in front of it, and proof that the one in deploy/nginx-canvas.conf
 * works: README.md, "Deployment".
 *
 * Direct: uWebSockets.js v20.30.0's HTTP parser never answers a request that is not HTTP/1.1 in
 * origin form with CRLF line ends and a Host header; no route runs, nothing is written.
 * Through nginx: Debian's nginx (/usr/sbin/nginx, or NGINX_PATH) runs that file on a loopback port,
 * started and stopped here. Without nginx these tests fail, unless SKIP_NGINX_TESTS=1 skips them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, type AckMsg, type ErrorMsg } from '../../protocol/messages.ts';
import { loadConfig } from '../config/config.ts';
import { startTestServer, TestClient, type TestServer, httpRequest } from '../../testkit/fixture.ts';
import { CLIENT_DIST, loadClientSite } from '../http/static-files.ts';
import { freePort, isExecutable } from '../../testkit/processes.ts';

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
const TEMPLATE = new URL('../../deploy/nginx-canvas.conf', import.meta.url);

const nginxMissing = !isExecutable(NGINX);
const skipNginx =
  nginxMissing && process.env.SKIP_NGINX_TESTS === '1' ? `no nginx at ${NGINX} (SKIP_NGINX_TESTS=1)` : false;

/**
 * More than uWS v20.30.0 buffers of an unfinished request head (4 KiB): the server closes the
 * connection as soon as it has read this, instead of after its idle timeout (8 to 12 s).
 */
const FILLER = 'x'.repeat(8192);

/**
 * Sends `request` on a new connection and returns every byte the peer sends until it closes.
 * `fill` sends FILLER after the request (after the first answer bytes when `fill` is 'after-answer').
 */
function exchange(port: number, request: string, fill: 'no' | 'now' | 'after-answer' = 'no'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(request);
      if (fill === 'now') socket.write(FILLER);
    });
    socket.on('data', (d: Buffer) => {
      if (fill === 'after-answer' && chunks.length === 0) socket.write(FILLER);
      chunks.push(d);
    });
    // The peer may close while FILLER is still being written: what it sent before is the result.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** `n` header lines a browser extension or a chain of proxies might add. */
const manyHeaders = (n: number): string => Array.from({ length: n }, (_, i) => `X-Extra-${i}: ${i}\r\n`).join('');

/** Status code and body of one raw HTTP/1.x response. */
function parseResponse(raw: Buffer): { status: number; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, `not an HTTP response: ${JSON.stringify(raw.subarray(0, 200).toString('latin1'))}`);
  const statusLine = raw.subarray(0, raw.indexOf('\r\n')).toString('latin1');
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]), body: raw.subarray(end + 4) };
}

describe('uWebSockets.js v20.30.0 alone: requests its parser does not accept get no answer', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ width: 16, height: 16 });
  });
  after(() => ts.dispose());

  test('an HTTP/1.1 request with Host is answered (the control)', async () => {
    const raw = await exchange(ts.server.port, 'GET /image HTTP/1.1\r\nHost: canvas\r\n\r\n', 'after-answer');
    assert.equal(parseResponse(raw).status, 200);
  });

  // No route runs for any of these (the catch-all would answer 404) and nothing is written. Most are
  // held as the start of a request head still arriving, until the idle timeout or FILLER; a Host-less
  // HTTP/1.1 request with other headers is dropped at once.
  const ignored: Record<string, string> = {
    'HTTP/1.0 without Host': 'GET /image HTTP/1.0\r\n\r\n',
    'HTTP/1.0 with Host': 'GET /image HTTP/1.0\r\nHost: canvas\r\n\r\n',
    'HTTP/1.1 without any header': 'GET /image HTTP/1.1\r\n\r\n',
    'HTTP/1.1 without Host, with other headers': 'GET /image HTTP/1.1\r\nUser-Agent: probe\r\n\r\n',
    'an absolute-URI request target': 'GET http://canvas/image HTTP/1.1\r\nHost: canvas\r\n\r\n',
    'LF-only line ends': 'GET /image HTTP/1.1\nHost: canvas\n\n',
    'a valid request pipelined after an HTTP/1.0 one':
      'GET /image HTTP/1.0\r\n\r\nGET /image HTTP/1.1\r\nHost: canvas\r\n\r\n',
    '49 header lines': `GET /image HTTP/1.1\r\nHost: canvas\r\n${manyHeaders(48)}\r\n`,
  };
  for (const [name, request] of Object.entries(ignored)) {
    test(`${name}: not a byte in answer, the connection is closed`, async () => {
      assert.equal((await exchange(ts.server.port, request, 'now')).toString('latin1'), '');
    });
  }
});

interface Nginx {
  port: number;
  stop(): Promise<void>;
}

/** Runs deploy/nginx-canvas.conf in front of `upstreamPort` with everything nginx writes in a temp dir. */
async function startNginx(upstreamPort: number): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'canvas-nginx-'));
  // As root nginx's workers run as nobody: they must reach the temp paths inside.
  chmodSync(dir, 0o755);
  const port = await freePort(); // the OS picks it; nginx binds it a moment later
  const site = readFileSync(TEMPLATE, 'utf8')
    .replaceAll('__LISTEN__', `127.0.0.1:${port}`)
    .replaceAll('__SERVER_NAME__', 'localhost')
    .replaceAll('__UPSTREAM__', `127.0.0.1:${upstreamPort}`);
  assert.doesNotMatch(site, /__[A-Z_]+__/, 'every placeholder of deploy/nginx-canvas.conf is filled');
  writeFileSync(join(dir, 'canvas.conf'), site);
  const errorLog = join(dir, 'error.log');
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `error_log ${errorLog} warn;`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(dir, k)};`),
      `  include ${join(dir, 'canvas.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const pidFile = join(dir, 'nginx.pid');
  const stderrFile = join(dir, 'stderr.log');
  // nginx writes its pid file after it has bound its listening sockets: the moment it accepts.
  const watcher = watch(dir);
  // stderr to a file, not a pipe: no handle of ours keeps this process alive (see below).
  const stderrFd = openSync(stderrFile, 'w');
  const proc: ChildProcess = spawn(
    NGINX,
    ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', errorLog, '-g', `daemon off; pid ${pidFile};`],
    { stdio: ['ignore', 'ignore', stderrFd] },
  );
  closeSync(stderrFd);
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  // When the suite's `after` hook does not run (Node 20 skips it when --test-name-pattern filters out
  // every test of the suite, and an aborted run skips it too), nginx must neither keep the test
  // process alive nor outlive it.
  proc.unref();
  const killOnExit = () => {
    proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    watcher.close();
    process.off('exit', killOnExit);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.ref(); // keep the process alive until nginx has gone
      proc.kill('SIGTERM'); // fast shutdown: open WebSockets do not hold it up
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => existsSync(pidFile) && resolve();
      watcher.on('change', check);
      check();
      proc.once('error', reject);
      void exited.then(() => {
        const logs = [stderrFile, errorLog].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('');
        reject(new Error(`nginx exited before listening: ${logs}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  watcher.close();
  return { port, stop };
}

/** A Config value exactly as the CLI parses `--trusted-proxies <list>`. */
function trustedProxies(list: string) {
  const loaded = loadConfig(['--trusted-proxies', list], {});
  assert.equal(loaded.kind, 'config');
  return loaded.config.trustedProxies;
}

describe('behind nginx with deploy/nginx-canvas.conf', { skip: skipNginx }, () => {
  let ts: TestServer;
  let nginx: Nginx;
  let proxied: string;
  before(async () => {
    if (nginxMissing) {
      throw new Error(
        `no nginx at ${NGINX}: apt-get install nginx (.ci/run does), set NGINX_PATH, or set SKIP_NGINX_TESTS=1 to skip`,
      );
    }
    // The cooldown makes the client address visible: two clients share one only if they share an address.
    ts = await startTestServer({
      width: 16,
      height: 16,
      cooldownMs: 60_000,
      trustedProxies: trustedProxies('127.0.0.1'),
    });
    nginx = await startNginx(ts.server.port);
    proxied = `http://127.0.0.1:${nginx.port}`;
  });
  after(async () => {
    await nginx?.stop();
    await ts?.dispose();
  });

  test('GET /image through nginx returns the same bytes and ETag as the server', async () => {
    const direct = await fetch(`${ts.http}/image`);
    const viaNginx = await fetch(`${proxied}/image`);
    assert.equal(viaNginx.status, 200);
    assert.equal(viaNginx.headers.get('content-type'), 'image/png');
    assert.equal(viaNginx.headers.get('etag'), direct.headers.get('etag'));
    assert.ok(Buffer.from(await viaNginx.arrayBuffer()).equals(Buffer.from(await direct.arrayBuffer())));
  });

  test('a conditional GET /image through nginx answers 304', async () => {
    const etag = (await fetch(`${proxied}/image`, { method: 'HEAD' })).headers.get('etag') ?? '';
    const res = await fetch(`${proxied}/image`, { headers: { 'If-None-Match': etag } });
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('etag'), etag);
  });

  test('the client page through nginx comes brotli-compressed when the browser accepts it', async () => {
    // Same bytes, same process: resolves once the server's compressed variants are ready.
    const read = (name: string) => readFileSync(new URL(`../../client/${name}`, import.meta.url));
    await loadClientSite(read('index.html'), CLIENT_DIST, read('mod.html')).compressed;
    const res = await httpRequest(`${proxied}/`, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'br', 'nginx forwards Accept-Encoding');
    assert.equal(res.headers.vary, 'Accept-Encoding');
  });

  test('a WebSocket through nginx gets hello and the PNG, and its placement is acked', async () => {
    const client = await TestClient.connect(`ws://127.0.0.1:${nginx.port}/ws`);
    try {
      assert.equal((await client.nextOf('hello')).width, 16);
      await client.nextOf('png');
      client.send({ t: 'place', id: 7, x: 3, y: 4, c: 5 });
      const ack = await client.nextOf('ack');
      assert.equal(ack.id, 7);
      assert.equal(
        (await client.pngAtLeast(ack.seq)).seq,
        ack.seq,
        'the tick brings the placement over the same socket',
      );
    } finally {
      await client.close();
    }
  });

  for (const [name, request] of [
    ['without Host', 'GET /image HTTP/1.0\r\n\r\n'],
    ['with Host', 'GET /image HTTP/1.0\r\nHost: canvas.example\r\n\r\n'],
  ] as const) {
    test(`an HTTP/1.0 request ${name} through nginx gets the PNG (nginx asks the server in HTTP/1.1)`, async () => {
      const res = parseResponse(await exchange(nginx.port, request));
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(Buffer.from(await (await fetch(`${ts.http}/image`)).arrayBuffer())));
    });
  }

  test('nginx answers the request shapes the server ignores', async () => {
    const statusOf = async (request: string) => parseResponse(await exchange(nginx.port, request)).status;
    assert.equal(
      await statusOf(`GET /image HTTP/1.1\r\nHost: x\r\n${manyHeaders(60)}Connection: close\r\n\r\n`),
      200,
      '60 extra header lines: only the ones the server reads go upstream',
    );
    assert.equal(
      await statusOf('GET http://canvas.example/image HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      200,
      'absolute-URI',
    );
    assert.equal(await statusOf('GET /image HTTP/1.1\nHost: x\nConnection: close\n\n'), 200, 'LF-only line ends');
    assert.equal(
      await statusOf('GET /image HTTP/1.1\r\nConnection: close\r\n\r\n'),
      400,
      'HTTP/1.1 without Host: refused by nginx',
    );
  });

  test('a JSON POST through nginx keeps its body and cookie: a session, then a placement with it', async () => {
    const session = await fetch(`http://127.0.0.1:${nginx.port}/api/session`, { method: 'POST' });
    assert.equal(session.status, 200);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { id } = (await session.json()) as { id: string };
    const placed = await fetch(`http://127.0.0.1:${nginx.port}/api/pixel`, {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/json', 'X-Forwarded-For': '192.0.2.9' },
      body: JSON.stringify({ x: 5, y: 5, color: 2 }),
    });
    assert.equal(placed.status, 200, await placed.clone().text());
    const pixel = (await (await fetch(`${ts.http}/api/pixel?x=5&y=5`)).json()) as { who: string; color: number };
    assert.deepEqual([pixel.who, pixel.color], [id, 2], 'placed by the identity of the forwarded cookie');
  });

  test('each client keeps its own address behind nginx (X-Forwarded-For from a trusted proxy)', async () => {
    const place = async (from: string, x: number): Promise<AckMsg | ErrorMsg> => {
      const client = await TestClient.connect(`ws://127.0.0.1:${nginx.port}/ws`, { from });
      try {
        client.send({ t: 'place', id: 1, x, y: 0, c: 1 });
        return await client.next<AckMsg | ErrorMsg>((m) => m.t === 'ack' || m.t === 'error');
      } finally {
        await client.close();
      }
    };
    // Every connection is a fresh identity: only the address cooldown can refuse the second one.
    assert.equal((await place('127.0.0.2', 0)).t, 'ack');
    const again = await place('127.0.0.2', 1);
    assert.equal(again.t === 'error' && again.code, ErrorCode.COOLDOWN, 'same address, new identity: cooldown');
    assert.equal((await place('127.0.0.3', 2)).t, 'ack', 'another address behind the same proxy places');
  });
});
