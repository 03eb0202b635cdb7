/**
 * The GET /image scenarios (perf/README.md, scenarios 2 and 3), both wrk rounds against servers
 * pinned to the server CPU, order rotating each round, figures the medians of the rounds, so a slow
 * spell on a shared host (seen: 3x swings between runs) skews no side:
 * - image: our server's cached PNG against a bare uWebSockets.js handler serving the same bytes with
 *   the same headers; each round yields one ratio, the result is their median;
 * - origin: our server (`cached`) against perf/baselines/encode-per-request-server.ts, the naive
 *   handler it replaced, encoding per request the in-memory grid (`grid`) or the canvas read from
 *   SQLite (`db`), each on its own copy of the filled database (taken after a clean shutdown, so the
 *   snapshot is current and `db` replays nothing). The slow modes encode on the event loop, so a few
 *   connections saturate them: they get fewer than `cached`.
 */
import type { BenchConfig } from '../config.ts';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuLimit } from '../cpu-limit.ts';
import { startBaseline, startOurServer, type ServerUnderTest } from '../server-process.ts';
import { bytesAtLevel } from '../png-idat.ts';
import { fetchImage } from '../server-checks.ts';
import { median } from '../stats.ts';
import { type WrkSide, wrkRounds } from '../load/wrk.ts';

export interface ImageResult {
  pngBytes: number;
  /** The same PNG with its scanlines deflated by node:zlib deflateSync at level 9 (the size reference). */
  level9Bytes: number;
  etag: string;
  threads: number;
  connections: number;
  seconds: number;
  ours: WrkSide;
  bare: WrkSide;
  /** Median of the rounds' ours / bare requests per second. */
  ratio: number;
  roundRatios: number[];
  /**
   * Median of the rounds' ours / bare requests per server CPU-second: the cost per request, which
   * other load on a shared host disturbs less than the rate (it equals the rate ratio when both
   * servers saturate their CPU).
   */
  cpuRatio: number;
  cpuRoundRatios: number[];
  /** Rounds in which a server used under 90% of its CPU (the rate was set by wrk or by the host). */
  unsaturatedRounds: number;
}

export async function runImageBench(
  ours: ServerUnderTest,
  limit: CpuLimit,
  tmpDir: string,
  c: BenchConfig,
  progress: (msg: string) => void,
): Promise<ImageResult> {
  const image = await fetchImage(`${ours.http}/image`);
  const pngPath = join(tmpDir, 'image.png');
  writeFileSync(pngPath, image.png);
  progress(`image: PNG is ${image.png.length.toLocaleString('en-US')} bytes; starting the bare uWS server`);
  const bare = await startBaseline(
    limit,
    'bare-image-server.ts',
    ['--png', pngPath, '--etag', image.etag, '--cache-control', image.cacheControl],
    '/image',
  );
  try {
    const check = await fetchImage(`${bare.http}/image`);
    if (!check.png.equals(image.png) || check.etag !== image.etag)
      throw new Error('bare server does not serve the same bytes and ETag');

    progress(`image: ${c.imageRounds} rounds of wrk -t${c.wrkThreads} -c${c.wrkConnections} -d${c.imageSeconds}s`);
    const target = (server: ServerUnderTest) => ({ ...server, pid: server.child.pid, connections: c.wrkConnections });
    const rounds = { rounds: c.imageRounds, seconds: c.imageSeconds, warmupSeconds: c.imageWarmupSeconds };
    const results = await wrkRounds(
      { ours: target(ours), bare: target(bare) },
      { ...rounds, threads: c.wrkThreads, cpu: c.loadCpu },
      (round, side, r, cpu) =>
        progress(
          `image: round ${round + 1}/${c.imageRounds}, ${side} ${Math.round(r.requestsPerSec).toLocaleString('en-US')} ` +
            `req/s, p99 ${r.latencyMs.p99.toFixed(2)} ms, server CPU ${Math.round(cpu * 100)}%, wrk CPU ${Math.round(r.cpuShare * 100)}%`,
        ),
    );
    const { ours: oursSide, bare: bareSide } = results;
    const rps = (side: WrkSide, i: number) => side.rounds[i]?.requestsPerSec ?? NaN;
    const perCpu = (side: WrkSide, i: number) => rps(side, i) / (side.cpuShare[i] ?? NaN);
    const roundRatios = oursSide.rounds.map((_, i) => rps(oursSide, i) / rps(bareSide, i));
    const cpuRoundRatios = oursSide.rounds.map((_, i) => perCpu(oursSide, i) / perCpu(bareSide, i));
    const unsaturatedRounds = oursSide.cpuShare.filter((x, i) => Math.min(x, bareSide.cpuShare[i] ?? 0) < 0.9).length;
    return {
      pngBytes: image.png.length,
      level9Bytes: bytesAtLevel(image.png, 9),
      etag: image.etag,
      threads: c.wrkThreads,
      connections: c.wrkConnections,
      seconds: c.imageSeconds,
      ours: oursSide,
      bare: bareSide,
      ratio: median(roundRatios),
      roundRatios,
      cpuRatio: median(cpuRoundRatios),
      cpuRoundRatios,
      unsaturatedRounds,
    };
  } finally {
    await bare.child.stop();
  }
}

export const ORIGIN_MODES = ['db', 'grid', 'cached'] as const;
export type OriginModeName = (typeof ORIGIN_MODES)[number];

export interface OriginResult {
  pngBytes: number;
  seconds: number;
  threads: number;
  modes: Record<OriginModeName, WrkSide>;
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
    const modes = await wrkRounds(
      { db: target('db'), grid: target('grid'), cached: target('cached') },
      { rounds: c.originRounds, seconds: c.originSeconds, warmupSeconds: 1, threads: c.wrkThreads, cpu: c.loadCpu },
      (round, mode, r, share) =>
        progress(
          `origin: round ${round + 1}/${c.originRounds}, ${mode} (-c${target(mode).connections}): ` +
            `${Math.round(r.requestsPerSec).toLocaleString('en-US')} req/s, p99 ${r.latencyMs.p99.toFixed(1)} ms, ` +
            `server CPU ${Math.round(share * 100)}%`,
        ),
    );
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
