/**
 * What a standby keeps of the cooldown window (placement/recent-placements.ts) answers the cooldown
 * models' two reads as the placement log does, seeded from a real SQLite store and kept from rows.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RecentPlacements } from '../placement/recent-placements.ts';
import { PlacementLog } from '../store/placement-log.ts';
import { type PlacementRow, Store } from '../store/store.ts';
import { tempDir } from '../../testkit/fixture.ts';
import { Rng } from '../../testkit/rng.ts';

const WINDOW = 60_000;

const sorted = (m: Map<string, number[]>) => [...m].map(([k, v]) => [k, [...v].sort((a, b) => a - b)]).sort();

test('kept from rows (seeded from the log part way), it answers runningCooldowns and placementTimesByAddress as the log does', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = Store.open({
    path: join(dir, 'c.db'),
    width: 64,
    height: 64,
    paletteSize: 16,
    synchronous: 'NORMAL',
    busyTimeoutMs: 0,
  });
  t.after(() => store.close());
  const log = new PlacementLog(store.db);
  const rng = new Rng(11);
  const start = 1_700_000_000_000;
  let at = start;
  let seq = 0;
  const rows = (n: number): PlacementRow[] =>
    Array.from({ length: n }, () => {
      at += rng.int(400);
      const cooldown = rng.int(4) === 0 ? 0 : 5_000 + rng.int(WINDOW - 5_000); // some rows hold nothing back (moderation, exempt)
      return {
        seq: ++seq,
        x: rng.int(64),
        y: rng.int(64),
        color: rng.int(16),
        who: `id${rng.int(40)}`.padEnd(16, '-'),
        addr: rng.int(5) === 0 ? '' : `10.0.${rng.int(6)}.0/24`,
        at,
        nextAt: cooldown === 0 ? 0 : at + cooldown,
        prevSeq: 0,
      };
    });
  const first = rows(300);
  store.commit(first);
  // A standby starting now reads the log, then follows 600 more rows.
  const recent = RecentPlacements.fromLog(log, WINDOW, at);
  for (let i = 0; i < 6; i++) {
    const batch = rows(100);
    store.commit(batch);
    recent.add(batch, at);
  }
  assert.ok(at - start > 2 * WINDOW, 'the rows span more than the window: the sweep ran');
  for (const now of [at, at + 1_000, at + 20_000, at + WINDOW - 1]) {
    const want = log.runningCooldowns(now, WINDOW);
    const got = recent.runningCooldowns(now, WINDOW);
    assert.ok(want.byWho.size > 0 || now > at + 10_000);
    assert.deepEqual([...got.byWho].sort(), [...want.byWho].sort(), `byWho at +${now - at}`);
    assert.deepEqual(sorted(got.byAddr), sorted(want.byAddr), `byAddr at +${now - at}`);
    assert.deepEqual(
      sorted(recent.placementTimesByAddress(now - WINDOW)),
      sorted(log.placementTimesByAddress(now - WINDOW)),
      `times at +${now - at}`,
    );
  }
});
