/**
 * Limits a server under test to one CPU: a cgroup CPU quota of one CPU (100 ms per 100 ms period)
 * plus `taskset` pinning to one core. cgroup v1 is tried first (the `cpu` controller under
 * /sys/fs/cgroup/cpu), then cgroup v2 (`cpu.max`); without either (not root, read-only cgroupfs) only
 * `taskset` pins the process. The method used is reported with the results.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One cgroup per harness run (`canvasbench-<pid>`): two runs at once on a shared machine (seen: other
 * engineers' checkouts) must not share one quota or remove each other's group.
 */
const PREFIX = 'canvasbench-';
const GROUP = `${PREFIX}${process.pid}`;
const PERIOD_US = 100_000;

/** The one-server benchmarks' split of a 2-CPU machine: the server under test here, its load there. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

export interface ThrottleStats {
  periods: number;
  throttled: number;
  throttledMs: number;
}

/** Throttling between two readings (undefined without a cgroup). */
export function diffThrottle(a: ThrottleStats | undefined, b: ThrottleStats | undefined): ThrottleStats | undefined {
  return a && b
    ? {
        periods: b.periods - a.periods,
        throttled: b.throttled - a.throttled,
        throttledMs: b.throttledMs - a.throttledMs,
      }
    : undefined;
}

export interface CpuLimit {
  /** Shown in the results, e.g. "cgroup v1 cpu quota 100000/100000 us + taskset -c 0". */
  readonly method: string;
  readonly cgroupDir: string | undefined;
  /** The command line that starts `command` inside the cgroup (if any), pinned to the server CPU. */
  wrap(command: readonly string[]): { file: string; args: string[] };
  /** Cumulative throttling counters of the cgroup, or undefined without one. */
  throttle(): ThrottleStats | undefined;
  /** Removes the cgroup (its processes must have exited). */
  cleanup(): Promise<void>;
}

type Made = { dir: string; version: 1 | 2 };

/** `fn`'s result, or undefined when it throws (no cgroup rights, a group still busy). */
function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
const tryWrite = (path: string, value: string) => quietly(() => writeFileSync(path, value) ?? true) ?? false;
const removeQuietly = (dir: string): undefined => void quietly(() => rmdirSync(dir));

/** This run's group under `root`, or undefined when not allowed; first removes the groups of killed runs. */
function freshGroup(root: string): string | undefined {
  for (const name of quietly(() => readdirSync(root)) ?? []) {
    const pid = Number(name.slice(PREFIX.length));
    // rmdir fails (and the group is left alone) while processes are inside.
    if (name.startsWith(PREFIX) && Number.isInteger(pid) && !existsSync(`/proc/${pid}`))
      removeQuietly(`${root}/${name}`);
  }
  const dir = `${root}/${GROUP}`;
  return quietly(() => mkdirSync(dir, { recursive: true }) ?? dir) && dir;
}

function makeV1(): Made | undefined {
  const root = '/sys/fs/cgroup/cpu';
  if (!existsSync(`${root}/cpu.cfs_quota_us`)) return undefined;
  const dir = freshGroup(root);
  if (dir === undefined) return undefined;
  const ok =
    tryWrite(`${dir}/cpu.cfs_period_us`, String(PERIOD_US)) && tryWrite(`${dir}/cpu.cfs_quota_us`, String(PERIOD_US));
  if (!ok) return removeQuietly(dir);
  return { dir, version: 1 };
}

function makeV2(): Made | undefined {
  const root = '/sys/fs/cgroup';
  if (!existsSync(`${root}/cgroup.controllers`)) return undefined;
  if (!readFileSync(`${root}/cgroup.controllers`, 'utf8').split(/\s+/).includes('cpu')) return undefined;
  tryWrite(`${root}/cgroup.subtree_control`, '+cpu');
  const dir = freshGroup(root);
  if (dir === undefined) return undefined;
  if (!tryWrite(`${dir}/cpu.max`, `${PERIOD_US} ${PERIOD_US}`)) return removeQuietly(dir);
  return { dir, version: 2 };
}

function readStat(made: Made): ThrottleStats {
  const fields = new Map<string, number>();
  for (const line of readFileSync(`${made.dir}/cpu.stat`, 'utf8').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) fields.set(k, Number(v));
  }
  const throttledMs =
    made.version === 1 ? (fields.get('throttled_time') ?? 0) / 1e6 : (fields.get('throttled_usec') ?? 0) / 1e3;
  return { periods: fields.get('nr_periods') ?? 0, throttled: fields.get('nr_throttled') ?? 0, throttledMs };
}

/** Sets up the limit for `cpu`. Never throws: falls back to taskset alone. */
export function createCpuLimit(cpu: number): CpuLimit {
  const made = makeV1() ?? makeV2();
  const pin = `taskset -c ${cpu}`;
  const method = made
    ? `cgroup v${made.version} cpu quota ${PERIOD_US}/${PERIOD_US} us (${made.dir}) + ${pin}`
    : `${pin} only (no writable cgroup cpu controller)`;
  return {
    method,
    cgroupDir: made?.dir,
    wrap(command) {
      if (!made) return { file: 'taskset', args: ['-c', String(cpu), ...command] };
      // The shell joins the cgroup before exec'ing, so the server and every thread it starts are
      // inside from the first instruction (no race with writing the pid afterwards); exit 97 = join failed.
      const script = 'dir=$1; cpu=$2; shift 2; echo $$ > "$dir/cgroup.procs" || exit 97; exec taskset -c "$cpu" "$@"';
      return { file: 'sh', args: ['-c', script, 'sh', made.dir, String(cpu), ...command] };
    },
    throttle: () => (made ? readStat(made) : undefined),
    async cleanup() {
      if (!made) return;
      // rmdir fails with EBUSY while an exiting process is still being reaped: retry briefly.
      for (let i = 0; i < 50 && existsSync(made.dir); i++)
        if (!quietly(() => rmdirSync(made.dir) ?? true)) await sleep(100);
    },
  };
}

/** Pins a running process (all its threads; this one by default) to `cpus`; false if taskset failed. */
export function pinPid(cpus: number | string, pid = process.pid): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpus), String(pid)], { stdio: 'ignore' }).status === 0;
}
