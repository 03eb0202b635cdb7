/**
 * Placement load generator (a child on a load CPU): K clients each keep W placements in flight, a new
 * one per answer. `fill` draws `--count` synthetic placements and stops when all are answered; `load`
 * places random pixels for `--seconds` and counts the acks inside that window. With `--solve 1` a
 * placement refused with a challenge is solved (testkit/pow.ts) and sent again with its `pow`, and a
 * challenge an ack carries is solved before that client's next placement, which carries it, as the
 * browser client does. Prints JSON lines.
 */
import { performance } from 'node:perf_hooks';
import { MsgType, type PowChallenge } from '../../../protocol/messages.ts';
import { solvePow } from '../../../testkit/pow.ts';
import { seededRandom, syntheticPlacements } from '../canvas-content.ts';
import { Placer } from '../../../testkit/placer.ts';
import { MsHistogram, type Percentiles } from '../stats.ts';
import { emit, readFlags } from './flags.ts';

/** The JSON lines this prints. */
export type SwarmLine =
  | SwarmResult
  | { type: 'window'; phase: 'start' | 'end' }
  | { type: 'progress'; elapsed: number; acksPerSec: number };

export interface SwarmResult {
  type: 'result';
  mode: 'fill' | 'load';
  clients: number;
  window: number;
  seconds: number;
  acks: number;
  acksPerSec: number;
  acksTotal: number;
  errors: Record<string, number>;
  unanswered: number;
  closes: number;
  latencyMs: Percentiles;
  cpuShare: number;
  /** Challenges solved and their placements sent again (`--solve 1`), inside the window. */
  solved: number;
}

const flags = readFlags('place-swarm', {
  url: '',
  mode: 'load',
  clients: 16,
  window: 64,
  seconds: 10,
  count: 0,
  width: 1000,
  height: 1000,
  colours: 16,
  seed: 1,
  'timeout-seconds': 120,
  solve: 0,
});
const { url, clients, window, seconds, count, width, height, colours, seed } = flags;
const solve = flags.solve === 1;
const mode = flags.mode === 'fill' ? 'fill' : 'load';

// Placement source: fill walks a fixed list shared by all clients; load draws random pixels.
const fill = mode === 'fill' ? syntheticPlacements({ width, height, colours, count, noise: 0.1, seed }) : undefined;
let cursor = 0;
const rand = seededRandom(seed);
let measuring = false;
let sending = false;
const errors: Record<string, number> = {};
const latency = new MsHistogram();
let acks = 0;
let acksTotal = 0;
let solved = 0;
const placers: Placer[] = [];
const inFlightTotal = () => placers.reduce((n, p) => n + p.inFlight + (solving.get(p) ?? 0), 0);
const closes = () => placers.filter((p) => p.closedWith !== undefined).length;

function nextPlacement(): { x: number; y: number; c: number } | undefined {
  if (fill) {
    if (cursor >= fill.count) return undefined;
    const i = cursor++;
    return { x: fill.x[i] as number, y: fill.y[i] as number, c: fill.c[i] as number };
  }
  return { x: Math.floor(rand() * width), y: Math.floor(rand() * height), c: Math.floor(rand() * colours) };
}

/** Per placer (`--solve 1`): what each placement in flight was, and how many are being solved. */
const sentPixels = new Map<Placer, Map<number, { x: number; y: number; c: number }>>();
const solving = new Map<Placer, number>();
/** Per placer: a solution waiting for its next placement (solveAhead). */
const ready = new Map<Placer, string>();

/** Keeps `window` placements in flight on `p` (one being solved counts as in flight). */
function pump(p: Placer): void {
  if (!sending || !p.open) return;
  while (p.inFlight + (solving.get(p) ?? 0) < window) {
    const next = nextPlacement();
    if (!next) return;
    const pow = ready.get(p);
    ready.delete(p);
    const id = p.place(next.x, next.y, next.c, pow);
    sentPixels.get(p)?.set(id, next);
  }
}

/**
 * Solves the challenge an ack carried (the next placement needs it) before `p` places again, as
 * the browser client solves during its cooldown; the solution rides on the next placement.
 */
function solveAhead(p: Placer, challenge: PowChallenge): void {
  solving.set(p, (solving.get(p) ?? 0) + 1);
  void solvePow(challenge, { onThisThread: true }).then((pow) => {
    solving.set(p, (solving.get(p) ?? 1) - 1);
    if (measuring) solved++;
    ready.set(p, pow);
    pump(p);
  });
}

/** Solves the challenge a refusal carried and sends the same placement again with the solution. */
function solveAndResend(p: Placer, pixel: { x: number; y: number; c: number }, challenge: PowChallenge): void {
  solving.set(p, (solving.get(p) ?? 0) + 1);
  void solvePow(challenge, { onThisThread: true }).then((pow) => {
    solving.set(p, (solving.get(p) ?? 1) - 1);
    if (!p.open) return;
    if (measuring) solved++;
    const id = p.place(pixel.x, pixel.y, pixel.c, pow);
    sentPixels.get(p)?.set(id, pixel);
  });
}

function startPlacer(): Placer {
  const p: Placer = new Placer(url, {
    onAnswer: (a) => {
      const pixel = sentPixels.get(p)?.get(a.id);
      sentPixels.get(p)?.delete(a.id);
      if (a.ok) {
        acksTotal++;
        if (measuring) {
          acks++;
          latency.record(a.ms);
        }
        if (a.challenge && solve) solveAhead(p, a.challenge);
      } else {
        errors[a.code] = (errors[a.code] ?? 0) + 1;
        if (pixel && a.challenge && sending) return solveAndResend(p, pixel, a.challenge);
      }
      pump(p);
    },
    onMessage: (m) => {
      if (m.t === MsgType.ERROR) errors[m.code] = (errors[m.code] ?? 0) + 1;
    },
  });
  if (solve) sentPixels.set(p, new Map());
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  placers.push(...Array.from({ length: clients }, startPlacer));
  await Promise.all(placers.map((p) => p.hello));

  emit({ type: 'window', phase: 'start' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  sending = true;
  for (const p of placers) pump(p);
  const progress = setInterval(() => {
    const elapsed = (performance.now() - t0) / 1000;
    emit({ type: 'progress', elapsed, acksPerSec: acks / elapsed });
  }, 1000);

  let windowMs: number;
  if (fill) {
    while ((cursor < fill.count || inFlightTotal() > 0) && closes() === 0) await sleep(5);
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
  while (inFlightTotal() > 0 && performance.now() < grace) await sleep(5);
  const unanswered = inFlightTotal();
  const closed = closes();
  await Promise.all(placers.map((p) => p.close()));
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
    closes: closed,
    latencyMs: latency.summary(),
    cpuShare: (cpu.user + cpu.system) / 1000 / windowMs,
    solved,
  };
  emit(result);
}

await main();
