/**
 * Entry point of every worker thread (history builds, WAL checkpoints). Plain JavaScript on purpose:
 * Node 20 does not pass tsx's loader (registered with module.register by `tsx` or `node --import
 * tsx`) on to worker threads, so a .ts entry fails with "Unknown file extension .ts". This registers
 * tsx in the worker, then loads the TypeScript module named by `workerData.module` (a file URL).
 */
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
