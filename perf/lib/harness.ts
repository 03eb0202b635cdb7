/**
 * What the two long benchmark runs (perf/bench.ts, perf/scale.ts) share: timestamped progress
 * lines, and releasing what they own (children, temp dir, cgroup) however the run ends: success,
 * failure, the time limit, Ctrl-C or SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllChildren } from '../../testkit/processes.ts';
import type { CpuLimit } from './cpu-limit.ts';

export class Harness {
  private readonly started = performance.now();
  private tmp: string | undefined;
  /** The run's CPU limit, removed by `cleanup`. */
  limit: CpuLimit | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly name: string) {
    process.once('SIGINT', () => this.abort('SIGINT', 130));
    process.once('SIGTERM', () => this.abort('SIGTERM', 143));
  }

  readonly elapsed = (): number => (performance.now() - this.started) / 1000;

  readonly progress = (msg: string): void => {
    process.stdout.write(`[${this.name} ${this.elapsed().toFixed(1).padStart(6)} s] ${msg}\n`);
  };

  /** Aborts the run (exit `code`) when it is still going after `seconds`. */
  limitTo(seconds: number, why: string, code: number): void {
    this.timer = setTimeout(() => this.abort(`over ${why}`, code), seconds * 1000);
  }

  /** A temp dir removed by `cleanup`. */
  tempDir(): string {
    this.tmp ??= mkdtempSync(join(tmpdir(), `canvas-${this.name}-`));
    return this.tmp;
  }

  async cleanup(): Promise<void> {
    clearTimeout(this.timer);
    killAllChildren(); // normally none left: servers are stopped gracefully on the success path
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
    await this.limit?.cleanup();
  }

  /** Runs `main`; on a failure says why, cleans up and exits 1. */
  async run(main: () => Promise<void>): Promise<void> {
    try {
      await main();
      await this.cleanup();
    } catch (err) {
      this.progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      await this.cleanup();
      process.exit(1);
    }
  }

  private abort(reason: string, code: number): void {
    this.progress(`aborting: ${reason}`);
    void this.cleanup().finally(() => process.exit(code));
  }
}
