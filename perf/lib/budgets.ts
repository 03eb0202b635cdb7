/**
 * The run's results in one shape, and the "Performance budgets" of docs/ARCHITECTURE.md they are
 * judged against. Each budget row says what was measured, the target, the ratio to the target and
 * MET / NOT MET; bench.ts prints them, report.ts writes them to RESULTS.md, scale.ts uses the same rows.
 */
import type { BenchConfig } from './config.ts';
import type { EncodeResult } from './scenarios/encode.ts';
import type { ImageResult, OriginResult } from './scenarios/image.ts';
import type { MachineInfo } from './machine-info.ts';
import type { PlaceRun } from './scenarios/place.ts';
import type { StallResult } from './scenarios/stall.ts';
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

export interface Budget {
  name: string;
  target: string;
  measured: string;
  /** measured / target, written so > 1 reads "above the target". */
  ratio: string;
  met: boolean;
}

/**
 * One budget row: `value` against `rule`, written `'>= 0.9x'` or `'<= 5 ms'` (at least or at most,
 * target, unit). Three decimals in the ratio: with two, 0.898 against 0.9 printed "1.00x" next to
 * NOT MET. `met: false` overrides (an incomplete run). Percentiles of empty runs arrive as null (NaN
 * does not survive JSON): grouped() shows them as n/a.
 */
export function budget(name: string, value: number, rule: string, digits: number, met = true): Budget {
  const [, op, num, unit] = /^(>=|<=) ([\d.]+)(.*)$/.exec(rule) ?? [];
  const target = Number(num);
  return {
    name,
    target: `${op} ${grouped(target, digits)}${unit}`,
    measured: `${grouped(value, digits)}${unit}`,
    ratio: `${grouped(value / target, 3)}x`,
    met: met && Number.isFinite(value) && (op === '>=' ? value >= target : value <= target),
  };
}

const en = (n: number) => n.toLocaleString('en-US');

export function budgetRows(r: BenchResults): Budget[] {
  const rows: Budget[] = [];
  const add = (name: string, value: number, rule: string, digits: number, met = true) =>
    rows.push(budget(name, value, rule, digits, met));
  const { image, encode, origin, streams: s, many, place } = r;
  if (image) {
    add('GET /image req/s, ours / bare uWS (same bytes)', image.ratio, '>= 0.9x', 3);
    add('GET /image req per server CPU-second, ours / bare uWS', image.cpuRatio, '>= 0.9x', 3);
  }
  if (encode) {
    const { ours, upng } = encode;
    const blocked = (where: string) =>
      `tick encode: event loop blocked per tick (sync encode() call, level ${ours.level}, pool on ${where})`;
    add('tick encode: event-loop thread CPU per encode', ours.loopCpuMs, '<= 5 ms', 2);
    add('tick encode: packScanlines, the synchronous part (wall)', ours.packMs, '<= 5 ms', 2);
    // With the pool on another CPU the sync call is the loop's own work; on the same CPU (a one-CPU
    // server) the deflate thread it wakes preempts the loop during it.
    if (ours.otherCpu !== undefined) add(blocked('another CPU'), ours.syncOtherCpuMs, '<= 2 ms', 2);
    add(blocked('the same CPU'), ours.syncMs, '<= 2 ms', 2);
    add('tick encode: total CPU incl. thread-pool deflate (literal "5 ms CPU")', ours.cpuMs, '<= 5 ms', 2);
    add('tick encode vs UPNG.encode: event-loop thread CPU', upng.loopCpuMs / ours.loopCpuMs, '>= 10x', 1);
    add('tick encode vs UPNG.encode: total CPU', upng.cpuMs / ours.cpuMs, '>= 10x', 1);
  }
  const level9 = encode?.levels.find((l) => l.how === 'deflateSync');
  const size = '/ zlib level 9 of the same scanlines';
  if (image) add(`GET /image bytes (default --png-level) ${size}`, image.pngBytes / image.level9Bytes, '<= 1.08x', 3);
  else if (encode && level9)
    add(`tick encode PNG bytes (level ${encode.ours.level}) ${size}`, encode.ours.bytes / level9.bytes, '<= 1.08x', 3);
  if (origin) {
    add('GET /image req/s, cached / encode per request (grid mode)', origin.ratios.cachedVsGrid, '>= 300x', 0);
    add('GET /image req/s, cached / read from SQLite + encode (db mode)', origin.ratios.cachedVsDb, '>= 300x', 0);
  }
  if (s) {
    const rate = `${en(s.budgetRate)} px/s`;
    for (const stream of ['delta', 'png']) {
      const w = s.runs.find((x) => x.spec.stream === stream && x.spec.rate === s.budgetRate);
      const who = `${en(w?.spec.subscribers ?? 0)} ${stream} subscribers`;
      if (w?.metrics)
        add(`event-loop delay during ticks (worst per tick, p99), ${rate}, ${who}`, w.metrics.eldP99Ms, '<= 5 ms', 1);
    }
    if (s.fanout.length)
      add('PNG fan-out CPU per delivered byte, ours / bare app.publish', s.fanoutRatio, '<= 1.1x', 2);
    const d = s.deltaRatios.find((x) => x.rate === s.budgetRate);
    if (d) add(`bytes per client per tick, PNG / delta stream at ${rate}`, d.ratio, '>= 20x', 1);
  }
  if (many) {
    const { swarm, spec, rssMiB } = many.ours;
    const what = `${en(swarm.ready)} ${spec.stream} subscribers at ${en(spec.rate)} px/s`;
    add(
      `RSS of one server process with ${what} (peak)`,
      rssMiB.peak * 1.048576,
      '<= 200 MB',
      0,
      swarm.ready === spec.subscribers,
    );
  }
  if (place) add('placements acknowledged and persisted per second', place.swarm.acksPerSec, '>= 50000/s', 0);
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
      'event-loop delay p99 during ticks; PNG fan-out within 1.1x bare app.publish; delta >= 20x fewer bytes (scenario ws)',
    ],
    [!r.many, '10,000 delta subscribers at 1,000 px/s under 200 MB RSS (scenario ws10k)'],
    [!r.place, 'placements acknowledged and persisted >= 50,000/s (scenario place)'],
  ];
  return missing.filter(([m]) => m).map(([, text]) => text);
}

/** Budget rows as table cells; `bold` for Markdown. */
export const budgetCells = (rows: readonly Budget[], bold: boolean): string[][] =>
  rows.map((b) => [
    b.name,
    b.target,
    b.measured,
    b.ratio,
    bold ? `**${b.met ? 'MET' : 'NOT MET'}**` : b.met ? 'MET' : 'NOT MET',
  ]);

/**
 * The terminal summary at the end of a run: the budget table and the run's notes. The figures behind
 * them were printed as progress lines while measuring and are all in RESULTS.md.
 */
export function consoleSummary(r: BenchResults): string {
  const missing = notMeasured(r);
  return [
    textTable('budget | target | measured | ratio | verdict', budgetCells(budgetRows(r), false)),
    ...(missing.length ? ['', `not measured in this run: ${missing.join('; ')}`] : []),
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}
