/**
 * Part 1b, crash durability through edges: the crash part's clients place through two edges (Redis
 * between them and the writer) and the writer is SIGKILLed at a random moment. The edges stay up and
 * answer `unavailable`; after the writer restarts on the same file every placement an edge acked
 * must be in the history with its seq, the served grid must equal replaying it, and the edges must
 * serve the restarted writer's frame. Forwarded placements whose answer the kill swallowed may be
 * in the history (unknown outcome), but only placements somebody sent.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startEdge, startWriter } from '../testkit/cluster.ts';
import { startRedis, type TestRedis } from '../testkit/redis.ts';
import { Rng } from '../testkit/rng.ts';
import type { StartedServer } from '../testkit/server-process.ts';
import { Report, tempDir, type Mode, type PartResult } from './common.ts';
import { CRASH_DEFAULTS, type CrashOptions, countUnknownRows, HEIGHT, loadThroughEdges, WIDTH } from './crash.ts';
import { checkHistory, type Ack } from './history.ts';
import { image, imageAtLeast } from '../testkit/image-probe.ts';

/** Edges give up on an unanswered forward after this long (their --writer-timeout-ms). */
const WRITER_TIMEOUT_MS = 1000;

const flags = {
  width: WIDTH,
  height: HEIGHT,
  'snapshot-every': 5000,
  'tick-ms': 100,
  'cooldown-ms': 0,
  'log-level': 'info',
};

export async function runCrashThroughEdges(
  mode: Mode,
  seed: number,
  overrides: Partial<CrashOptions> = {},
): Promise<PartResult> {
  const opts: CrashOptions = { ...CRASH_DEFAULTS[mode], seed, ...overrides };
  const report = new Report('1b. crash durability through edges');
  const rng = new Rng(opts.seed);
  const tmp = tempDir('crash-edge');
  const db = `${tmp.dir}/canvas.db`;
  const allAcks: Ack[] = [];
  let redis: TestRedis | undefined;
  let writer: StartedServer | undefined;
  const edges: StartedServer[] = [];
  let lost = 0;
  let kills = 0;
  let unknownRows = 0;
  let swallowed = 0;
  const errors = new Map<string, number>();
  try {
    redis = await startRedis();
    const url = redis.url;
    writer = await startWriter(url, db, flags);
    const edgeFlags = { 'writer-timeout-ms': WRITER_TIMEOUT_MS, 'log-level': 'info' };
    edges.push(...(await Promise.all([startEdge(url, edgeFlags), startEdge(url, edgeFlags)])));
    let prevMax = 0;
    for (let k = 0; k < opts.kills; k++) {
      const { round, end } = loadThroughEdges(edges, edges[0] as StartedServer, opts, rng);
      await sleep(rng.range(opts.minRunMs, opts.maxRunMs));
      await writer.kill();
      kills++;
      // Every forward in flight is answered (ack sent before the kill, or unavailable) within the
      // edges' timeout; then the clients stop.
      await sleep(WRITER_TIMEOUT_MS + 500);
      await end(errors, allAcks);

      writer = await startWriter(url, db, flags);
      const check = await checkHistory(report, `kill ${k + 1}`, db, writer.http, WIDTH, HEIGHT, allAcks);
      lost += check.lost;
      const newRows = check.maxSeq - prevMax;
      swallowed += newRows - round.acks.length;
      report.check(newRows >= round.acks.length, `kill ${k + 1}: ${round.acks.length} acks but ${newRows} new rows`);
      report.check(newRows <= round.sentCount, `kill ${k + 1}: ${newRows} new rows, ${round.sentCount} sent`);
      unknownRows += countUnknownRows(db, prevMax, round.sent);
      prevMax = check.maxSeq;
      // The edges follow the restarted writer: same bytes as the writer serves.
      const truth = await image(writer.http);
      for (const edge of edges) {
        const seen = await imageAtLeast(edge.http, check.maxSeq);
        report.check(
          Buffer.from(seen.png).equals(Buffer.from(truth.png)),
          `kill ${k + 1}: an edge serves other bytes than the writer at seq ${seen.seq}`,
        );
      }
    }
  } catch (err) {
    report.check(false, `crash-through-edges part aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await Promise.all([...edges.map((e) => e.stop()), writer?.stop()]);
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
  report.figure('writer SIGKILLs (restart + verify after each)', kills);
  report.figure('acked placements checked (through 2 edges)', allAcks.length);
  report.figure('lost (acked, missing after restart)', lost);
  report.figure('committed but unanswered (unknown outcome)', swallowed);
  report.figure('answered unavailable (not forwarded)', errors.get('unavailable') ?? 0);
  report.figure('answered outcome_unknown (forwarded, unanswered)', errors.get('outcome_unknown') ?? 0);
  report.figure('writers', `${opts.clients} WebSocket x ${opts.window} in flight + 1 HTTP, through edges`);
  return report.result();
}
