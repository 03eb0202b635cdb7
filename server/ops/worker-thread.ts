/**
 * Starting a worker thread that runs a TypeScript module: through worker-entry.mjs, which registers
 * tsx in the thread first (Node 20 does not pass the loader on to workers).
 */
import { Worker } from 'node:worker_threads';

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/** A worker running `module` (a .ts file URL) with `data` as its workerData (plus `module`). */
export function startWorker(module: URL, data: object): Worker {
  return new Worker(ENTRY, { workerData: { ...data, module: module.href } });
}
