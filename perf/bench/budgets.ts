/**
 * The run's results in one shape, and the "Performance budgets" of docs/ARCHITECTURE.md they are
 * judged against.
 * Each budget row says what was measured, the target, the ratio to the target and MET / NOT MET.
 */
import type { BenchConfig } from './config.ts';
import type { EncodeResult } from '../scenarios/encode.ts';
import type { ImageResult } from '../scenarios/image.ts';
import type { MachineInfo } from './machine-info.ts';
import type { OriginResult } from '../scenarios/origin.ts';
import type { PlaceRun } from '../scenarios/place.ts';
import type { StallResult, StallSample } from '../scenarios/stall.ts';
import { bytesPerFrame, type ManyResult, type StreamsResult } from '../scenarios/ws-runs.ts';
import { grouped } from '../../testkit/format.ts';

export interface BenchResults {
  machine: MachineInfo;
  config: BenchConfig;
  /** Settings the user changed from their defaults, as ENV=value. */
  overrides: string[];
  cpuMethod: string | undefined;
  backend: string | undefined;
  wrkVersion: string | undefined;
  encode?: EncodeResult;
  image?: ImageResult;
  origin?: OriginResult;
  streams?: StreamsResult;
  many?: ManyResult;
  stall?: StallResult;
  fill?: PlaceRun;
  place?: PlaceRun;
  /** Rows in the placements table after the server shut down, and acks received in total. */
  persisted?: { rows: number; acked: number; serverExit: number | string };
  /** Problems seen while running that do not stop the run. */
  notes: string[];
  elapsedSeconds: number;
}

export interface BudgetRow {
  name: string;
  target: string;
  measured: string;
  /** measured / target, written so > 1 reads "above the target". */
  ratio: string;
  met: boolean;
}

// Percentiles of empty runs arrive as null (NaN does not survive JSON): grouped() shows them as n/a.

// Three decimals in the ratio: with two, 0.898 against 0.9 printed "1.00x" next to NOT MET.
function atLeast(name: string, value: number, min: number, unit: string, digits: number): BudgetRow {
  return {
    name,
    target: `>= ${grouped(min, digits)}${unit}`,
    measured: `${grouped(value, digits)}${unit}`,
    ratio: `${grouped(value / min, 3)}x`,
    met: value >= min,
  };
}

function atMost(name: string, value: number, max: number, unit: string, digits: number): BudgetRow {
  return {
    name,
    target: `<= ${grouped(max, digits)}${unit}`,
    measured: `${grouped(value, digits)}${unit}`,
    ratio: `${grouped(value / max, 3)}x`,
    met: value <= max,
  };
}

export function budgetRows(r: BenchResults): BudgetRow[] {
  const rows: BudgetRow[] = [];
  if (r.image) {
    rows.push(atLeast('GET /image req/s, ours / bare uWS (same bytes)', r.image.ratio, 0.9, 'x', 3));
    rows.push(atLeast('GET /image req per server CPU-second, ours / bare uWS', r.image.cpuRatio, 0.9, 'x', 3));
  }
  if (r.encode) {
    const { ours, upng } = r.encode;
    rows.push(atMost('tick encode: event-loop thread CPU per encode', ours.loopCpuMs, 5, ' ms', 2));
    rows.push(atMost('tick encode: packScanlines, the synchronous part (wall)', ours.packMs, 5, ' ms', 2));
    // The synchronous encode() call: with the pool on another CPU it is the loop's own work; on the
    // same CPU (a one-CPU server) the deflate thread it wakes preempts the loop during it.
    if (ours.otherCpu !== undefined)
      rows.push(
        atMost(
          `tick encode: event loop blocked per tick (sync encode() call, level ${ours.level}, pool on another CPU)`,
          ours.syncOtherCpuMs,
          2,
          ' ms',
          2,
        ),
      );
    rows.push(
      atMost(
        `tick encode: event loop blocked per tick (sync encode() call, level ${ours.level}, pool on the same CPU)`,
        ours.syncMs,
        2,
        ' ms',
        2,
      ),
    );
    rows.push(atMost('tick encode: total CPU incl. thread-pool deflate (literal "5 ms CPU")', ours.cpuMs, 5, ' ms', 2));
    rows.push(
      atLeast('tick encode vs UPNG.encode: event-loop thread CPU', upng.loopCpuMs / ours.loopCpuMs, 10, 'x', 1),
    );
    rows.push(atLeast('tick encode vs UPNG.encode: total CPU', upng.cpuMs / ours.cpuMs, 10, 'x', 1));
  }
  const level9 = r.encode?.levels.find((l) => l.how === 'deflateSync');
  if (r.image) {
    rows.push(
      atMost(
        'GET /image bytes (default --png-level) / zlib level 9 of the same scanlines',
        r.image.pngBytes / r.image.level9Bytes,
        1.08,
        'x',
        3,
      ),
    );
  } else if (r.encode && level9) {
    rows.push(
      atMost(
        `tick encode PNG bytes (level ${r.encode.ours.level}) / zlib level 9 of the same scanlines`,
        r.encode.ours.bytes / level9.bytes,
        1.08,
        'x',
        3,
      ),
    );
  }
  if (r.origin) {
    rows.push(
      atLeast('GET /image req/s, cached / encode per request (grid mode)', r.origin.ratios.cachedVsGrid, 300, 'x', 0),
    );
    rows.push(
      atLeast(
        'GET /image req/s, cached / read from SQLite + encode (db mode)',
        r.origin.ratios.cachedVsDb,
        300,
        'x',
        0,
      ),
    );
  }
  const s = r.streams;
  if (s) {
    const at = (stream: string) => s.runs.find((x) => x.spec.stream === stream && x.spec.rate === s.budgetRate);
    const rate = s.budgetRate.toLocaleString('en-US');
    for (const w of [at('delta'), at('png')]) {
      if (w?.metrics)
        rows.push(
          atMost(
            `event-loop delay during ticks (worst per tick, p99), ${rate} px/s, ` +
              `${w.spec.subscribers.toLocaleString('en-US')} ${w.spec.stream} subscribers`,
            w.metrics.eldP99Ms,
            5,
            ' ms',
            1,
          ),
        );
    }
    if (s.fanout.length)
      rows.push(atMost('PNG fan-out CPU per delivered byte, ours / bare app.publish', s.fanoutRatio, 1.1, 'x', 2));
    const d = s.deltaRatios.find((x) => x.rate === s.budgetRate);
    if (d) rows.push(atLeast(`bytes per client per tick, PNG / delta stream at ${rate} px/s`, d.ratio, 20, 'x', 1));
  }
  if (r.many) {
    const m = r.many.ours;
    const complete = m.swarm.ready === m.spec.subscribers;
    rows.push({
      ...atMost(
        `RSS of one server process with ${m.swarm.ready.toLocaleString('en-US')} ${m.spec.stream} subscribers ` +
          `at ${m.spec.rate.toLocaleString('en-US')} px/s (peak)`,
        m.rssMiB.peak * 1.048576,
        200,
        ' MB',
        0,
      ),
      ...(complete ? {} : { met: false }),
    });
  }
  if (r.place) {
    rows.push(atLeast('placements acknowledged and persisted per second', r.place.swarm.acksPerSec, 50_000, '/s', 0));
  }
  return rows;
}

/** Budgets (docs/ARCHITECTURE.md) a run did not measure (scenario not selected), so their absence is visible. */
export function notMeasured(r: BenchResults): string[] {
  const missing: [boolean, string][] = [
    [!r.image, 'GET /image vs bare uWS >= 0.9x (scenario image)'],
    [!r.origin, 'cached vs encode-per-request >= 300x (scenario origin)'],
    [!r.encode, 'tick encode <= 5 ms, event loop blocked <= 2 ms per tick, >= 10x UPNG (scenario encode)'],
    [!r.image && !r.encode, 'PNG bytes <= 1.08x zlib level 9 (scenario image, or encode)'],
    [
      !r.streams,
      'event-loop delay p99 during ticks; PNG fan-out within 1.1x bare app.publish; ' +
        'delta >= 20x fewer bytes (scenario ws)',
    ],
    [!r.many, '10,000 delta subscribers at 1,000 px/s under 200 MB RSS (scenario ws10k)'],
    [!r.place, 'placements acknowledged and persisted >= 50,000/s (scenario place)'],
  ];
  return missing.filter(([m]) => m).map(([, text]) => text);
}

/** Plain-text table for the terminal. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

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
  out.push(textTable(['scenario', 'rate', 'detail'], figures));
  out.push('');
  out.push(
    textTable(
      ['budget', 'target', 'measured', 'ratio', 'verdict'],
      budgetRows(r).map((b) => [b.name, b.target, b.measured, b.ratio, b.met ? 'MET' : 'NOT MET']),
    ),
  );
  if (r.notes.length) out.push('', ...r.notes.map((n) => `note: ${n}`));
  return out.join('\n');
}

/** The stall scenario's readings in order, for both reports. */
export function stallPhases(st: StallResult): [string, StallSample][] {
  return [
    ['before', st.before],
    ['peak while connected', st.peak],
    ...(st.closed ? ([['right after the server closed them', st.closed]] as [string, StallSample][]) : []),
    [`${st.options.afterSeconds} s after that`, st.after],
    ['after the clients exited', st.exited],
  ];
}
