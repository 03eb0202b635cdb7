/**
 * Reads our server's Prometheus `/metrics` (server/ops/metrics.ts, prom-client) during a scenario.
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
import { percentile } from './stats.ts';

/** monitorEventLoopDelay resolution the server passes to prom-client (server/ops/metrics.ts). */
const ELD_RESOLUTION_MS = 10;

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

/**
 * The worst event-loop delay of each one-second interval of a window (the harness scrapes once a
 * second; the window starts half a tick after a tick, so each interval holds one tick), minus the
 * sampling interval: the tick's synchronous work (packing scanlines, publishing to every subscriber)
 * unless something else blocked longer. Summarised as the p99 over ticks (= the max for under 100
 * ticks) and the median, in ms.
 */
export interface WindowMetrics {
  eldP99Ms: number;
  eldMedianMs: number;
}

/** Figures over a window from a scrape at its start, one a second during it and one at its end. */
export function windowMetrics(samples: readonly MetricsSample[]): WindowMetrics | undefined {
  if (samples.length < 2) return undefined;
  const perTickMaxMs = samples
    .slice(1)
    .map((m) => (m.get('nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000 - ELD_RESOLUTION_MS);
  return { eldP99Ms: percentile(perTickMaxMs, 99), eldMedianMs: percentile(perTickMaxMs, 50) };
}
