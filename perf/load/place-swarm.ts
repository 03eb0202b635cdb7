/**
 * WebSocket placement load generator, run by perf/bench.ts as a child pinned to the load CPU.
 * K clients (the `ws` package) each keep W placements in flight: a new `place` frame goes out for
 * every `ack` or `error` that comes back. Two modes:
 * - `fill`: draw `--count` synthetic placements (perf/bench/canvas-content.ts) and stop when all are answered;
 * - `load`: random placements for `--seconds`; only acks received inside that window are counted.
 * Prints JSON lines on stdout: `{"type":"window","phase":"start"}` once connected, `{"type":"progress",...}`
 * about once a second, `{"type":"window","phase":"end"}`, then one `{"type":"result",...}`.
 *
 *   node --import tsx perf/load/place-swarm.ts --url ws://127.0.0.1:8080/ws --mode load --seconds 10
 */
import type { Socket } from 'node:net';
import { createHistogram, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import { seededRandom, syntheticPlacements } from '../bench/canvas-content.ts';

export interface SwarmResult {
  type: 'result';
  mode: 'fill' | 'load';
  clients: number;
  window: number;
  /** Measured window (load) or time to answer everything (fill), in seconds. */
  seconds: number;
  acks: number;
  acksPerSec: number;
  acksTotal: number;
  errors: Record<string, number>;
  /** Sent placements never answered (socket closed, or the grace period ran out). */
  unanswered: number;
  closes: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU used by this process during the window, as a share of one CPU (1 = saturated). */
  cpuShare: number;
  pngFrames: number;
}

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    mode: { type: 'string', default: 'load' },
    clients: { type: 'string', default: '16' },
    window: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    count: { type: 'string', default: '0' },
    width: { type: 'string', default: '1000' },
    height: { type: 'string', default: '1000' },
    colours: { type: 'string', default: '16' },
    seed: { type: 'string', default: '1' },
    'timeout-seconds': { type: 'string', default: '120' },
  },
});
const url = args.url ?? '';
const mode = args.mode === 'fill' ? 'fill' : 'load';
const [clients, window, seconds, count, width, height, colours, seed, timeoutSeconds] = [
  args.clients,
  args.window,
  args.seconds,
  args.count,
  args.width,
  args.height,
  args.colours,
  args.seed,
  args['timeout-seconds'],
].map(Number) as [number, number, number, number, number, number, number, number, number];
if (!url.startsWith('ws://127.0.0.1:')) {
  process.stderr.write('place-swarm: --url must be ws://127.0.0.1:PORT/ws (loopback only)\n');
  process.exit(2);
}

// Placement source: fill walks a fixed list shared by all clients; load draws random pixels.
const fill = mode === 'fill' ? syntheticPlacements({ width, height, colours, count, noise: 0.1, seed }) : undefined;
let cursor = 0;
const rand = seededRandom(seed);
let measuring = false;
let sending = false;
const errors: Record<string, number> = {};
const latency = createHistogram();
let acks = 0;
let acksTotal = 0;
let inFlightTotal = 0;
/** Sockets closed before the swarm closed them itself. */
let closes = 0;
let closingAll = false;
let pngFrames = 0;

function nextPlacement(): { x: number; y: number; c: number } | undefined {
  if (fill) {
    if (cursor >= fill.count) return undefined;
    const i = cursor++;
    return { x: fill.x[i] as number, y: fill.y[i] as number, c: fill.c[i] as number };
  }
  return { x: Math.floor(rand() * width), y: Math.floor(rand() * height), c: Math.floor(rand() * colours) };
}

class Placer {
  readonly ws: WebSocket;
  readonly ready: Promise<void>;
  inFlight = 0;
  private nextId = 1;
  private socket: Socket | undefined;
  private corked = false;
  /** Send times by id; ids in flight never span more than the ring. */
  private readonly sentAt: Float64Array;
  private readonly mask: number;

  constructor() {
    const size = 2 ** Math.ceil(Math.log2(window * 2 + 2));
    this.sentAt = new Float64Array(size);
    this.mask = size - 1;
    this.ws = new WebSocket(url, { perMessageDeflate: false, allowSynchronousEvents: true });
    // The upgrade response's socket is the connection itself: corking it batches the frames sent
    // for one burst of acks into one write instead of a syscall per frame.
    this.ws.on('upgrade', (res) => (this.socket = res.socket as Socket));
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('error', () => undefined); // a later error is followed by 'close', counted there
      this.ws.on('message', (data: WebSocket.RawData) => {
        const msg = decodeServerMessage(new Uint8Array(data as Buffer));
        if (msg.t === MsgType.HELLO) resolve();
        else this.onMessage(msg);
      });
    });
    this.ws.on('close', () => {
      if (!closingAll) closes++;
      inFlightTotal -= this.inFlight;
      this.inFlight = 0;
    });
  }

  private onMessage(msg: ReturnType<typeof decodeServerMessage>): void {
    if (msg.t === MsgType.ACK) {
      acksTotal++;
      if (measuring) {
        acks++;
        latency.record(
          Math.max(1, Math.round((performance.now() - (this.sentAt[msg.id & this.mask] as number)) * 1e6)),
        );
      }
    } else if (msg.t === MsgType.ERROR) {
      errors[msg.code] = (errors[msg.code] ?? 0) + 1;
      if (msg.id === undefined) return; // not an answer to one of our placements
    } else {
      if (msg.t === MsgType.PNG) pngFrames++;
      return; // hello, png, and whatever else the server streams: not an answer
    }
    this.inFlight--;
    inFlightTotal--;
    this.pump();
  }

  pump(): void {
    if (!sending || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.socket && !this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket?.uncork();
      });
    }
    while (this.inFlight < window) {
      const p = nextPlacement();
      if (!p) return;
      const id = this.nextId++;
      this.sentAt[id & this.mask] = performance.now();
      this.ws.send(encodeMessage({ t: MsgType.PLACE, id, x: p.x, y: p.y, c: p.c }));
      this.inFlight++;
      inFlightTotal++;
    }
  }
}

const emit = (obj: object) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const hardStop = setTimeout(() => {
    process.stderr.write(`place-swarm: gave up after ${timeoutSeconds} s\n`);
    process.exit(3);
  }, timeoutSeconds * 1000);
  const placers = Array.from({ length: clients }, () => new Placer());
  await Promise.all(placers.map((p) => p.ready));

  emit({ type: 'window', phase: 'start' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  sending = true;
  for (const p of placers) p.pump();
  const progress = setInterval(() => {
    const elapsed = (performance.now() - t0) / 1000;
    emit({
      type: 'progress',
      elapsed,
      acks,
      acksPerSec: acks / elapsed,
      inFlight: inFlightTotal,
      errors: Object.values(errors).reduce((a, b) => a + b, 0),
    });
  }, 1000);

  let windowMs: number;
  if (fill) {
    while ((cursor < fill.count || inFlightTotal > 0) && closes === 0) await sleep(5);
    windowMs = performance.now() - t0;
  } else {
    await sleep(seconds * 1000);
    windowMs = performance.now() - t0;
  }
  measuring = false;
  sending = false;
  const cpu = process.cpuUsage(cpu0);
  emit({ type: 'window', phase: 'end' });
  clearInterval(progress);
  // Let the placements still in flight be answered (they are not counted) before closing.
  const grace = performance.now() + 5000;
  while (inFlightTotal > 0 && performance.now() < grace) await sleep(5);
  const unanswered = inFlightTotal;
  closingAll = true;
  await Promise.all(
    placers.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.ws.readyState === WebSocket.CLOSED) return resolve();
          p.ws.once('close', () => resolve());
          p.ws.close();
          setTimeout(() => {
            p.ws.terminate();
            resolve();
          }, 2000).unref();
        }),
    ),
  );
  clearTimeout(hardStop);
  const q = (p: number) => (acks ? latency.percentile(p) / 1e6 : NaN);
  const result: SwarmResult = {
    type: 'result',
    mode,
    clients,
    window,
    seconds: windowMs / 1000,
    acks,
    acksPerSec: acks / (windowMs / 1000),
    acksTotal,
    errors,
    unanswered,
    closes,
    latencyMs: { p50: q(50), p90: q(90), p99: q(99), max: acks ? latency.max / 1e6 : NaN },
    cpuShare: (cpu.user + cpu.system) / 1000 / windowMs,
    pngFrames,
  };
  emit(result);
}

await main();
