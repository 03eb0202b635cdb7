/**
 * Writer failover, measured with default settings (--lease-ms 2000, --writer-timeout-ms 3000): a
 * real redis-server, two writers (each its own database) and one edge.
 *
 * 1. What the replicated log costs: placements/s and ack latency through the edge (one WebSocket
 *    swarm, perf/lib/load/place-swarm.ts) with the writer alone (acks after its commit, the append
 *    behind them) and with a standby attached (acks after the append, bus/replication-log.ts),
 *    alternating rounds.
 * 2. Standby lag: FAILOVER_LAG_RATE placements/s (default 10,000) from FAILOVER_LAG_PLACERS paced
 *    WebSockets (default 4) through the edge for FAILOVER_LAG_SECONDS (default 10), the leader's and
 *    the standby's /healthz seq sampled side by side: seqs and ms the standby is behind.
 * 3. Failover time: HTTP placements through the edge in a few loops while the leader is SIGKILLed
 *    FAILOVER_KILLS times (the killed one restarted as the standby each time); the time from the
 *    kill to the first ack of a placement sent after it, and to the standby taking the lease.
 *    Afterwards the final leader's database must hold every acked seq with its pixel, seqs
 *    contiguous (0 acked lost).
 *
 * `npm run bench:failover`; FAILOVER_KILLS (default 20), FAILOVER_SECONDS (swarm seconds, default 8),
 * FAILOVER_ROUNDS (default 2). Prints a table; perf/RESULTS.md and docs/SCALING.md quote it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { startEdge, startWriter } from '../testkit/cluster.ts';
import { httpRequest } from '../testkit/fixture.ts';
import { startRedis } from '../testkit/redis.ts';
import type { StartedServer } from '../testkit/server-process.ts';
import { runSwarms } from './lib/scenarios/place.ts';
import { median, percentile } from './lib/stats.ts';
import { PacedPlacer } from './lib/load/paced-placer.ts';

const KILLS = Number(process.env.FAILOVER_KILLS ?? 20);
const SECONDS = Number(process.env.FAILOVER_SECONDS ?? 8);
const ROUNDS = Number(process.env.FAILOVER_ROUNDS ?? 2);
/** Standby lag: placements/s asked of FAILOVER_LAG_PLACERS WebSockets, for FAILOVER_LAG_SECONDS. */
const LAG_RATE = Number(process.env.FAILOVER_LAG_RATE ?? 10_000);
const LAG_SECONDS = Number(process.env.FAILOVER_LAG_SECONDS ?? 10);
const LAG_PLACERS = Number(process.env.FAILOVER_LAG_PLACERS ?? 4);
const LAG_SAMPLE_MS = 50;
const SIZE = 256;
// The default 1000 x 1000 canvas (the swarm places anywhere on it); the HTTP loops use a corner.
const writerFlags = { 'cooldown-ms': 0, 'log-level': 'info' };
const edgeFlags = { 'cooldown-ms': 0, 'log-level': 'info' };
const log = (msg: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

const health = async (s: StartedServer) =>
  (await httpRequest(`${s.http}/healthz`, { fresh: true }).catch(() => undefined))?.json() ?? {};

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

const redis = await startRedis();
const dir = mkdtempSync(join(tmpdir(), 'canvas-failover-'));
const dbs = [join(dir, 'a.db'), join(dir, 'b.db')] as const;
const writers: Array<StartedServer | undefined> = [undefined, undefined];
let edge: StartedServer | undefined;
try {
  writers[0] = await startWriter(redis.url, dbs[0], writerFlags);
  edge = await startEdge(redis.url, edgeFlags);
  const e = edge;

  // 1. The cost of acking after the append.
  const swarm = async (label: string) => {
    const m = await runSwarms(
      [{ url: e.ws, cpu: 1, clients: 32, window: 16 }],
      { seconds: SECONDS },
      { onStart: () => {}, onEnd: () => {}, progress: () => {} },
    );
    const r = m.results[0];
    log(
      `${label}: ${Math.round(m.acksPerSec)} acks/s, p50 ${r?.latencyMs.p50} ms, p99 ${r?.latencyMs.p99} ms, errors ${JSON.stringify(r?.errors)}`,
    );
    return { acksPerSec: m.acksPerSec, p50: r?.latencyMs.p50 ?? 0, p99: r?.latencyMs.p99 ?? 0 };
  };
  const cost: Array<{ alone: Awaited<ReturnType<typeof swarm>>; standby: Awaited<ReturnType<typeof swarm>> }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    const alone = await swarm(`round ${round + 1}, writer alone`);
    writers[1] = await startWriter(redis.url, dbs[1], writerFlags);
    const b = writers[1];
    await until('the standby caught up', async () => {
      const h = await health(b);
      return h.lease === 'standby' && h.behind === 0;
    });
    // The leader sees the standby within a renew (a third of the lease): acks wait for the append.
    await sleep(1500);
    const standby = await swarm(`round ${round + 1}, with a standby`);
    cost.push({ alone, standby });
    if (round < ROUNDS - 1) {
      await b.stop();
      writers[1] = undefined;
      // Three leases without a standby: the leader counts itself alone again.
      await sleep(6500);
    }
  }

  // 2. Standby lag at a steady placement rate: the leader's and the standby's seq sampled side by
  // side; seqs behind = leader - standby; ms behind = how long ago the leader first passed the
  // standby's seq (from the same samples, so to within the sampling interval).
  const lag = await (async () => {
    const leaderAt = writers[0] as StartedServer;
    const standbyAt = writers[1] as StartedServer;
    const placers = Array.from(
      { length: LAG_PLACERS },
      (_, n) => new PacedPlacer(e.ws, LAG_RATE / LAG_PLACERS, n + 1, LAG_SECONDS + 5),
    );
    await Promise.all(placers.map((p) => p.ready));
    const seqOf = async (s: StartedServer) => Number((await health(s)).seq ?? 0);
    const startSeq = await seqOf(leaderAt);
    for (const p of placers) p.start();
    await sleep(1000); // past the ramp
    const leaderSeen: Array<{ t: number; seq: number }> = [];
    const behindSeqs: number[] = [];
    const behindMs: number[] = [];
    const began = performance.now();
    const firstSeq = await seqOf(leaderAt);
    while (performance.now() - began < LAG_SECONDS * 1000) {
      const [l, st] = await Promise.all([seqOf(leaderAt), seqOf(standbyAt)]);
      const t = performance.now();
      leaderSeen.push({ t, seq: l });
      behindSeqs.push(Math.max(0, l - st));
      const passed = leaderSeen.find((x) => x.seq > st);
      behindMs.push(passed ? Math.round(t - passed.t) : 0);
      await sleep(LAG_SAMPLE_MS);
    }
    const rate = ((await seqOf(leaderAt)) - firstSeq) / ((performance.now() - began) / 1000);
    for (const p of placers) p.close();
    log(
      `standby lag at ${LAG_RATE} placements/s asked (${Math.round(rate)}/s committed, from seq ${startSeq}): seqs behind p50 ${percentile(behindSeqs, 50)}, p99 ${percentile(behindSeqs, 99)}, max ${Math.max(...behindSeqs)}; ms behind p50 ${percentile(behindMs, 50)}, p99 ${percentile(behindMs, 99)}, max ${Math.max(...behindMs)}`,
    );
    return { rate, behindSeqs, behindMs };
  })();
  // The placements the edge and the leader still held when the placers closed are committed, and
  // the standby has them: the kills below start from a quiet, caught-up pair.
  let lastSeq = -1;
  await until('the leader idle and the standby caught up after the lag run', async () => {
    const [l, st] = await Promise.all(writers.map((w) => health(w as StartedServer)));
    const quiet = l?.seq === lastSeq;
    lastSeq = Number(l?.seq);
    await sleep(500);
    return quiet && l?.lease === 'leader' && st?.lease === 'standby' && st.behind === 0 && st.seq === l.seq;
  });

  // 3. Failover time under load.
  const acked: Array<{ seq: number; x: number; y: number; color: number }> = [];
  /** performance.now() at which the latest acked placement was sent. */
  let lastAckedSentAt = 0;
  let running = true;
  const loops = Array.from({ length: 8 }, async (_, n) => {
    let k = n * 100_000;
    while (running) {
      k++;
      const x = (k * 7) % SIZE;
      const y = (k * 13) % SIZE;
      const color = k % 16;
      const sentAt = performance.now();
      const r = await httpRequest(`${e.http}/api/pixel`, {
        method: 'POST',
        body: JSON.stringify({ x, y, color }),
      }).catch(() => undefined);
      if (r?.status === 200) {
        acked.push({ seq: Number(r.json().seq), x, y, color });
        lastAckedSentAt = Math.max(lastAckedSentAt, sentAt);
      } else await sleep(10);
    }
  });
  const leaderIndex = async () => {
    let found = -1;
    await until('a leader', async () => {
      for (const [i, w] of writers.entries()) if (w && (await health(w)).lease === 'leader') found = i;
      return found >= 0;
    });
    return found;
  };
  const failoverMs: number[] = [];
  /** Kill -> the standby's "took the writer lease" log line. */
  const tookMs: number[] = [];
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      await sleep(2000);
      const i = await leaderIndex();
      const killedAt = performance.now();
      const killedWall = Date.now();
      await (writers[i] as StartedServer).kill();
      writers[i] = undefined;
      // An ack of a placement sent after the kill: one in flight before it may still be answered.
      await until('an ack after the kill', async () => lastAckedSentAt > killedAt);
      failoverMs.push(Math.round(performance.now() - killedAt));
      log(`kill ${kill + 1}: placing through the edge again ${failoverMs.at(-1)} ms after SIGKILL`);
      // Where the new leader's time went (its log lines since it took the lease).
      const next = writers[1 - i];
      const lines = (next?.lines() ?? []).map(
        (l) => JSON.parse(l) as { time: number; msg: string; ms?: number; level: number },
      );
      const warnings = lines.filter((l) => l.level >= 40 && l.time > killedWall);
      if (warnings.length > 0)
        log(
          `  new leader's warnings since the kill: ${warnings.map((l) => `${l.msg} +${l.time - killedWall}`).join('; ')}`,
        );
      let took = lines.length - 1;
      while (took > 0 && !lines[took]?.msg.startsWith('took the writer lease')) took--;
      const t0 = lines[took]?.time ?? 0;
      tookMs.push(t0 - killedWall);
      const steps = lines.slice(took).map((l) => `${l.msg.slice(0, 40)} +${l.time - t0}${l.ms ? ` (${l.ms} ms)` : ''}`);
      log(`  new leader: took the lease ${t0 - killedWall} ms after the kill; ${steps.slice(0, 30).join('; ')}`);
      const edgeLines = e
        .lines()
        .map((l) => JSON.parse(l) as { time: number; msg: string })
        .filter((l) => l.time > killedWall);
      log(
        `  edge (ms after the lease was taken): ${edgeLines.map((l) => `${l.msg.slice(0, 50)} +${l.time - t0}`).join('; ')}`,
      );
      writers[i] = await startWriter(redis.url, dbs[i] as string, writerFlags);
      // Either may lead now (the restarted one too, when the lease expired before the standby took it).
      await until('one leader, the other standing by caught up', async () => {
        const hs = await Promise.all(writers.map((w) => health(w as StartedServer)));
        return (
          hs.filter((h) => h.lease === 'leader').length === 1 && hs.some((h) => h.lease === 'standby' && h.behind === 0)
        );
      });
    }
    await sleep(1000);
  } finally {
    running = false;
    await Promise.all(loops);
  }
  const final = await leaderIndex();
  await (writers[final] as StartedServer).stop();
  writers[final] = undefined;
  const db = new Database(dbs[final] as string, { readonly: true });
  let lost = 0;
  let contiguous = false;
  try {
    const span = db.prepare('SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM placements').get() as {
      n: number;
      lo: number;
      hi: number;
    };
    contiguous = span.lo === 1 && span.n === span.hi;
    const row = db.prepare('SELECT x, y, color FROM placements WHERE seq = ?');
    for (const a of acked) {
      const r = row.get(a.seq) as { x: number; y: number; color: number } | undefined;
      if (!r || r.x !== a.x || r.y !== a.y || r.color !== a.color) lost++;
    }
  } finally {
    db.close();
  }

  const sum = (f: (c: (typeof cost)[number]) => number) => cost.reduce((s, c) => s + f(c), 0) / cost.length;
  const table = [
    ['measurement', 'figure'],
    [
      'load average at the end',
      loadavg()
        .map((l) => l.toFixed(1))
        .join(' '),
    ],
    ['acks/s through the edge, writer alone (mean of rounds)', Math.round(sum((c) => c.alone.acksPerSec)).toString()],
    ['acks/s through the edge, with a standby', Math.round(sum((c) => c.standby.acksPerSec)).toString()],
    ['ratio with / without standby', (sum((c) => c.standby.acksPerSec) / sum((c) => c.alone.acksPerSec)).toFixed(2)],
    [
      'ack latency p50 / p99, alone',
      `${sum((c) => c.alone.p50).toFixed(1)} / ${sum((c) => c.alone.p99).toFixed(1)} ms`,
    ],
    [
      'ack latency p50 / p99, with a standby',
      `${sum((c) => c.standby.p50).toFixed(1)} / ${sum((c) => c.standby.p99).toFixed(1)} ms`,
    ],
    [`standby lag at ${LAG_RATE} placements/s asked: committed/s`, String(Math.round(lag.rate))],
    [
      'standby seqs behind the leader, p50 / p99 / max',
      `${percentile(lag.behindSeqs, 50)} / ${percentile(lag.behindSeqs, 99)} / ${Math.max(...lag.behindSeqs)}`,
    ],
    [
      'standby ms behind the leader, p50 / p99 / max',
      `${percentile(lag.behindMs, 50)} / ${percentile(lag.behindMs, 99)} / ${Math.max(...lag.behindMs)} ms`,
    ],
    ['SIGKILLs of the leader', String(failoverMs.length)],
    ['kill -> placing through the edge again, median / max', `${median(failoverMs)} / ${Math.max(...failoverMs)} ms`],
    ['every kill', failoverMs.join(', ')],
    ['kill -> the standby took the lease, median / max', `${median(tookMs)} / ${Math.max(...tookMs)} ms`],
    ['placements acked during the kills', String(acked.length)],
    ['acked placements lost', String(lost)],
    ['seqs contiguous on the final leader', String(contiguous)],
  ];
  for (const [k, v] of table) process.stdout.write(`| ${k} | ${v} |\n`);
  if (lost > 0 || !contiguous) process.exitCode = 1;
} finally {
  await Promise.all([edge?.stop(), ...writers.map((w) => w?.stop())]);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
