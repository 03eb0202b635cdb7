/**
 * Part 1c, writer failover: two writers (each its own database) and two edges on one redis-server;
 * WebSocket and HTTP clients place through the edges while the leader is SIGKILLed at a random
 * moment, again and again (the killed one restarted as the standby, so the kills alternate between
 * the two processes). After each kill the standby must lead, placing must work again through an edge,
 * and the new leader's database must hold every placement any client was acked, in every round so
 * far, seqs contiguous, its /image equal to replaying its history, both edges serving its bytes. The
 * restarted writer must catch up from the replicated log to the same seq.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startEdge, startWriter } from '../testkit/cluster.ts';
import { startRedis, type TestRedis } from '../testkit/redis.ts';
import { Rng } from '../testkit/rng.ts';
import type { StartedServer } from '../testkit/server-process.ts';
import { image, imageAtLeast } from '../testkit/image-probe.ts';
import { Report, tempDir, waitFor, type Mode, type PartResult } from './common.ts';
import { countUnknownRows, HEIGHT, loadThroughEdges, type Round, WIDTH } from './crash.ts';
import { checkHistory, type Ack } from './history.ts';

export interface FailoverOptions {
  seed: number;
  kills: number;
  clients: number;
  window: number;
  /** Placing runs this long (random in between) before each kill. */
  minRunMs: number;
  maxRunMs: number;
  /** --lease-ms of the writers (the default 2000 in the full run, the budget's setting). */
  leaseMs: number;
}

export const FAILOVER_DEFAULTS: Record<Mode, Omit<FailoverOptions, 'seed'>> = {
  fast: { kills: 3, clients: 4, window: 32, minRunMs: 300, maxRunMs: 900, leaseMs: 1000 },
  full: { kills: 20, clients: 8, window: 64, minRunMs: 300, maxRunMs: 3000, leaseMs: 2000 },
};

/** Edges give up on an unanswered forward after this long (their --writer-timeout-ms). */
const WRITER_TIMEOUT_MS = 1500;

const flags = {
  width: WIDTH,
  height: HEIGHT,
  'snapshot-every': 5000,
  'tick-ms': 100,
  'cooldown-ms': 0,
  'log-level': 'info',
};

const key = (x: number, y: number, c: number) => (y * WIDTH + x) * 16 + c;

/** A writer's /healthz: leader or standby, its seq, how far behind the log a standby is. */
async function health(http: string): Promise<{ lease?: string; seq?: number; behind?: number }> {
  const res = await fetch(`${http}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as { lease?: string; seq?: number; behind?: number };
}

/**
 * HTTP placements through `http` until one is acked (the failover is over for clients); each sent
 * one is recorded in the round, each ack too. Resolves with the ms from `since` to that ack's send.
 */
async function placeUntilAcked(http: string, rng: Rng, round: Round, since: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const p = { x: rng.int(WIDTH), y: rng.int(HEIGHT), c: rng.int(16) };
    round.sent.add(key(p.x, p.y, p.c));
    round.sentCount++;
    const sentAt = performance.now();
    const res = await fetch(`${http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x: p.x, y: p.y, color: p.c }),
    })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as { seq?: number; error?: string } }))
      .catch(() => undefined);
    if (res?.status === 200 && typeof res.body.seq === 'number') {
      round.acks.push({ seq: res.body.seq, ...p });
      return Math.round(sentAt - since);
    }
    const code = String(res?.body.error ?? 'no answer');
    round.errors.set(code, (round.errors.get(code) ?? 0) + 1);
    if (performance.now() > deadline) throw new Error(`no placement acked within ${timeoutMs} ms of the kill`);
    await sleep(20);
  }
}

export async function runFailover(
  mode: Mode,
  seed: number,
  overrides: Partial<FailoverOptions> = {},
): Promise<PartResult> {
  const opts: FailoverOptions = { ...FAILOVER_DEFAULTS[mode], seed, ...overrides };
  const report = new Report('1c. writer failover');
  const rng = new Rng(opts.seed);
  const tmp = tempDir('failover');
  const dbs = [`${tmp.dir}/a.db`, `${tmp.dir}/b.db`] as const;
  const writerFlags = { ...flags, 'lease-ms': opts.leaseMs };
  const allAcks: Ack[] = [];
  let redis: TestRedis | undefined;
  const writers: Array<StartedServer | undefined> = [undefined, undefined];
  const edges: StartedServer[] = [];
  let lost = 0;
  let kills = 0;
  let unknownRows = 0;
  const failoverMs: number[] = [];
  const errors = new Map<string, number>();
  const leaderIndex = () =>
    waitFor(
      'one leader',
      async () => {
        const hs = await Promise.all(writers.map((w) => (w ? health(w.http).catch(() => undefined) : undefined)));
        const leaders = hs.flatMap((h, i) => (h?.lease === 'leader' ? [i] : []));
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      30_000,
    );
  try {
    redis = await startRedis();
    const url = redis.url;
    writers[0] = await startWriter(url, dbs[0], writerFlags);
    writers[1] = await startWriter(url, dbs[1], writerFlags);
    const edgeFlags = { 'writer-timeout-ms': WRITER_TIMEOUT_MS, 'log-level': 'info' };
    edges.push(...(await Promise.all([startEdge(url, edgeFlags), startEdge(url, edgeFlags)])));
    let prevMax = 0;
    for (let k = 0; k < opts.kills; k++) {
      const i = await leaderIndex();
      const { round, end } = loadThroughEdges(edges, edges[1] as StartedServer, opts, rng);
      await sleep(rng.range(opts.minRunMs, opts.maxRunMs));
      const killedAt = performance.now();
      await (writers[i] as StartedServer).kill();
      writers[i] = undefined;
      kills++;
      // Placing again through an edge: the standby took the lease, started, and the edge heard it.
      failoverMs.push(
        await placeUntilAcked((edges[0] as StartedServer).http, new Rng(rng.u32()), round, killedAt, 30_000),
      );
      // Every forward in flight at the kill is answered (ack, unavailable or outcome_unknown) by now.
      await sleep(WRITER_TIMEOUT_MS + 500);
      await end(errors, allAcks);

      const j = await leaderIndex();
      report.check(j !== i, `kill ${k + 1}: the killed writer leads again`);
      const leader = writers[j] as StartedServer;
      const db = dbs[j] as string;
      const check = await checkHistory(report, `kill ${k + 1}`, db, leader.http, WIDTH, HEIGHT, allAcks);
      lost += check.lost;
      unknownRows += countUnknownRows(db, prevMax, round.sent);
      prevMax = check.maxSeq;
      const truth = await image(leader.http);
      for (const edge of edges) {
        const seen = await imageAtLeast(edge.http, check.maxSeq);
        report.check(
          Buffer.from(seen.png).equals(Buffer.from(truth.png)),
          `kill ${k + 1}: an edge serves other bytes than the new leader at seq ${seen.seq}`,
        );
      }
      // The killed writer comes back as the standby and catches up from the log.
      writers[i] = await startWriter(url, dbs[i] as string, writerFlags);
      const standby = writers[i] as StartedServer;
      await waitFor(
        `kill ${k + 1}: the restarted writer caught up`,
        async () => {
          const h = await health(standby.http).catch(() => undefined);
          return h?.lease === 'standby' && h.behind === 0 && h.seq === check.maxSeq ? true : undefined;
        },
        30_000,
      ).catch((err: unknown) => report.check(false, (err as Error).message));
    }
  } catch (err) {
    report.check(false, `failover part aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await Promise.all([...edges.map((e) => e.stop()), ...writers.map((w) => w?.stop())]);
    await redis?.stop();
    tmp.remove();
  }
  const unexpected = [...errors].filter(([code]) => code !== 'unavailable' && code !== 'outcome_unknown');
  report.check(unknownRows === 0, `${unknownRows} history rows match no placement that was sent`);
  report.check(
    unexpected.length === 0,
    `placements refused other than unavailable or outcome_unknown: ${JSON.stringify(unexpected)}`,
  );
  report.check(lost === 0, `lost ${lost} acknowledged placements`);
  report.check(kills >= opts.kills, `only ${kills} of ${opts.kills} kills happened`);
  const sorted = [...failoverMs].sort((a, b) => a - b);
  report.figure('leader SIGKILLs (2 writers, alternating; verified after each)', kills);
  report.figure('acked placements checked (through 2 edges)', allAcks.length);
  report.figure('lost (acked, missing on the new leader)', lost);
  report.figure(
    `kill -> placing again through an edge, median / max (--lease-ms ${opts.leaseMs})`,
    sorted.length > 0 ? `${sorted[Math.floor(sorted.length / 2)]} / ${sorted[sorted.length - 1]} ms` : 'none',
  );
  report.figure('answered unavailable (not forwarded)', errors.get('unavailable') ?? 0);
  report.figure('answered outcome_unknown (forwarded, unanswered)', errors.get('outcome_unknown') ?? 0);
  report.figure('clients', `${opts.clients} WebSocket x ${opts.window} in flight + 1 HTTP, through edges`);
  return report.result();
}
