/**
 * A fixed number of worker threads, started on first use and kept, each running one job at a time,
 * with a bounded queue: `run` refuses (returns undefined) when every worker is busy and the queue is
 * full, so the caller answers 429 instead of piling up work. A worker that dies fails its job and is
 * replaced by the next job.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../ops/worker-thread.ts';
import type { HistoryJob, HistoryJobResult, HistoryWorkerData, WorkerAnswer } from './jobs.ts';

interface Pending {
  job: HistoryJob;
  resolve: (r: HistoryJobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  current: (Pending & { id: number }) | undefined;
}

const HISTORY_WORKER = new URL('./history-worker.ts', import.meta.url);

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly data: HistoryWorkerData,
    /** Jobs built at once (one worker thread each). */
    readonly size: number,
    /** Jobs waiting beyond those; more are refused. */
    readonly maxQueue: number,
  ) {}

  /** Jobs running or queued. */
  get load(): number {
    return this.slots.filter((s) => s.current).length + this.queue.length;
  }

  /** Runs `job` on a worker, or returns undefined when the pool is full (or closed). */
  run(job: HistoryJob): Promise<HistoryJobResult> | undefined {
    if (this.closed || this.load >= this.size + this.maxQueue) return undefined;
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.current);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const next = this.queue.shift() as Pending;
      const id = this.nextId++;
      slot.current = { ...next, id };
      slot.worker.ref(); // a job in progress keeps the process alive; an idle worker does not
      slot.worker.postMessage({ id, job: next.job });
    }
  }

  private spawn(): Slot {
    const worker = startWorker(HISTORY_WORKER, this.data);
    // An idle worker must not keep the process alive (a server that forgot close() still exits).
    worker.unref();
    const slot: Slot = { worker, current: undefined };
    this.slots.push(slot);
    worker.on('message', (answer: WorkerAnswer) => {
      const job = slot.current;
      if (!job || job.id !== answer.id) return;
      slot.current = undefined;
      worker.unref();
      if (answer.ok) job.resolve(answer.result);
      else job.reject(new Error(`history worker: ${answer.error}`));
      this.dispatch();
    });
    const fail = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.current?.reject(err);
      slot.current = undefined;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`history worker exited with code ${code}`)));
    return slot;
  }

  /** Refuses new jobs, fails queued ones and stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('history workers closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
