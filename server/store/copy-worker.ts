/**
 * The database copy thread (bus/database-copy.ts starts one per copy): its own read connection to
 * the leader's file and `VACUUM INTO` a new file. In WAL mode that reads one consistent snapshot and
 * never blocks the leader's commits; in a thread, the seconds a large file takes stay off the loop.
 * The copy's change capture table is emptied (those changes were the leader's to ship) and its
 * last seq reported.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface CopyWorkerData {
  path: string;
  into: string;
  busyTimeoutMs: number;
}

export type CopyReport = { t: 'copied'; seq: number } | { t: 'failed'; message: string };

const data = workerData as CopyWorkerData;
const report = (r: CopyReport) => parentPort?.postMessage(r);
try {
  const db = new Database(data.path, { readonly: true, timeout: data.busyTimeoutMs, fileMustExist: true });
  try {
    db.prepare('VACUUM INTO ?').run(data.into);
  } finally {
    db.close();
  }
  const copy = new Database(data.into, { fileMustExist: true });
  try {
    const hasChanges = copy.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'repl_changes'").get();
    if (hasChanges) copy.exec('DELETE FROM repl_changes');
    const row = copy.prepare('SELECT max(seq) AS seq FROM placements').get() as { seq: number | null };
    report({ t: 'copied', seq: row.seq ?? 0 });
  } finally {
    copy.close();
  }
} catch (err) {
  report({ t: 'failed', message: (err as Error).message });
}
parentPort?.close();
