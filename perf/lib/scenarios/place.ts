/**
 * Placement load: one place-swarm.ts child per target (one for `npm run bench`, one per edge for the
 * scale-out benchmark), each pinned to a CPU. The window for other processes' CPU is the overlap of
 * the swarms' windows.
 */
import { diffThrottle, type CpuLimit, type ThrottleStats } from '../cpu-limit.ts';
import { type Child, cpuSeconds } from '../../../testkit/processes.ts';
import { startPinnedScript, type ServerUnderTest } from '../server-process.ts';
import type { SwarmLine, SwarmResult } from '../load/place-swarm.ts';

export interface SwarmTarget {
  url: string;
  cpu: number;
  clients: number;
  window: number;
  /** Solve the challenges refusals carry and send those placements again (perf/defences.ts). */
  solve?: boolean;
}

export interface MultiSwarm {
  results: SwarmResult[];
  /** Sum of the swarms' acks per second (each over its own window, which differ by milliseconds). */
  acksPerSec: number;
  acks: number;
}

/** One swarm per target; `onStart` when every swarm measures, `onEnd` when the first one stops. */
export async function runSwarms(
  targets: readonly SwarmTarget[],
  /** Load mode for `seconds`, or fill mode: `count` synthetic placements in total (split evenly). */
  run: { seconds: number; fillCount?: number },
  hooks: { onStart: () => void; onEnd: () => void; progress: (msg: string) => void },
): Promise<MultiSwarm> {
  const { seconds, fillCount } = run;
  let started = 0;
  let ended = 0;
  const results: (SwarmResult | undefined)[] = targets.map(() => undefined);
  const lastRate: number[] = targets.map(() => 0);
  const children: Child[] = targets.map((target, index) => {
    const flags = {
      url: target.url,
      mode: fillCount ? 'fill' : 'load',
      count: fillCount ? Math.ceil(fillCount / targets.length) : 0,
      clients: target.clients,
      window: target.window,
      seconds,
      seed: index + 1,
      'timeout-seconds': seconds + 180,
      ...(target.solve ? { solve: 1 } : {}),
    };
    const onJson = (msg: SwarmLine) => {
      if (msg.type === 'result') results[index] = msg;
      else if (msg.type === 'window' && msg.phase === 'start' && ++started === targets.length) hooks.onStart();
      else if (msg.type === 'window' && msg.phase === 'end' && ++ended === 1) hooks.onEnd();
      else if (msg.type === 'progress') {
        lastRate[index] = msg.acksPerSec;
        const total = lastRate.reduce((a, b) => a + b, 0);
        if (index === 0)
          hooks.progress(
            `  placing: ${msg.elapsed.toFixed(0)} s, ~${Math.round(total).toLocaleString('en-US')} acks/s`,
          );
      }
    };
    return startPinnedScript(`place swarm ${index + 1}`, target.cpu, 'perf/lib/load/place-swarm.ts', flags, onJson);
  });
  const codes = await Promise.all(children.map((c) => c.exited));
  const done = results.filter((r): r is SwarmResult => r !== undefined);
  if (done.length !== targets.length || codes.some((c) => c !== 0)) {
    const failed = children.find((_, i) => codes[i] !== 0 || !results[i]);
    throw new Error(`place swarm exited with ${codes.join(', ')}: ${failed?.stderr().slice(-2000)}`);
  }
  return {
    results: done,
    acksPerSec: done.reduce((s, r) => s + r.acksPerSec, 0),
    acks: done.reduce((s, r) => s + r.acks, 0),
  };
}

/** Latency percentiles across swarms: the slower swarm's figure (the histograms are not merged). */
export function worstLatency(m: MultiSwarm): { p50: number; p90: number; p99: number; max: number } {
  const pick = (k: 'p50' | 'p90' | 'p99' | 'max') => Math.max(...m.results.map((r) => r.latencyMs[k]));
  return { p50: pick('p50'), p90: pick('p90'), p99: pick('p99'), max: pick('max') };
}

export interface PlaceRun {
  swarm: SwarmResult;
  serverCpuShare: number;
  throttle: ThrottleStats | undefined;
}

/** The bench's fill (`count` placements) or measured load (`seconds`) against our server. */
export async function runSwarm(
  server: ServerUnderTest,
  limit: CpuLimit,
  o: { clients: number; window: number; loadCpu: number; seconds: number; count: number; solve?: boolean },
  progress: (msg: string) => void,
): Promise<PlaceRun> {
  const pid = server.child.pid;
  const marks: { cpu: number; t: number; th: ThrottleStats | undefined }[] = [];
  const mark = () => marks.push({ cpu: cpuSeconds(pid), t: performance.now(), th: limit.throttle() });
  const target = { url: server.ws, cpu: o.loadCpu, clients: o.clients, window: o.window, solve: o.solve ?? false };
  const run = { seconds: o.seconds, ...(o.count ? { fillCount: o.count } : {}) };
  const { results } = await runSwarms([target], run, { onStart: mark, onEnd: mark, progress });
  const [start, end] = marks as [(typeof marks)[0], (typeof marks)[0]];
  const serverCpuShare = (end.cpu - start.cpu) / ((end.t - start.t) / 1000);
  return { swarm: results[0] as SwarmResult, serverCpuShare, throttle: diffThrottle(start.th, end.th) };
}
