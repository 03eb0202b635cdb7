/**
 * Part 4, storage faults. (a) The database on a full filesystem: after the fill, placements keep
 * landing in space SQLite already holds until the first refusal; from then on every placement, over
 * WebSocket and HTTP, is refused with `store_failed` / 503 and none is acked; freeing the space lets
 * the next placement through with the next seq. (b) The database locked by another process
 * (`BEGIN IMMEDIATE` on a second connection): refused the same way until the lock goes. Throughout,
 * the server keeps serving; at the end a restart must show exactly the acked placements.
 */
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { loopback, Report, type Mode, type PartResult } from './common.ts';
import { makeDiskFault, type DiskFault } from './disk-fault.ts';
import { checkHistory, type Ack } from './history.ts';
import { health, startServer, type ServerChild } from './server-child.ts';
import { image } from '../testkit/image-probe.ts';
import { httpPlace, SeqPlacer, type SeqAnswer } from './ws-clients.ts';

const SIZE = 64;
const BUSY_TIMEOUT_MS = 100;
/** Placements tried after the fill before giving up on ever seeing a refusal. */
const MAX_UNTIL_REFUSED = 50_000;

export const STORAGE_REFUSALS: Record<Mode, number> = { fast: 20, full: 100 };

interface Run {
  report: Report;
  server: ServerChild;
  placer: SeqPlacer;
  args: string[];
  acks: Ack[];
  n: number;
}

async function placeOne(r: Run): Promise<SeqAnswer & { x: number; y: number; c: number }> {
  const n = r.n++;
  const p = { x: n % SIZE, y: Math.floor(n / SIZE) % SIZE, c: n % 16 };
  const a = await r.placer.place(p.x, p.y, p.c);
  if (a.ok) r.acks.push({ seq: a.seq, ...p });
  return { ...a, ...p };
}

/** Sends `count` placements over WS and a fifth as many over HTTP; all must be refused as store_failed. */
async function expectRefusals(
  r: Run,
  label: string,
  count: number,
): Promise<{ ws: number; http: number; imageMs: number }> {
  const seq = (await health(r.server.http)).seq;
  let ws = 0;
  let http = 0;
  let imageMs = 0;
  // /image fetched alongside: a refused commit waits --busy-timeout-ms on the event loop first.
  let probing = true;
  const prober = (async () => {
    while (probing) {
      imageMs = Math.max(imageMs, (await image(r.server.http)).ms);
      await sleep(20);
    }
  })();
  for (let i = 0; i < count; i++) {
    const a = await placeOne(r);
    if (r.report.check(!a.ok, `${label}: a placement was acked (seq ${a.ok ? a.seq : ''}) while the fault held`)) {
      r.report.check(
        !a.ok && a.code === 'store_failed',
        `${label}: refused with ${a.ok ? '' : a.code}, not store_failed`,
      );
      ws++;
    }
    if (i % 5 === 0) {
      const h = await httpPlace(r.server.http, i % SIZE, 7, 3);
      r.report.check(
        h.status === 503 && h.body['error'] === 'store_failed',
        `${label}: POST /api/pixel answered ${h.status} ${JSON.stringify(h.body)}, not 503 store_failed`,
      );
      if (h.status === 503) http++;
    }
  }
  probing = false;
  await prober;
  r.report.check((await health(r.server.http)).seq === seq, `${label}: seq moved while every placement was refused`);
  return { ws, http, imageMs };
}

/** After the fault clears, the next placement must be acked with the next seq. */
async function expectRecovery(r: Run, label: string): Promise<void> {
  const before = (await health(r.server.http)).seq;
  const a = await placeOne(r);
  r.report.check(a.ok, `${label}: the first placement after the fault cleared was refused (${a.ok ? '' : a.code})`);
  r.report.check(
    !a.ok || a.seq === before + 1,
    `${label}: recovered with seq ${a.ok ? a.seq : ''}, want ${before + 1}`,
  );
}

async function diskFull(r: Run, fault: DiskFault, refusals: number): Promise<void> {
  for (let i = 0; i < 100; i++) await placeOne(r);
  fault.fill(r.server.pid);
  // SQLite reuses WAL space it already holds, so placements may still succeed (durably) for a while.
  let landed = 0;
  for (;;) {
    const a = await placeOne(r);
    if (!a.ok) {
      r.report.check(a.code === 'store_failed', `disk full: refused with ${a.code}, not store_failed`);
      break;
    }
    if (++landed >= MAX_UNTIL_REFUSED) {
      r.report.check(false, `disk full: still accepting after ${landed} placements`);
      break;
    }
  }
  const refused = await expectRefusals(r, 'disk full', refusals);
  r.report.check((await image(r.server.http)).png.length > 0, 'disk full: /image not served');
  // A crash while the disk is full, and a restart before it clears: the server must come up (WAL
  // recovery needs no new space) and keep refusing, not acking.
  await r.server.kill();
  r.server = await startServer({ db: `${fault.dir}/canvas.db`, args: r.args });
  r.placer = await SeqPlacer.open(r.server.ws, loopback(1));
  fault.fill(r.server.pid);
  const afterRestart = await expectRefusals(r, 'disk full, restarted', 10);
  fault.clear(r.server.pid);
  await expectRecovery(r, 'disk full');
  for (let i = 0; i < 100; i++) await placeOne(r);
  r.report.figure('disk full: method', fault.method);
  r.report.figure('disk full: acked after the fill, before the first refusal (space SQLite held)', landed);
  r.report.figure(
    'disk full: refused as promised (WebSocket store_failed / HTTP 503)',
    `${refused.ws} / ${refused.http}, ` +
      `and ${afterRestart.ws} / ${afterRestart.http} after a SIGKILL and restart on the full disk`,
  );
}

async function locked(r: Run, dbPath: string, refusals: number): Promise<void> {
  const blocker = new Database(dbPath, { timeout: 1000 });
  try {
    blocker.exec('BEGIN IMMEDIATE'); // another process holding SQLite's write lock
    const refused = await expectRefusals(r, 'locked', refusals);
    blocker.exec('ROLLBACK');
    await expectRecovery(r, 'locked');
    r.report.figure('locked database: refused as promised (WebSocket / HTTP)', `${refused.ws} / ${refused.http}`);
    r.report.figure(
      'locked database: slowest /image meanwhile',
      `${refused.imageMs.toFixed(0)} ms ` +
        `(each commit attempt waits --busy-timeout-ms ${BUSY_TIMEOUT_MS} on the event loop)`,
    );
  } finally {
    if (blocker.inTransaction) blocker.exec('ROLLBACK');
    blocker.close();
  }
}

export async function runStorageFaults(mode: Mode, _seed: number): Promise<PartResult> {
  const report = new Report('4. storage faults');
  let fault: DiskFault | undefined;
  let server: ServerChild | undefined;
  let placer: SeqPlacer | undefined;
  try {
    fault = makeDiskFault();
    const db = `${fault.dir}/canvas.db`;
    const args = [
      '--width',
      String(SIZE),
      '--height',
      String(SIZE),
      '--busy-timeout-ms',
      String(BUSY_TIMEOUT_MS),
      '--tick-ms',
      '100',
      '--log-level',
      'info',
    ];
    server = await startServer({ db, args });
    placer = await SeqPlacer.open(server.ws, loopback(1));
    const r: Run = { report, server, placer, args, acks: [], n: 0 };
    try {
      await diskFull(r, fault, STORAGE_REFUSALS[mode]);
      await locked(r, db, STORAGE_REFUSALS[mode]);
    } finally {
      placer = r.placer;
      server = r.server;
    }

    // A restart shows exactly the acked placements: nothing refused was stored.
    placer.close();
    const code = await server.stop();
    report.check(code === 0, `the server exited with ${code} on SIGTERM after the faults`);
    server = await startServer({ db, args });
    const check = await checkHistory(report, 'after restart', db, server.http, SIZE, SIZE, r.acks);
    report.check(
      check.rows === r.acks.length,
      `${check.rows} placements stored, ${r.acks.length} acked: refused placements must not be stored`,
    );
    report.figure('acked placements / stored after restart / lost', `${r.acks.length} / ${check.rows} / ${check.lost}`);
  } catch (err) {
    report.check(false, `storage part aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    placer?.close();
    await server?.stop();
    await sleep(50);
    fault?.cleanup();
  }
  return report.result();
}
