/**
 * The placer of perf/load/ws-swarm.ts: one WebSocket placing synthetic artwork pixels
 * (perf/bench/canvas-content.ts) at a fixed rate, so every tick has changes to publish. It also leaves
 * "probes", the send time of one acked placement every PROBE_EVERY_MS, so subscribers can measure
 * how long a placement takes to reach them (place -> ack -> tick -> frame on their socket).
 */
import type { Socket } from 'node:net';
import { createHistogram, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import { syntheticPlacements, type Placements } from '../bench/canvas-content.ts';

/** One probe per this many ms: ten per tick is plenty for percentiles and cheap to look up. */
const PROBE_EVERY_MS = 100;
/** How often the pump wakes up to send what is due; smaller gives smoother pacing. */
const PUMP_MS = 5;
/** Unanswered placements beyond which the pump waits (the server is not keeping up). */
const MAX_IN_FLIGHT = 20_000;

export interface Probe {
  seq: number;
  sentAt: number;
}

export interface PlacerStats {
  rate: number;
  sent: number;
  acks: number;
  /** Acks whose placement was sent inside the measured window. */
  windowAcks: number;
  errors: Record<string, number>;
  ackMs: { p50: number; p99: number; max: number };
}

export class PacedPlacer {
  /** Acked placements' seqs and send times, in seq order (acks come back in commit order). */
  readonly probes: Probe[] = [];
  readonly ready: Promise<void>;
  measuring = false;
  private readonly ws: WebSocket;
  private socket: Socket | undefined;
  private content: Placements | undefined;
  private cursor = 0;
  private sent = 0;
  private acks = 0;
  private windowAcks = 0;
  private readonly errors: Record<string, number> = {};
  private readonly sentAt = new Map<number, { t: number; inWindow: boolean }>();
  private readonly ackLatency = createHistogram();
  private lastProbeAt = -Infinity;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    private readonly rate: number,
    private readonly seed: number,
    private readonly seconds: number,
  ) {
    // The delta stream keeps this socket's own frames small: it is here to place, not to watch.
    this.ws = new WebSocket(`${url}?stream=delta`, { perMessageDeflate: false, allowSynchronousEvents: true });
    this.ws.on('upgrade', (res) => (this.socket = res.socket as Socket));
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('message', (data: Buffer) => {
        const msg = decodeServerMessage(new Uint8Array(data));
        if (msg.t === MsgType.HELLO) {
          if (msg.cooldownMs !== 0)
            reject(new Error(`the server has a ${msg.cooldownMs} ms cooldown; start it with --cooldown-ms 0`));
          // Enough artwork for the whole run; the cursor wraps around if the run takes longer.
          const count = Math.max(1000, Math.ceil(this.rate * this.seconds));
          this.content = syntheticPlacements({
            width: msg.width,
            height: msg.height,
            colours: msg.palette.length,
            count,
            noise: 0.05,
            seed: this.seed,
          });
          resolve();
        } else if (msg.t === MsgType.ACK) {
          this.answered(msg.id, undefined, msg.seq);
        } else if (msg.t === MsgType.ERROR && msg.id !== undefined) {
          this.answered(msg.id, msg.code, undefined);
        }
      });
    });
  }

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.pump(), PUMP_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.ws.terminate();
  }

  stats(): PlacerStats {
    const q = (p: number) => (this.windowAcks ? this.ackLatency.percentile(p) / 1e6 : NaN);
    return {
      rate: this.rate,
      sent: this.sent,
      acks: this.acks,
      windowAcks: this.windowAcks,
      errors: this.errors,
      ackMs: { p50: q(50), p99: q(99), max: this.windowAcks ? this.ackLatency.max / 1e6 : NaN },
    };
  }

  private pump(): void {
    const content = this.content;
    if (!content || this.ws.readyState !== WebSocket.OPEN) return;
    const due = Math.floor((this.rate * (performance.now() - this.startedAt)) / 1000);
    if (this.sent >= due || this.sentAt.size >= MAX_IN_FLIGHT) return;
    // One write for the whole burst instead of a syscall per frame.
    this.socket?.cork();
    while (this.sent < due && this.sentAt.size < MAX_IN_FLIGHT) {
      const i = this.cursor++ % content.count;
      const id = ++this.sent;
      this.sentAt.set(id, { t: performance.now(), inWindow: this.measuring });
      this.ws.send(
        encodeMessage({
          t: MsgType.PLACE,
          id,
          x: content.x[i] as number,
          y: content.y[i] as number,
          c: content.c[i] as number,
        }),
      );
    }
    this.socket?.uncork();
  }

  private answered(id: number, errorCode: string | undefined, seq: number | undefined): void {
    const sent = this.sentAt.get(id);
    if (!sent) return;
    this.sentAt.delete(id);
    if (errorCode !== undefined) {
      this.errors[errorCode] = (this.errors[errorCode] ?? 0) + 1;
      return;
    }
    this.acks++;
    const now = performance.now();
    if (sent.inWindow) {
      this.windowAcks++;
      this.ackLatency.record(Math.max(1, Math.round((now - sent.t) * 1e6)));
    }
    if (seq !== undefined && now - this.lastProbeAt >= PROBE_EVERY_MS) {
      this.lastProbeAt = now;
      this.probes.push({ seq, sentAt: sent.t });
    }
  }
}
