/**
 * Placement scenarios against our server: the canvas fill before the image benchmark, and the
 * measured "placements acknowledged and persisted per second". Both run perf/lib/load/place-swarm.ts in a
 * child pinned to the load CPU and watch the server's CPU use (from /proc) meanwhile.
 */
import type { CpuLimit, ThrottleStats } from '../cpu-limit.ts';
import type { SwarmResult } from '../load/place-swarm.ts';
import { cpuSeconds } from '../../../testkit/processes.ts';
import { startPinnedScript, type ServerUnderTest } from '../server-process.ts';

export interface PlaceRun {
  swarm: SwarmResult;
  /** Server CPU time during the measured window as a share of one CPU (1 = saturated). */
  serverCpuShare: number;
  /** cgroup throttling during the measured window (undefined without a cgroup). */
  throttle: ThrottleStats | undefined;
}

export interface SwarmOptions {
  mode: 'fill' | 'load';
  clients: number;
  window: number;
  seconds: number;
  count: number;
  loadCpu: number;
}

function diffThrottle(a: ThrottleStats | undefined, b: ThrottleStats | undefined): ThrottleStats | undefined {
  if (!a || !b) return undefined;
  return {
    periods: b.periods - a.periods,
    throttled: b.throttled - a.throttled,
    throttledMs: b.throttledMs - a.throttledMs,
  };
}

export async function runSwarm(
  server: ServerUnderTest,
  limit: CpuLimit,
  opts: SwarmOptions,
  progress: (msg: string) => void,
): Promise<PlaceRun> {
  const args = [
    '--url',
    server.ws,
    '--mode',
    opts.mode,
    '--clients',
    String(opts.clients),
    '--window',
    String(opts.window),
    '--seconds',
    String(opts.seconds),
    '--count',
    String(opts.count),
    '--timeout-seconds',
    String(opts.seconds + 120),
  ];
  let result: SwarmResult | undefined;
  const pid = server.child.pid;
  let start: { cpu: number; t: number; th: ThrottleStats | undefined } | undefined;
  let end: typeof start;
  const onLine = (line: string) => {
    if (!line.startsWith('{')) return;
    const msg = JSON.parse(line) as {
      type: string;
      phase?: string;
      elapsed?: number;
      acks?: number;
      acksPerSec?: number;
      errors?: number;
    };
    if (msg.type === 'result') result = msg as unknown as SwarmResult;
    else if (msg.type === 'window') {
      const mark = { cpu: cpuSeconds(pid), t: performance.now(), th: limit.throttle() };
      if (msg.phase === 'start') start = mark;
      else end = mark;
    } else if (msg.type === 'progress') {
      const target = opts.mode === 'fill' ? `${opts.count.toLocaleString('en-US')} placements` : `${opts.seconds} s`;
      progress(
        `place ${opts.mode}: ${msg.elapsed?.toFixed(0)} s, ${msg.acks?.toLocaleString('en-US')} acks ` +
          `(${Math.round(msg.acksPerSec ?? 0).toLocaleString('en-US')}/s), ${msg.errors} errors, target ${target}`,
      );
    }
  };
  const child = startPinnedScript(
    `place swarm (${opts.mode})`,
    opts.loadCpu,
    'perf/lib/load/place-swarm.ts',
    args,
    onLine,
  );
  const code = await child.exited;
  if (code !== 0 || !result || !start || !end) {
    throw new Error(
      `place swarm (${opts.mode}) exited with ${code}: ${child.stderr().slice(-2000) || child.stdout().slice(-2000)}`,
    );
  }
  const serverCpuShare = (end.cpu - start.cpu) / ((end.t - start.t) / 1000);
  return { swarm: result, serverCpuShare, throttle: diffThrottle(start.th, end.th) };
}
