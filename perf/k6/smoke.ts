/**
 * `npm run k6:smoke`: each k6 scenario of this folder for a few seconds against a server started here
 * (server/main.ts on a free port, temp database, --cooldown-ms 0), thresholds active. Exits 1 when a
 * scenario crosses a threshold or fails to run, or k6 cannot be found. Not a benchmark: the loads
 * are small enough for a 2-core CI machine running k6 and the server side by side, so a failure means
 * a broken behaviour (wrong answer, gap, unacked placement), not a slow machine.
 *
 * First `npm run k6:bundle` (npm runs it before this script) builds the scripts' MessagePack, and
 * protocol-check.ts checks their protocol code against protocol/.
 *
 * k6: $K6 (a path), else `k6` on PATH, else ../shared/bin/k6 next to the repository.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkK6Protocol } from './protocol-check.ts';
import { Harness } from '../lib/harness.ts';
import { REPO_ROOT } from '../../testkit/paths.ts';
import { isExecutable, startChild } from '../../testkit/processes.ts';
import { loopbackArgs, type StartedServer, startServer } from '../../testkit/server-process.ts';

/** One metric of k6's --summary-export file: its stats, and per threshold whether it was crossed. */
interface ExportedMetric {
  thresholds?: Record<string, boolean>;
  [stat: string]: number | Record<string, boolean> | undefined;
}
type Metrics = Record<string, ExportedMetric>;

interface Scenario {
  script: string;
  /** Settings for the script (`-e NAME=value`); see each script's header. */
  env: Record<string, string>;
  /** The figures worth one line when it passes. */
  headline(m: Metrics): string;
}

const stat = (m: Metrics, metric: string, name: string): number => {
  const v = m[metric]?.[name];
  return typeof v === 'number' ? v : NaN;
};
const ms = (v: number) => `${v.toFixed(1)} ms`;

/**
 * Small loads, a few seconds each (about 25 s in all). The scripts' thresholds are unchanged; only
 * rates, socket counts and durations are set.
 */
const SCENARIOS: readonly Scenario[] = [
  {
    script: 'image-poll.js',
    env: { START_RATE: '10', TARGET_RATE: '100', DURATION: '5s' },
    headline: (m) => `${stat(m, 'http_reqs', 'count')} GET /image, p95 ${ms(stat(m, 'http_req_duration', 'p(95)'))}`,
  },
  {
    // Paced, not closed loop: 200 placements/s is plenty to check acks and keeps the CPU for the server.
    script: 'place.js',
    env: { VUS: '4', RATE: '50', DURATION: '5s' },
    headline: (m) =>
      `${stat(m, 'canvas_place_acks', 'count')} placements acked, ` +
      `ack p99 ${ms(stat(m, 'canvas_place_ack_ms', 'p(99)'))}`,
  },
  {
    // The delta stream carries the most client logic (fromSeq chaining, resync); its snapshot is a PNG.
    script: 'ws-subscribers.js',
    env: { SUBSCRIBERS: '20', STREAM: 'delta', HOLD: '6s', CONNECT_SPREAD: '1', PLACE_RATE: '20' },
    headline: (m) =>
      `${stat(m, 'canvas_stream_frames', 'count')} stream frames, ` +
      `${(stat(m, 'canvas_tick_on_time', 'value') * 100).toFixed(1)}% on time, ` +
      `${stat(m, 'canvas_delta_gaps', 'count')} gaps`,
  },
];

/** The k6 to run and its `k6 version` line, or a message naming every place that was tried. */
function findK6(env: NodeJS.ProcessEnv): { k6: string; version: string } | { error: string } {
  const sibling = join(REPO_ROOT, '..', 'shared', 'bin', 'k6');
  const candidates = env.K6 ? [env.K6] : ['k6', ...(isExecutable(sibling) ? [sibling] : [])];
  for (const k6 of candidates) {
    const run = spawnSync(k6, ['version'], { encoding: 'utf8' });
    if (run.status === 0) return { k6, version: run.stdout.trim().split('\n')[0] ?? '' };
    if (env.K6) return { error: `K6=${env.K6} does not run (${run.error?.message ?? run.stderr.trim()})` };
  }
  return { error: `k6 not found: set K6 to its path, put k6 on PATH, or install it as ${sibling}` };
}

async function runScenario(k6: string, server: StartedServer, scenario: Scenario, dir: string): Promise<boolean> {
  const exportFile = join(dir, `${scenario.script}.json`);
  const vars = Object.entries({ BASE_URL: server.http, ...scenario.env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const args = [
    'run',
    '--quiet',
    '--no-color',
    // k6's REST API is not used; without it a second k6 on the machine cannot clash on port 6565.
    '--address',
    '',
    '--summary-export',
    exportFile,
    '--summary-trend-stats',
    'avg,med,p(95),p(99),max',
    ...vars,
    join('perf', 'k6', scenario.script),
  ];
  const started = performance.now();
  const child = startChild(`k6 ${scenario.script}`, k6, args, { cwd: REPO_ROOT });
  const code = await child.exited;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  let metrics: Metrics | undefined;
  try {
    metrics = (JSON.parse(readFileSync(exportFile, 'utf8')) as { metrics: Metrics }).metrics;
  } catch {
    // k6 failed before the end of the test (bad script, bad option): its output says why.
  }
  const crossed = Object.entries(metrics ?? {}).flatMap(([name, m]) =>
    Object.entries(m.thresholds ?? {})
      .filter(([, failed]) => failed)
      .map(([rule]) => `${name} ${rule}`),
  );
  const total = Object.values(metrics ?? {}).reduce((n, m) => n + Object.keys(m.thresholds ?? {}).length, 0);
  if (code === 0 && metrics) {
    console.log(
      `k6 smoke ${scenario.script}: pass in ${seconds} s, ${total} thresholds held; ${scenario.headline(metrics)}`,
    );
    return true;
  }
  const why = crossed.length > 0 ? `thresholds crossed: ${crossed.join('; ')}` : `k6 exited with ${code}`;
  console.log(`k6 smoke ${scenario.script}: FAIL in ${seconds} s, ${why}`);
  console.log(child.stdout().trimEnd());
  console.log(child.stderr().trimEnd());
  return false;
}

const harness = new Harness('k6-smoke');
// The whole run's limit (each script also bounds itself with maxDuration).
harness.limitTo(180, '180 s', 1);

await harness.run(async () => {
  const found = findK6(process.env);
  if ('error' in found) throw new Error(found.error);
  console.log(`k6 smoke: ${found.version} (${found.k6})`);
  console.log(`k6 smoke: protocol code checked against protocol/ (${await checkK6Protocol()} frames)`);
  const dir = harness.tempDir();
  const server = await startServer({ args: loopbackArgs(join(dir, 'canvas.db'), { 'cooldown-ms': 0 }) });
  let failed = 0;
  // One after the other: each scenario's latency thresholds hold for its own load only.
  for (const scenario of SCENARIOS) if (!(await runScenario(found.k6, server, scenario, dir))) failed++;
  const code = await server.stop();
  if (code !== 0) {
    console.log(`k6 smoke: the server exited with ${code} on SIGTERM: ${server.stderr().slice(-2000)}`);
    failed++;
  }
  console.log(failed === 0 ? 'k6 smoke: all scenarios passed' : `k6 smoke: ${failed} failure(s)`);
  process.exitCode = failed ? 1 : 0;
});
