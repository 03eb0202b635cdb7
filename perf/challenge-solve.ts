/// <reference lib="dom" />
/**
 * How long the browser client takes to solve a proof-of-work challenge: Debian's Chromium loads the
 * page, fetches `GET /api/challenge` and solves it with the ALTCHA widget (client/dist/pow.js, its Web
 * Workers), ROUNDS times per setting, in two browsers:
 * - `desktop`: Chromium as it is on this machine;
 * - `phone`: the whole Chromium process tree in a cgroup v1 CPU quota of a quarter of this machine's
 *   CPUs (each core's time cut by 4: a phone-class device's 4x slowdown, workers included).
 * CDP's Emulation.setCPUThrottlingRate is not used: it slows the page's main thread only, and the
 * solving happens in Web Workers (Chromium refuses it on a worker's session: "Operation is only
 * supported for pages, not workers"). The phone browser needs root and cgroup v1's `cpu` controller;
 * without them it is skipped and the run says so. The server's cost per challenge is in
 * perf/challenge-cost.ts.
 *
 *   npm run build && ROUNDS=5 node --import tsx perf/challenge-solve.ts [difficulty:cost ...]
 */
import { chmodSync, existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM } from '../testkit/chromium.ts';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, tempDir } from '../testkit/fixture.ts';

const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const CGROUP_CPU = '/sys/fs/cgroup/cpu';
const SLOWDOWN = 4;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/**
 * A Chromium whose every process runs in a fresh cgroup with `1/SLOWDOWN` of the machine's CPU time:
 * a wrapper script joins the group, then execs Chromium, so renderers and workers inherit it.
 */
async function phoneBrowser(dir: string): Promise<{ browser: Browser; cleanup: () => void } | undefined> {
  if (!existsSync(join(CGROUP_CPU, 'cpu.cfs_quota_us'))) return undefined;
  const group = join(CGROUP_CPU, `canvas-phone-${process.pid}`);
  try {
    mkdirSync(group);
    writeFileSync(join(group, 'cpu.cfs_period_us'), '100000');
    writeFileSync(join(group, 'cpu.cfs_quota_us'), String(Math.round((100_000 * cpus().length) / SLOWDOWN)));
  } catch {
    return undefined;
  }
  const wrapper = join(dir, 'chromium-in-cgroup.sh');
  writeFileSync(wrapper, `#!/bin/sh\necho $$ > ${join(group, 'cgroup.procs')}\nexec ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({ executablePath: wrapper, args: ARGS });
  return {
    browser,
    cleanup: () => {
      try {
        rmdirSync(group); // empty once Chromium has exited
      } catch {
        // a process still in it: left for the operator (named after this pid)
      }
    },
  };
}

async function solveTimes(browser: Browser, http: string): Promise<number[]> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${http}/`);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ms = await page.evaluate(async () => {
      // A fresh identity each round, so each solve is a new challenge.
      await fetch('/api/session', { method: 'POST' });
      const challenge: unknown = await (await fetch('/api/challenge')).json();
      const url = '/assets/pow.js';
      const mod = (await import(url)) as { solve(c: unknown): Promise<string | null> };
      const t0 = performance.now();
      const pow = await mod.solve(challenge);
      if (!pow) throw new Error('not solved');
      return performance.now() - t0;
    });
    times.push(ms);
  }
  await context.close();
  return times;
}

async function main(): Promise<void> {
  const settings = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['4000:1000']).map((s) => {
    const [d, c] = s.split(':').map(Number);
    return { difficulty: d as number, cost: c as number };
  });
  const dir = tempDir();
  const desktop = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const phone = await phoneBrowser(dir);
  if (!phone) console.log('phone browser skipped: needs root and cgroup v1 cpu');
  try {
    for (const { difficulty, cost } of settings) {
      const ts = await startTestServer({
        width: 64,
        height: 64,
        challenge: 'new',
        challengeDifficulty: difficulty,
        challengeCost: cost,
      });
      const row: Record<string, unknown> = { difficulty, cost, rounds: ROUNDS, cpus: cpus().length };
      const browsers: Array<[string, Browser]> = [['desktop', desktop]];
      if (phone) browsers.push([`phone${SLOWDOWN}x`, phone.browser]);
      for (const [name, browser] of browsers) {
        const times = await solveTimes(browser, ts.http);
        row[`${name}_median_ms`] = Math.round(median(times));
        row[`${name}_max_ms`] = Math.round(Math.max(...times));
      }
      console.log(JSON.stringify(row));
      await ts.dispose();
    }
  } finally {
    await desktop.close();
    await phone?.browser.close();
    phone?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
