/**
 * The WebSocket scenarios of `npm run bench`, on our server after the fill (a realistic PNG):
 * - streams: PNG and delta streams with N subscribers at each placement rate (bytes per client per
 *   tick, server CPU per tick, delivery, event-loop delay during ticks from /metrics);
 * - fan-out: rounds of (baseline, PNG, bare) at a low placement rate: our server with one delta
 *   subscriber (the tick without fan-out), with N PNG subscribers, and perf/baselines/bare-publish-server.ts
 *   publishing the same PNG bytes to N subscribers. The low rate keeps the placements' own cost
 *   (commits, WAL checkpoints: they swing by +-20 ms per tick between runs at 1,000 px/s) out of the
 *   difference that is the fan-out;
 * - many: 10,000 subscribers on one process, for the RSS budget.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuLimit } from '../cpu-limit.ts';
import { startBaseline, type ServerUnderTest } from '../server-process.ts';
import { median } from '../stats.ts';
import { runWsScenario, type WsRun, type WsRunSpec } from './ws.ts';

/** The server's default --tick-ms (the harness does not change it). */
export const TICK_MS = 1000;

export interface WsOptions {
  subscribers: number;
  rates: readonly number[];
  /** The rate of the delta budget (1,000 px/s; docs/ARCHITECTURE.md); its runs also give the loop-delay budget. */
  budgetRate: number;
  /** Placement rate of the fan-out rounds: enough to change every tick, little else. */
  fanoutRate: number;
  fanoutRounds: number;
  seconds: number;
  warmupSeconds: number;
  loadCpu: number;
}

export interface FanoutRound {
  baseline: WsRun;
  png: WsRun;
  bare: WsRun;
  /** Server CPU per tick spent on the PNG fan-out: PNG run minus baseline; bare as measured. */
  oursMsPerTick: number;
  bareMsPerTick: number;
  /** Per delivered frame (one subscriber, one tick), in microseconds. */
  oursUsPerFrame: number;
  bareUsPerFrame: number;
  /** Per delivered byte, in nanoseconds (the two PNG messages differ by a few bytes). */
  oursNsPerByte: number;
  bareNsPerByte: number;
  /** ours / bare per delivered byte. */
  ratio: number;
}

export interface StreamsResult {
  runs: WsRun[];
  budgetRate: number;
  fanout: FanoutRound[];
  fanoutRate: number;
  barePngBytes: number;
  /** Median of the rounds' ratios: the budget figure (<= 1.1). */
  fanoutRatio: number;
  /** PNG bytes per client per tick / delta bytes, per placement rate. */
  deltaRatios: { rate: number; png: number; delta: number; ratio: number }[];
}

export const bytesPerFrame = (r: WsRun) => (r.swarm.frames ? r.swarm.bytes / r.swarm.frames : NaN);
const framesPerTick = (r: WsRun) => (r.swarm.ticks ? r.swarm.frames / r.swarm.ticks : NaN);
const fmtRate = (rate: number) => `${rate.toLocaleString('en-US')} px/s`;

function spec(opts: WsOptions, over: Partial<WsRunSpec> & Pick<WsRunSpec, 'label' | 'stream' | 'rate'>): WsRunSpec {
  return {
    target: 'ours',
    subscribers: opts.subscribers,
    seconds: opts.seconds,
    warmupSeconds: opts.warmupSeconds,
    tickMs: TICK_MS,
    connectConcurrency: 200,
    ...over,
  };
}

function fanoutRound(baseline: WsRun, png: WsRun, bare: WsRun): FanoutRound {
  const oursMsPerTick = png.cpuMsPerTick - baseline.cpuMsPerTick;
  const bareMsPerTick = bare.cpuMsPerTick;
  const oursUsPerFrame = (oursMsPerTick * 1000) / framesPerTick(png);
  const bareUsPerFrame = (bareMsPerTick * 1000) / framesPerTick(bare);
  const oursNsPerByte = (oursUsPerFrame * 1000) / bytesPerFrame(png);
  const bareNsPerByte = (bareUsPerFrame * 1000) / bytesPerFrame(bare);
  return {
    baseline,
    png,
    bare,
    oursMsPerTick,
    bareMsPerTick,
    oursUsPerFrame,
    bareUsPerFrame,
    oursNsPerByte,
    bareNsPerByte,
    ratio: oursNsPerByte / bareNsPerByte,
  };
}

export async function runStreamScenarios(
  server: ServerUnderTest,
  limit: CpuLimit,
  tmpDir: string,
  opts: WsOptions,
  progress: (msg: string) => void,
): Promise<StreamsResult> {
  const run = (s: WsRunSpec, target: ServerUnderTest = server) =>
    runWsScenario(target, limit, s, opts.loadCpu, progress);
  const runs: WsRun[] = [];
  // PNG and delta back to back per rate, so each pair sees the same canvas (it grows with every run).
  for (const rate of opts.rates) {
    for (const stream of ['png', 'delta'] as const)
      runs.push(await run(spec(opts, { label: `${stream}, ${fmtRate(rate)}`, stream, rate })));
  }

  // The bytes our subscribers just received: the current /image is the latest tick's PNG.
  const png = Buffer.from(await (await fetch(`${server.http}/image`)).arrayBuffer());
  const pngPath = join(tmpDir, 'fanout.png');
  writeFileSync(pngPath, png);
  progress(
    'ws fan-out: starting the bare uWS publish server ' +
      `with the current PNG (${png.length.toLocaleString('en-US')} bytes)`,
  );
  const bareServer = await startBaseline(
    limit,
    'bare-publish-server.ts',
    ['--png', pngPath, '--tick-ms', String(TICK_MS)],
    '/healthz',
    opts.subscribers + 1024,
  );
  const fanout: FanoutRound[] = [];
  try {
    for (let round = 0; round < opts.fanoutRounds; round++) {
      const tag = `fan-out ${round + 1}/${opts.fanoutRounds}`;
      const baseline = await run(
        spec(opts, {
          label: `${tag}: baseline, ${fmtRate(opts.fanoutRate)}`,
          stream: 'delta',
          rate: opts.fanoutRate,
          subscribers: 1,
        }),
      );
      const ours = await run(
        spec(opts, { label: `${tag}: png, ${fmtRate(opts.fanoutRate)}`, stream: 'png', rate: opts.fanoutRate }),
      );
      const bare = await run(
        spec(opts, { label: `${tag}: png, same bytes`, stream: 'png', rate: 0, target: 'bare' }),
        bareServer,
      );
      fanout.push(fanoutRound(baseline, ours, bare));
      const last = fanout.at(-1) as FanoutRound;
      progress(
        `ws ${tag}: ours ${last.oursNsPerByte.toFixed(3)} ns/byte, bare ${last.bareNsPerByte.toFixed(3)} ns/byte`,
      );
    }
  } finally {
    await bareServer.child.stop();
  }

  const deltaRatios = opts.rates.flatMap((rate) => {
    const p = runs.find((r) => r.spec.stream === 'png' && r.spec.rate === rate);
    const d = runs.find((r) => r.spec.stream === 'delta' && r.spec.rate === rate);
    return p && d
      ? [{ rate, png: bytesPerFrame(p), delta: bytesPerFrame(d), ratio: bytesPerFrame(p) / bytesPerFrame(d) }]
      : [];
  });
  return {
    runs,
    budgetRate: opts.budgetRate,
    fanout,
    fanoutRate: opts.fanoutRate,
    barePngBytes: png.length,
    fanoutRatio: median(fanout.map((f) => f.ratio)),
    deltaRatios,
  };
}

export interface ManyOptions {
  subscribers: number;
  rate: number;
  seconds: number;
  loadCpu: number;
}

export interface ManyResult {
  ours: WsRun;
  /** The bare uWS app sending the same PNG message to as many sockets on connect, then nothing. */
  bare: WsRun | undefined;
  pngBytes: number;
}

/**
 * Many subscribers on the delta stream (the browser client's default) with placements flowing, then
 * the same number on the bare uWS app that only sends the same PNG message on connect: the share of
 * the RSS that uWebSockets.js itself keeps per socket after sending it.
 */
export async function runManySubscribers(
  server: ServerUnderTest,
  limit: CpuLimit,
  tmpDir: string,
  opts: ManyOptions,
  progress: (msg: string) => void,
): Promise<ManyResult> {
  const s: WsRunSpec = {
    label: `delta, ${fmtRate(opts.rate)}`,
    target: 'ours',
    stream: 'delta',
    subscribers: opts.subscribers,
    rate: opts.rate,
    seconds: opts.seconds,
    warmupSeconds: 2,
    tickMs: TICK_MS,
    connectConcurrency: 500,
  };
  const ours = await runWsScenario(server, limit, s, opts.loadCpu, progress);
  const png = Buffer.from(await (await fetch(`${server.http}/image`)).arrayBuffer());
  const pngPath = join(tmpDir, 'many.png');
  writeFileSync(pngPath, png);
  // A tick interval longer than the run: the bare app sends the PNG on connect and nothing after.
  const bareServer = await startBaseline(
    limit,
    'bare-publish-server.ts',
    ['--png', pngPath, '--tick-ms', String(3_600_000)],
    '/healthz',
    opts.subscribers + 1024,
  );
  try {
    const bare = await runWsScenario(
      bareServer,
      limit,
      { ...s, label: 'PNG on connect only', target: 'bare', stream: 'png', rate: 0, seconds: 2 },
      opts.loadCpu,
      progress,
    );
    return { ours, bare, pngBytes: png.length };
  } finally {
    await bareServer.child.stop();
  }
}
