/**
 * History benchmark (`npm run bench:history`): on a 1000 x 1000 canvas with 10 M placements,
 * - keyframe catch-up (time, longest event-loop block) and storage per million placements;
 * - history image latency (GET /api/history/image's work: keyframe + replay + PNG, in the worker),
 *   budget <= 200 ms; and canvasAt alone at the worst seq (a full interval of replay);
 * - timelapse build time, 100 frames of 1000 x 1000 over the whole history, budget <= 10 s;
 * - GET /image latency while that timelapse builds, against the same requests with nothing building.
 *
 *   npx tsx perf/history.ts [--placements 10000000] [--db /path/history.db]
 *   taskset -c 1 npx tsx perf/history.ts     # everything on one core
 *
 * Without --db the database goes to a temp dir and is deleted at the end.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PngEncoder } from '../server/canvas/png-encoder.ts';
import { PALETTE_2017 } from '../server/config/palette.ts';
import { HistoryService } from '../server/history/history-service.ts';
import { Keyframes } from '../server/history/keyframes.ts';
import { frameSeqs } from '../server/history/params.ts';
import { HistoryReader } from '../server/history/replay.ts';
import { HttpGuard, Router } from '../server/http/guard.ts';
import { answerHistory, HistoryAnswers } from '../server/history/history-answers.ts';
import { registerHistoryRoutes } from '../server/http/history-routes.ts';
import { ipRangeList } from '../server/identity/client-address.ts';
import { makeRequestIdentity } from '../server/identity/request-identity.ts';
import { IdentityIssuer } from '../server/identity/tokens.ts';
import { endBounded } from '../server/http/send.ts';
import { createLogger } from '../server/ops/log.ts';
import { listenPort, uws } from '../server/ops/uws-backend.ts';
import { KeyframeStore } from '../server/store/keyframe-store.ts';
import { Rng } from '../testkit/rng.ts';
import { openHistoryDb } from './lib/history-db.ts';
import { MintLimit } from '../server/identity/mint-limit.ts';
import { cpuMsSince, percentile } from './lib/stats.ts';

const W = 1000;
const H = 1000;
const { values: args } = parseArgs({
  options: { placements: { type: 'string', default: '10000000' }, db: { type: 'string' } },
});
const COUNT = Number(args.placements);
const tmp = args.db === undefined ? mkdtempSync(join(tmpdir(), 'history-bench-')) : undefined;
const dbPath = args.db ?? join(tmp as string, 'history.db');

const ms = (v: number) => `${v.toFixed(1)} ms`;
const MiB = (v: number) => `${(v / 1048576).toFixed(2)} MiB`;
const summary = (v: readonly number[]) =>
  `p50 ${ms(percentile(v, 50))}, p95 ${ms(percentile(v, 95))}, max ${ms(Math.max(...v))} (n=${v.length})`;

console.log(`history bench: ${W} x ${H}, ${COUNT.toLocaleString('en')} placements, db ${dbPath}`);
const { store, buildSeconds, reused } = openHistoryDb(dbPath, W, H, COUNT);
console.log(reused ? 'placements: reused' : `placements: written in ${buildSeconds.toFixed(1)} s`);

// 1. Keyframe catch-up from nothing (or from what a reused db holds), with the loop delay it causes.
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
store.db.exec('DROP TABLE IF EXISTS keyframes'); // a reused database: measure the catch-up from nothing
const keyframes = new Keyframes(store.db, W, H);
let t = performance.now();
const written = await keyframes.catchUp();
const catchUpS = (performance.now() - t) / 1000;
delay.disable();
const kf = new KeyframeStore(store.db).stats();
const fileBytes = statSync(dbPath).size;
console.log(
  `keyframes: every ${keyframes.every.toLocaleString('en')}; wrote ${written} in ${catchUpS.toFixed(1)} s ` +
    `(loop delay p99 ${ms(delay.percentile(99) / 1e6)}, max ${ms(delay.max / 1e6)}); ` +
    `${kf.count} keyframes, ${MiB(kf.bytes)} = ${MiB((kf.bytes / COUNT) * 1e6)} per million placements ` +
    `(${(kf.bytes / kf.count / 1024).toFixed(0)} KiB each; whole db ${MiB((fileBytes / COUNT) * 1e6)} per million)`,
);

// 2. canvasAt alone on this thread: random seqs, and the worst case (just before a keyframe).
const reader = new HistoryReader(store.db, W, H);
const rng = new Rng(99);
const randomSeqs = Array.from({ length: 30 }, () => 1 + rng.int(COUNT));
const worstSeqs = Array.from(
  { length: 10 },
  (_, i) => (Math.floor((COUNT * (i + 1)) / 11 / keyframes.every) + 1) * keyframes.every - 1,
);
const time = (seqs: number[]) =>
  seqs.map((s) => {
    const t0 = performance.now();
    reader.canvasAt(s);
    return performance.now() - t0;
  });
console.log(`canvasAt random seq: ${summary(time(randomSeqs))}`);
console.log(
  `canvasAt worst seq (${(keyframes.every - 1).toLocaleString('en')} rows replayed): ${summary(time(worstSeqs))}`,
);

// 3. History image end to end through the service (worker: keyframe + replay + PNG encode).
const history = new HistoryService(store.db, { dbPath, width: W, height: H, palette: PALETTE_2017, pngLevel: 8 });
await history.run({ kind: 'image', seq: 1 }, 'bench'); // start the worker (thread + tsx: ~200 ms, once)
// Process CPU (all threads) while this thread only awaits: the worker's CPU, whatever else the
// machine runs (wall time on a shared machine includes waiting for a core).
const imageTimes: number[] = [];
const imageCpu: number[] = [];
for (const seq of [...randomSeqs.map((s) => s + 1), ...worstSeqs]) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await history.run({ kind: 'image', seq }, 'bench');
  imageTimes.push(performance.now() - t0);
  imageCpu.push(cpuMsSince(c0));
}
console.log(`history image (worker, level 8 PNG) wall: ${summary(imageTimes)}; budget 200 ms`);
console.log(`history image (worker, level 8 PNG) CPU:  ${summary(imageCpu)}`);

// 4. The timelapse alone: 100 frames of 1000 x 1000 over the whole history, in the worker.
t = performance.now();
const tlCpu = process.cpuUsage();
const alone = await history.run(
  {
    kind: 'timelapse',
    seqs: frameSeqs(0, COUNT, 100),
    region: { x: 0, y: 0, w: W, h: H },
    scale: 1,
    delayMs: 100,
    loop: 0,
  },
  'bench',
);
console.log(
  `timelapse 100 frames of ${W} x ${H} over ${COUNT.toLocaleString('en')} placements: ` +
    `${((performance.now() - t) / 1000).toFixed(2)} s wall, ${(cpuMsSince(tlCpu) / 1000).toFixed(2)} s CPU, ` +
    `${MiB('bytes' in alone ? alone.bytes.length : 0)}; budget 10 s; ` +
    `rss now ${MiB(process.memoryUsage().rss)}`,
);

// 5. A uWS app with a cached /image (as routes.ts serves it) and the history routes; GET /image
// latency with nothing building, then while another 100-frame timelapse builds. The client shares
// this event loop, so it is paced (one request every PACE_MS, like a few pollers) rather than a hot
// loop that would measure only itself.
const PACE_MS = 5;
const canvas = { seq: COUNT, width: W, height: H };
const png = new PngEncoder(W, H, PALETTE_2017, 8).encodeSync(reader.canvasAt(COUNT));
const app = uws.App();
const router = new Router(app, new HttpGuard(createLogger('silent')));
router.route('/image', { get: (res) => endBounded(res, png) });
const answers = new HistoryAnswers({ history, canvasId: store.canvasId, canvas });
const identify = makeRequestIdentity(
  new IdentityIssuer(Buffer.alloc(32, 7)),
  { trustedProxies: ipRangeList([]), ipv4Prefix: 32, ipv6Prefix: 64 },
  new MintLimit(0),
);
registerHistoryRoutes(router, { history: (req, done) => answerHistory(answers, req, done) }, identify);
const socket = await new Promise<Parameters<typeof uws.us_listen_socket_close>[0] | false>((r) =>
  app.listen('127.0.0.1', 0, r),
);
if (!socket) throw new Error('cannot listen');
const base = `http://127.0.0.1:${listenPort(socket)}`;
const getImage = async () => {
  const t0 = performance.now();
  await (await fetch(`${base}/image`)).arrayBuffer();
  const took = performance.now() - t0;
  await sleep(PACE_MS);
  return took;
};
const idle: number[] = [];
for (let i = 0; i < 400; i++) idle.push(await getImage());
t = performance.now();
let done = false;
const build = fetch(`${base}/api/history/timelapse?from=1&to=${COUNT}&frames=100`).then(async (r) => {
  const bytes = (await r.arrayBuffer()).byteLength;
  done = true;
  return { status: r.status, bytes, seconds: (performance.now() - t) / 1000 };
});
const during: number[] = [];
while (!done) during.push(await getImage());
const tl = await build;
console.log(`timelapse over HTTP while GET /image runs: ${tl.seconds.toFixed(2)} s (status ${tl.status})`);
console.log(`GET /image (${MiB(png.length)} PNG) idle:                ${summary(idle)}`);
console.log(`GET /image during the timelapse build:    ${summary(during)}`);

uws.us_listen_socket_close(socket);
await new Promise((r) => setTimeout(r, 1500));
console.log(`rss after the builds: ${MiB(process.memoryUsage().rss)}`);
await history.close();
store.close();
if (tmp) rmSync(tmp, { recursive: true, force: true });
