/**
 * The RESULTS.md sections of the origin (GET /image modes) and WebSocket scenarios; the frame and
 * the other sections are in perf/lib/results-md.ts.
 */
import type { BenchResults } from './budgets.ts';
import { ORIGIN_MODES, type OriginModeName } from './scenarios/origin.ts';
import type { WsRun } from './scenarios/ws.ts';
import { bytesPerFrame } from './scenarios/ws-runs.ts';
import { n0, n1, n2, pct } from '../../testkit/format.ts';
import { mdTable as table } from '../../testkit/report.ts';

const MODE_TEXT: Record<OriginModeName, string> = {
  db: 'reads the canvas from SQLite (latest snapshot + replay) and encodes it, on the event loop',
  grid: 'encodes the in-memory grid, on the event loop (encode per request)',
  cached: "writes the tick's cached PNG bytes (production)",
};

export function originSection(r: BenchResults): string[] {
  const o = r.origin;
  if (!o) return [];
  const L = ['', '### GET /image: cached vs encode per request (the origin experiment)', ''];
  L.push(
    '`cached` is our server; `db` and `grid` are perf/baselines/encode-per-request-server.ts (`--source db|grid`), ' +
      'each on its own copy of the filled database taken after a clean shutdown ' +
      '(so its grid snapshot is current and `db` replays no placements), each limited to the server CPU; ' +
      `all three serve the same ${n0(o.pngBytes)}-byte PNG (checked). ` +
      `wrk -t${o.threads} --latency, ${o.modes.cached.rounds.length} rounds of ${o.seconds} s per mode ` +
      'in rotating order; figures are medians over rounds. ' +
      'The encode-per-request modes block the event loop for each request, so they get fewer connections.',
    '',
  );
  L.push(
    ...table(
      'mode | what a request does | wrk -c | req/s | req/s per round | server CPU per round | req per server CPU-second | p50 ms | p99 ms',
      ORIGIN_MODES.map((name) => {
        const m = o.modes[name];
        return [
          `\`${name}\``,
          MODE_TEXT[name],
          String(m.connections),
          n0(m.requestsPerSec),
          m.rounds.map((x) => n0(x.requestsPerSec)).join(', '),
          m.cpuShare.map(pct).join(', '),
          n0(m.perCpuSecond),
          n2(m.latencyMs.p50),
          n2(m.latencyMs.p99),
        ];
      }),
    ),
  );
  L.push(
    '',
    `Ratios of requests/s: cached / grid **${n0(o.ratios.cachedVsGrid)}x**, ` +
      `cached / db **${n0(o.ratios.cachedVsDb)}x**, grid / db ${n1(o.ratios.gridVsDb)}x. ` +
      `Per server CPU-second: cached / grid ${n0(o.cpuRatios.cachedVsGrid)}x, ` +
      `cached / db ${n0(o.cpuRatios.cachedVsDb)}x.`,
  );
  return L;
}

/** Server CPU per tick / subscribers, in microseconds (everything the server did, shared out). */
export const usPerSubscriberTick = (w: WsRun): number => (w.cpuMsPerTick * 1000) / w.swarm.ready;

/** Placements acked per second of the window: whether the placer kept its rate. */
export const placedPerSecond = (w: WsRun): number =>
  w.swarm.placer ? w.swarm.placer.windowAcks / w.swarm.windowSeconds : NaN;

function wsRow(w: WsRun): string[] {
  const s = w.swarm;
  const m = w.metrics;
  const errors = s.placer ? Object.values(s.placer.errors).reduce((a, b) => a + b, 0) : 0;
  const gaps = s.deltaGaps ? `, ${s.deltaGaps} gaps` : '';
  const closed = s.closes ? `, ${s.closes} closed` : '';
  return [
    `${w.spec.label}${w.spec.target === 'bare' ? ' (bare uWS publish)' : ''}`,
    `${n0(s.ready)}${s.ready < s.subscribers ? ` of ${n0(s.subscribers)}` : ''}`,
    String(s.ticks),
    n0(bytesPerFrame(w)),
    `${n0(s.frames)} / ${n0(s.expectedFrames)}${gaps}${closed}`,
    pct(w.serverCpuShare),
    n1(w.cpuMsPerTick),
    n1(usPerSubscriberTick(w)),
    m ? `${n1(m.eldMedianMs)} / ${n1(m.eldP99Ms)}` : 'n/a',
    `${n1(s.spreadMs.p50)} / ${n1(s.spreadMs.p99)}`,
    s.placer ? `${n0(s.visibleMs.p50)} / ${n0(s.visibleMs.p99)}` : 'n/a',
    s.placer ? `${n1(s.placer.ackMs.p50)} / ${n1(s.placer.ackMs.p99)}${errors ? `, ${errors} errors` : ''}` : 'n/a',
    `${n0(w.rssMiB.peak)}`,
    pct(s.cpuShare),
  ];
}

const WS_HEADER = [
  'run',
  'subscribers',
  'ticks',
  'bytes per client per tick',
  'frames delivered / expected',
  'server CPU',
  'server CPU ms per tick',
  'server CPU us per subscriber per tick',
  'worst loop delay per tick, median / max ms',
  'spread p50 / p99 ms',
  'visible p50 / p99 ms',
  'ack p50 / p99 ms',
  'server RSS peak MiB',
  'swarm CPU',
];

export function streamsSection(r: BenchResults): string[] {
  const s = r.streams;
  if (!s) return [];
  const L = ['', '### WebSocket streams: PNG vs delta, event-loop delay', ''];
  L.push(
    `Subscribers are \`ws\` clients in one child process on CPU ${r.config.loadCpu} (perf/lib/load/ws-swarm.ts), ` +
      'all on the PNG or all on the delta stream of our server (one run per stream per rate, not mixed); ' +
      'a placer in the same process places synthetic artwork pixels at the given rate (cooldown 0), ' +
      'from before the subscribers connect. ' +
      `The ${r.config.wsSeconds} s window starts half a tick after a tick, so it holds whole ticks. Per run:`,
    '',
  );
  L.push(
    '- *ticks*: ticks whose first frame arrived inside the window; ' +
      "*bytes per client per tick*: MessagePack bytes of those ticks' frames / frames received; " +
      '*delivered*: frames received / (ticks x subscribers) ' +
      '(less means a subscriber was skipped under backpressure; *gaps*: delta `fromSeq` mismatches).',
  );
  L.push(
    "- *server CPU*: the server's CPU time over the window (/proc) / wall time; " +
      '*per tick*: that share x the 1 s tick interval (placements, encode and fan-out together); ' +
      '*per subscriber per tick*: that / subscribers (a figure, not a budget).',
  );
  L.push(
    '- *worst loop delay per tick*: `nodejs_eventloop_lag_max_seconds` from /metrics, ' +
      'scraped once a second through the window ' +
      '(prom-client resets its histogram on each scrape, and each second holds one tick), ' +
      'minus the 10 ms sampling interval the histogram includes (an idle server reads 10.1 ms): ' +
      "the longest the event loop was blocked during that second, i.e. by the tick's synchronous work " +
      '(packing the scanlines, publishing to every subscriber) unless a commit, snapshot or GC blocked longer. ' +
      'Median and max over the ticks; the budget row takes the p99 over ticks, ' +
      'which is the max for fewer than 100 ticks. ' +
      '(A p99 over all ~100 samples a second would sit on the boundary between the one tick sample a second ' +
      'and the rest, and swung between 3 and 27 ms for the same load.)',
  );
  L.push(
    "- *spread*: each frame's arrival minus the first arrival of the same tick " +
      '(how long one fan-out takes to reach everyone, as the client process sees it); ' +
      '*visible*: placement sent -> frame holding it received, per subscriber (bounded by the tick interval); ' +
      '*ack*: placement sent -> ack. The client process reads every frame too, ' +
      'so on the PNG stream (100 MB a second at 1,000 subscribers) its own CPU adds to spread and ack times.',
    '',
  );
  L.push(...table(WS_HEADER, s.runs.map(wsRow)));

  if (s.deltaRatios.length) {
    L.push('', '#### Bytes per client per tick, PNG vs delta stream', '');
    L.push(
      ...table(
        'placements per second | PNG stream B per client per tick | delta stream B per client per tick | PNG / delta | server CPU ms per tick, PNG | server CPU ms per tick, delta',
        s.deltaRatios.map((d) => {
          const cpu = (stream: string) =>
            s.runs.find((x) => x.spec.stream === stream && x.spec.rate === d.rate)?.cpuMsPerTick ?? NaN;
          return [n0(d.rate), n0(d.png), n0(d.delta), `${n1(d.ratio)}x`, n1(cpu('png')), n1(cpu('delta'))];
        }),
      ),
    );
    L.push(
      '',
      'A delta record is 5 bytes per changed pixel (PROTOCOL.md) plus a ~40-byte header; ' +
        'pixels placed twice in one tick count once. ' +
        'The PNG stream sends the whole canvas every changed tick whatever changed.',
    );
  }
  if (s.fanout.length) {
    L.push('', '### PNG fan-out cost per subscriber vs a bare `app.publish`', '');
    L.push(
      `${s.fanout.length} rounds, each of three runs with the same window: ` +
        `our server at ${n0(s.fanoutRate)} px/s (enough to change every tick) with one delta subscriber ` +
        '(*baseline*: the tick without PNG fan-out: encode, placements), ' +
        `the same with ${n0(r.config.wsSubscribers)} PNG subscribers (*ours*), ` +
        'and perf/baselines/bare-publish-server.ts (*bare*): ' +
        'a uWS app that sends the current message on connect, as ours does, ' +
        `and publishes a \`png\` message with the same ${n0(s.barePngBytes)}-byte PNG (a new seq each tick) ` +
        'to as many subscribers, nothing else. ' +
        'Fan-out CPU per tick: ours = ours minus baseline, bare = bare as measured. ' +
        'The budget figure is per delivered byte (the two PNG messages differ by a few bytes), median of the rounds.',
      '',
    );
    L.push(...table(WS_HEADER, s.fanout.flatMap((f) => [f.baseline, f.png, f.bare]).map(wsRow)), '');
    L.push(
      ...table(
        'round | fan-out CPU ms per tick, ours / bare | per delivered frame us, ours / bare | per delivered byte ns, ours / bare | ours / bare per byte',
        s.fanout.map((f, i) => [
          String(i + 1),
          `${n2(f.oursMsPerTick)} / ${n2(f.bareMsPerTick)}`,
          `${n2(f.oursUsPerFrame)} / ${n2(f.bareUsPerFrame)}`,
          `${f.oursNsPerByte.toFixed(3)} / ${f.bareNsPerByte.toFixed(3)}`,
          `${n2(f.ratio)}x`,
        ]),
      ),
    );
    L.push('', `Median ours / bare per delivered byte: **${n2(s.fanoutRatio)}x**.`);
  }
  return L;
}

export function manySection(r: BenchResults): string[] {
  if (!r.many) return [];
  const { ours, bare, pngBytes } = r.many;
  const L = ['', `### ${n0(ours.swarm.subscribers)} WebSocket subscribers in one server process`, ''];
  L.push(
    `${n0(ours.swarm.subscribers)} \`ws\` clients (one child process on CPU ${r.config.loadCpu}, ` +
      'at most 500 handshakes at a time, open-files limits raised with prlimit) ' +
      "on the delta stream, the browser client's default: " +
      `each gets hello and the current ${n0(pngBytes)}-byte PNG on connect, ` +
      `then one delta per tick while the placer places ${n0(ours.spec.rate)} px/s ` +
      `(${n0(placedPerSecond(ours))} px/s acked during the ${n0(ours.swarm.windowSeconds)} s window, ` +
      `${ours.swarm.ticks} ticks delivered in it). ` +
      'Then as many on perf/baselines/bare-publish-server.ts, ' +
      'which sends the same PNG message on connect and nothing after: ' +
      'the memory uWebSockets.js itself keeps per socket. ' +
      "Server RSS (VmRSS, /proc) sampled every 200 ms from before the first connect to the window's end.",
    '',
  );
  const row = (w: WsRun, name: string) => {
    const s = w.swarm;
    const perSocketKiB = ((w.rssMiB.end - w.rssMiB.before) * 1024) / Math.max(1, s.ready);
    return [
      name,
      `${n0(s.ready)} of ${n0(s.subscribers)}`,
      w.spec.rate ? `${n0(placedPerSecond(w))} px/s, ${s.ticks} ticks` : 'n/a',
      n1(s.connectSeconds),
      n0(w.rssMiB.before),
      n0(w.rssMiB.peak),
      n0(w.rssMiB.end),
      n1(perSocketKiB),
      w.spec.rate ? `${n0(s.frames)} / ${n0(s.expectedFrames)}` : 'n/a',
      w.spec.rate ? n0(bytesPerFrame(w)) : 'n/a',
      pct(w.serverCpuShare),
      w.spec.rate ? n1(usPerSubscriberTick(w)) : 'n/a',
      w.metrics ? `${n1(w.metrics.eldMedianMs)} / ${n1(w.metrics.eldP99Ms)}` : 'n/a',
    ];
  };
  L.push(
    ...table(
      'server | subscribers ready | placed (window), ticks | connect s | RSS before MiB | RSS peak MiB | RSS at window end MiB | RSS per subscriber KiB | frames delivered / expected | bytes per client per tick | server CPU | server CPU us per subscriber per tick | worst loop delay per tick, median / max ms',
      [row(ours, 'ours (server/main.ts)'), ...(bare ? [row(bare, 'bare uWS, same PNG on connect')] : [])],
    ),
  );
  return L;
}
