/**
 * WebSocket subscriber swarm (a child on the load CPU): N subscribers on one stream of our server or
 * of a bare baseline, plus optionally a paced placer so every tick has changes; what it measures:
 * perf/README.md, scenario 4. A tick (by seq) belongs to the window when its first frame arrived
 * inside it; its frames count wherever they land. With `--stop-reading 1` (scenario 7) each
 * subscriber pauses its TCP socket once open, and the swarm waits for SIGTERM. With `--stream region`
 * each subscriber is a delta subscriber of a random region of `--region-tiles` x `--region-tiles`
 * level-0 tiles (PROTOCOL.md "Region subscriptions"): ready once told `tiles`, and a tick counts once
 * per subscriber whatever number of tile deltas it came in (ticks that left its region alone do not
 * reach it, so `expectedFrames` is an upper bound). Prints JSON lines.
 */
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../../../protocol/codec.ts';
import { MsgType, type ServerMessage } from '../../../protocol/messages.ts';
import { Rng } from '../../../testkit/rng.ts';
import { MsHistogram, type Percentiles } from '../stats.ts';
import { emit, readFlags } from './flags.ts';
import { PacedPlacer, type PlacerStats } from './paced-placer.ts';

export interface WsSwarmResult {
  type: 'result';
  stream: string;
  subscribers: number;
  ready: number;
  failed: number;
  connectSeconds: number;
  windowSeconds: number;
  ticks: number;
  frames: number;
  /** ticks x ready subscribers: frames == expected means nobody missed a tick. */
  expectedFrames: number;
  bytes: number;
  deltaGaps: number;
  /** Sockets that closed before the swarm closed them. */
  closes: number;
  spreadMs: Percentiles;
  visibleMs: Percentiles;
  placer: PlacerStats | undefined;
  cpuShare: number;
}

const flags = readFlags('ws-swarm', {
  url: '',
  subscribers: 1000,
  stream: 'png',
  rate: 0,
  seconds: 6,
  warmup: 2,
  'connect-concurrency': 200,
  seed: 7,
  'tick-ms': 1000,
  'timeout-seconds': 120,
  'stop-reading': 0,
  'region-tiles': 3,
});
const { url, subscribers, rate, seconds, warmup, seed } = flags;
const stream = flags.stream === 'delta' || flags.stream === 'region' ? flags.stream : 'png';
const regionTiles = flags['region-tiles'];
/** The canvas's level-0 tiles across and down (region runs only). */
let tilesAcross = 0;
let tilesDown = 0;
const rng = new Rng(flags.seed);
const tickMs = flags['tick-ms'];
const timeoutSeconds = flags['timeout-seconds'];
const stopReading = flags['stop-reading'] > 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface TickStat {
  first: number;
  frames: number;
  bytes: number;
}
/** Ticks first seen inside the window, by seq. */
const ticks = new Map<number, TickStat>();
const ignored = new Set<number>();
let inWindow = false;
const spread = new MsHistogram();
const visible = new MsHistogram();
let deltaGaps = 0;
let closes = 0;
let closingAll = false;
let placer: PacedPlacer | undefined;
/** Highest seq any subscriber has seen, and who waits for the next tick (see alignToTicks). */
let newestSeq = -1;
let tickWaiters: (() => void)[] = [];

/** Records `now - sentAt` for every probe with prevSeq < seq <= newSeq (probes are in seq order). */
function recordVisible(prevSeq: number, newSeq: number, now: number): void {
  const probes = placer?.probes;
  if (!probes?.length) return;
  let lo = 0;
  let hi = probes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((probes[mid] as { seq: number }).seq <= prevSeq) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < probes.length && (probes[i] as { seq: number }).seq <= newSeq; i++)
    visible.record(now - (probes[i] as { sentAt: number }).sentAt);
}

class Subscriber {
  readonly ws: WebSocket;
  /** Once the snapshot both servers send on connect has arrived. */
  readonly ready: Promise<boolean>;
  seq = -1;
  private subscribed = false;

  constructor() {
    const wire = stream === 'region' ? 'delta' : stream;
    this.ws = new WebSocket(`${url}?stream=${wire}`, { perMessageDeflate: false, allowSynchronousEvents: true });
    this.ready = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.ws.on('error', () => done(false)); // followed by 'close'
      if (stopReading) {
        let socket: Socket | undefined;
        this.ws.on('upgrade', (res) => (socket = res.socket as Socket));
        // readStop on the fd: the kernel buffers what arrives, then the TCP window closes.
        return void this.ws.once('open', () => done(socket?.pause() !== undefined));
      }
      this.ws.on('message', (data: Buffer) => {
        const msg = decodeServerMessage(new Uint8Array(data.buffer, data.byteOffset, data.length));
        if (stream === 'region') return this.onRegion(msg, data.length, done);
        if (msg.t !== MsgType.PNG && msg.t !== MsgType.DELTA) return; // hello
        const seq = msg.t === MsgType.PNG ? msg.seq : msg.toSeq;
        if (this.seq < 0) {
          this.seq = seq; // the snapshot on connect: not a tick
          return done(true);
        }
        if (msg.t === MsgType.DELTA && this.seq >= 0 && msg.fromSeq !== this.seq) deltaGaps++;
        this.onTick(seq, data.length);
      });
    });
    this.ws.on('close', () => {
      if (!closingAll) closes++;
    });
  }

  /** Region runs: the snapshot on connect, then `subscribe` with a region; `tiles`, then its deltas. */
  private onRegion(msg: ServerMessage, bytes: number, done: (ok: boolean) => void): void {
    if (msg.t === MsgType.PNG && !this.subscribed) {
      this.subscribed = true;
      const tx = rng.int(tilesAcross - regionTiles + 1);
      const ty = rng.int(tilesDown - regionTiles + 1);
      const region = { tx, ty, tw: regionTiles, th: regionTiles };
      return void this.ws.send(encodeMessage({ t: MsgType.SUBSCRIBE, stream: 'delta', ...region }));
    }
    if (msg.t === MsgType.TILES && this.seq < 0) {
      this.seq = msg.seq;
      return done(true);
    }
    if (msg.t !== MsgType.DELTA || this.seq < 0) return;
    // One tick arrives as one delta per changed tile: the first counts the tick, all count bytes.
    if (msg.toSeq > this.seq) this.onTick(msg.toSeq, bytes);
    else {
      const tick = ticks.get(msg.toSeq);
      if (tick) tick.bytes += bytes;
    }
  }

  private onTick(seq: number, bytes: number): void {
    const now = performance.now();
    const prev = this.seq;
    this.seq = seq;
    if (seq > newestSeq) {
      newestSeq = seq;
      for (const wake of tickWaiters) wake();
      tickWaiters = [];
    }
    let tick = ticks.get(seq);
    if (!tick) {
      if (!inWindow || ignored.has(seq)) return void ignored.add(seq);
      tick = { first: now, frames: 0, bytes: 0 };
      ticks.set(seq, tick);
    }
    tick.frames++;
    tick.bytes += bytes;
    spread.record(now - tick.first);
    if (prev >= 0) recordVisible(prev, seq, now);
  }
}

/** Opens `subscribers` sockets, at most `concurrency` handshakes at a time; returns the ready ones. */
async function connectAll(): Promise<Subscriber[]> {
  const all: Subscriber[] = [];
  let ready = 0;
  let failed = 0;
  const progress = setInterval(() => emit({ type: 'progress', ready, failed, of: subscribers }), 1000);
  let next = 0;
  const worker = async () => {
    while (next < subscribers) {
      next++;
      const s = new Subscriber();
      all.push(s);
      if (await s.ready) ready++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(flags['connect-concurrency'], subscribers) }, worker));
  clearInterval(progress);
  return all;
}

/**
 * Waits for the next tick to arrive, then half a tick interval more, so a window of whole seconds
 * holds exactly seconds x 1000 / tickMs tick fan-outs (a fan-out is a burst of server CPU: a window
 * cutting one in two would make CPU per tick swing by 1/N). Gives up after three intervals (no ticks).
 */
async function alignToTicks(): Promise<void> {
  await Promise.race([new Promise<void>((resolve) => tickWaiters.push(resolve)), sleep(3 * tickMs)]);
  await sleep(tickMs / 2);
}

/** Region runs: the canvas's size in level-0 tiles, from GET /api/canvas beside the WebSocket. */
async function readCanvas(): Promise<void> {
  const http = url.replace(/^ws/, 'http').replace(/\/ws$/, '');
  const canvas = (await (await fetch(`${http}/api/canvas`)).json()) as {
    width: number;
    height: number;
    tileSize: number;
  };
  tilesAcross = Math.ceil(canvas.width / canvas.tileSize);
  tilesDown = Math.ceil(canvas.height / canvas.tileSize);
  if (tilesAcross < regionTiles || tilesDown < regionTiles)
    throw new Error(`a ${regionTiles} x ${regionTiles} region does not fit ${tilesAcross} x ${tilesDown} tiles`);
}

async function main(): Promise<void> {
  if (stream === 'region') await readCanvas();
  if (rate > 0) {
    // Placing starts before the subscribers connect, so the warm-up already has changing ticks.
    placer = new PacedPlacer(url, rate, seed, timeoutSeconds);
    await placer.ready;
    placer.start();
    placer.measuring = stopReading; // the stall scenario reports the placer's acks while readers stop
  }
  const c0 = performance.now();
  const all = await connectAll();
  const connectSeconds = (performance.now() - c0) / 1000;
  const live = all.filter((s) => s.ws.readyState === WebSocket.OPEN && (stopReading || s.seq >= 0));
  if (stopReading) {
    // The sockets stay paused until the harness sends SIGTERM.
    emit({ type: 'connected', ready: live.length, failed: subscribers - live.length, seconds: connectSeconds });
    return void process.once('SIGTERM', () => {
      emit({ type: 'result', placer: placer?.stats() });
      process.exit(0);
    });
  }
  await sleep(warmup * 1000);
  await alignToTicks();

  emit({ type: 'window', phase: 'start' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  inWindow = true;
  if (placer) placer.measuring = true;
  await sleep(seconds * 1000);
  inWindow = false;
  if (placer) placer.measuring = false;
  const windowSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  emit({ type: 'window', phase: 'end' });
  await sleep(1000); // fan-outs of in-window ticks finish

  placer?.close();
  closingAll = true;
  for (const s of all) s.ws.terminate();
  const list = [...ticks.values()];
  const result: WsSwarmResult = {
    type: 'result',
    stream,
    subscribers,
    ready: live.length,
    failed: subscribers - live.length,
    connectSeconds,
    windowSeconds,
    ticks: list.length,
    frames: list.reduce((s, t) => s + t.frames, 0),
    expectedFrames: list.length * live.length,
    bytes: list.reduce((s, t) => s + t.bytes, 0),
    deltaGaps,
    closes,
    spreadMs: spread.summary(),
    visibleMs: visible.summary(),
    placer: placer?.stats(),
    cpuShare: (cpu.user + cpu.system) / 1000 / (windowSeconds * 1000),
  };
  emit(result);
}

await main();
