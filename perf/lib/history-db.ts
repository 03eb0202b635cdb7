/**
 * The history benchmark's database: a 1000 x 1000 canvas with N synthetic placements (artworks plus
 * noise, perf/lib/canvas-content.ts) written through Store.commit in committer-sized batches, one
 * placement per 10 ms of simulated time. Reused when the file exists with that many rows (building
 * 10 M rows takes about a minute).
 */
import { existsSync } from 'node:fs';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import { Store, type PlacementRow } from '../../server/store/store.ts';
import { syntheticPlacements } from './canvas-content.ts';

export const HISTORY_T0 = 1_700_000_000_000;
/** Simulated ms between placements (100 placements/s: 10 M placements are ~28 hours). */
export const MS_PER_PLACEMENT = 10;

export interface HistoryDb {
  store: Store;
  /** Seconds spent writing rows (0 when reused). */
  buildSeconds: number;
  reused: boolean;
}

export function openHistoryDb(path: string, width: number, height: number, count: number, seed = 14): HistoryDb {
  const fresh = !existsSync(path);
  const store = Store.open({
    path,
    width,
    height,
    paletteSize: PALETTE_2017.length,
    synchronous: 'NORMAL',
    busyTimeoutMs: 5000,
  });
  const have = store.db.prepare('SELECT COALESCE(MAX(seq), 0) FROM placements').pluck().get() as number;
  if (!fresh && have === count) return { store, buildSeconds: 0, reused: true };
  if (have !== 0) throw new Error(`${path} holds ${have} placements, not ${count}: delete it`);
  const t = performance.now();
  const p = syntheticPlacements({ width, height, colours: PALETTE_2017.length, count, noise: 0.05, seed });
  const BATCH = 20_000;
  for (let start = 0; start < count; start += BATCH) {
    const rows: PlacementRow[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      rows.push({
        seq: i + 1,
        x: p.x[i] as number,
        y: p.y[i] as number,
        color: p.c[i] as number,
        who: `u${i % 5000}`,
        addr: `a${i % 4000}`,
        at: HISTORY_T0 + i * MS_PER_PLACEMENT,
        nextAt: 0,
        prevSeq: 0,
      });
    }
    store.commit(rows);
  }
  return { store, buildSeconds: (performance.now() - t) / 1000, reused: false };
}
