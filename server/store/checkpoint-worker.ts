/**
 * The WAL checkpoint thread (store/wal-checkpointer.ts starts it): its own connection to the store's
 * file, a PASSIVE checkpoint every `everyMs` (it copies what it can and never blocks the writer or a
 * reader), and a last one when told to stop. A failure is reported and the next interval tries again.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointReport, CheckpointWorkerData } from './wal-checkpointer.ts';

const data = workerData as CheckpointWorkerData;
const db = new Database(data.path, { timeout: data.busyTimeoutMs, fileMustExist: true });
// The checkpoint's own fsyncs follow the store's setting (NORMAL: the database file after copying).
db.pragma(`synchronous = ${data.synchronous}`);
const report = (r: CheckpointReport) => parentPort?.postMessage(r);

function checkpoint(): void {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
    report({ t: 'checkpointed', pages: row?.checkpointed ?? 0, walPages: row?.log ?? 0 });
  } catch (err) {
    report({ t: 'failed', message: (err as Error).message });
  }
}

const timer = setInterval(checkpoint, data.everyMs);
parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort?.close();
});
