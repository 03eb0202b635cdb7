/**
 * Part 1, crash durability. Several clients place pixels as fast as acks come back (cooldown off,
 * a window of placements in flight each, plus one HTTP placer) and record every ack; the server is
 * SIGKILLed at a random moment; after a restart on the same file every acked placement must be in
 * the history with its seq, the served grid must equal replaying that history, and
 * `PRAGMA integrity_check` must say ok. Small `--snapshot-every` so kills also land mid-snapshot.
 */
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../protocol/codec.ts';
import { Rng } from '../testkit/rng.ts';
import type { StartedServer } from '../testkit/server-process.ts';
import { loopback, Report, tempDir, withTimeout, type Mode, type PartResult } from './common.ts';
import { checkHistory, type Ack } from './history.ts';
import { startServer, type ServerChild } from './server-child.ts';

export interface CrashOptions {
  kills: number;
  clients: number;
  /** Placements in flight per client. */
  window: number;
  /** The kill comes this long (uniformly random) after the writers started. */
  minRunMs: number;
  maxRunMs: number;
  seed: number;
}

export const CRASH_DEFAULTS: Record<Mode, Omit<CrashOptions, 'seed'>> = {
  fast: { kills: 3, clients: 4, window: 32, minRunMs: 150, maxRunMs: 700 },
  full: { kills: 25, clients: 8, window: 64, minRunMs: 50, maxRunMs: 2500 },
};

export const WIDTH = 300;
export const HEIGHT = 200;

export interface Round {
  acks: Ack[];
  /** x,y,c of everything sent this round, so rows nobody sent can be spotted. */
  sent: Set<number>;
  sentCount: number;
  errors: Map<string, number>;
}

const key = (x: number, y: number, c: number) => (y * WIDTH + x) * 16 + c;

/**
 * One WebSocket writer: keeps `window` placements in flight until the connection dies or `stop`
 * closes it. An `unavailable` answer (an edge whose writer is gone) ends its sending.
 */
export function wsWriter(
  url: string,
  from: string,
  window: number,
  rng: Rng,
  round: Round,
  stop?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { localAddress: from });
    stop?.addEventListener('abort', () => socket.close());
    const pending = new Map<number, { x: number; y: number; c: number }>();
    let nextId = 1;
    const sendOne = () => {
      const p = { x: rng.int(WIDTH), y: rng.int(HEIGHT), c: rng.int(16) };
      const id = nextId++;
      pending.set(id, p);
      round.sent.add(key(p.x, p.y, p.c));
      round.sentCount++;
      socket.send(encodeMessage({ t: 'place', id, ...p }));
    };
    socket.on('open', () => {
      for (let i = 0; i < window; i++) sendOne();
    });
    socket.on('message', (data: Buffer) => {
      const msg = decodeServerMessage(new Uint8Array(data));
      if (msg.t !== 'ack' && msg.t !== 'error') return;
      const p = msg.id === undefined ? undefined : pending.get(msg.id);
      if (msg.id !== undefined) pending.delete(msg.id);
      if (msg.t === 'ack' && p) round.acks.push({ seq: msg.seq, ...p });
      if (msg.t === 'error') round.errors.set(msg.code, (round.errors.get(msg.code) ?? 0) + 1);
      // An edge whose writer is gone: refused, or forwarded and unanswered.
      if (msg.t === 'error' && (msg.code === 'unavailable' || msg.code === 'outcome_unknown')) return;
      if (socket.readyState === WebSocket.OPEN) sendOne();
    });
    socket.on('error', () => {}); // the kill resets the connection: expected
    socket.on('close', () => resolve());
  });
}

/**
 * A round of load through edges: `clients` WebSocket writers spread over `edges` and one HTTP writer
 * on `httpEdge`, all placing until `end`, which stops them (or gives up waiting after 10 s) and adds
 * the round's errors and acks to the run's.
 */
export function loadThroughEdges(
  edges: readonly StartedServer[],
  httpEdge: StartedServer,
  opts: { clients: number; window: number },
  rng: Rng,
): { round: Round; end: (errors: Map<string, number>, acks: Ack[]) => Promise<void> } {
  const round: Round = { acks: [], sent: new Set(), sentCount: 0, errors: new Map() };
  const stop = new AbortController();
  const clients = Array.from({ length: opts.clients }, (_, c) =>
    wsWriter(
      (edges[c % edges.length] as StartedServer).ws,
      loopback(c),
      opts.window,
      new Rng(rng.u32()),
      round,
      stop.signal,
    ),
  );
  const http = httpWriter(httpEdge.http, new Rng(rng.u32()), round, stop.signal);
  const end = async (errors: Map<string, number>, acks: Ack[]): Promise<void> => {
    stop.abort();
    await withTimeout('clients to stop', Promise.all([...clients, http]), 10_000).catch(() => undefined);
    for (const [code, n] of round.errors) errors.set(code, (errors.get(code) ?? 0) + n);
    for (const a of round.acks) acks.push(a);
  };
  return { round, end };
}

/** One HTTP writer: POST /api/pixel in a loop (the other placement path) until the server is gone. */
export async function httpWriter(http: string, rng: Rng, round: Round, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    const p = { x: rng.int(WIDTH), y: rng.int(HEIGHT), c: rng.int(16) };
    round.sent.add(key(p.x, p.y, p.c));
    round.sentCount++;
    try {
      const res = await fetch(`${http}/api/pixel`, {
        method: 'POST',
        body: JSON.stringify({ x: p.x, y: p.y, color: p.c }),
        signal: stop,
      });
      const body = (await res.json()) as { seq?: number; error?: string };
      if (res.status === 200 && typeof body.seq === 'number') round.acks.push({ seq: body.seq, ...p });
      else round.errors.set(String(body.error), (round.errors.get(String(body.error)) ?? 0) + 1);
      if (body.error === 'unavailable' || body.error === 'outcome_unknown') return; // an edge whose writer is gone
    } catch {
      return; // connection refused or reset: the server was killed
    }
  }
}

function start(db: string): Promise<ServerChild> {
  // info, not warn: the startup line carrying the URL is an info line.
  return startServer({
    db,
    args: [
      '--width',
      String(WIDTH),
      '--height',
      String(HEIGHT),
      '--snapshot-every',
      '5000',
      '--tick-ms',
      '100',
      '--log-level',
      'info',
    ],
  });
}

export async function runCrash(mode: Mode, seed: number, overrides: Partial<CrashOptions> = {}): Promise<PartResult> {
  const opts: CrashOptions = { ...CRASH_DEFAULTS[mode], seed, ...overrides };
  const report = new Report('1. crash durability');
  const rng = new Rng(opts.seed);
  const tmp = tempDir('crash');
  const db = `${tmp.dir}/canvas.db`;
  const allAcks: Ack[] = [];
  let server: ServerChild | undefined;
  let lost = 0;
  let kills = 0;
  let rows = 0;
  let unknownRows = 0;
  const errors = new Map<string, number>();
  const runMs: number[] = [];
  try {
    server = await start(db);
    let prevMax = 0;
    for (let k = 0; k < opts.kills; k++) {
      const round: Round = { acks: [], sent: new Set(), sentCount: 0, errors: new Map() };
      const stopHttp = new AbortController();
      const live = server; // this round's server, for the callbacks below
      const writers = Array.from({ length: opts.clients }, (_, i) =>
        wsWriter(live.ws, loopback(i), opts.window, new Rng(rng.u32()), round),
      );
      const http = httpWriter(server.http, new Rng(rng.u32()), round, stopHttp.signal);
      const delay = rng.range(opts.minRunMs, opts.maxRunMs);
      await sleep(delay);
      runMs.push(delay);
      await server.kill();
      kills++;
      stopHttp.abort();
      await withTimeout('writers to notice the kill', Promise.all([...writers, http]), 10_000).catch(() => undefined);
      for (const [code, n] of round.errors) errors.set(code, (errors.get(code) ?? 0) + n);
      for (const a of round.acks) allAcks.push(a); // not push(...acks): 100k+ arguments overflow the stack

      server = await start(db);
      const check = await checkHistory(report, `kill ${k + 1}`, db, server.http, WIDTH, HEIGHT, allAcks);
      lost += check.lost;
      rows = check.rows;
      // Rows written this round may include placements whose ack the kill swallowed, but never more
      // than were sent, and only placements somebody sent.
      const newRows = check.maxSeq - prevMax;
      report.check(
        newRows >= round.acks.length,
        `kill ${k + 1}: ${round.acks.length} acks but only ${newRows} new rows`,
      );
      report.check(
        newRows <= round.sentCount,
        `kill ${k + 1}: ${newRows} new rows but only ${round.sentCount} placements sent`,
      );
      unknownRows += countUnknownRows(db, prevMax, round.sent);
      prevMax = check.maxSeq;
    }
  } catch (err) {
    report.check(false, `crash part aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await server?.stop();
    tmp.remove();
  }
  report.check(unknownRows === 0, `${unknownRows} history rows match no placement that was sent`);
  report.check(errors.size === 0, `placements refused during the run: ${JSON.stringify(Object.fromEntries(errors))}`);
  report.check(lost === 0, `lost ${lost} acknowledged placements`);
  report.check(kills >= opts.kills, `only ${kills} of ${opts.kills} kills happened`);
  report.figure('SIGKILLs (restart + verify after each)', kills);
  report.figure('acked placements checked', allAcks.length);
  report.figure('lost (acked, missing after restart)', lost);
  report.figure('history rows after the last restart', rows);
  report.figure('kill moment after writers started', `${Math.min(...runMs)}-${Math.max(...runMs)} ms`);
  report.figure('writers', `${opts.clients} WebSocket x ${opts.window} in flight + 1 HTTP`);
  return report.result();
}

/** Rows after `afterSeq` whose (x, y, colour) nobody sent in the round. */
export function countUnknownRows(dbPath: string, afterSeq: number, sent: Set<number>): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    let unknown = 0;
    const rows = db.prepare('SELECT x, y, color FROM placements WHERE seq > ?').raw();
    for (const [x, y, c] of rows.iterate(afterSeq) as Iterable<[number, number, number]>)
      if (!sent.has(key(x, y, c))) unknown++;
    return unknown;
  } finally {
    db.close();
  }
}
