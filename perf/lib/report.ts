/**
 * The bench section of perf/RESULTS.md (between `<!-- bench:start -->` and `<!-- bench:end -->`;
 * everything outside the markers is kept): the run's header, the budget rows, then each scenario's
 * figures as parts (testkit/report.ts renders them). What each figure means is in perf/README.md,
 * "Scenarios and what each figure means"; the sentences here give only what a run fills in.
 */
import { KNOBS } from './config.ts';
import { budgetCells, budgetRows, notMeasured, type BenchResults } from './budgets.ts';
import { ORIGIN_MODES } from './scenarios/image.ts';
import type { WrkSide } from './load/wrk.ts';
import type { PlaceRun } from './scenarios/place.ts';
import type { StallResult, StallSample } from './scenarios/stall.ts';
import type { WsRun } from './scenarios/ws.ts';
import { bytesPerFrame } from './scenarios/ws-runs.ts';
import { n0, n1, n2, pct } from '../../testkit/format.ts';
import { mdTable, type Part, renderParts, writeSection } from '../../testkit/report.ts';

const see = (n: number) => `(perf/README.md, scenario ${n})`;
const pair = (a: string, b: string) => `${a} / ${b}`;
/** Server CPU per tick / subscribers, in microseconds (everything the server did, shared out). */
const usPerSubscriberTick = (w: WsRun) => (w.cpuMsPerTick * 1000) / w.swarm.ready;
/** Placements acked per second of the window: whether the placer kept its rate. */
const placed = (w: WsRun) => (w.swarm.placer ? w.swarm.placer.windowAcks / w.swarm.windowSeconds : NaN);
const eld = (w: WsRun) => (w.metrics ? pair(n1(w.metrics.eldMedianMs), n1(w.metrics.eldP99Ms)) : 'n/a');

function encodeParts(r: BenchResults): Part[] {
  const e = r.encode;
  if (!e) return [];
  const { ours, upng } = e;
  const ref = e.levels.find((l) => l.how === 'deflateSync')?.bytes ?? NaN;
  const sync =
    ours.otherCpu === undefined
      ? ''
      : `; ${n2(ours.syncOtherCpuMs)} ms at level ${ours.level} with it on idle CPU ${ours.otherCpu}`;
  return [
    {
      title: `Tick encode (${e.width} x ${e.height}, ${e.colours} colours)`,
      text: [`Canvas content: ${e.content}. Median of N runs after warm-up, in-process on CPU ${r.config.loadCpu}.`],
      head: 'encoder | N | event-loop thread CPU ms | sync part ms | loop busy ms | wall ms | total CPU ms | bytes | output',
      rows: [
        [
          `ours: PngEncoder, zlib level ${ours.level} (default), deflate in libuv's pool`,
          String(ours.runs),
          n2(ours.loopCpuMs),
          `${n2(ours.packMs)} (packScanlines)`,
          n2(ours.loopBusyMs),
          n2(ours.wallMs),
          n2(ours.cpuMs),
          n0(ours.bytes),
          `indexed, 4-bit; decodes to the grid: ${ours.roundTrip ? 'yes' : 'NO'}`,
        ],
        [
          `UPNG.encode([rgba], w, h, cnum=${upng.cnum})`,
          String(upng.runs),
          n2(upng.loopCpuMs),
          `${n2(upng.wallMs)} (all of it)`,
          n2(upng.wallMs),
          n2(upng.wallMs),
          n2(upng.cpuMs),
          n0(upng.bytes),
          `colour type ${upng.ctype}, ${upng.depth}-bit; decodes to the grid: ${upng.roundTrip ? 'yes' : 'NO'}`,
        ],
      ],
      after: [
        `UPNG.encode / ours: event-loop thread CPU ${n1(upng.loopCpuMs / ours.loopCpuMs)}x, ` +
          `total CPU ${n1(upng.cpuMs / ours.cpuMs)}x, wall ${n1(upng.wallMs / ours.wallMs)}x.`,
      ],
    },
    {
      title: 'zlib levels on the same scanlines',
      sub: true,
      text: [
        `*Sync call ms*: the event loop blocked per encode (budget <= 2 ms), pool on the same CPU${sync} ${see(1)}.`,
      ],
      head: 'encode | N | PNG bytes | bytes / level 9 | CPU ms per encode (all threads) | event-loop thread CPU ms | sync call ms (loop blocked)',
      rows: [{ ...ours, how: 'default' }, ...e.levels].map((l) => [
        l.how === 'default'
          ? `PngEncoder level ${l.level} (server default)`
          : l.how === 'PngEncoder'
            ? `PngEncoder level ${l.level}`
            : `node:zlib deflateSync level ${l.level} of the same packed scanlines (all on the calling thread)`,
        String(l.runs),
        n0(l.bytes),
        `${(l.bytes / ref).toFixed(3)}x`,
        n2(l.cpuMs),
        n2(l.loopCpuMs),
        n2(l.syncMs),
      ]),
    },
  ];
}

const WRK_HEAD =
  'server | wrk -c | req/s | req/s per round | MiB/s | p50 ms | p75 ms | p90 ms | p99 ms | max ms | ' +
  'server CPU per round | req per server CPU-second | wrk CPU per round';

function wrkRow(name: string, side: WrkSide): string[] {
  const l = side.latencyMs;
  const mbps = side.rounds.reduce((s, r) => s + r.bytesPerSec, 0) / side.rounds.length / 1024 ** 2;
  return [
    name,
    String(side.connections),
    n0(side.requestsPerSec),
    side.rounds.map((r) => n0(r.requestsPerSec)).join(', '),
    n0(mbps),
    ...[l.p50, l.p75, l.p90, l.p99, l.max].map(n2),
    side.cpuShare.map(pct).join(', '),
    n0(side.perCpuSecond),
    side.rounds.map((r) => pct(r.cpuShare)).join(', '),
  ];
}

function imageParts(r: BenchResults): Part[] {
  const i = r.image;
  if (!i) return [];
  const ratios = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(', ');
  return [
    {
      title: 'GET /image (cached PNG)',
      text: [
        `PNG of ${n0(i.pngBytes)} bytes (ETag ${i.etag}), the canvas after the fill; deflateSync level 9 of its ` +
          `scanlines: ${n0(i.level9Bytes)} bytes, so the served bytes are ${(i.pngBytes / i.level9Bytes).toFixed(3)}x that. ` +
          `wrk -t${i.threads} -c${i.connections} --latency, ${i.ours.rounds.length} rounds of ${i.seconds} s per server, ` +
          `order alternating; medians of rounds (max: the largest) ${see(2)}.`,
      ],
      head: WRK_HEAD,
      rows: [wrkRow('ours (server/main.ts)', i.ours), wrkRow('bare uWS (perf/baselines/bare-image-server.ts)', i.bare)],
      after: [
        `Ours / bare: **${i.ratio.toFixed(3)}x** in requests/s (rounds: ${ratios(i.roundRatios)}); ` +
          `**${i.cpuRatio.toFixed(3)}x** in requests per server CPU-second (rounds: ${ratios(i.cpuRoundRatios)}). ` +
          `${i.unsaturatedRounds} of ${i.roundRatios.length} rounds had a server below 90% CPU` +
          `${i.unsaturatedRounds ? ': trust the CPU-normalised ratio more for this run' : ''}.`,
      ],
    },
  ];
}

function originParts(r: BenchResults): Part[] {
  const o = r.origin;
  if (!o) return [];
  return [
    {
      title: 'GET /image: cached vs encode per request (the origin experiment)',
      text: [
        `All three serve the same ${n0(o.pngBytes)}-byte PNG; wrk -t${o.threads} --latency, ` +
          `${o.modes.cached.rounds.length} rounds of ${o.seconds} s per mode; medians over rounds ${see(3)}.`,
      ],
      head: WRK_HEAD,
      rows: ORIGIN_MODES.map((name) => wrkRow(`\`${name}\``, o.modes[name])),
      after: [
        `Ratios of requests/s: cached / grid **${n0(o.ratios.cachedVsGrid)}x**, ` +
          `cached / db **${n0(o.ratios.cachedVsDb)}x**, grid / db ${n1(o.ratios.gridVsDb)}x. ` +
          `Per server CPU-second: cached / grid ${n0(o.cpuRatios.cachedVsGrid)}x, cached / db ${n0(o.cpuRatios.cachedVsDb)}x.`,
      ],
    },
  ];
}

const WS_HEAD =
  'run | subscribers | ticks | bytes per client per tick | frames delivered / expected | server CPU | ' +
  'server CPU ms per tick | server CPU us per subscriber per tick | worst loop delay per tick, median / max ms | ' +
  'spread p50 / p99 ms | visible p50 / p99 ms | ack p50 / p99 ms | server RSS peak MiB | swarm CPU';

function wsRow(w: WsRun): string[] {
  const { swarm: s, spec } = w;
  const p = s.placer;
  const errors = p ? Object.values(p.errors).reduce((a, b) => a + b, 0) : 0;
  return [
    `${spec.label}${spec.target === 'bare' ? ' (bare uWS publish)' : ''}`,
    `${n0(s.ready)}${s.ready < s.subscribers ? ` of ${n0(s.subscribers)}` : ''}`,
    String(s.ticks),
    n0(bytesPerFrame(w)),
    `${pair(n0(s.frames), n0(s.expectedFrames))}${s.deltaGaps ? `, ${s.deltaGaps} gaps` : ''}${s.closes ? `, ${s.closes} closed` : ''}`,
    pct(w.serverCpuShare),
    n1(w.cpuMsPerTick),
    n1(usPerSubscriberTick(w)),
    eld(w),
    pair(n1(s.spreadMs.p50), n1(s.spreadMs.p99)),
    p ? pair(n0(s.visibleMs.p50), n0(s.visibleMs.p99)) : 'n/a',
    p ? `${pair(n1(p.ackMs.p50), n1(p.ackMs.p99))}${errors ? `, ${errors} errors` : ''}` : 'n/a',
    n0(w.rssMiB.peak),
    pct(s.cpuShare),
  ];
}

function streamParts(r: BenchResults): Part[] {
  const s = r.streams;
  if (!s) return [];
  const cpu = (stream: string, rate: number) =>
    s.runs.find((x) => x.spec.stream === stream && x.spec.rate === rate)?.cpuMsPerTick ?? NaN;
  return [
    {
      title: 'WebSocket streams: PNG vs delta, event-loop delay',
      text: [
        `One run per stream per rate, load on CPU ${r.config.loadCpu}, ${r.config.wsSeconds} s of whole ticks ${see(4)}.`,
      ],
      head: WS_HEAD,
      rows: s.runs.map(wsRow),
    },
    ...(s.deltaRatios.length
      ? [
          {
            title: 'Bytes per client per tick, PNG vs delta stream',
            sub: true,
            head:
              'placements per second | PNG stream B per client per tick | delta stream B per client per tick | PNG / delta | ' +
              'server CPU ms per tick, PNG | server CPU ms per tick, delta',
            rows: s.deltaRatios.map((d) => [
              n0(d.rate),
              n0(d.png),
              n0(d.delta),
              `${n1(d.ratio)}x`,
              n1(cpu('png', d.rate)),
              n1(cpu('delta', d.rate)),
            ]),
          },
        ]
      : []),
    ...(s.fanout.length
      ? [
          {
            title: 'PNG fan-out cost per subscriber vs a bare `app.publish`',
            text: [
              `${s.fanout.length} rounds at ${n0(s.fanoutRate)} px/s: baseline, ours with ${n0(r.config.wsSubscribers)} ` +
                `PNG subscribers, bare publishing the same ${n0(s.barePngBytes)}-byte PNG ${see(5)}.`,
            ],
            head: WS_HEAD,
            rows: s.fanout.flatMap((f) => [f.baseline, f.png, f.bare]).map(wsRow),
          },
          {
            head:
              'round | fan-out CPU ms per tick, ours / bare | per delivered frame us, ours / bare | ' +
              'per delivered byte ns, ours / bare | ours / bare per byte',
            rows: s.fanout.map((f, i) => [
              String(i + 1),
              pair(n2(f.cost.ours.msPerTick), n2(f.cost.bare.msPerTick)),
              pair(n2(f.cost.ours.usPerFrame), n2(f.cost.bare.usPerFrame)),
              pair(f.cost.ours.nsPerByte.toFixed(3), f.cost.bare.nsPerByte.toFixed(3)),
              `${n2(f.ratio)}x`,
            ]),
            after: [`Median ours / bare per delivered byte: **${n2(s.fanoutRatio)}x**.`],
          },
        ]
      : []),
  ];
}

function manyParts(r: BenchResults): Part[] {
  if (!r.many) return [];
  const { ours, bare, pngBytes } = r.many;
  const row = (w: WsRun, name: string) => {
    const s = w.swarm;
    const flowing = w.spec.rate > 0;
    return [
      name,
      `${n0(s.ready)} of ${n0(s.subscribers)}`,
      flowing ? `${n0(placed(w))} px/s, ${s.ticks} ticks` : 'n/a',
      n1(s.connectSeconds),
      n0(w.rssMiB.before),
      n0(w.rssMiB.peak),
      n0(w.rssMiB.end),
      n1(((w.rssMiB.end - w.rssMiB.before) * 1024) / Math.max(1, s.ready)),
      flowing ? pair(n0(s.frames), n0(s.expectedFrames)) : 'n/a',
      flowing ? n0(bytesPerFrame(w)) : 'n/a',
      pct(w.serverCpuShare),
      flowing ? n1(usPerSubscriberTick(w)) : 'n/a',
      eld(w),
    ];
  };
  return [
    {
      title: `${n0(ours.swarm.subscribers)} WebSocket subscribers in one server process`,
      text: [
        `Delta subscribers, a ${n0(pngBytes)}-byte PNG on connect, ${n0(ours.spec.rate)} px/s; then the bare app ${see(6)}.`,
      ],
      head:
        'server | subscribers ready | placed (window), ticks | connect s | RSS before MiB | RSS peak MiB | ' +
        'RSS at window end MiB | RSS per subscriber KiB | frames delivered / expected | bytes per client per tick | ' +
        'server CPU | server CPU us per subscriber per tick | worst loop delay per tick, median / max ms',
      rows: [row(ours, 'ours (server/main.ts)'), ...(bare ? [row(bare, 'bare uWS, same PNG on connect')] : [])],
    },
  ];
}

function stallParts(r: BenchResults): Part[] {
  const st: StallResult | undefined = r.stall;
  if (!st) return [];
  const o = st.options;
  const mb = (pages: number) => n0((pages * st.pageBytes) / 1e6);
  const phases: [string, StallSample | undefined][] = [
    ['before', st.before],
    ['peak while connected', st.peak],
    ['right after the server closed them', st.closed],
    [`${o.afterSeconds} s after that`, st.after],
    ['after the clients exited', st.exited],
  ];
  const held = st.peak.memPages - st.before.memPages;
  const pl = st.placer;
  return [
    {
      title: 'Subscribers that stop reading (figures, not budgets)',
      text: [
        `\`--stall-ms ${o.stallMs}\`, ${n0(o.subscribers)} PNG subscribers that stop reading, ${n0(o.rate)} px/s; ` +
          `pages of ${n0(st.pageBytes)} bytes ${see(7)}.`,
      ],
      head:
        'reading | at s | server RSS MiB | TCP inuse | TCP orphan | TCP tw | TCP mem pages | TCP mem MB | ' +
        'server connections | user-space held MiB',
      rows: phases.flatMap(([name, x]) =>
        x
          ? [
              [
                name,
                n1(x.t),
                n0(x.rssMiB),
                ...[x.inuse, x.orphan, x.tw, x.memPages].map(n0),
                mb(x.memPages),
                n0(x.connections),
                n1(x.bufferedBytes / 2 ** 20),
              ],
            ]
          : [],
      ),
      after: [
        `${n0(st.ready)} of ${n0(o.subscribers)} opened in ${n1(st.connectSeconds)} s; ` +
          (st.closed
            ? `the server had closed all of them ${n1(st.closeSeconds)} s after the last one opened `
            : '**the server did not close all of them** ') +
          `(${n0(st.stalled)} for stalling, ${n0(st.evicted)} by --max-buffered-total); ` +
          (st.orphansGoneSeconds === undefined
            ? `${n0(st.after.orphan - st.before.orphan)} more orphans than before were left ${o.afterSeconds} s later. `
            : `the orphans were back to the count before ${n1(st.orphansGoneSeconds)} s later. `) +
          `Kernel TCP memory at the peak: ${mb(held)} MB over the reading before, ` +
          `${n0((held * st.pageBytes) / 1024 / Math.max(1, st.ready))} KiB per stopped reader. ` +
          (pl
            ? `Placer: ${n0(pl.acks)} acks, ack p50 / p99 / max ${n1(pl.ackMs.p50)} / ${n1(pl.ackMs.p99)} / ${n1(pl.ackMs.max)} ms. `
            : '') +
          `Worst event-loop delay in a 250 ms sample while connected: ${n1(st.peak.loopLagMaxMs - 10)} ms.`,
        `Timeline (s: orphans / TCP mem MB / server RSS MiB): ${st.timeline
          .map((x) => `${n0(x.t)}: ${n0(x.orphan)} / ${mb(x.memPages)} / ${n0(x.rssMiB)}`)
          .join('; ')}.`,
      ],
    },
  ];
}

function placeRow(title: string, run: PlaceRun): string[] {
  const { swarm: s, throttle: th } = run;
  const l = s.latencyMs;
  return [
    title,
    `${s.clients} x ${s.window}`,
    n2(s.seconds),
    n0(s.acksPerSec),
    n0(s.acks),
    Object.entries(s.errors)
      .map(([code, count]) => `${code}: ${count}`)
      .join(', ') || 'none',
    String(s.unanswered),
    String(s.closes),
    [l.p50, l.p90, l.p99, l.max].map(n2).join(' / '),
    pct(run.serverCpuShare),
    th ? `${th.throttled}/${th.periods} periods, ${n0(th.throttledMs)} ms` : 'no cgroup',
    pct(s.cpuShare),
  ];
}

function placeParts(r: BenchResults): Part[] {
  if (!r.place && !r.fill) return [];
  const p = r.persisted;
  return [
    {
      title: 'Placements acknowledged and persisted',
      text: [
        `${see(8)}${r.fill && r.place ? ` The placements table already held ${n0(r.fill.swarm.acksTotal)} rows (the fill).` : ''}`,
      ],
      head:
        'run | clients x window | seconds | acks/s | acks | errors | unanswered | unexpected closes | ' +
        'ack latency p50 / p90 / p99 / max ms | server CPU | cgroup throttled | swarm CPU',
      rows: [
        ...(r.fill ? [placeRow('fill (not a budget)', r.fill)] : []),
        ...(r.place ? [placeRow('measured', r.place)] : []),
      ],
      after: p
        ? [
            `Persisted: after SIGTERM (server exit ${p.serverExit}) the placements table holds ${n0(p.rows)} rows ` +
              `for ${n0(p.acked)} acks received: ` +
              (p.rows >= p.acked ? 'every acked placement is stored.' : '**acked placements are missing**.'),
          ]
        : [],
    },
  ];
}

function header(r: BenchResults): string[] {
  const { machine: m, overrides } = r;
  const flags = overrides.filter((o) => o.startsWith('--'));
  const envs = overrides.filter((o) => !o.startsWith('--'));
  const command = [...envs, 'npm run bench', ...(flags.length ? ['--', ...flags] : [])].join(' ');
  const versions = ['better-sqlite3', 'msgpackr', 'upng-js', 'ws', 'tsx'].map((p) => `${p} ${m.packages[p]}`);
  const missing = notMeasured(r);
  return [
    '## Latest run',
    '',
    '_Generated by `npm run bench` (perf/bench.ts); this section is overwritten on every run._',
    '',
    `- Date: ${m.date} (run took ${Math.round(r.elapsedSeconds)} s)`,
    `- Command: \`${command}\`${overrides.length ? '' : ' (all settings at their defaults)'}`,
    `- Machine: ${m.nproc} CPUs (nproc), ${m.cpuModel}, ${m.memoryGiB.toFixed(1)} GiB memory, Linux ${m.kernel}; ` +
      'shared and noisy, so compare ratios within one run rather than absolute rates across runs',
    `- Code measured: ${m.revision}`,
    `- Runtime: Node ${m.node}; uWebSockets.js ${m.packages['uWebSockets.js']} (backend: ${r.backend ?? 'not started'}); ` +
      `${versions.join('; ')} (SQLite ${m.sqlite}); wrk ${r.wrkVersion ?? 'not used'}`,
    `- CPU limit of the servers under test: ${r.cpuMethod ?? 'no server started'}; ` +
      `load generators and the harness on CPU ${r.config.loadCpu} (taskset)`,
    '',
    '### Budgets (docs/ARCHITECTURE.md, "Performance budgets")',
    '',
    ...mdTable('budget | target | measured | measured / target | verdict', budgetCells(budgetRows(r), true)),
    ...(missing.length ? ['', `Not measured in this run: ${missing.join('; ')}.`] : []),
  ];
}

/** Replaces the bench section of `path`, keeping everything outside its markers. */
export function writeResults(path: string, r: BenchResults): void {
  const c = r.config;
  const settings = [
    ...KNOBS.map((k) => [k.env, String(c[k.key]), k.help]),
    ['BENCH_WS_RATES', c.wsRates.join(','), 'placement rates (px/s) of the PNG/delta stream runs'],
  ];
  const parts = [imageParts, originParts, encodeParts, streamParts, manyParts, stallParts, placeParts].flatMap((f) =>
    f(r),
  );
  if (r.notes.length) parts.push({ title: 'Notes from this run', after: r.notes.map((n) => `- ${n}`) });
  writeSection(path, 'bench', [
    ...header(r),
    ...renderParts(parts),
    '',
    '<details><summary>Settings (environment variables)</summary>',
    '',
    ...mdTable('variable | value | meaning', settings),
    '',
    '</details>',
  ]);
}
