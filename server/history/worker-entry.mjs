/**
 * Entry point of a history worker thread. Plain JavaScript on purpose: Node 20 does not pass tsx's
 * loader (registered with module.register by `tsx` or `node --import tsx`) on to worker threads, so a
 * .ts entry fails with "Unknown file extension .ts". This registers tsx in the worker, then loads the
 * TypeScript worker.
 */
import { register } from 'tsx/esm/api';

register();
await import('./history-worker.ts');
