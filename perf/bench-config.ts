/**
 * Benchmark settings: every knob, its environment variable and default, in one table (the harness is
 * run as `npm run bench`, so settings come from the environment, not flags). Defaults keep the whole
 * run at about a minute and a half on a 2-core machine.
 */

export interface BenchConfig {
  /** Comma-separated subset of: encode, image, place. */
  scenarios: ReadonlySet<'encode' | 'image' | 'place'>;
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
  /** Hard limit for the whole run; children are killed and the run fails past it. */
  timeoutSeconds: number;
  resultsPath: string;
}

interface Knob {
  key: Exclude<keyof BenchConfig, 'scenarios' | 'resultsPath'>;
  env: string;
  default: number;
  min: number;
  max: number;
  help: string;
}

export const KNOBS: readonly Knob[] = [
  { key: 'serverCpu', env: 'BENCH_SERVER_CPU', default: 0, min: 0, max: 1023, help: 'CPU for the servers under test' },
  { key: 'loadCpu', env: 'BENCH_LOAD_CPU', default: 1, min: 0, max: 1023, help: 'CPU for load generators and the harness' },
  { key: 'encodeRuns', env: 'BENCH_ENCODE_RUNS', default: 21, min: 1, max: 10_000, help: 'timed runs of our encoder (median reported)' },
  { key: 'upngRuns', env: 'BENCH_UPNG_RUNS', default: 5, min: 1, max: 1000, help: 'timed runs of UPNG.encode (median reported)' },
  { key: 'upngCnum', env: 'BENCH_UPNG_CNUM', default: 0, min: 0, max: 256, help: 'cnum argument of UPNG.encode' },
  { key: 'fillPlacements', env: 'BENCH_FILL_PLACEMENTS', default: 400_000, min: 0, max: 10_000_000, help: 'placements drawn before GET /image is measured' },
  { key: 'imageSeconds', env: 'BENCH_IMAGE_SECONDS', default: 3, min: 1, max: 600, help: 'wrk duration per server per round' },
  { key: 'imageWarmupSeconds', env: 'BENCH_IMAGE_WARMUP_SECONDS', default: 2, min: 0, max: 60, help: 'unmeasured wrk run before each server\'s first round' },
  { key: 'imageRounds', env: 'BENCH_IMAGE_ROUNDS', default: 10, min: 1, max: 50, help: 'rounds, each running wrk on ours and on bare (order alternates)' },
  { key: 'wrkThreads', env: 'BENCH_WRK_THREADS', default: 1, min: 1, max: 64, help: 'wrk -t' },
  { key: 'wrkConnections', env: 'BENCH_WRK_CONNECTIONS', default: 50, min: 1, max: 10_000, help: 'wrk -c' },
  { key: 'placeSeconds', env: 'BENCH_PLACE_SECONDS', default: 10, min: 1, max: 600, help: 'measured placement window' },
  { key: 'placeClients', env: 'BENCH_PLACE_CLIENTS', default: 16, min: 1, max: 10_000, help: 'WebSocket clients placing' },
  { key: 'placeWindow', env: 'BENCH_PLACE_WINDOW', default: 64, min: 1, max: 100_000, help: 'placements in flight per client' },
  { key: 'timeoutSeconds', env: 'BENCH_TIMEOUT_SECONDS', default: 420, min: 10, max: 7200, help: 'hard limit for the whole run' },
];

const SCENARIOS = ['encode', 'image', 'place'] as const;

export class BenchConfigError extends Error {}

function readInt(knob: Knob, env: NodeJS.ProcessEnv): number {
  const raw = env[knob.env];
  if (raw === undefined || raw === '') return knob.default;
  if (!/^\d+$/.test(raw.trim())) throw new BenchConfigError(`${knob.env}="${raw}" is not a non-negative integer`);
  const n = Number(raw);
  if (n < knob.min || n > knob.max) throw new BenchConfigError(`${knob.env}=${raw} is out of range [${knob.min}, ${knob.max}]`);
  return n;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv, defaultResultsPath: string): BenchConfig {
  const out: Record<string, unknown> = {};
  for (const knob of KNOBS) out[knob.key] = readInt(knob, env);
  const wanted = (env.BENCH_SCENARIOS ?? SCENARIOS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
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
