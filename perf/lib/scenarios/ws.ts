/**
 * One WebSocket run: ws-swarm.ts on the load CPU while the harness reads the server's CPU time and RSS
 * from /proc and, for our server, /metrics once a tick.
 */
import { cpuSeconds, rssBytes } from '../../../testkit/processes.ts';
import { scrapeMetrics, windowMetrics, type MetricsSample, type WindowMetrics } from '../server-metrics.ts';
import { startPinnedScript, type ServerUnderTest } from '../server-process.ts';
import type { WsSwarmResult } from '../load/ws-swarm.ts';

const rssMiB = (pid: number): number => rssBytes(pid) / 2 ** 20;

export interface WsRunSpec {
  label: string;
  target: 'ours' | 'bare';
  /** `region`: delta subscribers of a random region of `regionTiles` x `regionTiles` level-0 tiles each. */
  stream: 'png' | 'delta' | 'region';
  regionTiles?: number;
  subscribers: number;
  /** Placements per second (0: no placer). */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  tickMs: number;
  connectConcurrency: number;
}

export interface WsRun {
  spec: WsRunSpec;
  swarm: WsSwarmResult;
  serverCpuShare: number;
  /** Server CPU ms per tick: CPU share x tick interval (the window holds whole tick intervals). */
  cpuMsPerTick: number;
  metrics: WindowMetrics | undefined;
  rssMiB: { before: number; peak: number; end: number };
}

/** The JSON lines of perf/lib/load/ws-swarm.ts. */
type SwarmLine =
  | WsSwarmResult
  | { type: 'window'; phase: 'start' | 'end' }
  | { type: 'progress'; ready: number; failed: number; of: number };

interface Mark {
  cpu: number;
  t: number;
  rss: number;
}

export async function runWsScenario(
  server: ServerUnderTest,
  spec: WsRunSpec,
  loadCpu: number,
  progress: (msg: string) => void,
): Promise<WsRun> {
  const pid = server.child.pid;
  const connectBudget = Math.ceil(spec.subscribers / 100) + 30; // generous: ~1,000 handshakes/s seen
  const flags = {
    url: server.ws,
    subscribers: spec.subscribers,
    stream: spec.stream,
    rate: spec.rate,
    seconds: spec.seconds,
    warmup: spec.warmupSeconds,
    'tick-ms': spec.tickMs,
    'connect-concurrency': spec.connectConcurrency,
    ...(spec.regionTiles === undefined ? {} : { 'region-tiles': spec.regionTiles }),
    'timeout-seconds': connectBudget + spec.warmupSeconds + spec.seconds + 30,
  };
  const mark = (): Mark => ({ cpu: cpuSeconds(pid), t: performance.now(), rss: rssMiB(pid) });
  // Our server's /metrics at the window's start, once a second during it and at its end; a scrape
  // resets the event-loop delay histogram, so each covers one second, i.e. one tick.
  const scrapes: Promise<MetricsSample | undefined>[] = [];
  let lastScrape = 0;
  const scrape = () => {
    lastScrape = performance.now();
    if (spec.target === 'ours') scrapes.push(scrapeMetrics(server.http).catch(() => undefined));
  };
  let scraper: NodeJS.Timeout | undefined;
  const rss = { before: rssMiB(pid), peak: rssMiB(pid) };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssMiB(pid))), 200);
  let start: Mark | undefined;
  let end: Mark | undefined;
  let result: WsSwarmResult | undefined;
  const bareTag = spec.target === 'bare' ? ' (bare uWS publish)' : '';
  const tag = `ws ${spec.label}, ${spec.subscribers.toLocaleString('en-US')} subscribers${bareTag}`;
  const onJson = (msg: SwarmLine) => {
    if (msg.type === 'result') result = msg;
    else if (msg.type === 'window' && msg.phase === 'start') {
      start = mark();
      scrape();
      scraper = setInterval(scrape, spec.tickMs);
    } else if (msg.type === 'window') {
      end = mark();
      clearInterval(scraper);
      // The once-a-second scrape may just have covered the last second (timers race at the end).
      if (end.t - lastScrape > spec.tickMs / 2) scrape();
    } else progress(`${tag}: connecting, ${msg.ready}/${msg.of} ready${msg.failed ? `, ${msg.failed} failed` : ''}`);
  };
  const script = 'perf/lib/load/ws-swarm.ts';
  const child = startPinnedScript(`ws swarm (${spec.label})`, loadCpu, script, flags, onJson, spec.subscribers + 1024);
  const code = await child.exited;
  clearInterval(sampler);
  clearInterval(scraper);
  if (code !== 0 || !result || !start || !end) {
    throw new Error(
      `ws swarm (${spec.label}) exited with ${code}: ${child.stderr().slice(-2000) || child.stdout().slice(-2000)}`,
    );
  }
  const samples = await Promise.all(scrapes);
  const serverCpuShare = (end.cpu - start.cpu) / ((end.t - start.t) / 1000);
  const run: WsRun = {
    spec,
    swarm: result,
    serverCpuShare,
    cpuMsPerTick: serverCpuShare * spec.tickMs,
    metrics: samples.every((m) => m !== undefined) ? windowMetrics(samples as MetricsSample[]) : undefined,
    rssMiB: { before: rss.before, peak: rss.peak, end: end.rss },
  };
  const s = run.swarm;
  const perFrame = Math.round(s.frames ? s.bytes / s.frames : 0).toLocaleString('en-US');
  const eld = run.metrics
    ? `, worst event-loop delay per tick: median ${run.metrics.eldMedianMs.toFixed(1)}, ` +
      `max ${run.metrics.eldP99Ms.toFixed(1)} ms`
    : '';
  progress(
    `${tag}: ${s.ticks} ticks, ` +
      `${s.frames.toLocaleString('en-US')}/${s.expectedFrames.toLocaleString('en-US')} frames, ` +
      `${perFrame} B per client per tick, server CPU ${Math.round(serverCpuShare * 100)}% ` +
      `(${run.cpuMsPerTick.toFixed(1)} ms/tick)${eld}`,
  );
  return run;
}
