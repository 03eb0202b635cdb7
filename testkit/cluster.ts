/**
 * The writer/edge deployment as an operator runs it, for tests, benchmarks and the reliability
 * suite: a real redis-server (testkit/redis.ts), one writer and any number of edges, each the real
 * CLI (server/main.ts) in its own process on loopback, so SIGKILL hits exactly one of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest } from './fixture.ts';
import { startRedis, type TestRedis } from './redis.ts';
import { type ServerProcessOptions, startServer, type StartedServer } from './server-process.ts';

/** Flags by name without dashes; `true` is a switch given alone (`--reuse-port`). */
export type Flags = Record<string, string | number | true>;

function flags(options: Flags): string[] {
  const out: string[] = [];
  for (const [flag, value] of Object.entries(options))
    out.push(`--${flag}`, ...(value === true ? [] : [String(value)]));
  return out;
}

/** Turns the command line into the one to run (taskset, prlimit: the benchmarks pin and widen). */
type Wrap = ServerProcessOptions['wrap'];

/** A writer storing in `db`, publishing to `redisUrl`; `options` by flag name without dashes. */
export function startWriter(redisUrl: string, db: string, options: Flags = {}, wrap?: Wrap): Promise<StartedServer> {
  return startServer({
    name: 'writer',
    ...(wrap ? { wrap } : {}),
    args: [
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--db',
      db,
      '--role',
      'writer',
      '--redis',
      redisUrl,
      ...flags(options),
    ],
  });
}

/** An edge following the writer through `redisUrl`; resolves once it serves the writer's canvas. */
export function startEdge(redisUrl: string, options: Flags = {}, wrap?: Wrap): Promise<StartedServer> {
  return startServer({
    name: 'edge',
    ...(wrap ? { wrap } : {}),
    args: ['--host', '127.0.0.1', '--port', '0', '--role', 'edge', '--redis', redisUrl, ...flags(options)],
  });
}

/** A Redis, one writer and one edge, on a temp database; `stop` ends them all and removes the files. */
export interface SmallCluster {
  redis: TestRedis;
  writer: StartedServer;
  edge: StartedServer;
  stop(): Promise<void>;
}

/**
 * The smallest writer/edge deployment: `common` flags go to both (tick, cooldown, admin token, ...),
 * `writerOnly` to the writer (the canvas size: an edge takes it from the writer).
 */
export async function startCluster(common: Flags = {}, writerOnly: Flags = {}): Promise<SmallCluster> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'canvas-cluster-'));
  const stopAll = async (servers: StartedServer[]) => {
    await Promise.all(servers.map((s) => s.stop()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  let writer: StartedServer | undefined;
  try {
    writer = await startWriter(redis.url, join(dir, 'canvas.db'), { ...common, ...writerOnly });
    const edge = await startEdge(redis.url, common);
    const started = writer;
    return { redis, writer, edge, stop: () => stopAll([edge, started]) };
  } catch (err) {
    await stopAll(writer ? [writer] : []);
    throw err;
  }
}

/** Two writers on one prefix (a leader and its standby) and an edge; `stop` ends them all and removes the files. */
export interface WriterPair {
  redis: TestRedis;
  /** Both writers: a test that restarts one puts the new process in its place, and `stop` ends it. */
  writers: StartedServer[];
  edge: StartedServer;
  stop(): Promise<void>;
}

/**
 * Two `--role writer` processes, each on its own database, started at once (they race for the
 * lease), and an edge, on a fresh redis-server.
 */
export async function startWriterPair(writerFlags: Flags, edgeFlags: Flags): Promise<WriterPair> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'canvas-pair-'));
  const writers: StartedServer[] = [];
  const servers: StartedServer[] = [];
  const stop = async () => {
    await Promise.all([...servers, ...writers].map((s) => s.stop()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writers.push(
      ...(await Promise.all([
        startWriter(redis.url, join(dir, 'a.db'), writerFlags),
        startWriter(redis.url, join(dir, 'b.db'), writerFlags),
      ])),
    );
    const edge = await startEdge(redis.url, edgeFlags);
    servers.push(edge);
    return { redis, writers, edge, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The pair's leader and standby, once exactly one leads and the other stands by (polled with `until`). */
export async function leaderAndStandby(
  writers: readonly StartedServer[],
  until: (what: string, check: () => Promise<boolean>) => Promise<void>,
): Promise<{ leader: StartedServer; standby: StartedServer }> {
  let found: { leader: StartedServer; standby: StartedServer } | undefined;
  await until('one leader and one standby', async () => {
    const roles = await Promise.all(writers.map(async (w) => String((await healthOf(w)).lease)));
    const i = roles.indexOf('leader');
    if (i < 0 || roles.filter((r) => r === 'leader').length !== 1 || !roles.includes('standby')) return false;
    found = { leader: writers[i] as StartedServer, standby: writers[1 - i] as StartedServer };
    return true;
  });
  return found as { leader: StartedServer; standby: StartedServer };
}

/** /healthz of one process, or {} while it cannot answer (a writer between its two listeners). */
export async function healthOf(server: StartedServer): Promise<Record<string, unknown>> {
  return (await httpRequest(`${server.http}/healthz`, { fresh: true }).catch(() => undefined))?.json() ?? {};
}

/**
 * A waiter for state another process reaches in its own time (a lease taken, a standby caught up):
 * polls `check` every 50 ms, failing with `what` after `timeoutMs`. Polled because these have no
 * event a test could await across processes.
 */
export function pollUntil(timeoutMs: number): (what: string, check: () => Promise<boolean>) => Promise<void> {
  return async (what, check) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await sleep(50);
    }
  };
}
