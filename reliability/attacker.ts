/**
 * Part 6, the attacker. A scripted bot places as fast as the server lets it for a fixed time against
 * servers with a 5 s cooldown and each defence in turn: none, `--mint-per-minute 60`, `--challenge new`,
 * `--challenge always`, and the surge defence (short windows, after a calm trickle it learns from).
 * The bot is an identity farm behind a proxy pool: every attempt comes with a fresh identity (no
 * token: the server mints one) and a forwarded address (`X-Forwarded-For`, the server trusting
 * 127.0.0.1) taken in turn from a pool, over HTTP; an address in cooldown is rested for the `wait`
 * the server gave. Asked for a proof of work it pays the real price: it solves the challenge at the
 * server's default difficulty with node's native PBKDF2 (testkit/pow.ts, in libuv's pool) and sends
 * the placement again with `pow` as the identity the challenge is for.
 *
 * The servers allow `--address-placements 40` per address and cooldown (a venue-friendly setting):
 * with the default 1, the address limit alone holds any bot to addresses / cooldown whatever else is
 * on, and the identity defences would have nothing to show. The mint limit lets an address mint a
 * burst of 60 identities before its one a second, so the attack lasts long enough to spend it.
 * A bot that kept its identities instead of minting fresh ones would meet only the address limit
 * with the mint limit on, and one solution per `--challenge-every` placements with `--challenge new`: this one is the
 * identity farm those two defences are for.
 *
 * What must hold: each defence lowers the bot's accepted placements per minute below the run with
 * none; every acknowledged placement is in the placements table after the server stops (seq, pixel
 * and colour); the server answers /healthz after each attack and exits 0 on SIGTERM.
 */
import Database from 'better-sqlite3';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { PowChallenge } from '../protocol/messages.ts';
import { httpRequest, type HttpAnswer } from '../testkit/fixture.ts';
import { encodePow } from '../testkit/pow.ts';
import { Rng } from '../testkit/rng.ts';
import { Report, tempDir, type Mode, type PartResult } from './common.ts';
import { health, startServer } from './server-child.ts';

const WIDTH = 100;
const HEIGHT = 100;
const COOLDOWN_MS = 5000;
const ADDRESS_PLACEMENTS = 40;

/** Short surge windows (as in server/test/surge-defence.test.ts), so a surge starts within seconds. */
const SURGE_FLAGS = [
  '--surge-factor',
  '2',
  '--surge-lock-factor',
  '6',
  '--surge-min-rate',
  '1',
  '--surge-window-ms',
  '2000',
  '--surge-baseline-ms',
  '60000',
  '--surge-lock-ms',
  '5000',
  '--surge-calm-ms',
  '5000',
];

interface Defence {
  name: string;
  args: string[];
  /** A calm trickle first, until the surge baseline has learnt. */
  learn?: boolean;
}

const DEFENCES: Defence[] = [
  { name: 'none', args: [] },
  { name: '--mint-per-minute 60', args: ['--mint-per-minute', '60'] },
  { name: '--challenge new', args: ['--challenge', 'new'] },
  { name: '--challenge always', args: ['--challenge', 'always'] },
  { name: '--surge-factor 2 (short windows)', args: SURGE_FLAGS, learn: true },
];

export interface AttackerOptions {
  /** Attack length per defence. */
  seconds: number;
  /** Forwarded addresses in the bot's pool. */
  addresses: number;
  /** Requests the bot keeps in flight. */
  workers: number;
  seed: number;
}

export const ATTACKER_DEFAULTS: Record<Mode, Omit<AttackerOptions, 'seed'>> = {
  fast: { seconds: 12, addresses: 16, workers: 32 },
  full: { seconds: 30, addresses: 16, workers: 32 },
};

interface Acked {
  seq: number;
  x: number;
  y: number;
  c: number;
}

interface Attack {
  defence: string;
  accepted: number;
  perMinute: number;
  attempts: number;
  solved: number;
  /** CPU seconds of this process (the bot's solving, all threads) during the attack. */
  botCpuSeconds: number;
  refusals: Map<string, number>;
  acked: Acked[];
}

/** The bot against one server, for `seconds`; counts only answers that arrive inside the window. */
async function attack(http: string, defence: string, opts: AttackerOptions, rng: Rng): Promise<Attack> {
  const restUntil = new Array<number>(opts.addresses).fill(0);
  const address = (i: number) => `10.66.${i >> 8}.${i & 255}`;
  const result: Attack = {
    defence,
    accepted: 0,
    perMinute: 0,
    attempts: 0,
    solved: 0,
    botCpuSeconds: 0,
    refusals: new Map(),
    acked: [],
  };
  const cpu0 = process.cpuUsage();
  const start = Date.now();
  const end = start + opts.seconds * 1000;
  // At the end of the window: the bot's CPU so far, and the solvers still running are stopped.
  const stopSolving = new AbortController();
  const timer = setTimeout(() => {
    const cpu = process.cpuUsage(cpu0);
    result.botCpuSeconds = (cpu.user + cpu.system) / 1e6;
    stopSolving.abort();
    for (const wake of queue.splice(0)) wake();
  }, opts.seconds * 1000);
  let turn = 0;
  // As many solves at once as the machine has cores (each solve's derivations run one at a time in
  // libuv's pool): 32 at once would all finish together, late, for the same CPU.
  let solvers = availableParallelism();
  const queue: Array<() => void> = [];
  const solveSlot = async () => {
    if (solvers > 0) solvers--;
    else await new Promise<void>((resolve) => queue.push(resolve));
  };
  const freeSlot = () => {
    const next = queue.shift();
    if (next) next();
    else solvers++;
  };
  const refused = (code: string) => result.refusals.set(code, (result.refusals.get(code) ?? 0) + 1);

  /** The next address not resting, in turn; undefined while all rest (the worker then waits). */
  const nextAddress = (now: number): number | undefined => {
    for (let k = 0; k < opts.addresses; k++) {
      const i = (turn + k) % opts.addresses;
      if ((restUntil[i] as number) <= now) {
        turn = i + 1;
        return i;
      }
    }
    return undefined;
  };

  const post = (from: number, body: object, cookie?: string): Promise<HttpAnswer> =>
    httpRequest(`${http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'X-Forwarded-For': address(from), ...(cookie ? { Cookie: cookie } : {}) },
    });

  /** What an answer means to the bot: an ack, a rest for the address, or a challenge to solve. */
  const judge = (a: HttpAnswer, from: number, pixel: { x: number; y: number; c: number }) => {
    const inWindow = Date.now() <= end;
    const body = a.json();
    if (a.status === 200 && typeof body['seq'] === 'number') {
      result.acked.push({ seq: body['seq'], ...pixel });
      if (inWindow) result.accepted++;
      return undefined;
    }
    const code = String(body['error']);
    if (inWindow) refused(code);
    const retryAfter = Number(a.headers['retry-after'] ?? 0) * 1000;
    const wait = typeof body['wait'] === 'number' ? body['wait'] : retryAfter;
    if (wait > 0) restUntil[from] = Date.now() + wait;
    return body['challenge'] as PowChallenge | undefined;
  };

  const worker = async () => {
    while (Date.now() < end) {
      const now = Date.now();
      const from = nextAddress(now);
      if (from === undefined) {
        const soonest = Math.min(...restUntil);
        await sleep(Math.max(5, Math.min(soonest, end) - now));
        continue;
      }
      const pixel = { x: rng.int(WIDTH), y: rng.int(HEIGHT), c: rng.int(16) };
      const body = { x: pixel.x, y: pixel.y, color: pixel.c };
      result.attempts++;
      const first = await post(from, body);
      const challenge = judge(first, from, pixel);
      if (!challenge || Date.now() >= end) continue;
      // The challenge is for the identity minted with the refusal: solve, and place again as it.
      const cookie = String(first.headers['set-cookie']?.[0] ?? '').split(';')[0];
      // testkit/pow.ts's solver, stoppable at the end of the window (a solve takes seconds here).
      await solveSlot();
      const solution = await solveChallenge({ challenge, deriveKey, controller: stopSolving }).finally(freeSlot);
      if (!solution || Date.now() >= end) break;
      result.solved++;
      judge(await post(from, { ...body, pow: encodePow(challenge, solution) }, cookie), from, pixel);
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, worker));
  clearTimeout(timer);
  result.perMinute = (result.accepted * 60_000) / (opts.seconds * 1000);
  return result;
}

/** About one placement a second from a few regulars until /healthz says the surge baseline has learnt. */
async function learnCalm(http: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const surge = (await health(http)) as unknown as { surge?: { learning?: boolean } };
    if (surge.surge?.learning === false) return;
    await httpRequest(`${http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x: i % WIDTH, y: 0, color: 1 }),
      headers: { 'X-Forwarded-For': `10.1.0.${1 + (i % 200)}` },
    });
    await sleep(1000);
  }
  throw new Error('the surge baseline never finished learning');
}

/** Acked placements missing from the table (or stored with another pixel or colour). */
function missing(db: string, acked: readonly Acked[]): number {
  const sqlite = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const row = sqlite.prepare('SELECT x, y, color FROM placements WHERE seq = ?');
    return acked.filter((a) => {
      const r = row.get(a.seq) as { x: number; y: number; color: number } | undefined;
      return !r || r.x !== a.x || r.y !== a.y || r.color !== a.c;
    }).length;
  } finally {
    sqlite.close();
  }
}

/** The part's name in reports (run.ts records its figures apart from the other parts'). */
export const ATTACKER_PART = '6. attacker';

export async function runAttacker(
  mode: Mode,
  seed: number,
  overrides: Partial<AttackerOptions> = {},
): Promise<PartResult> {
  const opts: AttackerOptions = { ...ATTACKER_DEFAULTS[mode], seed, ...overrides };
  const report = new Report(ATTACKER_PART);
  const rng = new Rng(opts.seed);
  const attacks: Attack[] = [];
  for (const defence of DEFENCES) {
    const tmp = tempDir('attacker');
    const db = `${tmp.dir}/canvas.db`;
    try {
      const server = await startServer({
        db,
        args: [
          '--width',
          String(WIDTH),
          '--height',
          String(HEIGHT),
          // After the suite's --cooldown-ms 0: the last one counts.
          '--cooldown-ms',
          String(COOLDOWN_MS),
          '--address-placements',
          String(ADDRESS_PLACEMENTS),
          '--trusted-proxies',
          '127.0.0.1',
          '--log-level',
          'info',
          ...defence.args,
        ],
      });
      try {
        if (defence.learn) await learnCalm(server.http);
        const a = await attack(server.http, defence.name, opts, new Rng(rng.u32()));
        attacks.push(a);
        const up = await health(server.http).catch(() => undefined);
        report.check(up?.ok === true, `${defence.name}: /healthz did not answer ok after the attack`);
      } finally {
        const code = await server.stop();
        report.check(code === 0, `${defence.name}: the server exited with ${code} on SIGTERM`);
      }
      const last = attacks.at(-1);
      if (last?.defence === defence.name) {
        const lost = missing(db, last.acked);
        report.check(lost === 0, `${defence.name}: ${lost} of ${last.acked.length} acked placements not in the table`);
      }
    } catch (err) {
      report.check(false, `${defence.name}: ${(err as Error).stack ?? String(err)}`);
    } finally {
      tmp.remove();
    }
  }
  const none = attacks.find((a) => a.defence === 'none');
  for (const a of attacks) {
    if (a === none || !none) continue;
    report.check(
      a.perMinute < none.perMinute,
      `${a.defence}: ${Math.round(a.perMinute)} accepted/min, not below ${Math.round(none.perMinute)} with no defence`,
    );
  }
  report.check(attacks.length === DEFENCES.length, `only ${attacks.length} of ${DEFENCES.length} attacks ran`);
  report.figure(
    'bot',
    `${opts.workers} requests in flight over HTTP (${availableParallelism()} solving at a time), ${opts.addresses} forwarded addresses, a fresh identity per attempt, ` +
      `${opts.seconds} s per defence; server --cooldown-ms ${COOLDOWN_MS} --address-placements ${ADDRESS_PLACEMENTS}; ` +
      `solving at the default difficulty (4000:1000) on this ${availableParallelism()}-CPU machine (libuv pool of ` +
      `${process.env['UV_THREADPOOL_SIZE'] ?? 4} threads), shared with the server`,
  );
  for (const a of attacks) {
    const refusals = [...a.refusals].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    report.figure(
      `${a.defence}: accepted/min (attempts, solved, bot CPU s, refusals)`,
      `${Math.round(a.perMinute).toLocaleString('en-US')} (${a.attempts}, ${a.solved}, ${a.botCpuSeconds.toFixed(1)}, ${refusals})`,
    );
  }
  const acked = attacks.reduce((s, a) => s + a.acked.length, 0);
  report.figure('acked placements checked in the table after SIGTERM', acked);
  return report.result();
}
