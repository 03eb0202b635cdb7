/**
 * One WebSocket placing synthetic artwork at a fixed rate, so every tick has changes, leaving
 * "probes" (seq and send time of an acked placement) for the subscribers' place -> frame latency.
 */
import { performance } from 'node:perf_hooks';
import { type PlaceAnswer, Placer } from '../../../testkit/placer.ts';
import { syntheticPlacements, type Placements } from '../canvas-content.ts';
import { MsHistogram, type Percentiles } from '../stats.ts';

/** One probe per this many ms: ten per tick is plenty for percentiles and cheap to look up. */
const PROBE_EVERY_MS = 100;
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
  ackMs: Percentiles;
}

export class PacedPlacer {
  /** Acked placements' seqs and send times, in seq order (acks come back in commit order). */
  readonly probes: Probe[] = [];
  readonly ready: Promise<void>;
  measuring = false;
  private readonly placer: Placer;
  private content: Placements | undefined;
  private cursor = 0;
  private sent = 0;
  private acks = 0;
  private windowAcks = 0;
  private readonly errors: Record<string, number> = {};
  private readonly inWindow = new Set<number>();
  private readonly ackLatency = new MsHistogram();
  private lastProbeAt = -Infinity;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    private readonly rate: number,
    seed: number,
    seconds: number,
  ) {
    // The delta stream keeps this socket's own frames small: it is here to place, not to watch.
    this.placer = new Placer(url, { stream: 'delta', onAnswer: (a) => this.answered(a) });
    this.ready = this.placer.hello.then((hello) => {
      if (hello.cooldownMs !== 0)
        throw new Error(`the server has a ${hello.cooldownMs} ms cooldown; start it with --cooldown-ms 0`);
      // Enough artwork for the whole run; the cursor wraps around if the run takes longer.
      const count = Math.max(1000, Math.ceil(rate * seconds));
      const { width, height, palette } = hello;
      this.content = syntheticPlacements({ width, height, colours: palette.length, count, noise: 0.05, seed });
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
    this.placer.terminate();
  }

  stats(): PlacerStats {
    return {
      rate: this.rate,
      sent: this.sent,
      acks: this.acks,
      windowAcks: this.windowAcks,
      errors: this.errors,
      ackMs: this.ackLatency.summary(),
    };
  }

  private pump(): void {
    const content = this.content;
    if (!content || !this.placer.open) return;
    const due = Math.floor((this.rate * (performance.now() - this.startedAt)) / 1000);
    while (this.sent < due && this.placer.inFlight < MAX_IN_FLIGHT) {
      const i = this.cursor++ % content.count;
      this.sent++;
      const id = this.placer.place(content.x[i] as number, content.y[i] as number, content.c[i] as number);
      if (this.measuring) this.inWindow.add(id);
    }
  }

  private answered(a: PlaceAnswer): void {
    const inWindow = this.inWindow.delete(a.id);
    if (!a.ok) {
      this.errors[a.code] = (this.errors[a.code] ?? 0) + 1;
      return;
    }
    this.acks++;
    if (inWindow) {
      this.windowAcks++;
      this.ackLatency.record(a.ms);
    }
    const now = performance.now();
    if (now - this.lastProbeAt >= PROBE_EVERY_MS) {
      this.lastProbeAt = now;
      this.probes.push({ seq: a.seq, sentAt: a.sentAt });
    }
  }
}
