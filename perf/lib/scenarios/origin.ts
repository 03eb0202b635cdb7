/**
 * The origin experiment: GET /image served three ways, side by side in one run:
 * - `db`:     every request reads the canvas from SQLite (latest snapshot + replay) and encodes it;
 * - `grid`:   every request encodes the in-memory grid (encode per request, nothing cached);
 * - `cached`: our server, serving the tick's PNG bytes.
 * `db` and `grid` are perf/baselines/encode-per-request-server.ts, the naive handler our server
 * replaced. Each runs in its own process on its own copy of the filled database (taken after a clean
 * shutdown, so the snapshot is current and `db` replays nothing), all limited to the server CPU.
 * Rounds rotate the order; figures are medians over rounds. The slow modes encode on the event loop,
 * so a few connections saturate them: they get fewer than `cached`.
 */
import type { BenchConfig } from '../config.ts';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuLimit } from '../cpu-limit.ts';
import { cpuSeconds } from '../../../testkit/processes.ts';
import { startBaseline, startOurServer, type ServerUnderTest } from '../server-process.ts';
import { median } from '../stats.ts';
import { runWrk, type WrkResult } from '../load/wrk.ts';

export const ORIGIN_MODES = ['db', 'grid', 'cached'] as const;
export type OriginModeName = (typeof ORIGIN_MODES)[number];

export interface OriginMode {
  mode: OriginModeName;
  connections: number;
  rounds: WrkResult[];
  /** Server CPU share per round (1 = its one CPU). */
  cpuShare: number[];
  requestsPerSec: number;
  /** Median over rounds of requests/s divided by the server's CPU share: requests per CPU-second. */
  perCpuSecond: number;
  latencyMs: { p50: number; p99: number };
}

export interface OriginResult {
  pngBytes: number;
  etag: string;
  seconds: number;
  threads: number;
  modes: Record<OriginModeName, OriginMode>;
  /** Ratios of median requests/s, and of median requests per CPU-second. */
  ratios: { cachedVsGrid: number; cachedVsDb: number; gridVsDb: number };
  cpuRatios: { cachedVsGrid: number; cachedVsDb: number; gridVsDb: number };
}

/** Copies a closed SQLite database (and its WAL, if one was left) to `to`. */
function copyDb(from: string, to: string): void {
  copyFileSync(from, to);
  for (const suffix of ['-wal', '-shm']) if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
}

async function fetchImage(url: string): Promise<{ png: Buffer; etag: string }> {
  const res = await fetch(url);
  if (res.status !== 200 || res.headers.get('content-type') !== 'image/png')
    throw new Error(`GET ${url}: ${res.status} ${res.headers.get('content-type')}`);
  return { png: Buffer.from(await res.arrayBuffer()), etag: res.headers.get('etag') ?? '' };
}

export async function runOriginBench(
  limit: CpuLimit,
  closedDbPath: string,
  tmpDir: string,
  c: BenchConfig,
  progress: (msg: string) => void,
): Promise<OriginResult> {
  const servers = new Map<OriginModeName, ServerUnderTest>();
  try {
    for (const mode of ORIGIN_MODES) {
      const db = join(tmpDir, `origin-${mode}.db`);
      copyDb(closedDbPath, db);
      progress(`origin: starting the ${mode} server`);
      servers.set(
        mode,
        mode === 'cached'
          ? await startOurServer(limit, db, { name: 'canvas server (cached)' })
          : await startBaseline(limit, 'encode-per-request-server.ts', ['--db', db, '--source', mode], '/image'),
      );
    }
    const get = (mode: OriginModeName) => servers.get(mode) as ServerUnderTest;
    const images = await Promise.all(ORIGIN_MODES.map((m) => fetchImage(`${get(m).http}/image`)));
    const [first] = images as [{ png: Buffer; etag: string }];
    // Same grid, same encoder settings: every mode must answer with the same bytes.
    if (!images.every((i) => i.png.equals(first.png)))
      throw new Error('origin: the three modes do not serve the same PNG bytes');
    const conns = (mode: OriginModeName) => (mode === 'cached' ? c.wrkConnections : c.originSlowConnections);
    const wrk = (mode: OriginModeName, seconds: number) =>
      runWrk({
        url: `${get(mode).http}/image`,
        threads: c.wrkThreads,
        connections: conns(mode),
        seconds,
        cpu: c.loadCpu,
      });

    for (const mode of ORIGIN_MODES) await wrk(mode, 1); // warm-up: JIT, page cache
    const rounds = { db: [] as WrkResult[], grid: [] as WrkResult[], cached: [] as WrkResult[] };
    const cpu = { db: [] as number[], grid: [] as number[], cached: [] as number[] };
    for (let round = 0; round < c.originRounds; round++) {
      const order = ORIGIN_MODES.map((_, i) => ORIGIN_MODES[(i + round) % ORIGIN_MODES.length] as OriginModeName);
      for (const mode of order) {
        const pid = get(mode).child.pid;
        const c0 = cpuSeconds(pid);
        const t0 = performance.now();
        const r = await wrk(mode, c.originSeconds);
        const share = (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
        if (r.non2xx3xx > 0 || r.requests === 0)
          throw new Error(`origin ${mode}: ${r.non2xx3xx} non-2xx/3xx of ${r.requests} responses`);
        rounds[mode].push(r);
        cpu[mode].push(share);
        progress(
          `origin: round ${round + 1}/${c.originRounds}, ${mode} (-c${conns(mode)}): ` +
            `${Math.round(r.requestsPerSec).toLocaleString('en-US')} req/s, p99 ${r.latencyMs.p99.toFixed(1)} ms, ` +
            `server CPU ${Math.round(share * 100)}%`,
        );
      }
    }
    const summary = (mode: OriginModeName): OriginMode => ({
      mode,
      connections: conns(mode),
      rounds: rounds[mode],
      cpuShare: cpu[mode],
      requestsPerSec: median(rounds[mode].map((r) => r.requestsPerSec)),
      perCpuSecond: median(rounds[mode].map((r, i) => r.requestsPerSec / (cpu[mode][i] as number))),
      latencyMs: {
        p50: median(rounds[mode].map((r) => r.latencyMs.p50)),
        p99: median(rounds[mode].map((r) => r.latencyMs.p99)),
      },
    });
    const modes = { db: summary('db'), grid: summary('grid'), cached: summary('cached') };
    const ratio = (k: 'requestsPerSec' | 'perCpuSecond') => ({
      cachedVsGrid: modes.cached[k] / modes.grid[k],
      cachedVsDb: modes.cached[k] / modes.db[k],
      gridVsDb: modes.grid[k] / modes.db[k],
    });
    return {
      pngBytes: first.png.length,
      etag: images[ORIGIN_MODES.indexOf('cached')]?.etag ?? '',
      seconds: c.originSeconds,
      threads: c.wrkThreads,
      modes,
      ratios: ratio('requestsPerSec'),
      cpuRatios: ratio('perCpuSecond'),
    };
  } finally {
    for (const s of servers.values()) await s.child.stop();
  }
}
