/**
 * Shared pieces of the reliability suite: the result every part returns, RSS sampling, bounded
 * waiting and cleanup however a run ends. The seeded PRNG (so a failing run can be repeated with the
 * same `--seed`) is testkit/rng.ts; /proc readings are testkit/processes.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { num } from '../testkit/format.ts';
import { REPO_ROOT } from '../testkit/paths.ts';
import { rssBytes } from '../testkit/processes.ts';

export { REPO_ROOT };

export type Mode = 'fast' | 'full';

/** What one part reports: figures for RESULTS.md and every broken guarantee (empty: passed). */
export interface PartResult {
  part: string;
  figures: Array<[string, string]>;
  failures: string[];
  seconds: number;
}

/** Collects figures and failures while a part runs. */
export class Report {
  readonly figures: Array<[string, string]> = [];
  readonly failures: string[] = [];
  private readonly started = performance.now();

  constructor(readonly part: string) {}

  figure(name: string, value: string | number): void {
    this.figures.push([name, typeof value === 'number' ? num(value) : value]);
  }

  /** Records a broken guarantee unless `ok`. Keeps at most 50 so one bug cannot flood the output. */
  check(ok: boolean, message: string): boolean {
    if (!ok && this.failures.length < 50) this.failures.push(message);
    return ok;
  }

  result(): PartResult {
    return {
      part: this.part,
      figures: this.figures,
      failures: this.failures,
      seconds: (performance.now() - this.started) / 1000,
    };
  }
}

/** Samples a process's RSS (bytes) every `everyMs` until stopped; reports the peak seen. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): number {
    const rss = rssBytes(this.pid);
    if (rss > this.peak) this.peak = rss;
    return rss;
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Rejects when `promise` takes longer than `ms` (every step of the suite is bounded in time). */
export function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const cleanups = new Set<() => void>();

/**
 * Registers a synchronous cleanup (unmount, remove a dir) that must also run when the run is cut
 * short by a signal or the overall time limit; returns the function that unregisters it.
 */
export function onAbort(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs every registered cleanup (each at most once, errors ignored). */
export function runAbortCleanups(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the process is about to exit
    }
  }
}

/** A temp dir removed by the returned cleanup (which never throws). */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `torture-${prefix}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const forget = onAbort(remove);
  return {
    dir,
    remove: () => {
      forget();
      remove();
    },
  };
}

/** Loopback source address number `i` (127.0.0.2 .. 127.0.255.254), so clients look like many hosts. */
export function loopback(i: number): string {
  const n = 2 + (i % 65_000);
  return `127.0.${Math.floor(n / 254)}.${(n % 254) + 1}`;
}
