/**
 * Well-behaved WebSocket clients for the abuse parts: a filler that draws content fast, a paced
 * placer (so every tick has a change), readers that check they get every tick, and a probe that
 * measures how long a new client waits for its hello.
 */
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../protocol/codec.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import { Placer } from '../testkit/placer.ts';
import type { Rng } from '../testkit/rng.ts';
import { withTimeout } from './common.ts';

function decode(data: Buffer): ServerMessage {
  return decodeServerMessage(new Uint8Array(data));
}

/** Places `count` random pixels on a 1000 x 1000 canvas, 256 in flight; resolves when all are acked. */
export function fill(url: string, count: number, rng: Rng): Promise<void> {
  return withTimeout(
    'canvas fill',
    new Promise<void>((resolve, reject) => {
      let sent = 0;
      let acked = 0;
      const one = () => {
        if (sent++ < count) p.place(rng.int(1000), rng.int(1000), rng.int(16));
      };
      const p: Placer = new Placer(url, {
        onAnswer: (a) => {
          if (!a.ok) reject(new Error(`fill refused: ${a.code}`));
          else if (++acked >= count) void p.close().then(resolve);
          else one();
        },
      });
      p.hello.then(() => {
        for (let i = 0; i < 256; i++) one();
      }, reject);
    }),
    120_000,
  );
}

/** Places one pixel every `everyMs`; counts acks, errors and the slowest ack. */
export class PacedPlacer {
  acks = 0;
  errors = 0;
  maxAckMs = 0;
  private readonly placer: Placer;
  private readonly timer: NodeJS.Timeout;

  private constructor(url: string, from: string, everyMs: number, rng: Rng) {
    this.placer = new Placer(url, {
      from,
      onAnswer: (a) => {
        if (a.ok) this.acks++;
        else this.errors++;
        this.maxAckMs = Math.max(this.maxAckMs, a.ms);
      },
      onMessage: (m) => void (m.t === 'error' && this.errors++),
    });
    this.timer = setInterval(() => {
      if (this.placer.open) this.placer.place(rng.int(1000), rng.int(1000), rng.int(16));
    }, everyMs);
  }

  static async start(url: string, from: string, everyMs: number, rng: Rng): Promise<PacedPlacer> {
    const p = new PacedPlacer(url, from, everyMs, rng);
    await p.placer.hello;
    return p;
  }

  /** Close code if the server closed the socket. */
  get closedWith(): number | undefined {
    return this.placer.closedWith;
  }

  close(): void {
    clearInterval(this.timer);
    this.placer.terminate();
  }
}

/**
 * A reader on one stream. Inside the measuring window it counts ticks, gaps in the delta chain
 * (fromSeq not the seq it has: a missed tick) and the longest wait between frames.
 */
export class Reader {
  ticks = 0;
  gaps = 0;
  maxGapMs = 0;
  /** Seq of every tick frame seen in the window. */
  readonly seqs: number[] = [];
  /** Close code if the server closed the socket. */
  closedWith: number | undefined;
  private closing = false;
  private seq = -1;
  private last = 0;
  private open = false;

  private constructor(
    readonly name: string,
    readonly stream: 'png' | 'delta',
    private readonly socket: WebSocket,
  ) {
    socket.on('message', (d: Buffer) => this.onMessage(decode(d)));
    socket.on('error', () => {});
    socket.on('close', (code) => (this.closedWith ??= this.closing ? undefined : code));
  }

  static async open(url: string, stream: 'png' | 'delta', from: string): Promise<Reader> {
    const socket = new WebSocket(`${url}?stream=${stream}`, { localAddress: from });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new Reader(`${stream} reader ${from}`, stream, socket);
  }

  private onMessage(m: ServerMessage): void {
    const now = performance.now();
    if (m.t === 'png') {
      this.seq = m.seq;
      if (this.stream === 'png') this.tick(now, m.seq);
    } else if (m.t === 'delta') {
      if (m.fromSeq < this.seq) return; // already applied (PROTOCOL.md)
      if (m.fromSeq !== this.seq) {
        if (this.open) this.gaps++;
        this.socket.send(encodeMessage({ t: 'resync' }));
        return;
      }
      this.seq = m.toSeq;
      this.tick(now, m.toSeq);
    }
  }

  private tick(now: number, seq: number): void {
    if (!this.open) return;
    this.ticks++;
    this.seqs.push(seq);
    this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
    this.last = now;
  }

  startWindow(): void {
    this.open = true;
    this.last = performance.now();
  }

  endWindow(): void {
    this.maxGapMs = Math.max(this.maxGapMs, performance.now() - this.last);
    this.open = false;
  }

  close(): void {
    this.closing = true;
    this.socket.terminate();
  }
}

/** Connects a new client and returns the ms until its hello arrived. */
export async function probeHello(url: string, from: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const socket = new WebSocket(url, { localAddress: from });
  socket.on('error', () => {});
  try {
    await withTimeout(
      'hello',
      new Promise<void>((resolve, reject) => {
        socket.once('message', (d: Buffer) =>
          decode(d).t === 'hello' ? resolve() : reject(new Error('first frame is not hello')),
        );
        socket.once('close', () => reject(new Error('closed before hello')));
      }),
      timeoutMs,
    );
    return performance.now() - started;
  } finally {
    socket.terminate();
  }
}

export type SeqAnswer = { ok: true; seq: number } | { ok: false; code: string };

/** One placement at a time over one WebSocket: send, then wait for its ack or error. */
export class SeqPlacer {
  private waiting: ((a: SeqAnswer) => void) | undefined;
  private readonly placer: Placer;

  private constructor(url: string, from: string) {
    this.placer = new Placer(url, {
      from,
      onAnswer: (a) => {
        const w = this.waiting;
        this.waiting = undefined;
        w?.(a.ok ? { ok: true, seq: a.seq } : { ok: false, code: a.code });
      },
    });
  }

  static async open(url: string, from: string): Promise<SeqPlacer> {
    const p = new SeqPlacer(url, from);
    await p.placer.hello;
    return p;
  }

  place(x: number, y: number, c: number, timeoutMs = 10_000): Promise<SeqAnswer> {
    const answer = new Promise<SeqAnswer>((resolve) => (this.waiting = resolve));
    this.placer.place(x, y, c);
    return withTimeout('placement answer', answer, timeoutMs);
  }

  close(): void {
    this.placer.terminate();
  }
}

/** POST /api/pixel: the HTTP placement path. */
export async function httpPlace(
  http: string,
  x: number,
  y: number,
  color: number,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x, y, color }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
