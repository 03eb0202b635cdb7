/**
 * Placement scenarios against our server: the canvas fill before the image benchmark, and the
 * measured "placements acknowledged and persisted per second". Both run perf/lib/load/place-swarm.ts
 * in a child pinned to the load CPU and watch the server's CPU use (from /proc) meanwhile.
 */
import { diffThrottle, type CpuLimit, type ThrottleStats } from '../cpu-limit.ts';
import type { SwarmLine, SwarmResult } from '../load/place-swarm.ts';
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

export async function runSwarm(
  server: ServerUnderTest,
  limit: CpuLimit,
  opts: SwarmOptions,
  progress: (msg: string) => void,
): Promise<PlaceRun> {
  const { loadCpu, ...rest } = opts;
  const flags = { url: server.ws, ...rest, 'timeout-seconds': opts.seconds + 120 };
  let result: SwarmResult | undefined;
  const pid = server.child.pid;
  const marks: { cpu: number; t: number; th: ThrottleStats | undefined }[] = [];
  const target = opts.mode === 'fill' ? `${opts.count.toLocaleString('en-US')} placements` : `${opts.seconds} s`;
  const onJson = (msg: SwarmLine) => {
    if (msg.type === 'result') result = msg;
    else if (msg.type === 'window') marks.push({ cpu: cpuSeconds(pid), t: performance.now(), th: limit.throttle() });
    else if (msg.type === 'progress')
      progress(
        `place ${opts.mode}: ${msg.elapsed.toFixed(0)} s, ${msg.acks.toLocaleString('en-US')} acks ` +
          `(${Math.round(msg.acksPerSec).toLocaleString('en-US')}/s), ${msg.errors} errors, target ${target}`,
      );
  };
  const name = `place swarm (${opts.mode})`;
  const child = startPinnedScript(name, loadCpu, 'perf/lib/load/place-swarm.ts', flags, onJson);
  const code = await child.exited;
  const [start, end] = marks;
  if (code !== 0 || !result || !start || !end)
    throw new Error(`${name} exited with ${code}: ${child.stderr().slice(-2000) || child.stdout().slice(-2000)}`);
  const serverCpuShare = (end.cpu - start.cpu) / ((end.t - start.t) / 1000);
  return { swarm: result, serverCpuShare, throttle: diffThrottle(start.th, end.th) };
}
