/** Measurement 3 of the scale-out benchmark (perf/README.md, "Scale-out"): one ws-swarm run per step. */
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
  /** Frames received / frames expected. */
  delivered: number;
  onTime: boolean;
  lag: Buckets | undefined;
  load1: number;
}

/** Every subscriber got every tick and no fan-out was still going when the next tick was due. */
function onTime(run: WsRun, tickMs: number): boolean {
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
