/**
 * What a snapshot of every chunk costs the event loop, written whole against in slices, in process
 * on a SQLite file in a temp dir: `npx tsx perf/snapshot-slices.ts [SIDE] [N] [ROUNDS]` (defaults
 * 16,384, 1,000,000, 2). N placements at uniformly random pixels change every chunk of the canvas;
 * rounds alternate: N more placements, then a whole snapshot (`committer.snapshot()`, timed), or
 * N more and the sliced one the committer begins (placement/snapshot-scheduler.ts): the longest turn
 * it held the loop (an event-loop delay histogram at 1 ms resolution), its turns and wall time.
 * Then a new layout, alternating the same way: a full 4096 x 4096 canvas of noise grown to 16,384
 * (left and top 6144), its first snapshot whole or in slices into a table of its own. WAL
 * checkpoints run in a thread, as in the server (store/wal-checkpointer.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PlacementCommitter, type PlacementRequest } from '../server/placement/committer.ts';
import { SLICE_CHUNKS } from '../server/placement/snapshot-scheduler.ts';
import { Store } from '../server/store/store.ts';
import { WalCheckpointer } from '../server/store/wal-checkpointer.ts';
import { fillNoise, openTestStore, tempDir } from '../testkit/fixture.ts';
import { Rng } from '../testkit/rng.ts';

const side = Number(process.argv[2] ?? 16_384);
const count = Number(process.argv[3] ?? 1_000_000);
const rounds = Number(process.argv[4] ?? 2);
const dir = tempDir();
const store = Store.open({
  path: join(dir, 'canvas.db'),
  width: side,
  height: side,
  paletteSize: 16,
  synchronous: 'NORMAL',
  busyTimeoutMs: 0,
});
const { canvas } = store.load(16);
/** Checkpoints in a thread, as the server runs them (on the loop, SQLite's own took 100+ ms turns). */
const checkpoints = (st: Store, path: string) =>
  WalCheckpointer.start(st, {
    path,
    busyTimeoutMs: 0,
    synchronous: 'NORMAL',
    onError: (err) => {
      throw err;
    },
  });
const checkpointer = checkpoints(store, join(dir, 'canvas.db'));
canvas.track();
const committer = new PlacementCommitter(
  store,
  canvas,
  { commitDelayMs: 0, commitBatch: 1000, snapshotEvery: count },
  {
    commitFailed: (err) => {
      throw err;
    },
    committed: () => {},
    callbackFailed: (err) => {
      throw err;
    },
  },
);
const rng = new Rng(7);
/** `n` placements at random pixels, 1,000 a batch; the last batch may begin a snapshot. */
function place(n: number): void {
  for (let done = 0; done < n; done += 1000) {
    const batch: PlacementRequest[] = [];
    for (let i = 0; i < Math.min(1000, n - done); i++)
      batch.push({
        x: rng.u32() % side,
        y: rng.u32() % side,
        color: 1 + (i % 15),
        who: 'p'.repeat(16),
        addr: '',
        nextAt: 0,
      });
    committer.commitNow(batch);
  }
}
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

place(count - 1);
committer.snapshot(); // the first lays the chunks out, whole
const changed = () => canvas.footprint().chunks;
console.log(`${side} x ${side}: ${changed().toLocaleString('en-US')} chunks hold pixels; slices of ${SLICE_CHUNKS}`);
for (let round = 0; round < rounds; round++) {
  place(count - 1);
  const started = performance.now();
  committer.snapshot();
  console.log(`whole:  one turn of ${(performance.now() - started).toFixed(0)} ms`);

  place(count - 1); // the count-th placement begins the sliced one
  console.log(`sliced: ${await slicedRun(store, () => place(1))}`);
}
committer.close();
await checkpointer?.stop();
store.close();
rmSync(dir, { recursive: true, force: true });

/** The loop while the committer's own snapshot runs, from the placement that begins it to its end. */
async function slicedRun(st: Store, placeOne: () => void): Promise<string> {
  const before = st.snapshotSeq();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await turn();
  delay.enable();
  const started = performance.now();
  placeOne();
  let turns = 0;
  while (st.snapshotSeq() === before) {
    await turn();
    turns++;
  }
  delay.disable();
  return `longest turn ${(delay.max / 1e6).toFixed(1)} ms (median ${(delay.percentile(50) / 1e6).toFixed(1)} ms), ${turns} turns, ${(performance.now() - started).toFixed(0)} ms from first to last`;
}

for (let round = 0; round < rounds; round++) {
  for (const sliced of [false, true]) {
    const t = openTestStore(4096, 4096);
    const cp = checkpoints(t.store, t.dbPath);
    fillNoise(t.canvas, round + 1);
    const c = new PlacementCommitter(
      t.store,
      t.canvas,
      { commitDelayMs: 0, commitBatch: 1000, snapshotEvery: 1 },
      {
        commitFailed: (err) => {
          throw err;
        },
        committed: () => {},
        callbackFailed: (err) => {
          throw err;
        },
      },
    );
    c.snapshot();
    await c.resize({ width: 16_384, height: 16_384, left: 6144, top: 6144 }, 'mod:bench');
    const one = () => c.commitNow([{ x: 0, y: 0, color: 1, who: 'p'.repeat(16), addr: '', nextAt: 0 }]);
    if (sliced) console.log(`new layout, sliced: ${await slicedRun(t.store, one)}`);
    else {
      const started = performance.now();
      c.snapshot();
      console.log(`new layout, whole: one turn of ${(performance.now() - started).toFixed(0)} ms`);
    }
    c.close();
    await cp?.stop();
    t.close();
  }
}
