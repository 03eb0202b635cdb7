/**
 * A real redis-server (Debian's package) for the tests and benchmarks of the writer/edge roles: on a
 * free loopback port, nothing kept on disk, stopped with the test. It can be SIGKILLed and started
 * again on the same port (the Redis-down scenarios); nothing here uses a system-wide Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Child, freePort, isExecutable, startChild } from './processes.ts';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface TestRedis {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly child: Child;
  /** SIGKILL and wait for the exit (everything in it is gone: it keeps nothing on disk). */
  kill(): Promise<void>;
  /** A fresh, empty redis-server on the same port. */
  restart(): Promise<TestRedis>;
  stop(): Promise<void>;
}

/** Sends PING until it answers PONG; rejects when the process exits or `timeoutMs` passes. */
async function waitForPong(port: number, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server exited before answering: ${child.stdout().slice(-1000)}`);
    const pong = await new Promise<boolean>((resolve) => {
      const sock = new Socket();
      sock.setTimeout(500, () => sock.destroy());
      sock.once('error', () => resolve(false));
      sock.once('close', () => resolve(false));
      sock.once('data', (d) => {
        // A Redis with requirepass answers an unauthenticated PING with NOAUTH: up all the same.
        resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()));
        sock.destroy();
      });
      sock.connect(port, '127.0.0.1', () => sock.write('PING\r\n'));
    });
    if (pong) return;
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
}

/**
 * `replicaOf`: the port of a primary on 127.0.0.1 this one replicates (edges may follow a replica).
 * `password`: started with `requirepass`; `url` then carries it (`redis://:PASSWORD@127.0.0.1:PORT`).
 * `args`: more redis-server arguments (e.g. a scaled-down `--client-output-buffer-limit`).
 */
export async function startRedis(
  port?: number,
  replicaOf?: number,
  password?: string,
  args: readonly string[] = [],
): Promise<TestRedis> {
  // No silent skip: the writer/edge tests need the real thing (.ci/run installs it).
  if (!isExecutable(REDIS_SERVER))
    throw new Error(`${REDIS_SERVER} not found: apt-get install redis-server (as .ci/run does)`);
  const p = port ?? (await freePort());
  // Its own empty directory: redis-server loads any dump.rdb in its --dir at startup, and a stale one
  // (another program's Redis in /tmp) would hand edges a canvas no writer of this test published.
  const dir = mkdtempSync(join(tmpdir(), 'test-redis-'));
  const child = startChild('redis-server', REDIS_SERVER, [
    '--port',
    String(p),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'warning',
    ...(replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)]),
    ...(password === undefined ? [] : ['--requirepass', password]),
    ...args,
  ]);
  void child.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  await waitForPong(p, child, 10_000);
  const redis: TestRedis = {
    port: p,
    url: password === undefined ? `redis://127.0.0.1:${p}` : `redis://:${password}@127.0.0.1:${p}`,
    child,
    async kill() {
      child.proc.kill('SIGKILL');
      await child.exited;
    },
    async restart() {
      await redis.kill();
      return startRedis(p, replicaOf, password, args);
    },
    async stop() {
      await child.stop(5000);
    },
  };
  return redis;
}
