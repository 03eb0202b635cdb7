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
import { startBaseline, startOurServer, type ServerUnderTest } from '../server-process.ts';
import { fetchImage } from '../server-checks.ts';
import { median } from '../stats.ts';
import { type WrkResult, wrkRounds } from '../load/wrk.ts';

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
    const first = images[0] as { png: Buffer };
    // Same grid, same encoder settings: every mode must answer with the same bytes.
    if (!images.every((i) => i.png.equals(first.png)))
      throw new Error('origin: the three modes do not serve the same PNG bytes');
    const target = (mode: OriginModeName) => {
      const server = get(mode);
      return {
        http: server.http,
        pid: server.child.pid,
        connections: mode === 'cached' ? c.wrkConnections : c.originSlowConnections,
      };
    };
    const series = await wrkRounds(
      { db: target('db'), grid: target('grid'), cached: target('cached') },
      { rounds: c.originRounds, seconds: c.originSeconds, warmupSeconds: 1, threads: c.wrkThreads, cpu: c.loadCpu },
      (round, mode, r, share) =>
        progress(
          `origin: round ${round + 1}/${c.originRounds}, ${mode} (-c${target(mode).connections}): ` +
            `${Math.round(r.requestsPerSec).toLocaleString('en-US')} req/s, p99 ${r.latencyMs.p99.toFixed(1)} ms, ` +
            `server CPU ${Math.round(share * 100)}%`,
        ),
    );
    const summary = (mode: OriginModeName): OriginMode => {
      const { runs, cpu } = series[mode];
      return {
        mode,
        connections: target(mode).connections,
        rounds: runs,
        cpuShare: cpu,
        requestsPerSec: median(runs.map((r) => r.requestsPerSec)),
        perCpuSecond: median(runs.map((r, i) => r.requestsPerSec / (cpu[i] as number))),
        latencyMs: { p50: median(runs.map((r) => r.latencyMs.p50)), p99: median(runs.map((r) => r.latencyMs.p99)) },
      };
    };
    const modes = { db: summary('db'), grid: summary('grid'), cached: summary('cached') };
    const ratio = (k: 'requestsPerSec' | 'perCpuSecond') => ({
      cachedVsGrid: modes.cached[k] / modes.grid[k],
      cachedVsDb: modes.cached[k] / modes.db[k],
      gridVsDb: modes.grid[k] / modes.db[k],
    });
    return {
      pngBytes: first.png.length,
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
