/**
 * Load generator of the `stall` scenario (perf/lib/scenarios/stall.ts): N WebSocket subscribers that stop
 * reading as soon as they are open (the underlying TCP socket is paused, so the kernel's receive
 * buffer fills and the window closes, like a client whose process hangs or whose network vanished
 * behind a proxy that keeps the connection), plus the placer of perf/lib/load/paced-placer.ts, which does
 * read, so every tick has a new PNG for the stopped readers.
 *
 *   node --import tsx perf/lib/load/stall-swarm.ts --url ws://127.0.0.1:PORT/ws --subscribers 2000 --rate 1000
 *
 * Prints JSON lines: connect progress, `connected` (every socket open and paused), and, on SIGTERM, the
 * placer's figures, after which it exits; its sockets close with the process, which is the point:
 * the harness reads the kernel's TCP memory once more after that.
 */
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { PacedPlacer } from './paced-placer.ts';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    subscribers: { type: 'string', default: '2000' },
    stream: { type: 'string', default: 'png' },
    rate: { type: 'string', default: '1000' },
    'connect-concurrency': { type: 'string', default: '200' },
    seed: { type: 'string', default: '11' },
    'timeout-seconds': { type: 'string', default: '600' },
  },
});
const url = args.url ?? '';
const stream = args.stream === 'delta' ? 'delta' : 'png';
const [subscribers, rate, concurrency, seed, timeoutSeconds] = [
  args.subscribers,
  args.rate,
  args['connect-concurrency'],
  args.seed,
  args['timeout-seconds'],
].map(Number) as [number, number, number, number, number];
if (!url.startsWith('ws://127.0.0.1:')) {
  process.stderr.write('stall-swarm: --url must be ws://127.0.0.1:PORT/ws (loopback only)\n');
  process.exit(2);
}

const emit = (obj: object) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** Opens one socket and pauses its TCP socket at `open`: from then on nothing is read. */
function openStopped(): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?stream=${stream}`, { perMessageDeflate: false });
    let socket: Socket | undefined;
    ws.on('upgrade', (res) => (socket = res.socket as Socket));
    const timer = setTimeout(() => resolve(undefined), 30_000);
    ws.once('open', () => {
      clearTimeout(timer);
      socket?.pause(); // readStop on the fd: the kernel buffers what arrives, then the window closes
      resolve(socket ? ws : undefined);
    });
    // Kept for the socket's life: an 'error' without a listener would end the process.
    ws.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

async function main(): Promise<void> {
  const hardStop = setTimeout(() => {
    process.stderr.write(`stall-swarm: gave up after ${timeoutSeconds} s\n`);
    process.exit(3);
  }, timeoutSeconds * 1000);
  hardStop.unref();
  // Placing starts first: every tick from here on changes the canvas, so each brings a new PNG.
  const placer = new PacedPlacer(url, rate, seed, timeoutSeconds);
  await placer.ready;
  placer.start();
  process.once('SIGTERM', () => {
    placer.measuring = false;
    emit({ type: 'result', placer: placer.stats() });
    process.exit(0); // every socket closes with the process
  });

  const open: WebSocket[] = [];
  let failed = 0;
  const t0 = performance.now();
  const progress = setInterval(
    () => emit({ type: 'progress', phase: 'connect', ready: open.length, failed, of: subscribers }),
    1000,
  );
  let next = 0;
  const worker = async () => {
    while (next < subscribers) {
      next++;
      const ws = await openStopped();
      if (ws) open.push(ws);
      else failed++;
    }
  };
  placer.measuring = true;
  await Promise.all(Array.from({ length: Math.min(concurrency, subscribers) }, worker));
  clearInterval(progress);
  emit({ type: 'connected', ready: open.length, failed, seconds: (performance.now() - t0) / 1000 });
  // Then nothing: the sockets stay paused until the harness sends SIGTERM.
}

await main();
