/**
 * Server CPU per issued challenge and per verified solution (server/defence/challenges.ts), in-process:
 * process.cpuUsage() counts every thread, libuv's pool too (where the issuer's PBKDF2 derivation and
 * WebCrypto's HMACs run), and /proc/self/task/PID/schedstat counts the event-loop thread alone. Each
 * operation runs one at a time (the cost of one) and then `CONCURRENCY` at a time (what a busy front
 * sustains). Run it as a server runs in the benchmarks, on one CPU, with one pool thread so the pool's
 * CPU cannot hide on another core:
 *
 *   UV_THREADPOOL_SIZE=1 taskset -c 1 node --import tsx perf/challenge-cost.ts [difficulty:cost ...]
 *
 * Default 4000:1000 (the server's defaults). Prints a Markdown table; perf/RESULTS.md quotes it.
 */
import { readFileSync } from 'node:fs';
import { ChallengeIssuer, type ChallengeVerifier } from '../server/defence/challenges.ts';
import { solvePow } from '../testkit/pow.ts';
import { n0, n1 } from '../testkit/format.ts';
import { mdTable } from '../testkit/report.ts';
import { median } from './lib/stats.ts';

const ISSUES = Number(process.env['ISSUES'] ?? 400);
const VERIFIES = Number(process.env['VERIFIES'] ?? 2000);
const CONCURRENCY = 32;
/** Real solutions at the measured difficulty (solving them is not timed); each is verified many times. */
const SOLUTIONS = 4;
const REPEATS = 5;

/** CPU ms of the event-loop thread (schedstat is in ns; /proc/.../stat ticks in 10 ms steps). */
const loopCpuMs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

interface Cost {
  /** Per operation, in microseconds. */
  cpuUs: number;
  loopUs: number;
  wallUs: number;
}

/** Runs `op(i)` n times, `concurrency` at a time; CPU (all threads, loop thread) and wall per op. */
async function measure(n: number, concurrency: number, op: (i: number) => unknown): Promise<Cost> {
  const cpu0 = process.cpuUsage();
  const loop0 = loopCpuMs();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    cpuUs: (cpu.user + cpu.system) / n,
    loopUs: ((loopCpuMs() - loop0) * 1000) / n,
    wallUs: (wall * 1000) / n,
  };
}

/** Medians over REPEATS runs (the first, warm-up, run dropped). */
async function repeated(n: number, concurrency: number, op: (i: number) => unknown): Promise<Cost> {
  await measure(Math.ceil(n / 4), concurrency, op);
  const runs: Cost[] = [];
  for (let r = 0; r < REPEATS; r++) runs.push(await measure(n, concurrency, op));
  return {
    cpuUs: median(runs.map((c) => c.cpuUs)),
    loopUs: median(runs.map((c) => c.loopUs)),
    wallUs: median(runs.map((c) => c.wallUs)),
  };
}

const id = (i: number) => i.toString(16).padStart(16, '0');

async function main(): Promise<void> {
  const settings = (process.argv.slice(2).length ? process.argv.slice(2) : ['4000:1000']).map((s) => {
    const [difficulty, cost] = s.split(':').map(Number) as [number, number];
    return { difficulty, cost };
  });
  const rows: string[][] = [];
  for (const { difficulty, cost } of settings) {
    const issuer = new ChallengeIssuer(Buffer.alloc(32, 7), { difficulty, cost, lifetimeMs: 600_000 });
    let ids = 0;
    // A fresh identity per issue: the issuer hands an open challenge out again for free.
    const issue = () => issuer.issue(id(ids++), { fresh: true });
    const issueOne = await repeated(ISSUES, 1, issue);
    const issueMany = await repeated(ISSUES, CONCURRENCY, issue);

    const solved = await Promise.all(
      Array.from({ length: SOLUTIONS }, async (_, i) => {
        const who = id(1e9 + i);
        return { who, pow: await solvePow(await issuer.issue(who)) };
      }),
    );
    // A used solution is refused after the same two HMACs, but a fresh verifier per verify keeps every
    // one on the accepted path.
    let verifier: ChallengeVerifier = issuer.verifier();
    const verify = async (i: number) => {
      const s = solved[i % SOLUTIONS] as { who: string; pow: string };
      if (i % SOLUTIONS === 0) verifier = issuer.verifier();
      const verdict = await verifier.verify(s.pow, s.who);
      if (!verdict.ok) throw new Error(`not verified: ${verdict.why}`);
    };
    const verifyOne = await repeated(VERIFIES, 1, verify);
    const verifyMany = await repeated(VERIFIES, CONCURRENCY, verify);
    const forged = Buffer.from('{"challenge":{"parameters":{},"signature":"00"},"solution":{}}').toString('base64');
    const reject = await repeated(VERIFIES, 1, () => verifier.verify(forged, 'x'));

    const row = (what: string, c: Cost) => [
      `${difficulty}:${cost}`,
      what,
      n1(c.cpuUs),
      n1(c.loopUs),
      n1(c.wallUs),
      n0(1e6 / c.wallUs),
    ];
    rows.push(
      row('issue (one at a time)', issueOne),
      row(`issue (${CONCURRENCY} at a time)`, issueMany),
      row('verify a valid solution (one at a time)', verifyOne),
      row(`verify a valid solution (${CONCURRENCY} at a time)`, verifyMany),
      row('refuse a malformed pow (parsePow)', reject),
    );
  }
  const pool = process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)';
  console.log(`UV_THREADPOOL_SIZE=${pool}; ${ISSUES} issues, ${VERIFIES} verifies per run, median of ${REPEATS} runs`);
  console.log(
    mdTable(
      'difficulty:cost | operation | CPU µs per op (all threads) | event-loop thread µs per op | wall µs per op | ops/s',
      rows,
    ).join('\n'),
  );
}

await main();
