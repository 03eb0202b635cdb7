/** Metrics of the Redis bus, on the process's registry (ops/metrics.ts); both roles register all of them. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BusState {
  redisUp: () => boolean;
  /** Writer: itself (1). Edge: a message from the writer within --writer-timeout-ms. */
  writerUp: () => boolean;
  /** Writer: its lease epoch. Edge: the newest epoch it follows. */
  epoch: () => number;
}

export class BusMetrics {
  readonly published: Counter<'kind'>;
  readonly publishFailures: Counter;
  readonly batchesIn: Counter;
  readonly requestsIn: Counter<'kind'>;
  readonly forwarded: Counter<'kind'>;
  readonly forwardAnswers: Counter<'result'>;
  readonly lagSeconds: Histogram;
  readonly resyncs: Counter<'reason'>;
  readonly staleEpoch: Counter;

  constructor(registry: Registry, state: BusState) {
    const registers = [registry];
    this.published = new Counter({
      name: 'canvas_bus_published_total',
      help: 'Messages published to Redis, by kind (tick, beat, answers, requests)',
      labelNames: ['kind'],
      registers,
    });
    this.publishFailures = new Counter({
      name: 'canvas_bus_publish_failures_total',
      help: 'Publishes that failed or were skipped because Redis was unreachable',
      registers,
    });
    this.batchesIn = new Counter({
      name: 'canvas_bus_request_batches_total',
      help: 'Writer: batches of forwarded requests received from edges',
      registers,
    });
    this.requestsIn = new Counter({
      name: 'canvas_bus_requests_total',
      help: 'Writer: forwarded requests received from edges, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.forwarded = new Counter({
      name: 'canvas_bus_forwarded_total',
      help: 'Edge: requests forwarded to the writer, by kind (place, wait, pixel, admin)',
      labelNames: ['kind'],
      registers,
    });
    this.forwardAnswers = new Counter({
      name: 'canvas_bus_forward_answers_total',
      help: 'Edge: outcomes of forwarded requests: answered, refused (writer known down), timeout (unknown outcome)',
      labelNames: ['result'],
      registers,
    });
    this.lagSeconds = new Histogram({
      name: 'canvas_bus_lag_seconds',
      help: 'Edge: from the writer publishing a tick to this edge starting its fan-out (wall clocks of two processes)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.resyncs = new Counter({
      name: 'canvas_bus_resyncs_total',
      help: 'Edge: frames fetched from the frame key instead of the channel, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.staleEpoch = new Counter({
      name: 'canvas_bus_stale_epoch_total',
      help: 'Edge: messages dropped because they came from a writer of an older lease epoch',
      registers,
    });
    new Gauge({
      name: 'canvas_bus_epoch',
      help: 'Writer: its lease epoch. Edge: the newest writer epoch it follows',
      registers,
      collect() {
        this.set(state.epoch());
      },
    });
    new Gauge({
      name: 'canvas_bus_redis_up',
      help: '1 when this process is connected to Redis',
      registers,
      collect() {
        this.set(state.redisUp() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'canvas_bus_writer_up',
      help: '1 when the writer is reachable (on the writer itself: always)',
      registers,
      collect() {
        this.set(state.writerUp() ? 1 : 0);
      },
    });
  }
}
