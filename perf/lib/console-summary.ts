/** The terminal summary of a run: the figures and the budget table as plain text. */
import { budgetRows, stallPhases, type BenchResults } from './budgets.ts';
import { bytesPerFrame } from './scenarios/ws-runs.ts';
import { grouped } from '../../testkit/format.ts';
import { textTable } from '../../testkit/report.ts';

/** The terminal summary printed at the end of a run. */
export function consoleSummary(r: BenchResults): string {
  const out: string[] = [];
  const figures: string[][] = [];
  if (r.image) {
    const { ours, bare } = r.image;
    const shares = (xs: number[]) => xs.map((c) => `${grouped(c * 100, 0)}%`).join('/');
    const side = (s: typeof ours) =>
      `p50 ${grouped(s.latencyMs.p50, 2)} / p99 ${grouped(s.latencyMs.p99, 2)} ms, ` +
      `server CPU ${shares(s.cpuShare)}, wrk CPU ${shares(s.wrkCpuShare)}`;
    figures.push(['GET /image ours', `${grouped(ours.requestsPerSec, 0)} req/s`, side(ours)]);
    figures.push(['GET /image bare uWS', `${grouped(bare.requestsPerSec, 0)} req/s`, side(bare)]);
  }
  if (r.encode) {
    const { ours, upng } = r.encode;
    figures.push([
      'encode ours',
      `${grouped(ours.wallMs, 2)} ms wall`,
      `loop CPU ${grouped(ours.loopCpuMs, 2)} ms (pack ${grouped(ours.packMs, 2)}), ` +
        `total CPU ${grouped(ours.cpuMs, 2)} ms, ${grouped(ours.bytes, 0)} B`,
    ]);
    figures.push([
      `encode UPNG(cnum=${upng.cnum})`,
      `${grouped(upng.wallMs, 2)} ms wall`,
      `loop CPU ${grouped(upng.loopCpuMs, 2)} ms, total CPU ${grouped(upng.cpuMs, 2)} ms, ${grouped(upng.bytes, 0)} B`,
    ]);
  }
  for (const l of r.encode?.levels ?? []) {
    figures.push([
      `encode level ${l.level} (${l.how})`,
      `${grouped(l.cpuMs, 2)} ms CPU`,
      `${grouped(l.bytes, 0)} B${Number.isFinite(l.syncMs) ? `, sync call ${grouped(l.syncMs, 2)} ms` : ''}`,
    ]);
  }
  if (r.origin) {
    for (const m of Object.values(r.origin.modes)) {
      figures.push([
        `GET /image, mode ${m.mode}`,
        `${grouped(m.requestsPerSec, 0)} req/s`,
        `-c${m.connections}, p50 ${grouped(m.latencyMs.p50, 2)} / p99 ${grouped(m.latencyMs.p99, 2)} ms, ` +
          `${grouped(m.perCpuSecond, 0)} req per server CPU-second`,
      ]);
    }
  }
  const wsRuns = [
    ...(r.streams ? [...r.streams.runs, ...r.streams.fanout.flatMap((f) => [f.baseline, f.png, f.bare])] : []),
    ...(r.many ? [r.many.ours, ...(r.many.bare ? [r.many.bare] : [])] : []),
  ];
  for (const w of wsRuns) {
    const sw = w.swarm;
    const eld = w.metrics
      ? `, worst loop delay per tick median ${grouped(w.metrics.eldMedianMs, 1)} ` +
        `/ max ${grouped(w.metrics.eldP99Ms, 1)} ms`
      : '';
    figures.push([
      `ws ${w.spec.label}${w.spec.target === 'bare' ? ' (bare)' : ''}, ${grouped(sw.ready, 0)} subs`,
      `${grouped(sw.frames / sw.windowSeconds, 0)} frames/s`,
      `${grouped(bytesPerFrame(w), 0)} B/client/tick, ` +
        `${grouped(sw.frames, 0)}/${grouped(sw.expectedFrames, 0)} delivered, ` +
        `spread p99 ${grouped(sw.spreadMs.p99, 1)} ms, ` +
        `server CPU ${grouped(w.serverCpuShare * 100, 0)}% (${grouped(w.cpuMsPerTick, 1)} ms/tick)${eld}, ` +
        `RSS peak ${grouped(w.rssMiB.peak, 0)} MiB`,
    ]);
  }
  if (r.stall) {
    const st = r.stall;
    const mb = (pages: number) => `${grouped((pages * st.pageBytes) / 1e6, 0)} MB`;
    for (const [name, x] of stallPhases(st)) {
      figures.push([
        `stall: ${name}`,
        `RSS ${grouped(x.rssMiB, 0)} MiB`,
        `TCP inuse ${grouped(x.tcp.inuse, 0)}, orphan ${grouped(x.tcp.orphan, 0)}, mem ${mb(x.tcp.memPages)}`,
      ]);
    }
  }
  if (r.place) {
    const s = r.place.swarm;
    const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
    figures.push([
      'placements',
      `${grouped(s.acksPerSec, 0)} acks/s`,
      `p50 ${grouped(s.latencyMs.p50, 2)} / p99 ${grouped(s.latencyMs.p99, 2)} ms, ${errors} errors, ` +
        `server CPU ${grouped(r.place.serverCpuShare * 100, 0)}%`,
    ]);
  }
  out.push(textTable('scenario | rate | detail', figures));
  out.push('');
  out.push(
    textTable(
      'budget | target | measured | ratio | verdict',
      budgetRows(r).map((b) => [b.name, b.target, b.measured, b.ratio, b.met ? 'MET' : 'NOT MET']),
    ),
  );
  if (r.notes.length) out.push('', ...r.notes.map((n) => `note: ${n}`));
  return out.join('\n');
}
