/**
 * Writer tick -> edge subscriber latency, measured in this process: one delta subscriber on the
 * writer and one on each edge; for every tick (its toSeq) the arrival time on an edge's socket minus
 * the arrival on the writer's own socket. Both sockets are read by the same event loop with the same
 * clock, so the difference is what the Redis hop and the edge add to the writer's own fan-out
 * (publish, Redis, decode on the edge, the edge's fan-out), without comparing two processes' clocks.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeServerMessage } from '../../../protocol/codec.ts';
import { MsgType } from '../../../protocol/messages.ts';
import { percentile } from '../stats.ts';

export class TickProbe {
  /** toSeq -> arrival time (ms, performance.now()) of ticks first seen while measuring. */
  readonly arrivals = new Map<number, number>();
  readonly ready: Promise<void>;
  measuring = false;
  gaps = 0;
  pngFrames = 0;
  private seq = -1;
  private readonly ws: WebSocket;

  constructor(
    readonly label: string,
    url: string,
  ) {
    this.ws = new WebSocket(`${url}?stream=delta`, { perMessageDeflate: false, allowSynchronousEvents: true });
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no snapshot within 30 s`)), 30_000);
      this.ws.once('error', reject);
      this.ws.on('message', (data: Buffer) => {
        const now = performance.now();
        const msg = decodeServerMessage(new Uint8Array(data.buffer, data.byteOffset, data.length));
        if (msg.t === MsgType.PNG) {
          if (this.seq >= 0) this.pngFrames++;
          this.seq = msg.seq;
          clearTimeout(timer);
          resolve();
        } else if (msg.t === MsgType.DELTA) {
          if (msg.fromSeq !== this.seq) this.gaps++;
          this.seq = msg.toSeq;
          if (this.measuring && !this.arrivals.has(msg.toSeq)) this.arrivals.set(msg.toSeq, now);
        }
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  over50: number;
}

export function summarise(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    over50: sorted.filter((v) => v > 50).length,
  };
}

/** Edge arrival minus writer arrival (ms) for every tick both saw while measuring. */
export function arrivalDiffs(writer: TickProbe, edge: TickProbe): number[] {
  const out: number[] = [];
  for (const [seq, at] of edge.arrivals) {
    const w = writer.arrivals.get(seq);
    if (w !== undefined) out.push(at - w);
  }
  return out;
}
