/**
 * The run's results in one shape, and the "Performance budgets" of docs/ARCHITECTURE.md they are
 * judged against.
 * Each budget row says what was measured, the target, the ratio to the target and MET / NOT MET.
 */
import type { BenchConfig } from './config.ts';
import type { EncodeResult } from './scenarios/encode.ts';
import type { ImageResult } from './scenarios/image.ts';
import type { MachineInfo } from './machine-info.ts';
import type { OriginResult } from './scenarios/origin.ts';
import type { PlaceRun } from './scenarios/place.ts';
import type { StallResult, StallSample } from './scenarios/stall.ts';
import type { ManyResult, StreamsResult } from './scenarios/ws-runs.ts';
import { grouped } from '../../testkit/format.ts';
import { textTable } from '../../testkit/report.ts';

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

/**
 * The terminal summary at the end of a run: the budget table and the run's notes. The figures behind
 * them were printed as progress lines while measuring and are all in RESULTS.md.
 */
export function consoleSummary(r: BenchResults): string {
  const rows = budgetRows(r).map((b) => [b.name, b.target, b.measured, b.ratio, b.met ? 'MET' : 'NOT MET']);
  const missing = notMeasured(r);
  return [
    textTable('budget | target | measured | ratio | verdict', rows),
    ...(missing.length ? ['', `not measured in this run: ${missing.join('; ')}`] : []),
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}
