/// <reference lib="dom" />
/**
 * How long the browser client takes to solve a proof-of-work challenge: Debian's Chromium loads the
 * page, fetches `GET /api/challenge` and solves it with the ALTCHA widget (client/dist/pow.js, its Web
 * Workers), at 1x and under a 4x CPU throttle (CDP Emulation.setCPUThrottlingRate, a phone-class
 * device). Each setting is solved ROUNDS times; the server's cost of issuing and verifying is timed
 * beside it. The throttle reaches the page's thread only, not the widget's Web Workers, where the
 * solving happens: Chromium 156 refuses it on a worker's session ("Operation is only supported for
 * pages, not workers"), so the 4x figures come out close to the 1x ones (perf/RESULTS.md, "Defences"). Run: `npm run build && node --import tsx perf/challenge-solve.ts [difficulty:cost ...]`.
 */
import { chromium } from 'playwright-core';
import { ChallengeIssuer } from '../server/defence/challenges.ts';
import { startTestServer } from '../testkit/fixture.ts';
import { solvePow } from '../testkit/pow.ts';
import type { PowChallenge } from '../protocol/messages.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ROUNDS = Number(process.env['ROUNDS'] ?? 5);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function serverCost(difficulty: number, cost: number): Promise<{ issueMs: number; verifyMs: number }> {
  const issuer = new ChallengeIssuer(Buffer.alloc(32, 1), { difficulty, cost, lifetimeMs: 600_000 });
  const verifier = issuer.verifier();
  const ids = Array.from({ length: 50 }, (_, i) => i.toString(16).padStart(16, '0'));
  let t = performance.now();
  const challenges: PowChallenge[] = [];
  for (const id of ids) challenges.push(await issuer.issue(id));
  const issueMs = (performance.now() - t) / ids.length;
  const pows: string[] = [];
  for (const c of challenges.slice(0, 10)) pows.push(await solvePow(c));
  t = performance.now();
  for (let i = 0; i < pows.length; i++) await verifier.verify(pows[i] as string, ids[i] as string);
  const verifyMs = (performance.now() - t) / pows.length;
  return { issueMs, verifyMs };
}

async function main(): Promise<void> {
  const settings = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['2000:500']).map((s) => {
    const [d, c] = s.split(':').map(Number);
    return { difficulty: d as number, cost: c as number };
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    for (const { difficulty, cost } of settings) {
      const ts = await startTestServer({
        width: 64,
        height: 64,
        challenge: 'new',
        challengeDifficulty: difficulty,
        challengeCost: cost,
      });
      const row: Record<string, unknown> = { difficulty, cost, ...(await serverCost(difficulty, cost)) };
      for (const rate of [1, 4]) {
        const context = await browser.newContext();
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await page.goto(`${ts.http}/`);
        await cdp.send('Emulation.setCPUThrottlingRate', { rate });
        const times: number[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          const ms = await page.evaluate(async () => {
            // A fresh identity each round, so each solve is a new challenge.
            await fetch('/api/session', { method: 'POST' });
            const challenge = await (await fetch('/api/challenge')).json();
            const url = '/assets/pow.js';
            const mod = (await import(url)) as { solve(c: unknown): Promise<string | null> };
            const t0 = performance.now();
            const pow = await mod.solve(challenge);
            if (!pow) throw new Error('not solved');
            return performance.now() - t0;
          });
          times.push(ms);
        }
        row[`solve${rate}x_ms`] = Math.round(median(times));
        row[`solve${rate}x_max_ms`] = Math.round(Math.max(...times));
        await context.close();
      }
      console.log(JSON.stringify(row));
      await ts.dispose();
    }
  } finally {
    await browser.close();
  }
}

await main();
