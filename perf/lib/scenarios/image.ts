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
import { cpuSeconds } from '../../../testkit/processes.ts';
import { startBaseline, type ServerUnderTest } from '../server-process.ts';
import { bytesAtLevel } from '../png-idat.ts';
import { median } from '../stats.ts';
import { runWrk, type WrkResult } from '../load/wrk.ts';

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

function summarize(rounds: WrkResult[], cpuShare: number[]): ImageSide {
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

/** Fetches our /image; the bytes and headers the bare server will reproduce. */
async function fetchImage(url: string): Promise<{ png: Buffer; etag: string; cacheControl: string }> {
  const res = await fetch(url);
  if (res.status !== 200 || res.headers.get('content-type') !== 'image/png') {
    throw new Error(`GET ${url}: ${res.status} ${res.headers.get('content-type')}`);
  }
  return {
    png: Buffer.from(await res.arrayBuffer()),
    etag: res.headers.get('etag') ?? '"none"',
    cacheControl: res.headers.get('cache-control') ?? 'public, max-age=1',
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

    const sides = { ours, bare };
    const wrk = (side: keyof typeof sides, seconds: number) =>
      runWrk({
        url: `${sides[side].http}/image`,
        threads: c.wrkThreads,
        connections: c.wrkConnections,
        seconds,
        cpu: c.loadCpu,
      });
    if (c.imageWarmupSeconds > 0) {
      for (const side of ['ours', 'bare'] as const) {
        progress(`image: warm-up ${side} (${c.imageWarmupSeconds} s)`);
        await wrk(side, c.imageWarmupSeconds);
      }
    }
    const results = { ours: [] as WrkResult[], bare: [] as WrkResult[] };
    const cpu = { ours: [] as number[], bare: [] as number[] };
    for (let round = 0; round < c.imageRounds; round++) {
      const order = round % 2 === 0 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const);
      for (const side of order) {
        progress(
          `image: round ${round + 1}/${c.imageRounds}, ${side}: ` +
            `wrk -t${c.wrkThreads} -c${c.wrkConnections} -d${c.imageSeconds}s`,
        );
        const pid = sides[side].child.pid;
        const c0 = cpuSeconds(pid);
        const t0 = performance.now();
        const r = await wrk(side, c.imageSeconds);
        cpu[side].push((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000));
        if (r.non2xx3xx > 0) throw new Error(`${side}: ${r.non2xx3xx} non-2xx/3xx responses`);
        results[side].push(r);
        const serverCpu = Math.round((cpu[side].at(-1) ?? NaN) * 100);
        progress(
          `image: ${side} ${Math.round(r.requestsPerSec).toLocaleString('en-US')} req/s, ` +
            `p99 ${r.latencyMs.p99.toFixed(2)} ms, server CPU ${serverCpu}%, wrk CPU ${Math.round(r.cpuShare * 100)}%`,
        );
      }
    }
    const oursSide = summarize(results.ours, cpu.ours);
    const bareSide = summarize(results.bare, cpu.bare);
    const roundRatios = results.ours.map((r, i) => r.requestsPerSec / (results.bare[i] as WrkResult).requestsPerSec);
    const perCpu = (side: 'ours' | 'bare', i: number) =>
      (results[side][i] as WrkResult).requestsPerSec / (cpu[side][i] as number);
    const cpuRoundRatios = results.ours.map((_, i) => perCpu('ours', i) / perCpu('bare', i));
    const unsaturatedRounds = cpu.ours.filter((c, i) => c < 0.9 || (cpu.bare[i] as number) < 0.9).length;
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
