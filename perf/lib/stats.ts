/** Small statistics helpers shared by the scenarios. */
import { createHistogram } from 'node:perf_hooks';

/** Median of a non-empty list (NaN for an empty one). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile `p` (0..100) of `values` (NaN for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** CPU time of this process (all threads) since `start`, in ms. */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Durations in ms, kept in a node:perf_hooks histogram at ns resolution; NaN figures while empty. */
export class MsHistogram {
  private readonly h = createHistogram();

  record(ms: number): void {
    this.h.record(Math.max(1, Math.round(ms * 1e6)));
  }

  get count(): number {
    return this.h.count;
  }

  summary(): Percentiles {
    const q = (p: number) => (this.h.count ? this.h.percentile(p) / 1e6 : NaN);
    return { p50: q(50), p90: q(90), p99: q(99), max: this.h.count ? this.h.max / 1e6 : NaN };
  }
}
