/**
 * Runs Debian's `wrk` (HTTP load generator, C, epoll) pinned to the load CPU and parses its report:
 * requests/s, bytes/s, latency percentiles (--latency) and non-2xx/3xx responses;
 * and rounds of it against several servers, as the image and origin scenarios run it.
 */
import { spawnSync } from 'node:child_process';
import { cpuSeconds, startChild } from '../../../testkit/processes.ts';
import { median } from '../stats.ts';

const LATENCY = ['p50', 'p75', 'p90', 'p99', 'max'] as const;

export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSec: number;
  bytesPerSec: number;
  latencyMs: Record<(typeof LATENCY)[number], number>;
  non2xx3xx: number;
  /** wrk's own CPU time / wall time (1 = one CPU saturated: then wrk, not the server, sets the rate). */
  cpuShare: number;
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  seconds: number;
  cpu: number;
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m?.[1] || !m[2]) throw new Error(`wrk: cannot parse duration "${text}"`);
  return Number(m[1]) * (UNIT_MS[m[2]] as number);
}

function bytes(text: string): number {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!m?.[1] || !m[2]) throw new Error(`wrk: cannot parse size "${text}"`);
  return Number(m[1]) * (UNIT_BYTES[m[2]] as number);
}

function match(out: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(out);
  if (!m) throw new Error(`wrk: no ${what} in output:\n${out}`);
  return m;
}

/** Parses wrk 4.x output produced with --latency. Exported for a quick check by hand. */
export function parseWrk(out: string): Omit<WrkResult, 'cpuShare'> {
  const max = match(out, /^\s*Latency\s+\S+\s+\S+\s+(\S+)/m, 'latency line');
  const pct = (p: string) =>
    durationMs(match(out, new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm'), `${p}% latency`)[1] as string);
  const total = match(out, /^\s*(\d+) requests in ([\d.]+\w+), (\S+) read/m, 'request count');
  const rps = match(out, /^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec');
  const transfer = match(out, /^Transfer\/sec:\s+(\S+)/m, 'Transfer/sec');
  const non = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    seconds: durationMs(total[2] as string) / 1000,
    requestsPerSec: Number(rps[1]),
    bytesPerSec: bytes(transfer[1] as string),
    latencyMs: { p50: pct('50'), p75: pct('75'), p90: pct('90'), p99: pct('99'), max: durationMs(max[1] as string) },
    non2xx3xx: non ? Number(non[1]) : 0,
  };
}

export function wrkVersion(): string | undefined {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return /wrk (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

/** Installs wrk with apt-get when missing (running `apt-get update` first if the install fails). */
export function ensureWrk(progress: (msg: string) => void): string {
  const have = wrkVersion();
  if (have) return have;
  progress('wrk missing: apt-get install -y wrk');
  const install = () =>
    spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore', timeout: 300_000 }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000 });
    install();
  }
  const after = wrkVersion();
  if (!after) throw new Error('wrk is not installed and `apt-get install -y wrk` failed; install it and rerun');
  return after;
}

export async function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const args = [
    '-c',
    String(opts.cpu),
    'wrk',
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--timeout',
    '5s',
    '--latency',
    opts.url,
  ];
  const child = startChild('wrk', 'taskset', args);
  const t0 = performance.now();
  // /proc/<pid> disappears at exit, so sample wrk's CPU time while it runs and keep the last value.
  let cpu = 0;
  const sampler = setInterval(() => {
    const s = cpuSeconds(child.pid);
    if (Number.isFinite(s)) cpu = s;
  }, 100);
  const killer = setTimeout(() => child.proc.kill('SIGKILL'), (opts.seconds + 30) * 1000);
  const code = await child.exited;
  clearInterval(sampler);
  clearTimeout(killer);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${child.stderr().slice(-2000)}`);
  return { ...parseWrk(child.stdout()), cpuShare: cpu / ((performance.now() - t0) / 1000) };
}

export interface WrkTarget {
  http: string;
  pid: number;
  connections: number;
}

/** One target's wrk runs over the rounds, and their medians (latency max: the largest). */
export interface WrkSide {
  connections: number;
  rounds: WrkResult[];
  /** The server's CPU time / wall time during each run (1 = its one CPU). */
  cpuShare: number[];
  requestsPerSec: number;
  /** Requests per server CPU-second: the cost per request, steadier than the rate on a busy host. */
  perCpuSecond: number;
  latencyMs: WrkResult['latencyMs'];
}

function summarize(connections: number, rounds: WrkResult[], cpuShare: number[]): WrkSide {
  return {
    connections,
    rounds,
    cpuShare,
    requestsPerSec: median(rounds.map((r) => r.requestsPerSec)),
    perCpuSecond: median(rounds.map((r, i) => r.requestsPerSec / (cpuShare[i] as number))),
    latencyMs: Object.fromEntries(
      LATENCY.map((k) => {
        const xs = rounds.map((r) => r.latencyMs[k]);
        return [k, k === 'max' ? Math.max(...xs) : median(xs)];
      }),
    ) as WrkResult['latencyMs'],
  };
}

/**
 * `rounds` rounds of one wrk run per target, in an order that rotates by one each round (so a slow
 * spell on a shared host skews no target more than another), after a warm-up run of each. Fails on
 * any response that is not 2xx/3xx. `onRun` reports each run as it ends.
 */
export async function wrkRounds<K extends string>(
  targets: Readonly<Record<K, WrkTarget>>,
  o: { rounds: number; seconds: number; warmupSeconds: number; threads: number; cpu: number },
  onRun: (round: number, name: K, r: WrkResult, cpuShare: number) => void,
): Promise<Record<K, WrkSide>> {
  const names = Object.keys(targets) as K[];
  const wrk = (name: K, seconds: number) => {
    const t = targets[name];
    return runWrk({ url: `${t.http}/image`, threads: o.threads, connections: t.connections, seconds, cpu: o.cpu });
  };
  if (o.warmupSeconds > 0) for (const name of names) await wrk(name, o.warmupSeconds);
  const out = Object.fromEntries(names.map((n) => [n, { runs: [], cpu: [] }])) as unknown as Record<
    K,
    { runs: WrkResult[]; cpu: number[] }
  >;
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length] as K;
      const pid = targets[name].pid;
      const c0 = cpuSeconds(pid);
      const t0 = performance.now();
      const r = await wrk(name, o.seconds);
      const share = (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
      if (r.non2xx3xx > 0 || r.requests === 0)
        throw new Error(`wrk ${name}: ${r.non2xx3xx} non-2xx/3xx of ${r.requests} responses`);
      out[name].runs.push(r);
      out[name].cpu.push(share);
      onRun(round, name, r, share);
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, summarize(targets[n].connections, out[n].runs, out[n].cpu)]),
  ) as Record<K, WrkSide>;
}
