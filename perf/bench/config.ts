/**
 * Benchmark settings: every knob, its environment variable and default, in one table (the harness is
 * run as `npm run bench`, so settings come from the environment; the one flag, `--only=a,b`, is a
 * shorthand for BENCH_SCENARIOS). Defaults keep the whole run at about five minutes on a 2-core
 * machine.
 */

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

interface Knob {
  key: Exclude<keyof BenchConfig, 'scenarios' | 'resultsPath' | 'wsRates'>;
  env: string;
  default: number;
  min: number;
  max: number;
  help: string;
}

export const KNOBS: readonly Knob[] = [
  { key: 'serverCpu', env: 'BENCH_SERVER_CPU', default: 0, min: 0, max: 1023, help: 'CPU for the servers under test' },
  {
    key: 'loadCpu',
    env: 'BENCH_LOAD_CPU',
    default: 1,
    min: 0,
    max: 1023,
    help: 'CPU for load generators and the harness',
  },
  {
    key: 'encodeRuns',
    env: 'BENCH_ENCODE_RUNS',
    default: 21,
    min: 1,
    max: 10_000,
    help: 'timed runs of our encoder (median reported)',
  },
  {
    key: 'upngRuns',
    env: 'BENCH_UPNG_RUNS',
    default: 5,
    min: 1,
    max: 1000,
    help: 'timed runs of UPNG.encode (median reported)',
  },
  { key: 'upngCnum', env: 'BENCH_UPNG_CNUM', default: 0, min: 0, max: 256, help: 'cnum argument of UPNG.encode' },
  {
    key: 'fillPlacements',
    env: 'BENCH_FILL_PLACEMENTS',
    default: 400_000,
    min: 0,
    max: 10_000_000,
    help: 'placements drawn before GET /image is measured',
  },
  {
    key: 'imageSeconds',
    env: 'BENCH_IMAGE_SECONDS',
    default: 3,
    min: 1,
    max: 600,
    help: 'wrk duration per server per round',
  },
  {
    key: 'imageWarmupSeconds',
    env: 'BENCH_IMAGE_WARMUP_SECONDS',
    default: 2,
    min: 0,
    max: 60,
    help: "unmeasured wrk run before each server's first round",
  },
  {
    key: 'imageRounds',
    env: 'BENCH_IMAGE_ROUNDS',
    default: 10,
    min: 1,
    max: 50,
    help: 'rounds, each running wrk on ours and on bare (order alternates)',
  },
  { key: 'wrkThreads', env: 'BENCH_WRK_THREADS', default: 1, min: 1, max: 64, help: 'wrk -t' },
  { key: 'wrkConnections', env: 'BENCH_WRK_CONNECTIONS', default: 50, min: 1, max: 10_000, help: 'wrk -c' },
  { key: 'placeSeconds', env: 'BENCH_PLACE_SECONDS', default: 10, min: 1, max: 600, help: 'measured placement window' },
  {
    key: 'placeClients',
    env: 'BENCH_PLACE_CLIENTS',
    default: 16,
    min: 1,
    max: 10_000,
    help: 'WebSocket clients placing',
  },
  {
    key: 'placeWindow',
    env: 'BENCH_PLACE_WINDOW',
    default: 64,
    min: 1,
    max: 100_000,
    help: 'placements in flight per client',
  },
  {
    key: 'originSeconds',
    env: 'BENCH_ORIGIN_SECONDS',
    default: 3,
    min: 1,
    max: 600,
    help: 'wrk duration per /image mode per round (origin)',
  },
  {
    key: 'originRounds',
    env: 'BENCH_ORIGIN_ROUNDS',
    default: 3,
    min: 1,
    max: 50,
    help: 'rounds over the three /image modes (origin)',
  },
  {
    key: 'originSlowConnections',
    env: 'BENCH_ORIGIN_SLOW_CONNECTIONS',
    default: 4,
    min: 1,
    max: 1000,
    help: 'wrk -c for the encode-per-request modes (grid, db)',
  },
  {
    key: 'wsSubscribers',
    env: 'BENCH_WS_SUBSCRIBERS',
    default: 1000,
    min: 1,
    max: 50_000,
    help: 'subscribers per PNG/delta stream run',
  },
  {
    key: 'wsFanoutRate',
    env: 'BENCH_WS_FANOUT_RATE',
    default: 10,
    min: 1,
    max: 1_000_000,
    help: 'px/s during the fan-out rounds (baseline, ours, bare)',
  },
  {
    key: 'wsFanoutRounds',
    env: 'BENCH_WS_FANOUT_ROUNDS',
    default: 2,
    min: 1,
    max: 20,
    help: 'fan-out rounds, each: baseline, ours with PNG subscribers, bare publish',
  },
  {
    key: 'wsSeconds',
    env: 'BENCH_WS_SECONDS',
    default: 6,
    min: 1,
    max: 600,
    help: 'measured window per WebSocket run (whole ticks)',
  },
  {
    key: 'wsWarmupSeconds',
    env: 'BENCH_WS_WARMUP_SECONDS',
    default: 2,
    min: 0,
    max: 60,
    help: 'wait after all subscribers connected, before the window',
  },
  {
    key: 'wsManySubscribers',
    env: 'BENCH_WS_MANY',
    default: 10_000,
    min: 1,
    max: 60_000,
    help: 'subscribers of the RSS run (ws10k)',
  },
  {
    key: 'wsManyRate',
    env: 'BENCH_WS_MANY_RATE',
    default: 1000,
    min: 0,
    max: 1_000_000,
    help: 'px/s during the RSS run',
  },
  {
    key: 'wsManySeconds',
    env: 'BENCH_WS_MANY_SECONDS',
    default: 10,
    min: 1,
    max: 600,
    help: 'measured window of the RSS run',
  },
  {
    key: 'stallSubscribers',
    env: 'BENCH_STALL_SUBSCRIBERS',
    default: 2000,
    min: 1,
    max: 60_000,
    help: 'PNG subscribers that stop reading (stall)',
  },
  {
    key: 'stallRate',
    env: 'BENCH_STALL_RATE',
    default: 1000,
    min: 1,
    max: 1_000_000,
    help: 'px/s while they are connected (stall)',
  },
  {
    key: 'stallMs',
    env: 'BENCH_STALL_MS',
    default: 2000,
    min: 100,
    max: 600_000,
    help: '--stall-ms of the server in the stall scenario',
  },
  {
    key: 'stallAfterSeconds',
    env: 'BENCH_STALL_AFTER_SECONDS',
    default: 30,
    min: 0,
    max: 3600,
    help: 'wait after the server closed them before the last kernel reading (stall)',
  },
  {
    key: 'timeoutSeconds',
    env: 'BENCH_TIMEOUT_SECONDS',
    default: 720,
    min: 10,
    max: 7200,
    help: 'hard limit for the whole run',
  },
];

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
