/**
 * GET /image scenario: wrk against our server's cached PNG and against a bare uWebSockets.js handler
 * serving the same bytes with the same headers, both pinned to the server CPU. Each round measures
 * both, back to back, in alternating order (ours-bare, bare-ours, ...), and yields one ratio; the
 * result is the median of the rounds' ratios, so a slow spell on a shared host (seen: 3x swings
 * between runs) skews neither side.
 */
import type { BenchConfig } from '../config.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuLimit } from '../cpu-limit.ts';
import { startBaseline, type ServerUnderTest } from '../server-process.ts';
import { bytesAtLevel } from '../png-idat.ts';
import { fetchImage } from '../server-checks.ts';
import { median } from '../stats.ts';
import { type WrkResult, type WrkSeries, wrkRounds } from '../load/wrk.ts';

export interface ImageSide {
  rounds: WrkResult[];
  /** Server CPU during each round as a share of one CPU (1 = the limit). */
  cpuShare: number[];
  /** wrk's CPU during each round as a share of one CPU. */
  wrkCpuShare: number[];
  requestsPerSec: number;
  latencyMs: WrkResult['latencyMs'];
}

export interface ImageResult {
  pngBytes: number;
  /** The same PNG with its scanlines deflated by node:zlib deflateSync at level 9 (the size reference). */
  level9Bytes: number;
  etag: string;
  threads: number;
  connections: number;
  seconds: number;
  ours: ImageSide;
  bare: ImageSide;
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

function summarize({ runs: rounds, cpu: cpuShare }: WrkSeries): ImageSide {
  const lat = (k: keyof WrkResult['latencyMs']) => median(rounds.map((r) => r.latencyMs[k]));
  return {
    rounds,
    cpuShare,
    wrkCpuShare: rounds.map((r) => r.cpuShare),
    requestsPerSec: median(rounds.map((r) => r.requestsPerSec)),
    latencyMs: {
      avg: lat('avg'),
      p50: lat('p50'),
      p75: lat('p75'),
      p90: lat('p90'),
      p99: lat('p99'),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
  };
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
    const oursSide = summarize(results.ours);
    const bareSide = summarize(results.bare);
    const at = (xs: readonly number[], i: number) => xs[i] as number;
    const roundRatios = oursSide.rounds.map(
      (r, i) =>
        r.requestsPerSec /
        at(
          bareSide.rounds.map((x) => x.requestsPerSec),
          i,
        ),
    );
    const perCpu = (side: ImageSide, i: number) =>
      at(
        side.rounds.map((x) => x.requestsPerSec),
        i,
      ) / at(side.cpuShare, i);
    const cpuRoundRatios = oursSide.rounds.map((_, i) => perCpu(oursSide, i) / perCpu(bareSide, i));
    const unsaturatedRounds = oursSide.cpuShare.filter((x, i) => x < 0.9 || at(bareSide.cpuShare, i) < 0.9).length;
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
