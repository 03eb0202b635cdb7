/**
 * The WebSocket scenarios of `npm run bench` (perf/README.md, scenarios 4-6): PNG and delta streams
 * per rate, the PNG fan-out against a bare `app.publish` at a low rate (the placements' commits swing
 * by +-20 ms per tick between runs at 1,000 px/s, which would swamp the fan-out), 10,000 subscribers.
 */
import type { BenchConfig } from '../config.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuLimit } from '../cpu-limit.ts';
import { startBaseline, type ServerUnderTest } from '../server-process.ts';
import { median } from '../stats.ts';
import { runWsScenario, type WsRun, type WsRunSpec } from './ws.ts';

/** The server's default --tick-ms. */
const TICK_MS = 1000;
/** The rate of the delta-bytes and loop-delay budgets (docs/ARCHITECTURE.md). */
const BUDGET_RATE = 1000;

/** Server CPU spent on the PNG fan-out per tick, per delivered frame and per delivered byte. */
interface FanoutCost {
  msPerTick: number;
  usPerFrame: number;
  /** The two PNG messages differ by a few bytes. */
  nsPerByte: number;
}

export interface FanoutRound {
  baseline: WsRun;
  png: WsRun;
  bare: WsRun;
  /** Ours: the PNG run minus the baseline; bare as measured. */
  cost: { ours: FanoutCost; bare: FanoutCost };
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

export interface ManyResult {
  ours: WsRun;
  /** The bare uWS app sending the same PNG message to as many sockets on connect, then nothing. */
  bare: WsRun;
  pngBytes: number;
}

export const bytesPerFrame = (r: WsRun) => (r.swarm.frames ? r.swarm.bytes / r.swarm.frames : NaN);
const framesPerTick = (r: WsRun) => (r.swarm.ticks ? r.swarm.frames / r.swarm.ticks : NaN);
const fmtRate = (rate: number) => `${rate.toLocaleString('en-US')} px/s`;

type Spec = Partial<WsRunSpec> & Pick<WsRunSpec, 'label' | 'stream' | 'rate'>;

/** Runs on our server or a bare one, with the stream runs' settings unless `over` says otherwise. */
function runner(server: ServerUnderTest, c: BenchConfig, progress: (msg: string) => void) {
  return (over: Spec, target: ServerUnderTest = server) =>
    runWsScenario(
      target,
      {
        target: target === server ? 'ours' : 'bare',
        subscribers: c.wsSubscribers,
        seconds: c.wsSeconds,
        warmupSeconds: c.wsWarmupSeconds,
        tickMs: TICK_MS,
        connectConcurrency: 200,
        ...over,
      },
      c.loadCpu,
      progress,
    );
}

/** perf/baselines/bare-publish-server.ts publishing the PNG our server serves now every `tickMs`. */
async function startBarePublish(
  server: ServerUnderTest,
  limit: CpuLimit,
  tmpDir: string,
  tickMs: number,
  sockets: number,
) {
  const png = Buffer.from(await (await fetch(`${server.http}/image`)).arrayBuffer());
  const pngPath = join(tmpDir, 'bare-publish.png');
  writeFileSync(pngPath, png);
  const args = ['--png', pngPath, '--tick-ms', String(tickMs)];
  return { png, bare: await startBaseline(limit, 'bare-publish-server.ts', args, '/healthz', sockets + 1024) };
}

function fanoutRound(baseline: WsRun, png: WsRun, bare: WsRun): FanoutRound {
  const cost = (run: WsRun, msPerTick: number): FanoutCost => {
    const usPerFrame = (msPerTick * 1000) / framesPerTick(run);
    return { msPerTick, usPerFrame, nsPerByte: (usPerFrame * 1000) / bytesPerFrame(run) };
  };
  const ours = cost(png, png.cpuMsPerTick - baseline.cpuMsPerTick);
  const theirs = cost(bare, bare.cpuMsPerTick);
  return { baseline, png, bare, cost: { ours, bare: theirs }, ratio: ours.nsPerByte / theirs.nsPerByte };
}

export async function runStreamScenarios(
  server: ServerUnderTest,
  limit: CpuLimit,
  tmpDir: string,
  c: BenchConfig,
  progress: (msg: string) => void,
): Promise<StreamsResult> {
  const run = runner(server, c, progress);
  const runs: WsRun[] = [];
  // PNG and delta back to back per rate, so each pair sees the same canvas (it grows with every run).
  for (const rate of c.wsRates)
    for (const stream of ['png', 'delta'] as const)
      runs.push(await run({ label: `${stream}, ${fmtRate(rate)}`, stream, rate }));

  const { png, bare } = await startBarePublish(server, limit, tmpDir, TICK_MS, c.wsSubscribers);
  progress(
    `ws fan-out: the bare uWS publish server sends the current PNG (${png.length.toLocaleString('en-US')} bytes)`,
  );
  const fanout: FanoutRound[] = [];
  const rate = c.wsFanoutRate;
  try {
    for (let round = 0; round < c.wsFanoutRounds; round++) {
      const tag = `fan-out ${round + 1}/${c.wsFanoutRounds}`;
      const f = fanoutRound(
        await run({ label: `${tag}: baseline, ${fmtRate(rate)}`, stream: 'delta', rate, subscribers: 1 }),
        await run({ label: `${tag}: png, ${fmtRate(rate)}`, stream: 'png', rate }),
        await run({ label: `${tag}: png, same bytes`, stream: 'png', rate: 0 }, bare),
      );
      fanout.push(f);
      progress(
        `ws ${tag}: ours ${f.cost.ours.nsPerByte.toFixed(3)} ns/byte, bare ${f.cost.bare.nsPerByte.toFixed(3)} ns/byte`,
      );
    }
  } finally {
    await bare.child.stop();
  }

  const deltaRatios = c.wsRates.flatMap((rate) => {
    const [p, d] = (['png', 'delta'] as const).map((s) =>
      runs.find((r) => r.spec.stream === s && r.spec.rate === rate),
    );
    if (!p || !d) return [];
    return [{ rate, png: bytesPerFrame(p), delta: bytesPerFrame(d), ratio: bytesPerFrame(p) / bytesPerFrame(d) }];
  });
  const fanoutRatio = median(fanout.map((f) => f.ratio));
  return {
    runs,
    budgetRate: BUDGET_RATE,
    fanout,
    fanoutRate: rate,
    barePngBytes: png.length,
    fanoutRatio,
    deltaRatios,
  };
}

/** Many delta subscribers with placements flowing, then as many on the bare app (PNG on connect only). */
export async function runManySubscribers(
  server: ServerUnderTest,
  limit: CpuLimit,
  tmpDir: string,
  c: BenchConfig,
  progress: (msg: string) => void,
): Promise<ManyResult> {
  const run = runner(server, c, progress);
  const many = { subscribers: c.wsManySubscribers, warmupSeconds: 2, connectConcurrency: 500 };
  const ours = await run({
    ...many,
    label: `delta, ${fmtRate(c.wsManyRate)}`,
    stream: 'delta',
    rate: c.wsManyRate,
    seconds: c.wsManySeconds,
  });
  // A tick interval longer than the run: the bare app sends the PNG on connect and nothing after.
  const { png, bare } = await startBarePublish(server, limit, tmpDir, 3_600_000, c.wsManySubscribers);
  try {
    return {
      ours,
      bare: await run({ ...many, label: 'PNG on connect only', stream: 'png', rate: 0, seconds: 2 }, bare),
      pngBytes: png.length,
    };
  } finally {
    await bare.child.stop();
  }
}
