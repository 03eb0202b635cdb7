/**
 * Parts of the "Scale-out" section of perf/RESULTS.md (results-md-scale.ts): table helpers and the
 * edge-capacity table (measurement 3).
 */
import { n0, n1, pct } from '../../../testkit/format.ts';
import { mdTable as table } from '../../../testkit/report.ts';
import type { ScaleResults } from './results-md-scale.ts';
import { type Buckets, bucketQuantile, shareAtOrBelow } from './scale-procs.ts';

export const verdict = (ok: boolean) => (ok ? '**MET**' : '**NOT MET**');
export const cpuList = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([name, share]) => `${name} ${pct(share)}`)
    .join(', ');
export const ms = (seconds: number) => (Number.isFinite(seconds) ? `<= ${n0(seconds * 1000)} ms` : '> 5 s');
export const lagCell = (h: Buckets | undefined) =>
  h && h.total > 0
    ? `p50 ${ms(bucketQuantile(h, 0.5))}, p99 ${ms(bucketQuantile(h, 0.99))}, ${pct(shareAtOrBelow(h, 0.05))} <= 50 ms (${n0(h.total)})`
    : 'n/a';

export function capacitySection(r: Pick<ScaleResults, 'settings' | 'capacity' | 'cpuMethod' | 'pngBytes'>): string[] {
  const s = r.settings.edge;
  const rows = r.capacity.map((c) => {
    const w = c.run;
    const sw = w?.swarm;
    if (!w || !sw)
      return [c.stream, n0(c.subscribers), `failed: ${c.error ?? '?'}`, '', '', '', '', '', '', '', '', 'no'];
    return [
      c.stream,
      n0(c.subscribers),
      `${n0(sw.ready)}${sw.failed ? ` (${sw.failed} failed)` : ''}`,
      n0(sw.ticks),
      `${n0(sw.frames)} / ${n0(sw.expectedFrames)} (${(c.delivered * 100).toFixed(1)}%)`,
      `${n0(sw.deltaGaps)} / ${n0(sw.closes)}`,
      `${n0(sw.spreadMs.p50)} / ${n0(sw.spreadMs.p99)} / ${n0(sw.spreadMs.max)}`,
      `${n0(sw.visibleMs.p50)} / ${n0(sw.visibleMs.p99)}`,
      n0(sw.frames ? sw.bytes / sw.frames : NaN),
      `${pct(w.serverCpuShare)} (${n0(w.rssMiB.peak)} MiB)`,
      pct(sw.cpuShare),
      lagCell(c.lag),
      n1(c.load1),
      c.onTime ? 'yes' : 'no',
    ];
  });
  const best = (stream: string) =>
    Math.max(0, ...r.capacity.filter((c) => c.stream === stream && c.onTime).map((c) => c.subscribers));
  return [
    '### 3. Subscribers one edge core holds at 1,000 px/s with every tick on time',
    '',
    `One edge limited to CPU 0 (${r.cpuMethod}); writer, redis-server and perf/lib/load/ws-swarm.ts (the subscribers, plus its paced placer at ${n0(s.rate)} px/s placing through the same edge) on CPU 1. Each step: connect, ${s.warmupSeconds} s warm-up, ${s.seconds} s window of whole ticks (tick 1,000 ms). The canvas holds ${n0(r.settings.fill)} synthetic artwork placements plus the bus runs' placements (PNG frame ~${n0(r.pngBytes)} bytes before this table). On time = every subscriber got a frame for every tick of the window (frames = expected, no delta gaps, no socket lost) and the fan-out spread (arrival minus that tick's first arrival anywhere) stayed under 1,000 ms. Visible = placement sent -> frame holding it received. The steps of a stream stop after one delivering under 90%.`,
    '',
    ...table(
      'stream | subscribers | ready | ticks | frames / expected | delta gaps / closes | spread p50 / p99 / max ms | visible p50 / p99 ms | bytes per client per tick | edge CPU (peak RSS) | swarm CPU | edge canvas_bus_lag_seconds (whole step) | load avg | every tick on time',
      rows,
    ),
    '',
    `Highest step with every tick on time: delta ${n0(best('delta'))}, PNG ${n0(best('png'))} subscribers (a lower bound: the swarm on the other CPU also shares it with the writer and Redis; see its CPU column).`,
    '',
  ];
}
