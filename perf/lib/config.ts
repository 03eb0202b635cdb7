/**
 * Benchmark settings: every knob, its environment variable and default, in one table (the harness is
 * run as `npm run bench`, so settings come from the environment; the one flag, `--only=a,b`, is a
 * shorthand for BENCH_SCENARIOS). Defaults keep the whole run at about five minutes on a 2-core
 * machine.
 */
import { parseArgs } from 'node:util';

export const SCENARIOS = ['encode', 'image', 'origin', 'ws', 'ws10k', 'stall', 'place'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The numeric settings: key, environment variable, default, min, max, meaning. */
const KNOB_TABLE = [
  ['serverCpu', 'BENCH_SERVER_CPU', 0, 0, 1023, 'CPU for the servers under test'],
  ['loadCpu', 'BENCH_LOAD_CPU', 1, 0, 1023, 'CPU for load generators and the harness'],
  ['encodeRuns', 'BENCH_ENCODE_RUNS', 21, 1, 10_000, 'timed runs of our encoder (median reported)'],
  ['upngRuns', 'BENCH_UPNG_RUNS', 5, 1, 1000, 'timed runs of UPNG.encode (median reported)'],
  ['upngCnum', 'BENCH_UPNG_CNUM', 0, 0, 256, 'cnum argument of UPNG.encode'],
  ['fillPlacements', 'BENCH_FILL_PLACEMENTS', 400_000, 0, 10_000_000, 'placements drawn before GET /image is measured'],
  ['imageSeconds', 'BENCH_IMAGE_SECONDS', 3, 1, 600, 'wrk duration per server per round'],
  ['imageWarmupSeconds', 'BENCH_IMAGE_WARMUP_SECONDS', 2, 0, 60, "unmeasured wrk run before each server's first round"],
  ['imageRounds', 'BENCH_IMAGE_ROUNDS', 10, 1, 50, 'rounds, each running wrk on ours and on bare (order alternates)'],
  ['wrkThreads', 'BENCH_WRK_THREADS', 1, 1, 64, 'wrk -t'],
  ['wrkConnections', 'BENCH_WRK_CONNECTIONS', 50, 1, 10_000, 'wrk -c'],
  ['placeSeconds', 'BENCH_PLACE_SECONDS', 10, 1, 600, 'measured placement window'],
  ['placeClients', 'BENCH_PLACE_CLIENTS', 16, 1, 10_000, 'WebSocket clients placing'],
  ['placeWindow', 'BENCH_PLACE_WINDOW', 64, 1, 100_000, 'placements in flight per client'],
  ['originSeconds', 'BENCH_ORIGIN_SECONDS', 3, 1, 600, 'wrk duration per /image mode per round (origin)'],
  ['originRounds', 'BENCH_ORIGIN_ROUNDS', 3, 1, 50, 'rounds over the three /image modes (origin)'],
  ['originSlowConnections', 'BENCH_ORIGIN_SLOW_CONNECTIONS', 4, 1, 1000, 'wrk -c of the encode-per-request modes'],
  ['wsSubscribers', 'BENCH_WS_SUBSCRIBERS', 1000, 1, 50_000, 'subscribers per PNG/delta stream run'],
  ['wsFanoutRate', 'BENCH_WS_FANOUT_RATE', 10, 1, 1_000_000, 'px/s during the fan-out rounds (baseline, ours, bare)'],
  ['wsFanoutRounds', 'BENCH_WS_FANOUT_ROUNDS', 2, 1, 20, 'fan-out rounds (baseline, ours, bare publish)'],
  ['wsSeconds', 'BENCH_WS_SECONDS', 6, 1, 600, 'measured window per WebSocket run (whole ticks)'],
  ['wsWarmupSeconds', 'BENCH_WS_WARMUP_SECONDS', 2, 0, 60, 'wait after all subscribers connected, before the window'],
  ['wsManySubscribers', 'BENCH_WS_MANY', 10_000, 1, 60_000, 'subscribers of the RSS run (ws10k)'],
  ['wsManyRate', 'BENCH_WS_MANY_RATE', 1000, 0, 1_000_000, 'px/s during the RSS run'],
  ['wsManySeconds', 'BENCH_WS_MANY_SECONDS', 10, 1, 600, 'measured window of the RSS run'],
  ['stallSubscribers', 'BENCH_STALL_SUBSCRIBERS', 2000, 1, 60_000, 'PNG subscribers that stop reading (stall)'],
  ['stallRate', 'BENCH_STALL_RATE', 1000, 1, 1_000_000, 'px/s while they are connected (stall)'],
  ['stallMs', 'BENCH_STALL_MS', 2000, 100, 600_000, '--stall-ms of the server in the stall scenario'],
  ['stallAfterSeconds', 'BENCH_STALL_AFTER_SECONDS', 30, 0, 3600, 'wait after the closes before the last reading'],
  ['timeoutSeconds', 'BENCH_TIMEOUT_SECONDS', 720, 10, 7200, 'hard limit for the whole run'],
] as const;

export interface Knob {
  key: (typeof KNOB_TABLE)[number][0];
  env: string;
  default: number;
  min: number;
  max: number;
  help: string;
}

export const KNOBS: readonly Knob[] = KNOB_TABLE.map(([key, env, def, min, max, help]) => ({
  key,
  env,
  default: def,
  min,
  max,
  help,
}));

export type BenchConfig = Readonly<Record<Knob['key'], number>> & {
  readonly scenarios: ReadonlySet<Scenario>;
  /** Placement rates of the PNG/delta stream runs (BENCH_WS_RATES, a comma-separated list). */
  readonly wsRates: readonly number[];
  readonly resultsPath: string;
};

const DEFAULT_WS_RATES = [100, 1000, 10_000];

function readRates(env: NodeJS.ProcessEnv): number[] {
  const raw = env.BENCH_WS_RATES;
  if (raw === undefined || raw.trim() === '') return DEFAULT_WS_RATES;
  const rates = raw.split(',').map((s) => s.trim());
  if (!rates.every((r) => /^\d+$/.test(r) && Number(r) > 0))
    throw new BenchConfigError(`BENCH_WS_RATES="${raw}" is not a comma-separated list of positive integers`);
  return rates.map(Number);
}

/** `--only=a,b` (or `--only a,b`) from `npm run bench -- --only=...`, else undefined. */
export function onlyFlag(argv: readonly string[]): string | undefined {
  try {
    return parseArgs({ args: [...argv], options: { only: { type: 'string' } } }).values.only;
  } catch (err) {
    throw new BenchConfigError(`${(err as Error).message}; the only flag is --only=${SCENARIOS.join(',')}`);
  }
}

export class BenchConfigError extends Error {}

/** A side benchmark's numeric setting from the environment (`DEFENCES_ROUNDS=5`), or its default. */
export function envNumber(name: string, fallback: number): number {
  return Number(process.env[name] ?? fallback);
}

function readInt(knob: Knob, env: NodeJS.ProcessEnv): number {
  const raw = env[knob.env];
  if (raw === undefined || raw === '') return knob.default;
  if (!/^\d+$/.test(raw.trim())) throw new BenchConfigError(`${knob.env}="${raw}" is not a non-negative integer`);
  const n = Number(raw);
  if (n < knob.min || n > knob.max)
    throw new BenchConfigError(`${knob.env}=${raw} is out of range [${knob.min}, ${knob.max}]`);
  return n;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv, defaultResultsPath: string, only?: string): BenchConfig {
  const out: Record<string, unknown> = {};
  for (const knob of KNOBS) out[knob.key] = readInt(knob, env);
  out.wsRates = readRates(env);
  const wanted = (only ?? env.BENCH_SCENARIOS ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const scenarios = new Set<(typeof SCENARIOS)[number]>();
  for (const name of wanted) {
    const known = SCENARIOS.find((s) => s === name);
    if (!known) throw new BenchConfigError(`BENCH_SCENARIOS: "${name}" is not one of ${SCENARIOS.join(', ')}`);
    scenarios.add(known);
  }
  out.scenarios = scenarios;
  out.resultsPath = env.BENCH_RESULTS || defaultResultsPath;
  const config = out as unknown as BenchConfig;
  if (config.serverCpu === config.loadCpu) {
    throw new BenchConfigError(`BENCH_SERVER_CPU and BENCH_LOAD_CPU are both ${config.serverCpu}; they must differ`);
  }
  return Object.freeze(config);
}
