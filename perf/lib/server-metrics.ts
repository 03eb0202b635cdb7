/**
 * Reads our server's Prometheus `/metrics` (server/ops/metrics.ts, prom-client) during a scenario:
 * event-loop delay, ticks, bytes published per stream. No server change needed for any of it.
 *
 * Event-loop delay: prom-client samples it with `monitorEventLoopDelay({ resolution: 10 })` and
 * resets that histogram on every scrape, so each scrape gives the percentiles since the previous one.
 * The histogram records the interval between two wake-ups of a 10 ms timer, so an idle loop reads
 * ~10.1 ms: the delay is the figure minus the 10 ms resolution (`ELD_RESOLUTION_MS`). A tick blocks
 * the loop once a second, i.e. about 1 sample in 100, so a p99 over a whole window lands on the
 * boundary between tick and non-tick samples and swings from run to run (seen: 3 ms and 27 ms for
 * the same load). The harness therefore scrapes once a second and keeps each second's worst sample:
 * the delay that second's tick caused.
 */

/** monitorEventLoopDelay resolution the server passes to prom-client (server/ops/metrics.ts). */
export const ELD_RESOLUTION_MS = 10;

export type MetricsSample = ReadonlyMap<string, number>;

/** Parses Prometheus text: `name{labels} value` lines into a map keyed by `name{labels}`. */
export function parsePrometheus(text: string): MetricsSample {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    if (cut > 0) out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

export async function scrapeMetrics(httpBase: string): Promise<MetricsSample> {
  const res = await fetch(`${httpBase}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${httpBase}/metrics: ${res.status}`);
  return parsePrometheus(await res.text());
}

export interface WindowMetrics {
  /**
   * Event-loop delay per one-second interval of the window (the harness scrapes once a second; the
   * window starts half a tick after a tick, so each interval holds one tick), in ms, minus the
   * sampling interval: the interval's worst sample (`_max`), which is the tick's synchronous work
   * (packing scanlines, publishing to every subscriber) unless something else blocked longer, and
   * its p99 (`_p99`, about the second-worst of ~100 samples).
   */
  perTickMaxMs: number[];
  perTickP99Ms: number[];
  /** The worst delay of each tick, summarised: p99 over ticks (= the max for under 100 ticks) and median. */
  eldP99Ms: number;
  eldMedianMs: number;
  ticks: number;
  /** Mean wall time of a tick (capture -> published), ms. */
  tickMs: number;
  publishedBytes: { png: number; delta: number };
}

const percentile = (values: readonly number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

/** Figures over a window from a scrape at its start, one a second during it and one at its end. */
export function windowMetrics(samples: readonly MetricsSample[]): WindowMetrics | undefined {
  const start = samples[0];
  const end = samples.at(-1);
  if (!start || !end || samples.length < 2) return undefined;
  const get = (m: MetricsSample, key: string) => m.get(key) ?? NaN;
  const diff = (key: string) => get(end, key) - get(start, key);
  const ticks = diff('canvas_tick_seconds_count');
  const later = samples.slice(1);
  const perTickMaxMs = later.map((m) => get(m, 'nodejs_eventloop_lag_max_seconds') * 1000 - ELD_RESOLUTION_MS);
  const perTickP99Ms = later.map((m) => get(m, 'nodejs_eventloop_lag_p99_seconds') * 1000 - ELD_RESOLUTION_MS);
  return {
    perTickMaxMs,
    perTickP99Ms,
    eldP99Ms: percentile(perTickMaxMs, 99),
    eldMedianMs: percentile(perTickMaxMs, 50),
    ticks,
    tickMs: ticks > 0 ? (diff('canvas_tick_seconds_sum') / ticks) * 1000 : NaN,
    publishedBytes: {
      png: diff('canvas_published_bytes_total{stream="png"}'),
      delta: diff('canvas_published_bytes_total{stream="delta"}'),
    },
  };
}
