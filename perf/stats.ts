/**
 * What the placement statistics (server/stats/stats.ts) cost, in three figures:
 * 1. startup: rebuilding them by one scan of 1,000,000 placements (time, heap), and from a checkpoint;
 * 2. the alternative not taken: a per-identity table upserted in the commit's own transaction, against
 *    the plain commit (rows/s of Store.commit alone, alternating rounds on two files);
 * 3. `GET /api/stats` latency (wrk, p50/p99) with and without placement load, the server pinned to
 *    CPU 0 and the load (wrk, the placers) on CPU 1.
 * Run: `node --import tsx perf/stats.ts` (env ROWS, IDENTITIES, BATCH, RATE, PLACERS, SECONDS).
 * Prints its figures; perf/RESULTS.md ("Stats") quotes them by hand.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PALETTE_2017 } from '../server/config/palette.ts';
import { restoreStats } from '../server/stats/restore.ts';
import { StatsStore } from '../server/store/stats-store.ts';
import { PlacementLog } from '../server/store/placement-log.ts';
import { Store, type PlacementRow } from '../server/store/store.ts';
import { createCpuLimit, pinPid } from './lib/cpu-limit.ts';
import { PacedPlacer } from './lib/load/paced-placer.ts';
import { runWrk, type WrkResult } from './lib/load/wrk.ts';
import { startOurServer } from './lib/server-process.ts';
import { median } from './lib/stats.ts';
import { statsSince } from '../testkit/stats-recount.ts';
import { envNumber } from './lib/config.ts';

const ROWS = envNumber('ROWS', 1_000_000);
const IDENTITIES = envNumber('IDENTITIES', 50_000);
const BATCH = envNumber('BATCH', 100);
const ROUNDS = 5;
const RATE = envNumber('RATE', 2_000);
const PLACERS = envNumber('PLACERS', 20);
const SECONDS = envNumber('SECONDS', 10);
const SIZE = 1000;

const ids = Array.from({ length: IDENTITIES }, (_, i) => i.toString(16).padStart(16, '0'));

/** Batches of synthetic rows: skewed identities (a few heavy placers), one placement per 10 ms. */
function* batches(from: number, count: number): Generator<PlacementRow[]> {
  let seed = from + 1;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let s = from; s < from + count; s += BATCH) {
    const rows: PlacementRow[] = [];
    for (let seq = s + 1; seq <= Math.min(s + BATCH, from + count); seq++) {
      const who = ids[Math.floor(rnd() ** 2 * IDENTITIES)] as string;
      const at = 1_700_000_000_000 + seq * 10;
      rows.push({
        seq,
        x: seq % SIZE,
        y: Math.floor(seq / SIZE) % SIZE,
        color: seq % 16,
        who,
        addr: '',
        nextAt: 0,
        at,
        prevSeq: 0,
      });
    }
    yield rows;
  }
}

function open(path: string): Store {
  return Store.open({
    path,
    width: SIZE,
    height: SIZE,
    paletteSize: PALETTE_2017.length,
    synchronous: 'NORMAL',
    busyTimeoutMs: 0,
  });
}

/** The alternative: one upsert per identity of the batch, in the batch's transaction. */
function withTable(store: Store): (rows: readonly PlacementRow[]) => void {
  store.db.exec(`CREATE TABLE IF NOT EXISTS identity_stats (
    who TEXT PRIMARY KEY, placed INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL)`);
  const upsert = store.db.prepare(`INSERT INTO identity_stats (who, placed, first, last) VALUES (?, ?, ?, ?)
    ON CONFLICT(who) DO UPDATE SET placed = placed + excluded.placed, last = excluded.last`);
  const insert = store.db.prepare(
    'INSERT INTO placements (seq, x, y, color, who, addr, at, next_at, prev_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  return store.db.transaction((rows: readonly PlacementRow[]) => {
    const per = new Map<string, { n: number; first: number; last: number }>();
    for (const r of rows) {
      insert.run(r.seq, r.x, r.y, r.color, r.who, r.addr, r.at, r.nextAt, r.prevSeq);
      const p = per.get(r.who);
      if (p) {
        p.n++;
        p.last = r.at;
      } else per.set(r.who, { n: 1, first: r.at, last: r.at });
    }
    for (const [who, p] of per) upsert.run(who, p.n, p.first, p.last);
  });
}

function commitSpeed(dir: string): { plain: number[]; table: number[]; plainDb: string } {
  const plainDb = join(dir, 'plain.db');
  const plain = open(plainDb);
  const tabled = open(join(dir, 'table.db'));
  const commitTabled = withTable(tabled);
  const per = ROWS / ROUNDS;
  const speeds = { plain: [] as number[], table: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating, so the machine's noise falls on both alike.
    for (const kind of round % 2 === 0 ? (['plain', 'table'] as const) : (['table', 'plain'] as const)) {
      const t = performance.now();
      for (const rows of batches(round * per, per)) {
        if (kind === 'plain') plain.commit(rows);
        else commitTabled(rows);
      }
      speeds[kind].push(per / ((performance.now() - t) / 1000));
    }
  }
  const tableRows = tabled.db.prepare('SELECT COUNT(*) FROM identity_stats').pluck().get() as number;
  const t = performance.now();
  tabled.db.prepare('SELECT who, placed, first, last FROM identity_stats').raw().all();
  console.log(
    `restore from the stored table: ${tableRows} identities read in ${(performance.now() - t).toFixed(0)} ms (the hour's ring would still need the last hour's rows)`,
  );
  plain.close();
  tabled.close();
  return { ...speeds, plainDb };
}

/** Startup: the whole history scanned (no checkpoint), then a checkpoint written and read back. */
function startup(dbPath: string): void {
  const db = new Database(dbPath);
  const log = new PlacementLog(db);
  const store = new StatsStore(db);
  // The synthetic placements are 10 ms apart: "now" right after the last, so the last hour holds 360,000.
  const now = 1_700_000_000_000 + ROWS * 10;
  const restore = () => restoreStats({ paletteSize: PALETTE_2017.length, log, store, seq: ROWS, now });
  const times: number[] = [];
  let heapMb = 0;
  let restored = restore();
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t = performance.now();
    restored = restore();
    times.push(performance.now() - t);
    globalThis.gc?.();
    heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    if (restored.stats.summary().placements !== ROWS || restored.checkpointSeq !== 0) throw new Error('miscounted');
  }
  const list = (v: number[]) => v.map((t) => t.toFixed(0)).join(', ');
  console.log(
    `startup without a checkpoint (${ROWS} placements by ${restored.stats.identities} identities, the last hour 360,000): median ${median(times).toFixed(0)} ms of 3 (${list(times)}); heap held ~${heapMb.toFixed(1)} MB`,
  );
  const saves: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    store.save(restored.stats.checkpoint());
    saves.push(performance.now() - t);
  }
  const bytes = db.prepare('SELECT length(data) FROM stats_checkpoint').pluck().get() as number;
  const reads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = restore();
    reads.push(performance.now() - t);
    if (r.checkpointSeq !== ROWS || r.scanned !== 0) throw new Error('checkpoint not used');
  }
  console.log(
    `checkpoint: written in ${median(saves).toFixed(0)} ms (${list(saves)}), ${(bytes / 1024).toFixed(0)} KiB; startup from it (plus the last hour's rows): median ${median(reads).toFixed(0)} ms (${list(reads)})`,
  );
  db.close();
}

const row = (name: string, r: WrkResult) =>
  `${name.padEnd(34)} ${r.requestsPerSec.toFixed(0).padStart(8)} req/s  p50 ${r.latencyMs.p50.toFixed(2)} ms  p99 ${r.latencyMs.p99.toFixed(2)} ms  max ${r.latencyMs.max.toFixed(1)} ms  non-2xx ${r.non2xx3xx}`;

async function statsUnderLoad(dir: string): Promise<void> {
  const limit = createCpuLimit(0);
  pinPid(1);
  const server = await startOurServer(limit, join(dir, 'served.db'));
  try {
    const url = `${server.http}/api/stats`;
    const wrk = { url, threads: 1, connections: 50, seconds: SECONDS, cpu: 1 };
    console.log(row('GET /api/stats, idle', await runWrk(wrk)));
    const placers = Array.from(
      { length: PLACERS },
      (_, i) => new PacedPlacer(server.ws, RATE / PLACERS, i + 1, SECONDS + 5),
    );
    await Promise.all(placers.map((p) => p.ready));
    for (const p of placers) p.start();
    const loaded = await runWrk(wrk);
    for (const p of placers) p.stop();
    const acks = placers.reduce((n, p) => n + p.stats().acks, 0);
    console.log(row(`GET /api/stats, ${RATE} placements/s`, loaded));
    console.log(`placements acked during the loaded run: ${acks} (${PLACERS} identities); server: ${limit.method}`);
    for (const p of placers) p.close();
    const stats = await statsSince(server.http, Date.now());
    console.log(`the server counted ${stats.placements} placements, top list of ${stats.top.length}`);
  } finally {
    await server.child.stop();
    await limit.cleanup();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stats-bench-'));
  try {
    const { plain, table, plainDb } = commitSpeed(dir);
    const m = (v: number[]) => median(v);
    console.log(
      `Store.commit, batches of ${BATCH}, ${ROWS} rows each way in ${ROUNDS} alternating rounds: plain ${m(plain).toFixed(0)} rows/s, with the identity table ${m(table).toFixed(0)} rows/s: ratio ${(m(table) / m(plain)).toFixed(2)}`,
    );
    startup(plainDb);
    await statsUnderLoad(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
