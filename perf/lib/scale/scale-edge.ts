/**
 * Measurement 3 of the scale-out benchmark: how many subscribers one edge core holds at 1,000 px/s
 * with every tick on time. One edge limited to CPU 0 (perf/lib/cpu-limit.ts: cgroup quota of one
 * CPU when writable, plus taskset); the writer, Redis and perf/lib/load/ws-swarm.ts (subscribers plus
 * its paced placer, which places through the same edge) on CPU 1. Each step is one ws-swarm run
 * (perf/lib/scenarios/ws.ts); the steps of a stream stop after one that delivered under 90%.
 *
 * On time: every subscriber got a frame for every tick of the window (frames = ticks x subscribers,
 * no delta gaps, no socket lost) and the fan-out spread (a frame's arrival minus that tick's first
 * arrival at any subscriber) stayed under the tick interval, so no tick was still being delivered
 * when the next one was due.
 */
import { loadavg } from 'node:os';
import type { StartedServer } from '../../../testkit/server-process.ts';
import { parsePrometheus, scrapeMetrics } from '../server-metrics.ts';
import { runWsScenario, type WsRun } from '../scenarios/ws.ts';
import { type Buckets, histogramDiff } from './scale-procs.ts';

export interface EdgeSettings {
  rate: number;
  tickMs: number;
  seconds: number;
  warmupSeconds: number;
  delta: readonly number[];
  png: readonly number[];
  loadCpu: number;
}

export interface EdgeStep {
  stream: 'png' | 'delta';
  subscribers: number;
  run: WsRun | undefined;
  error: string | undefined;
  /** Frames received / frames expected (ticks x ready subscribers). */
  delivered: number;
  onTime: boolean;
  lag: Buckets | undefined;
  /** 1-minute load average after the step. */
  load1: number;
}

export function onTime(run: WsRun, tickMs: number): boolean {
  const s = run.swarm;
  return (
    s.ticks > 0 &&
    s.failed === 0 &&
    s.closes === 0 &&
    s.deltaGaps === 0 &&
    s.frames === s.expectedFrames &&
    s.spreadMs.max < tickMs
  );
}

export async function runEdgeCapacity(
  edge: StartedServer,
  s: EdgeSettings,
  progress: (msg: string) => void,
): Promise<EdgeStep[]> {
  const target = { child: edge, port: edge.port, http: edge.http, ws: edge.ws };
  const steps: EdgeStep[] = [];
  for (const stream of ['delta', 'png'] as const) {
    for (const subscribers of stream === 'delta' ? s.delta : s.png) {
      const before = await scrapeMetrics(edge.http).catch(() => parsePrometheus(''));
      let run: WsRun | undefined;
      let error: string | undefined;
      try {
        run = await runWsScenario(
          target,
          {
            label: `edge, ${stream}, ${s.rate.toLocaleString('en-US')} px/s`,
            target: 'ours',
            stream,
            subscribers,
            rate: s.rate,
            seconds: s.seconds,
            warmupSeconds: s.warmupSeconds,
            tickMs: s.tickMs,
            connectConcurrency: 200,
          },
          s.loadCpu,
          progress,
        );
      } catch (err) {
        error = String(err instanceof Error ? err.message : err).slice(0, 300);
        progress(`edge capacity: ${stream} x ${subscribers} failed: ${error}`);
      }
      const after = await scrapeMetrics(edge.http).catch(() => parsePrometheus(''));
      const delivered = run?.swarm.expectedFrames ? run.swarm.frames / run.swarm.expectedFrames : 0;
      steps.push({
        stream,
        subscribers,
        run,
        error,
        delivered,
        onTime: run ? onTime(run, s.tickMs) : false,
        lag: histogramDiff(before, after, 'canvas_bus_lag_seconds'),
        load1: loadavg()[0] as number,
      });
      if (edge.proc.exitCode !== null || edge.proc.signalCode !== null) throw new Error('the edge exited');
      if (delivered < 0.9) break;
    }
  }
  return steps;
}
