/** The scale-out benchmark's process wrappers and readers: Redis INFO, CPU per process, histogram buckets. */
import { Redis } from 'ioredis';
import { cpuSeconds, withOpenFiles } from '../../../testkit/processes.ts';
import type { MetricsSample } from '../server-metrics.ts';

export type Wrap = (command: readonly string[]) => readonly string[];

/** `taskset -c CPU` around a command (execs it, so the pid stays the server's). */
export const pinTo =
  (cpu: number): Wrap =>
  (command) => ['taskset', '-c', String(cpu), ...command];

/** Allowed at least `files` open files (sockets), then wrapped by `wrap` if given. */
export function withFiles(files: number, wrap?: Wrap): Wrap {
  return (command) => {
    const widened = withOpenFiles(command, files);
    return wrap ? wrap(widened) : widened;
  };
}

export interface CpuMark {
  t: number;
  cpu: Record<string, number>;
}

export function cpuMark(pids: Record<string, number>): CpuMark {
  const cpu: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) cpu[name] = cpuSeconds(pid);
  return { t: performance.now(), cpu };
}

/** CPU share (1 = one CPU) of each process between two marks. */
export function cpuShares(a: CpuMark, b: CpuMark): Record<string, number> {
  const wall = (b.t - a.t) / 1000;
  const out: Record<string, number> = {};
  for (const name of Object.keys(a.cpu)) out[name] = ((b.cpu[name] ?? NaN) - (a.cpu[name] ?? NaN)) / wall;
  return out;
}

export interface RedisCounters {
  commands: number;
  netInputBytes: number;
  netOutputBytes: number;
  byCommand: Record<string, number>;
}

const field = (text: string, name: string): number => {
  const m = new RegExp(`^${name}:(\\S+)`, 'm').exec(text);
  return m?.[1] ? Number(m[1]) : NaN;
};

/** One connection of the harness to Redis, for INFO (its own INFO calls are subtracted by the caller). */
export class RedisInfo {
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { lazyConnect: false, connectionName: 'scale-bench-info' });
  }

  async read(): Promise<RedisCounters> {
    const [stats, commandstats] = await Promise.all([this.redis.info('stats'), this.redis.info('commandstats')]);
    const byCommand: Record<string, number> = {};
    for (const m of commandstats.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) byCommand[m[1] as string] = Number(m[2]);
    return {
      commands: field(stats, 'total_commands_processed'),
      netInputBytes: field(stats, 'total_net_input_bytes'),
      netOutputBytes: field(stats, 'total_net_output_bytes'),
      byCommand,
    };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export function redisDiff(a: RedisCounters, b: RedisCounters): RedisCounters {
  const byCommand: Record<string, number> = {};
  for (const [name, calls] of Object.entries(b.byCommand)) {
    const d = calls - (a.byCommand[name] ?? 0);
    if (d > 0) byCommand[name] = d;
  }
  return {
    commands: b.commands - a.commands,
    netInputBytes: b.netInputBytes - a.netInputBytes,
    netOutputBytes: b.netOutputBytes - a.netOutputBytes,
    byCommand,
  };
}

/** A Prometheus histogram's cumulative buckets (le in seconds -> count) between two scrapes. */
export interface Buckets {
  le: number[];
  counts: number[];
  total: number;
}

export function histogramDiff(a: MetricsSample, b: MetricsSample, name: string): Buckets {
  const le: number[] = [];
  const counts: number[] = [];
  for (const [key, value] of b) {
    const m = new RegExp(`^${name}_bucket\\{(?:.*,)?le="([^"]+)"`).exec(key);
    if (!m?.[1] || m[1] === '+Inf') continue;
    le.push(Number(m[1]));
    counts.push(value - (a.get(key) ?? 0));
  }
  const order = le.map((_, i) => i).sort((i, j) => (le[i] as number) - (le[j] as number));
  const total = [...b].filter(([k]) => k.startsWith(`${name}_count`)).reduce((s, [, v]) => s + v, 0);
  const before = [...a].filter(([k]) => k.startsWith(`${name}_count`)).reduce((s, [, v]) => s + v, 0);
  return {
    le: order.map((i) => le[i] as number),
    counts: order.map((i) => counts[i] as number),
    total: total - before,
  };
}

/** Several histograms' buckets summed (same edges). */
export function mergeBuckets(list: readonly Buckets[]): Buckets {
  const le = list[0]?.le ?? [];
  return {
    le,
    counts: le.map((_, i) => list.reduce((s, h) => s + (h.counts[i] ?? 0), 0)),
    total: list.reduce((s, h) => s + h.total, 0),
  };
}

/** Upper bound (bucket edge) below which a share `q` of the observations fall; Infinity past the last edge. */
export function bucketQuantile(h: Buckets, q: number): number {
  if (h.total <= 0) return NaN;
  for (let i = 0; i < h.le.length; i++) if ((h.counts[i] as number) >= q * h.total) return h.le[i] as number;
  return Infinity;
}

/** Share of observations at or below `le` seconds (must be a bucket edge). */
export function shareAtOrBelow(h: Buckets, le: number): number {
  const i = h.le.indexOf(le);
  return h.total > 0 && i >= 0 ? (h.counts[i] as number) / h.total : NaN;
}

/** A counter's value (`canvas_bus_published_total{kind="tick"}`), 0 when absent. */
export const counter = (m: MetricsSample, key: string): number => m.get(key) ?? 0;
