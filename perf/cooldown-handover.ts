/**
 * A new leader's cooldown restore: read from the placement log (a start) against handed over by the
 * standby (placement/recent-placements.ts), in process on a SQLite file in a temp dir:
 * `npx tsx perf/cooldown-handover.ts [ROWS] [IDENTITIES] [ADDRESSES] [ROUNDS]` (defaults 480,000,
 * 200,000, 50,000, 3): ROWS placements spread over the last 5 minutes, a 5-minute cooldown, rounds
 * alternating. Also the standby's side: seeding from the log at its start, and keeping 1,000 rows.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RecentPlacements } from '../server/placement/recent-placements.ts';
import { PlacementLog } from '../server/store/placement-log.ts';
import { type PlacementRow, Store } from '../server/store/store.ts';
import { tempDir } from '../testkit/fixture.ts';
import { median } from './lib/stats.ts';

const rows = Number(process.argv[2] ?? 480_000);
const identities = Number(process.argv[3] ?? 200_000);
const addresses = Number(process.argv[4] ?? 50_000);
const rounds = Number(process.argv[5] ?? 3);
const COOLDOWN_MS = 300_000;
const dir = tempDir();
const store = Store.open({
  path: join(dir, 'canvas.db'),
  width: 1000,
  height: 1000,
  paletteSize: 16,
  synchronous: 'NORMAL',
  busyTimeoutMs: 0,
});
const now = Date.now();
const batch: PlacementRow[] = [];
for (let i = 1; i <= rows; i++) {
  const at = now - COOLDOWN_MS + Math.floor((i / rows) * COOLDOWN_MS);
  batch.push({
    seq: i,
    x: i % 1000,
    y: Math.floor(i / 1000) % 1000,
    color: i % 16,
    who: `id${i % identities}`.padEnd(16, '-'),
    addr: `10.${(i % addresses) >> 8}.${(i % addresses) & 255}.0/24`,
    at,
    nextAt: at + COOLDOWN_MS,
    prevSeq: 0,
  });
  if (batch.length === 10_000) store.commit(batch.splice(0));
}
store.commit(batch.splice(0));
const log = new PlacementLog(store.db);
const timed = (fn: () => void): number => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const fromLog: number[] = [];
const handed: number[] = [];
const seeded: number[] = [];
let recent = RecentPlacements.fromLog(log, COOLDOWN_MS, now);
for (let r = 0; r < rounds; r++) {
  fromLog.push(timed(() => log.runningCooldowns(now, COOLDOWN_MS)));
  handed.push(timed(() => recent.runningCooldowns(now, COOLDOWN_MS)));
  seeded.push(
    timed(() => {
      recent = RecentPlacements.fromLog(log, COOLDOWN_MS, now);
    }),
  );
}
const more: PlacementRow[] = Array.from({ length: 1000 }, (_, i) => ({
  ...(batch[0] ?? {}),
  seq: rows + i + 1,
  x: 0,
  y: 0,
  color: 1,
  who: `id${i}`.padEnd(16, '-'),
  addr: '10.0.0.0/24',
  at: now,
  nextAt: now + COOLDOWN_MS,
  prevSeq: 0,
}));
const keep = timed(() => recent.add(more, now));
const ms = (v: number[]) => `${median(v).toFixed(0)} ms (${v.map((x) => x.toFixed(0)).join(', ')})`;
console.log(
  `${rows.toLocaleString('en-US')} placements in the window, ${identities.toLocaleString('en-US')} identities, ${addresses.toLocaleString('en-US')} address keys; medians of ${rounds}:`,
);
console.log(`- new leader's restore, read from the placement log: ${ms(fromLog)}`);
console.log(`- new leader's restore, handed over by the standby:  ${ms(handed)}`);
console.log(`- standby's start, seeding from the log (off the takeover's path): ${ms(seeded)}`);
console.log(`- standby keeping 1,000 more rows: ${keep.toFixed(2)} ms`);
store.close();
rmSync(dir, { recursive: true, force: true });
