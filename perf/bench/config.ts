/**
 * Benchmark settings: every knob, its environment variable and default, in one table (the harness is
 * run as `npm run bench`, so settings come from the environment; the one flag, `--only=a,b`, is a
 * shorthand for BENCH_SCENARIOS). Defaults keep the whole run at about five minutes on a 2-core
 * machine.
 */

import { KNOBS, type Knob } from './knobs.ts';

export const SCENARIOS = ['encode', 'image', 'origin', 'ws', 'ws10k', 'stall', 'place'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchConfig {
  /** Comma-separated subset of SCENARIOS. */
  scenarios: ReadonlySet<Scenario>;
  /** CPU the servers under test are pinned to (and limited to one CPU's worth of time). */
  serverCpu: number;
  /** CPU the load generators (wrk, WebSocket swarm) and the harness run on. */
  loadCpu: number;
  encodeRuns: number;
  upngRuns: number;
  /** `cnum` passed to UPNG.encode: 0 = lossless (UPNG then picks an indexed PNG itself). */
  upngCnum: number;
  fillPlacements: number;
  imageSeconds: number;
  imageWarmupSeconds: number;
  imageRounds: number;
  wrkThreads: number;
  wrkConnections: number;
  placeSeconds: number;
  placeClients: number;
  placeWindow: number;
  originSeconds: number;
  originRounds: number;
  originSlowConnections: number;
  wsSubscribers: number;
  /** Placement rates of the PNG/delta stream runs (BENCH_WS_RATES, a comma-separated list). */
  wsRates: readonly number[];
  wsFanoutRate: number;
  wsFanoutRounds: number;
  wsSeconds: number;
  wsWarmupSeconds: number;
  wsManySubscribers: number;
  wsManyRate: number;
  wsManySeconds: number;
  /** Subscribers that stop reading (scenario stall), the placement rate meanwhile, the server's --stall-ms. */
  stallSubscribers: number;
  stallRate: number;
  stallMs: number;
  /** How long after the server closed them the kernel's TCP memory is read again. */
  stallAfterSeconds: number;
  /** Hard limit for the whole run; children are killed and the run fails past it. */
  timeoutSeconds: number;
  resultsPath: string;
}

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
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('--only=')) return a.slice('--only='.length);
    if (a === '--only') return argv[i + 1];
    if (a.startsWith('-'))
      throw new BenchConfigError(`unknown flag ${a}; the only flag is --only=${SCENARIOS.join(',')}`);
  }
  return undefined;
}

export class BenchConfigError extends Error {}

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

/** Human-readable list of knobs for README and --help-like output. */
export function knobsText(): string {
  return KNOBS.map((k) => `  ${k.env.padEnd(28)} default ${String(k.default).padEnd(8)} ${k.help}`).join('\n');
}
