/**
 * Prometheus metrics (prom-client), one registry per server so tests can run several in a process.
 * Modules receive the `Metrics` object and record at the point where the fact happens.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ProcessFacts {
  backend: string;
  /** standalone, writer or edge. */
  role: string;
}

export class Metrics {
  readonly registry = new Registry();
  readonly placements: Counter<'result'>;
  readonly commitSeconds: Histogram;
  readonly commitBatch: Histogram;
  readonly encodeSeconds: Histogram;
  readonly pngBytes: Gauge;
  readonly tickSeconds: Histogram;
  readonly unparsableHops: Counter;
  readonly challenges: Counter<'result'>;

  constructor(facts: ProcessFacts) {
    const registers = [this.registry];
    // Default metrics include the event-loop delay percentiles (nodejs_eventloop_lag_p99_seconds).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    this.placements = new Counter({
      name: 'canvas_placements_total',
      help: 'Placements answered, by result: "accepted" or the error code',
      labelNames: ['result'],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'canvas_commit_seconds',
      help: 'Time to commit one group-commit batch to SQLite',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.commitBatch = new Histogram({
      name: 'canvas_commit_batch_size',
      help: 'Placements per committed batch',
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
      registers,
    });
    this.encodeSeconds = new Histogram({
      name: 'canvas_png_encode_seconds',
      help: 'Wall time of one tick PNG encode (pack on the loop + deflate in the pool)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.pngBytes = new Gauge({ name: 'canvas_png_bytes', help: 'Size of the current PNG', registers });
    this.tickSeconds = new Histogram({
      name: 'canvas_tick_seconds',
      help: 'Wall time of a tick from capture to publish',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.unparsableHops = new Counter({
      name: 'canvas_forwarded_for_unparsable_total',
      help: 'X-Forwarded-For hops from trusted proxies that name no address (unknown, garbage): keyed by the proxy address',
      registers,
    });
    this.challenges = new Counter({
      name: 'canvas_challenge_solutions_total',
      help: 'Proof-of-work solutions sent with placements, by result: "verified" or why refused',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: 'canvas_uws_backend',
      help: 'uWebSockets.js backend in use (1 for the label that applies)',
      labelNames: ['backend'],
      registers,
    }).set({ backend: facts.backend }, 1);
    new Gauge({
      name: 'canvas_role',
      help: 'Role of this process (1 for the label that applies): standalone, writer or edge',
      labelNames: ['role'],
      registers,
    }).set({ role: facts.role }, 1);
  }

  /** `canvas_seq`, read from `seq` at each scrape: the canvas's (writer), the latest frame's (edge). */
  watchSeq(seq: () => number): void {
    this.watch('canvas_seq', 'Sequence number of the last accepted placement', seq);
  }

  /** A gauge read from `read` at each scrape, registered by the part that owns the fact. */
  watch(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
