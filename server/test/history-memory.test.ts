/**
 * Memory of history builds in a real server process (server/main.ts in a child, as npm start runs
 * it): repeated distinct large timelapses must not leave the process holding hundreds of megabytes.
 * Before the timelapse writer streamed its frames, a 100-frame 1000 x 1000 build held ~600 MB and
 * glibc kept it: 16 builds left the server at 1,599 MiB (perf/RESULTS.md, "History memory"). Here a
 * 700 x 700 canvas (half the pixels, to stay fast): 8 distinct 100-frame builds.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PALETTE_2017 } from '../config/palette.ts';
import { Store, type PlacementRow } from '../store/store.ts';
import { rssBytes } from '../../testkit/processes.ts';
import { loopbackArgs, startServer } from '../../testkit/server-process.ts';
import { Rng } from '../../testkit/rng.ts';
import { tempDir } from '../../testkit/fixture.ts';
import { rmSync } from 'node:fs';

const SIDE = 700;
const PLACEMENTS = 400_000;
const BUILDS = 8;
const MiB = 1024 * 1024;
/**
 * Growth allowed over the RSS after the first small request, at the end and at the peak. Measured
 * with this test: the streaming writer +88 MiB after 8 builds, +98 MiB at the peak (the result cache
 * holds ~15 MiB of it); upng-js with RGBA frames +267 and +321 MiB.
 */
const MAX_GROWTH = 150 * MiB;

function fill(path: string): void {
  const store = Store.open({
    path,
    width: SIDE,
    height: SIDE,
    paletteSize: PALETTE_2017.length,
    synchronous: 'NORMAL',
    busyTimeoutMs: 0,
  });
  const rng = new Rng(31);
  for (let seq = 1; seq <= PLACEMENTS; ) {
    const rows: PlacementRow[] = [];
    for (let i = 0; i < 10_000; i++, seq++) {
      rows.push({
        seq,
        x: rng.int(SIDE),
        y: rng.int(SIDE),
        color: rng.int(PALETTE_2017.length),
        who: `u${seq % 500}`,
        addr: '',
        at: 1_700_000_000_000 + seq,
        nextAt: 0,
        prevSeq: 0,
      });
    }
    store.commit(rows);
  }
  store.close();
}

test('repeated distinct large timelapses leave the server process within a bounded RSS', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'canvas.db');
  fill(db);
  const server = await startServer({ args: loopbackArgs(db, { width: SIDE, height: SIDE, 'log-level': 'info' }) });
  t.after(() => server.kill());
  const image = await fetch(`${server.http}/api/history/image?seq=${PLACEMENTS}`);
  assert.equal(image.status, 200);
  await image.arrayBuffer();
  const start = rssBytes(server.pid);
  const after: number[] = [];
  for (let i = 0; i < BUILDS; i++) {
    // A different end each time: never served from the cache.
    const res = await fetch(`${server.http}/api/history/timelapse?to=${PLACEMENTS - i}&frames=100`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('x-timelapse-frames'), '100');
    await res.arrayBuffer();
    after.push(rssBytes(server.pid));
  }
  const peak = rssBytes(server.pid, 'VmHWM');
  const report = `RSS MiB: start ${Math.round(start / MiB)}, after each build ${after.map((v) => Math.round(v / MiB)).join(' ')}, peak ${Math.round(peak / MiB)}`;
  t.diagnostic(report);
  assert.ok((after.at(-1) as number) - start < MAX_GROWTH, report);
  assert.ok(peak - start < MAX_GROWTH, report);
});
