/**
 * Moderation console benchmark (`npm run bench:moderation`), in-process on the writer's own parts:
 * - the identity index rebuilt from the table at startup (time; the look's totals wait for it);
 * - the look (GET /api/admin/placements' work): a 500 x 500 area over the last hour, first page of
 *   100 and the next, at 1 M and 10 M placements; budget < 200 ms at 10 M;
 * - an area rollback of 100,000 placements (the whole canvas, the last 100,000 placements) while
 *   1,000 placements/s keep arriving: plan time, total duration, event-loop delay p99 (budget 5 ms).
 *
 *   npx tsx perf/moderation.ts [--sizes 1000000,10000000] [--dir /tmp/moderation-bench]
 *
 * Databases (1000 x 1000 canvas, 5,000 identities, 100 placements/s of simulated time, rows written
 * directly through Store.commit with their prev_seq links) are kept in --dir and reused.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PALETTE_2017 } from '../server/config/palette.ts';
import { Activity } from '../server/moderation/activity.ts';
import { AreaRollbacks } from '../server/moderation/area-rollback.ts';
import { IdentityIndex } from '../server/moderation/identity-index.ts';
import { Look } from '../server/moderation/look.ts';
import { PlacementCommitter } from '../server/placement/committer.ts';
import { Bans } from '../server/placement/bans.ts';
import { Signals } from '../server/placement/signals.ts';
import { ModerationStore } from '../server/store/moderation-store.ts';
import { PlacementLog } from '../server/store/placement-log.ts';
import { type PlacementRow, Store } from '../server/store/store.ts';
import { WalCheckpointer } from '../server/store/wal-checkpointer.ts';
import { Rng } from '../testkit/rng.ts';
import { cpuMsSince, percentile } from './lib/stats.ts';

const W = 1000;
const H = 1000;
const T0 = 1_700_000_000_000;
const MS_PER_PLACEMENT = 10;
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000000,10000000' },
    dir: { type: 'string', default: join(tmpdir(), 'moderation-bench') },
  },
});
const sizes = args.sizes.split(',').map(Number);
mkdirSync(args.dir, { recursive: true });

const ms = (v: number) => `${v.toFixed(1)} ms`;

/**
 * CPU time of every setImmediate callback (the steps of moderation/slices.ts and the rollback's
 * chunks): how long each turn would block the loop on an idle core. On a shared machine the
 * event-loop delay also counts the time the process waited for a CPU, so both are reported.
 */
const turnCpu: number[] = [];
const realSetImmediate = globalThis.setImmediate;
globalThis.setImmediate = ((fn: (...a: unknown[]) => void, ...rest: unknown[]) =>
  realSetImmediate(() => {
    const c = process.cpuUsage();
    fn(...rest);
    turnCpu.push(cpuMsSince(c));
  })) as typeof setImmediate;
const turns = () =>
  `loop turns' CPU p50 ${ms(percentile(turnCpu, 50))}, p99 ${ms(percentile(turnCpu, 99))}, max ${ms(Math.max(...turnCpu))} (n=${turnCpu.length})`;
const loadAverage = () => `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} CPUs`;
const summary = (v: readonly number[]) =>
  `p50 ${ms(percentile(v, 50))}, p95 ${ms(percentile(v, 95))}, max ${ms(Math.max(...v))} (n=${v.length})`;
const open = (path: string) =>
  Store.open({
    path,
    width: W,
    height: H,
    paletteSize: PALETTE_2017.length,
    synchronous: 'NORMAL',
    busyTimeoutMs: 5000,
  });

/** Placements clustered on a few areas (artwork) plus uniform noise, linked per pixel by prev_seq. */
function build(path: string, count: number): Store {
  const store = open(path);
  const have = store.db.prepare('SELECT COALESCE(MAX(seq), 0) FROM placements').pluck().get() as number;
  if (have === count) return store;
  if (have !== 0) throw new Error(`${path} holds ${have} placements, not ${count}: delete it`);
  const started = performance.now();
  const rng = new Rng(5);
  const last = new Uint32Array(W * H);
  const BATCH = 20_000;
  for (let start = 0; start < count; start += BATCH) {
    const rows: PlacementRow[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const hot = rng.u32() % 10 < 7;
      const cx = hot ? 100 + (rng.u32() % 4) * 200 : 0;
      const x = hot ? cx + (rng.u32() % 150) : rng.u32() % W;
      const y = hot ? 100 + (rng.u32() % 700) : rng.u32() % H;
      const cell = y * W + x;
      const who = rng.u32() % 5000;
      rows.push({
        seq: i + 1,
        x,
        y,
        color: rng.u32() % PALETTE_2017.length,
        who: `${who.toString(16).padStart(16, '0')}`,
        addr: `10.0.${(who % 4000) >> 8}.${who % 256}/32`,
        at: T0 + i * MS_PER_PLACEMENT,
        nextAt: 0,
        prevSeq: last[cell] as number,
      });
      last[cell] = i + 1;
    }
    store.commit(rows);
  }
  console.log(
    `  wrote ${count.toLocaleString('en')} placements in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return store;
}

async function lookBench(count: number, store: Store): Promise<void> {
  const log = new PlacementLog(store.db);
  const index = new IdentityIndex();
  const r0 = performance.now();
  const c0 = process.cpuUsage();
  await index.rebuild(store.db, count);
  console.log(
    `  identity index rebuilt from ${count.toLocaleString('en')} rows: wall ${ms(performance.now() - r0)}, CPU ${ms(cpuMsSince(c0))}`,
  );
  const look = new Look(log, index, new Signals(5000), Buffer.from('bench-secret'), { bans: new Bans(new Map()) });
  const end = T0 + count * MS_PER_PLACEMENT;
  const rng = new Rng(9);
  const wall = { first: [] as number[], next: [] as number[], big: [] as number[], whole: [] as number[] };
  const cpu = { first: [] as number[], next: [] as number[], big: [] as number[], whole: [] as number[] };
  const timed = async <T>(into: keyof typeof wall, run: () => Promise<T>): Promise<T> => {
    const c = process.cpuUsage();
    const t = performance.now();
    const out = await run();
    wall[into].push(performance.now() - t);
    cpu[into].push(cpuMsSince(c));
    return out;
  };
  turnCpu.length = 0;
  for (let i = 0; i < 20; i++) {
    const rect = { x: rng.u32() % 500, y: rng.u32() % 500, width: 500, height: 500 };
    const q = { rect, since: end - 3_600_000, until: end, limit: 100 };
    const page = await timed('first', () => look.look(q));
    await timed('next', () => look.look(page.next === null ? q : { ...q, before: page.next }));
    await timed('big', () => look.look({ ...q, limit: 1000 }));
  }
  for (let i = 0; i < 3; i++)
    await timed('whole', () => look.look({ rect: { x: 250, y: 250, width: 500, height: 500 }, since: 0, limit: 100 }));
  const line = (what: string, k: keyof typeof wall) =>
    console.log(
      `  ${what}: wall ${summary(wall[k])}; CPU p50 ${ms(percentile(cpu[k], 50))}, p95 ${ms(percentile(cpu[k], 95))}`,
    );
  line('look 500 x 500, last hour (360,000 placements), page of 100', 'first');
  line('look 500 x 500, last hour, the next page of 100', 'next');
  line('look 500 x 500, last hour, page of 1000', 'big');
  line('look 500 x 500 over the whole history (figure, no budget)', 'whole');
  console.log(`  looks: ${turns()}; ${loadAverage()}`);
}

async function rollbackBench(count: number, path: string): Promise<void> {
  const copy = `${path}.rollback.db`;
  rmSync(copy, { force: true });
  copyFileSync(path, copy);
  const store = open(copy);
  // As the writer runs it (server.ts): WAL checkpoints in a thread, not inside commits.
  const checkpointer = WalCheckpointer.start(store, {
    path: copy,
    busyTimeoutMs: 5000,
    synchronous: 'NORMAL',
    onError: (err) => console.error(err),
  });
  const loaded = store.load(PALETTE_2017.length);
  const { canvas } = loaded;
  canvas.track();
  const committer = new PlacementCommitter(
    store,
    canvas,
    { commitDelayMs: 5, commitBatch: 1000, snapshotEvery: Number.MAX_SAFE_INTEGER },
    { commitFailed: (err) => console.error(err), committed: () => {}, callbackFailed: (err) => console.error(err) },
  );
  const modStore = new ModerationStore(store.db);
  const rollbacks = new AreaRollbacks(canvas, committer, new PlacementLog(store.db), modStore, PALETTE_2017);
  const UNDONE = 100_000;
  const since = T0 + (count - UNDONE) * MS_PER_PLACEMENT;
  // Players keep placing meanwhile: 10 placements every 10 ms.
  const rng = new Rng(3);
  let acked = 0;
  const players = setInterval(() => {
    for (let i = 0; i < 10; i++)
      committer.submit(
        { x: rng.u32() % W, y: rng.u32() % H, color: 1, who: 'ffffffffffffffff', addr: 'p', nextAt: 0 },
        (o) => {
          if (o.ok) acked++;
        },
      );
  }, 10);
  await sleep(200);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  turnCpu.length = 0;
  const t = performance.now();
  const c0 = process.cpuUsage();
  const started = await rollbacks.start('bench', { rect: { x: 0, y: 0, width: W, height: H }, since }, () => {});
  const planned = performance.now() - t;
  const planTurns = turnCpu.splice(0);
  if (!started.ok) throw new Error(started.message);
  for (;;) {
    const s = rollbacks.status();
    if (s.ok && s.result['state'] !== 'running') {
      const total = performance.now() - t;
      delay.disable();
      clearInterval(players);
      console.log(
        `  area rollback of the last ${UNDONE.toLocaleString('en')} placements (whole canvas): ${String(s.result['total'])} pixels to change, ${String(s.result['changed'])} changed, state ${String(s.result['state'])}`,
      );
      console.log(
        `    plan (answered 202 after) ${ms(planned)}, total ${ms(total)} wall, ${ms(cpuMsSince(c0))} CPU (players' placements included)`,
      );
      console.log(
        `    event-loop delay while it ran: p50 ${ms(delay.percentile(50) / 1e6)}, p99 ${ms(delay.percentile(99) / 1e6)}, max ${ms(delay.max / 1e6)}; ${acked} player placements acked meanwhile`,
      );
      const p = (v: number[]) =>
        `p50 ${ms(percentile(v, 50))}, p99 ${ms(percentile(v, 99))}, max ${ms(Math.max(...v))} (n=${v.length})`;
      console.log(
        `    loop turns' CPU while planning ${p(planTurns)}; while committing ${p(turnCpu)}; ${loadAverage()}`,
      );
      break;
    }
    await sleep(5);
  }
  committer.close();
  await checkpointer?.stop();
  store.close();
  rmSync(copy, { force: true });
  rmSync(`${copy}-wal`, { force: true });
  rmSync(`${copy}-shm`, { force: true });
}

/**
 * What the console adds to every accepted placement (the identity index and the activity counters,
 * beside the signals that were there before), per call, in a loop of 1 M placements by 5,000
 * identities over the canvas: the commit path's extra CPU.
 */
function watcherCost(): void {
  const rng = new Rng(1);
  const ids = Array.from({ length: 5000 }, (_, i) => i.toString(16).padStart(16, '0'));
  const N = 1_000_000;
  const xs = Uint16Array.from({ length: N }, () => rng.u32() % W);
  const ys = Uint16Array.from({ length: N }, () => rng.u32() % H);
  const run = (withConsole: boolean) => {
    const signals = new Signals(5000);
    const index = new IdentityIndex();
    const activity = new Activity(W, H);
    const t = performance.now();
    for (let i = 0; i < N; i++) {
      const id = ids[i % 5000] as string;
      const at = T0 + i;
      signals.placed(id, 'p', at);
      if (withConsole) activity.placed(id, xs[i] as number, ys[i] as number, index.placed(id, 'p', at, i + 1));
    }
    return ((performance.now() - t) * 1000) / N;
  };
  const before: number[] = [];
  const after: number[] = [];
  for (let r = 0; r < 5; r++) {
    before.push(run(false));
    after.push(run(true));
  }
  console.log(
    `per accepted placement: signals alone ${percentile(before, 50).toFixed(3)} us, with the identity index and activity ${percentile(after, 50).toFixed(3)} us (median of 5 alternating rounds of 1 M)`,
  );
}
watcherCost();

for (const count of sizes) {
  console.log(`${count.toLocaleString('en')} placements, ${W} x ${H}:`);
  const path = join(args.dir, `moderation-${count}.db`);
  const fresh = !existsSync(path);
  const store = build(path, count);
  if (!fresh) console.log('  database reused');
  await lookBench(count, store);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  await rollbackBench(count, path);
}
