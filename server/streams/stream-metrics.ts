/** Metrics of the WebSocket streams, on the process's registry (ops/metrics.ts holds the rest). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Stream } from '../../protocol/messages.ts';

export interface StreamState {
  connections: () => number;
  subscribers: (stream: Stream) => number;
  /** Bytes held for WebSocket clients in user space: uWS's buffers plus the outboxes' queues. */
  bufferedBytes: () => number;
}

export class StreamMetrics {
  readonly publishedBytes: Counter<'stream'>;
  readonly evicted: Counter;
  readonly stalled: Counter;

  constructor(registry: Registry, state: StreamState) {
    const registers = [registry];
    this.publishedBytes = new Counter({
      name: 'canvas_published_bytes_total',
      help: 'Bytes published to WebSocket subscribers (message size x subscribers), by stream',
      labelNames: ['stream'],
      registers,
    });
    this.stalled = new Counter({
      name: 'canvas_ws_stalled_total',
      help: 'WebSocket connections closed because they took no bytes for --stall-ms while the server had some to send',
      registers,
    });
    this.evicted = new Counter({
      name: 'canvas_ws_evicted_total',
      help: 'WebSocket connections dropped because slow readers held more than --max-buffered-total',
      registers,
    });
    new Gauge({
      name: 'canvas_ws_connections',
      help: 'Open WebSocket connections',
      registers,
      collect() {
        this.set(state.connections());
      },
    });
    new Gauge({
      name: 'canvas_ws_subscribers',
      help: 'WebSocket subscribers by stream',
      labelNames: ['stream'],
      registers,
      collect() {
        this.set({ stream: 'png' }, state.subscribers('png'));
        this.set({ stream: 'delta' }, state.subscribers('delta'));
      },
    });
    new Gauge({
      name: 'canvas_ws_buffered_bytes',
      help: 'Bytes held for WebSocket clients in user space (uWS buffers and outbox queues; shared frames counted per socket)',
      registers,
      collect() {
        this.set(state.bufferedBytes());
      },
    });
  }
}
