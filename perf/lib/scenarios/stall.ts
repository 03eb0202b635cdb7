/**
 * The `stall` scenario (perf/README.md, scenario 7): where the bytes for readers that stopped end up
 * (server RSS, the kernel's TCP memory) and whether they come back. A forceful close (uWS `close`, no
 * SO_LINGER) hands the unsent bytes to the kernel, which keeps each such socket as an orphan until the
 * peer reads them or it gives up; the clients' exit closes their ends with RSTs.
 */
import { execFileSync } from 'node:child_process';
import type { BenchConfig } from '../config.ts';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssBytes } from '../../../testkit/processes.ts';
import { scrapeMetrics } from '../server-metrics.ts';
import { startPinnedScript, type ServerUnderTest } from '../server-process.ts';
import type { PlacerStats } from '../load/paced-placer.ts';

const SAMPLE_MS = 250;
/** The timeline keeps a sample every TIMELINE_S, or fewer so that it has at most MAX_TIMELINE. */
const TIMELINE_S = 5;
const MAX_TIMELINE = 24;

/** The JSON lines of perf/lib/load/ws-swarm.ts --stop-reading 1. */
type StallLine =
  | { type: 'connected'; ready: number; failed: number; seconds: number }
  | { type: 'result'; placer: PlacerStats | undefined }
  | { type: 'progress'; ready: number; failed: number; of: number };

interface StallOptions {
  subscribers: number;
  rate: number;
  stallMs: number;
  afterSeconds: number;
}

/** One reading: server RSS, the `TCP:` line of /proc/net/sockstat, /metrics (NaN when a scrape failed). */
export interface StallSample {
  /** Seconds since the scenario started. */
  t: number;
  rssMiB: number;
  inuse: number;
  orphan: number;
  tw: number;
  memPages: number;
  connections: number;
  stalled: number;
  evicted: number;
  bufferedBytes: number;
  /** Worst event-loop delay since the previous scrape, the 10 ms sampling interval included. */
  loopLagMaxMs: number;
}

export interface StallResult {
  options: StallOptions;
  pageBytes: number;
  ready: number;
  connectSeconds: number;
  before: StallSample;
  /** Each figure's own maximum over the samples from the first connect to the closes. */
  peak: StallSample;
  /** The first sample at which the server had closed every stopped reader. */
  closed: StallSample | undefined;
  closeSeconds: number;
  stalled: number;
  evicted: number;
  after: StallSample;
  exited: StallSample;
  /** Seconds after `closed` at which the orphans were back to the `before` count. */
  orphansGoneSeconds: number | undefined;
  timeline: StallSample[];
  placer: PlacerStats | undefined;
}

/** Bytes per page, for sockstat's `mem`. */
const pageBytes = () => Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());

function readKernelTcp(): Pick<StallSample, 'inuse' | 'orphan' | 'tw' | 'memPages'> {
  const line = /^TCP:(.*)$/m.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1] ?? '';
  const get = (key: string) => Number(new RegExp(`\\b${key} (\\d+)`).exec(line)?.[1] ?? NaN);
  return { inuse: get('inuse'), orphan: get('orphan'), tw: get('tw'), memPages: get('mem') };
}

/** Each figure's own maximum over `samples`. */
function peakOf(samples: readonly StallSample[]): StallSample {
  const keys = Object.keys(samples[0] ?? {}) as (keyof StallSample)[];
  const max = (k: keyof StallSample) => Math.max(...samples.map((s) => s[k]).filter(Number.isFinite));
  return Object.fromEntries(keys.map((k) => [k, k === 't' ? NaN : max(k)])) as unknown as StallSample;
}

export async function runStallBench(
  server: ServerUnderTest,
  c: BenchConfig,
  progress: (msg: string) => void,
): Promise<StallResult> {
  const opts: StallOptions = {
    subscribers: c.stallSubscribers,
    rate: c.stallRate,
    stallMs: c.stallMs,
    afterSeconds: c.stallAfterSeconds,
  };
  const started = performance.now();
  const pid = server.child.pid;
  const sample = async (): Promise<StallSample> => {
    const m = await scrapeMetrics(server.http).catch(() => undefined);
    const get = (key: string) => m?.get(key) ?? NaN;
    return {
      t: (performance.now() - started) / 1000,
      rssMiB: rssBytes(pid) / 2 ** 20,
      ...readKernelTcp(),
      connections: get('canvas_ws_connections'),
      stalled: get('canvas_ws_stalled_total'),
      evicted: get('canvas_ws_evicted_total'),
      bufferedBytes: get('canvas_ws_buffered_bytes'),
      loopLagMaxMs: get('nodejs_eventloop_lag_max_seconds') * 1000,
    };
  };
  const before = await sample();
  /** Stopped readers the server closed since `before`. */
  const closedCount = (x: StallSample | undefined) =>
    x ? x.stalled + x.evicted - before.stalled - before.evicted : NaN;
  const samples: StallSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await sample());
      await sleep(SAMPLE_MS);
    }
  })();

  let connected: { ready: number; failed: number; seconds: number } | undefined;
  let placer: PlacerStats | undefined;
  const onJson = (msg: StallLine) => {
    if (msg.type === 'connected') connected = msg;
    else if (msg.type === 'result') placer = msg.placer;
    else if (msg.type === 'progress') progress(`stall: connecting, ${msg.ready}/${msg.of} open and paused`);
  };
  const show = (what: string, s: StallSample) =>
    progress(
      `stall: ${what}: orphans ${s.orphan}, TCP mem ${s.memPages} pages, server RSS ${Math.round(s.rssMiB)} MiB`,
    );
  const flags = {
    url: server.ws,
    subscribers: opts.subscribers,
    rate: opts.rate,
    seed: 11,
    'stop-reading': 1,
    'timeout-seconds': Math.ceil(opts.subscribers / 100) + opts.afterSeconds + opts.stallMs / 1000 + 180,
  };
  const script = 'perf/lib/load/ws-swarm.ts';
  const child = startPinnedScript('stall swarm', c.loadCpu, script, flags, onJson, opts.subscribers + 1024);
  try {
    const connectDeadline = performance.now() + (opts.subscribers / 50 + 60) * 1000;
    while (!connected) {
      if (child.proc.exitCode !== null || performance.now() > connectDeadline)
        throw new Error(`stall swarm did not connect: ${child.stderr().slice(-2000)}`);
      await sleep(100);
    }
    const ready = connected.ready;
    progress(`stall: ${ready} subscribers open and not reading; waiting for the server to close them`);
    const connectedAt = performance.now();
    const closeDeadline = connectedAt + (opts.stallMs * 1.25 + 60_000);
    let closed: StallSample | undefined;
    let seen = samples.length;
    while (!closed && performance.now() < closeDeadline) {
      await sleep(SAMPLE_MS / 2);
      for (; seen < samples.length; seen++) {
        const s = samples[seen] as StallSample;
        if (closedCount(s) >= ready) {
          closed = s;
          break;
        }
      }
    }
    const closeSeconds = closed ? closed.t - (connectedAt - started) / 1000 : NaN;
    const peak = peakOf(samples.slice(0, seen + 1));
    const last = (closed ?? samples.at(-1)) as StallSample;
    show(closed ? `the server closed all ${ready}` : `the server closed only ${closedCount(last)} of ${ready}`, last);
    const closedAt = performance.now();
    let orphansGoneSeconds: number | undefined;
    while (performance.now() - closedAt < opts.afterSeconds * 1000) {
      await sleep(SAMPLE_MS);
      const s = samples.at(-1);
      if (orphansGoneSeconds === undefined && s && s.orphan <= before.orphan && closed)
        orphansGoneSeconds = s.t - closed.t;
    }
    const after = await sample();
    show(`${opts.afterSeconds} s later`, after);
    await child.stop(5000);
    await sleep(2000);
    const exited = await sample();
    show('clients gone', exited);
    const timeline: StallSample[] = [];
    const step = Math.max(TIMELINE_S, (exited.t - before.t) / MAX_TIMELINE);
    for (const s of [...samples, exited])
      if (timeline.length === 0 || s.t - (timeline.at(-1) as StallSample).t >= step) timeline.push(s);
    return {
      options: opts,
      pageBytes: pageBytes(),
      ready,
      connectSeconds: connected.seconds,
      before,
      peak,
      closed,
      closeSeconds,
      stalled: exited.stalled - before.stalled,
      evicted: exited.evicted - before.evicted,
      after,
      exited,
      orphansGoneSeconds,
      timeline,
      placer,
    };
  } finally {
    sampling = false;
    await sampler;
    await child.stop(5000);
  }
}
