/**
 * Shared pieces of the reliability suite: the result every part returns, a seeded PRNG (so a failing
 * run can be repeated with the same `--seed`), RSS sampling from /proc, and bounded waiting.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { REPO_ROOT } from '../testkit/paths.ts';

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
    this.figures.push([name, typeof value === 'number' ? fmt(value) : value]);
  }

  /** Records a broken guarantee unless `ok`. Keeps at most 50 so one bug cannot flood the output. */
  check(ok: boolean, message: string): boolean {
    if (!ok && this.failures.length < 50) this.failures.push(message);
    return ok;
  }

  result(): PartResult {
    return { part: this.part, figures: this.figures, failures: this.failures, seconds: (performance.now() - this.started) / 1000 };
  }
}

export function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** xorshift32: small, fast and seedable; quality is plenty for fuzzing and jitter. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  u32(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Resident set size of a process in bytes (VmRSS), or its peak (VmHWM); 0 once it is gone. */
export function rssOf(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Open file descriptors of a process (0 once it is gone). */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** The soft limit on open files of this process (and so of the server children it starts). */
export function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? 1024);
}

/** Samples a process's RSS every `everyMs` until stopped; reports the peak seen. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number, everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): number {
    const rss = rssOf(this.pid);
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
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
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
