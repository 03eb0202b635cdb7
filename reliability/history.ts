/**
 * Checks what a server stored against what its clients were told: every acknowledged placement is in
 * the `placements` table with its seq, seqs run 1..N without a gap, the served grid equals replaying
 * that history, and SQLite's own integrity check passes. Reads through a separate read-only
 * connection, as an operator inspecting the file would.
 */
import Database from 'better-sqlite3';
import { PALETTE_2017 } from '../server/config/palette.ts';
import { decodeToIndices } from '../testkit/fixture.ts';
import type { Report } from './common.ts';
import { health } from './server-child.ts';
import { imageAtLeast } from '../testkit/image-probe.ts';

export interface Ack {
  seq: number;
  x: number;
  y: number;
  c: number;
}

export interface HistoryCheck {
  rows: number;
  lost: number;
  maxSeq: number;
}

/** Rows of the history as parallel arrays, in seq order (compact for a million rows). */
export interface History {
  seq: Uint32Array;
  cell: Uint32Array;
  color: Uint8Array;
  integrity: string;
}

export function readHistory(dbPath: string, width: number): History {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const n = (db.prepare('SELECT COUNT(*) AS n FROM placements').get() as { n: number }).n;
    const seq = new Uint32Array(n);
    const cell = new Uint32Array(n);
    const color = new Uint8Array(n);
    let i = 0;
    const rows = db.prepare('SELECT seq, x, y, color FROM placements ORDER BY seq').raw();
    for (const row of rows.iterate() as Iterable<[number, number, number, number]>) {
      if (i >= n) break; // the server may have committed more since COUNT: those are not ours to check
      seq[i] = row[0];
      cell[i] = row[2] * width + row[1];
      color[i] = row[3];
      i++;
    }
    return { seq: seq.subarray(0, i), cell: cell.subarray(0, i), color: color.subarray(0, i), integrity };
  } finally {
    db.close();
  }
}

/**
 * Verifies a running (restarted) server against `acks`. Call only while no client places, so the
 * history, /healthz and /image describe the same moment.
 */
export async function checkHistory(
  report: Report,
  label: string,
  dbPath: string,
  http: string,
  width: number,
  height: number,
  acks: readonly Ack[],
): Promise<HistoryCheck> {
  const h = readHistory(dbPath, width);
  report.check(h.integrity === 'ok', `${label}: PRAGMA integrity_check says ${h.integrity.slice(0, 200)}`);
  const n = h.seq.length;
  let gaps = 0;
  for (let i = 0; i < n; i++) if (h.seq[i] !== i + 1) gaps++;
  report.check(gaps === 0, `${label}: ${gaps} history rows out of place (seqs must run 1..${n})`);

  let lost = 0;
  const seen = new Set<number>();
  for (const a of acks) {
    const i = a.seq - 1;
    const ok = i >= 0 && i < n && h.seq[i] === a.seq && h.cell[i] === a.y * width + a.x && h.color[i] === a.c;
    if (!ok) {
      lost++;
      if (lost <= 5)
        report.check(
          false,
          `${label}: acked placement seq ${a.seq} (${a.x},${a.y}) colour ${a.c} missing or different after restart`,
        );
    }
    report.check(!seen.has(a.seq), `${label}: seq ${a.seq} acked twice`);
    seen.add(a.seq);
  }

  const maxSeq = n > 0 ? (h.seq[n - 1] as number) : 0;
  const hz = await health(http);
  report.check(hz.seq === maxSeq, `${label}: /healthz seq ${hz.seq} but the history ends at ${maxSeq}`);
  const replay = new Uint8Array(width * height);
  for (let i = 0; i < n; i++) replay[h.cell[i] as number] = h.color[i] as number;
  const img = await imageAtLeast(http, maxSeq);
  report.check(img.seq === maxSeq, `${label}: /image at seq ${img.seq}, history at ${maxSeq}`);
  const served = decodeToIndices(img.png, PALETTE_2017).grid;
  let diff = 0;
  for (let i = 0; i < replay.length; i++) if (served[i] !== replay[i]) diff++;
  report.check(diff === 0, `${label}: /image differs from replaying the history in ${diff} pixels`);
  return { rows: n, lost, maxSeq };
}
