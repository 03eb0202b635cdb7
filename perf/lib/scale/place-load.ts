/**
 * Placement load for the scale-out benchmark: several perf/lib/load/place-swarm.ts children at once (one
 * per target URL, e.g. one per edge), each pinned to a CPU, in load mode for the same number of
 * seconds. The measured window for the other processes' CPU is the overlap of the swarms' windows:
 * from the moment the last one started measuring to the moment the first one stopped.
 */
import type { Child } from '../../../testkit/processes.ts';
import { startPinnedScript } from '../server-process.ts';
import type { SwarmLine, SwarmResult } from '../load/place-swarm.ts';

export interface SwarmTarget {
  /** ws://127.0.0.1:PORT/ws */
  url: string;
  /** CPU the swarm process is pinned to. */
  cpu: number;
  clients: number;
  window: number;
}

export interface MultiSwarm {
  results: SwarmResult[];
  /** Sum of the swarms' acks per second (each over its own window, which differ by milliseconds). */
  acksPerSec: number;
  /** Acks received inside the windows, all swarms. */
  acks: number;
}

/**
 * Starts one swarm per target; `onStart` runs when every swarm has started measuring, `onEnd` when
 * the first one stops. Rejects if a swarm exits without a result.
 */
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

/** Errors of all swarms by code, and unanswered / unexpected closes. */
export function swarmTrouble(m: MultiSwarm): string {
  const errors: Record<string, number> = {};
  for (const r of m.results) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  const parts = Object.entries(errors).map(([code, n]) => `${code} ${n}`);
  const unanswered = m.results.reduce((s, r) => s + r.unanswered, 0);
  const closes = m.results.reduce((s, r) => s + r.closes, 0);
  if (unanswered) parts.push(`${unanswered} unanswered`);
  if (closes) parts.push(`${closes} closes`);
  return parts.length ? parts.join(', ') : 'none';
}
