/**
 * The stats at startup: the stored checkpoint (store/stats-store.ts) if there is a usable one, the
 * placements after it for the all-time figures, and the last hour's placements for the windows. With
 * no checkpoint the first part is a scan of the whole history, which is always right, only slower.
 */
import type { PlacementLog } from '../store/placement-log.ts';
import type { StatsStore } from '../store/stats-store.ts';
import { Stats, type StatsOptions } from './stats.ts';

const HOUR_MINUTES = 60;
const MINUTE_MS = 60_000;

export interface RestoredStats {
  stats: Stats;
  /** Seq of the checkpoint used (0: none, the whole history was scanned). */
  checkpointSeq: number;
  /** Placements read for the all-time figures (those after the checkpoint). */
  scanned: number;
}

export function restoreStats(opts: {
  paletteSize: number;
  log: PlacementLog;
  store: StatsStore;
  /** The last committed seq (the canvas's at startup). */
  seq: number;
  now: number;
  /** The stats' clock (tests pass their own). */
  clock?: () => number;
  /** Names and bot marks (StatsOptions.label). */
  label?: StatsOptions['label'];
}): RestoredStats {
  const { log, store } = opts;
  const stats = new Stats({
    paletteSize: opts.paletteSize,
    ...(opts.clock ? { now: opts.clock } : {}),
    ...(opts.label ? { label: opts.label } : {}),
  });
  const checkpoint = store.load(opts.seq);
  if (checkpoint) stats.restore(checkpoint);
  const from = (checkpoint?.seq ?? 0) + 1;
  let scanned = 0;
  log.eachPlacement(from, (seq, who, color, at) => {
    stats.addAllTimeOnly(seq, who, color, at);
    scanned++;
  });
  const hourStart = (Math.floor(opts.now / MINUTE_MS) - (HOUR_MINUTES - 1)) * MINUTE_MS;
  log.eachPlacement(log.firstSeqAtOrAfter(hourStart), (_seq, who, _color, at) => stats.addWindowOnly(who, at));
  stats.settleWindows();
  return { stats, checkpointSeq: checkpoint?.seq ?? 0, scanned };
}
