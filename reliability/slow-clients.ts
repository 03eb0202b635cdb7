/**
 * Part 3, slow and abusive clients. On a 1000 x 1000 canvas with real content and a placement every
 * 20 ms (so every 100 ms tick publishes), while good readers watch both streams: subscribers that
 * never read, a connection flood, and sockets that open and close in a loop (at every stage of the
 * handshake). The server's RSS must stay within a bound that does not grow with the per-socket
 * buffer limit, the readers must get every tick, and new clients must keep getting in.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { mib } from '../testkit/format.ts';
import { openFilesLimit, rssBytes } from '../testkit/processes.ts';
import { Rng } from '../testkit/rng.ts';
import { loopback, Report, RssSampler, tempDir, type Mode, type PartResult } from './common.ts';
import { rawWebSocket, tcpConnect, upgradeRequest } from './raw-clients.ts';
import { health, startServer, type ServerChild } from './server-child.ts';
import { image } from '../testkit/image-probe.ts';
import { fill, PacedPlacer, Reader, probeHello } from './ws-clients.ts';

export interface SlowOptions {
  fill: number;
  nonReaders: number;
  flood: number;
  churn: number;
  /** The abuse lasts at least this long, so unread bytes pile up to the limits. */
  holdMs: number;
  /** --max-buffered-total for the server: the fast run uses a small one so the cap is reached in seconds. */
  cap: number;
}

export const SLOW_DEFAULTS: Record<Mode, SlowOptions> = {
  fast: { fill: 80_000, nonReaders: 200, flood: 400, churn: 1_000, holdMs: 6_000, cap: 16 << 20 },
  full: { fill: 150_000, nonReaders: 1_000, flood: 2_000, churn: 5_000, holdMs: 20_000, cap: 128 << 20 },
};

const TICK_MS = 100;
/** Per connection: socket structs, identity, Conn, allocator slack. Generous on purpose. */
const PER_CONNECTION = 64 << 10;
/** A reader that sees no frame for this long missed ticks (the placer changes the canvas every 20 ms). */
const MAX_FRAME_GAP_MS = 2_500;
const MAX_HELLO_MS = 5_000;

/** Opens `count` raw WebSockets `concurrency` at a time; failures are counted, not thrown. */
async function openMany(
  port: number,
  count: number,
  base: number,
  read: boolean,
  path: string,
  concurrency: number,
  into: Socket[],
): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        into.push(await rawWebSocket(port, loopback(base + i), read, 10_000, path));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

/** Sockets that come and go at every stage of the handshake; returns how many loops ran. */
async function churn(port: number, loops: number, rng: Rng, stopAt: number): Promise<number> {
  let done = 0;
  const worker = async (w: number) => {
    while (done < loops && Date.now() < stopAt) {
      done++;
      const from = loopback(3000 + (w % 100));
      try {
        const kind = rng.int(4);
        if (kind === 0) (await tcpConnect(port, from)).destroy();
        else if (kind === 1) {
          const s = await tcpConnect(port, from);
          s.write(upgradeRequest(port).slice(0, 1 + rng.int(60)));
          s.destroy();
        } else {
          const s = await rawWebSocket(port, from, true);
          if (kind === 2)
            s.resetAndDestroy(); // RST after the upgrade
          else s.end(); // FIN after the upgrade, without a close frame
        }
      } catch {
        // refused or reset mid-way: also fine for a churner; acceptance is measured by the probes
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
  return done;
}

export async function runSlowClients(
  mode: Mode,
  seed: number,
  overrides: Partial<SlowOptions> = {},
): Promise<PartResult> {
  const opts = { ...SLOW_DEFAULTS[mode], ...overrides };
  const report = new Report('3. slow and abusive clients');
  const rng = new Rng(seed ^ 0x1b873593);
  const needFds = opts.nonReaders + opts.flood + 200;
  if (
    !report.check(
      openFilesLimit().soft >= needFds,
      `needs an open-file limit of ${needFds} (ulimit -n ${needFds}), have ${openFilesLimit().soft}`,
    )
  )
    return report.result();
  const tmp = tempDir('slow');
  const abusers: Socket[] = [];
  const readers: Reader[] = [];
  let placer: PacedPlacer | undefined;
  let server: ServerChild | undefined;
  let sampler: RssSampler | undefined;
  try {
    const args = ['--tick-ms', String(TICK_MS), '--max-buffered-total', String(opts.cap), '--log-level', 'info'];
    server = await startServer({ db: `${tmp.dir}/canvas.db`, args });
    const srv = server;
    await fill(srv.ws, opts.fill, rng);
    await sleep(3 * TICK_MS);
    const pngBytes = (await image(srv.http)).png.length;
    readers.push(
      ...(await Promise.all([0, 1, 2, 3].map((i) => Reader.open(srv.ws, i < 2 ? 'delta' : 'png', loopback(i))))),
    );
    placer = await PacedPlacer.start(srv.ws, loopback(10), 20, rng);
    await sleep(5 * TICK_MS);
    const idleRss = rssBytes(srv.pid);
    sampler = new RssSampler(srv.pid, 50);
    for (const r of readers) r.startWindow();

    await scrape(srv.http); // a scrape resets the event-loop delay histogram: measure from here
    const started = Date.now();
    const probes: number[] = [];
    let probeFailures = 0;
    let imageMaxMs = 0;
    let probing = true;
    const prober = (async () => {
      for (let i = 0; probing; i++) {
        try {
          probes.push(await probeHello(srv.ws, loopback(4000 + (i % 50)), MAX_HELLO_MS));
          imageMaxMs = Math.max(imageMaxMs, (await image(srv.http)).ms);
        } catch {
          probeFailures++;
        }
        await sleep(250);
      }
    })();
    // Non-readers take the PNG stream (the most bytes); the flood reads, on the delta stream as the
    // browser client does, so this one process can keep up with it and its readers stay honest.
    const nonReaderFailures = await openMany(srv.port, opts.nonReaders, 0, false, '/ws', 50, abusers);
    const floodFailures = await openMany(srv.port, opts.flood, opts.nonReaders, true, '/ws?stream=delta', 200, abusers);
    const loops = await churn(srv.port, opts.churn, rng, started + 10 * opts.holdMs);
    const holdUntil = started + opts.holdMs;
    if (Date.now() < holdUntil) await sleep(holdUntil - Date.now());
    const abuseSeconds = (Date.now() - started) / 1000;
    probing = false;
    await prober;
    for (const r of readers) r.endWindow();
    const peak = sampler.stop();
    const held = await health(srv.http);
    const during = await scrape(srv.http); // one scrape: the next would see a reset histogram
    const lagMax = during('nodejs_eventloop_lag_max_seconds');
    const lagP99 = during('nodejs_eventloop_lag_p99_seconds');

    for (const s of abusers) s.destroy();
    const settled = await waitSubscribers(srv.http, readers.length + 1, 15_000);
    const afterRss = rssBytes(srv.pid);
    const evicted = (await scrape(srv.http))('canvas_ws_evicted_total');

    // uWS keeps each socket's send buffer at its high-water mark until the socket closes (std::string
    // capacity), and every socket is sent at least one PNG: hence one PNG per connection on top of the cap.
    const limit = opts.cap + (opts.nonReaders + opts.flood) * (pngBytes + PER_CONNECTION);
    report.check(peak - idleRss <= limit, `server RSS grew by ${mib(peak - idleRss)}, over the bound ${mib(limit)}`);
    report.check(
      nonReaderFailures === 0 && floodFailures === 0,
      `connections refused: ${nonReaderFailures} non-readers, ${floodFailures} flood`,
    );
    report.check(
      probeFailures === 0,
      `${probeFailures} of ${probes.length + probeFailures} new clients got no hello within ${MAX_HELLO_MS} ms`,
    );
    report.check(settled, 'the server still counts abusive connections 15 s after they closed');
    for (const r of readers) {
      report.check(r.closedWith === undefined, `${r.name}: the server closed it (${r.closedWith})`);
      report.check(r.gaps === 0, `${r.name}: ${r.gaps} gaps in the delta chain (missed ticks)`);
      report.check(
        r.maxGapMs <= MAX_FRAME_GAP_MS,
        `${r.name}: ${r.maxGapMs.toFixed(0)} ms without a frame (limit ${MAX_FRAME_GAP_MS})`,
      );
      report.check(
        r.ticks >= (abuseSeconds * 1000) / TICK_MS / 4,
        `${r.name}: only ${r.ticks} ticks in ${abuseSeconds.toFixed(1)} s`,
      );
    }
    const deltaTicks = readers[0]?.seqs ?? [];
    for (const r of readers.filter((x) => x.stream === 'png')) {
      const inRange = deltaTicks.filter((s) => s > (r.seqs[0] ?? Infinity) && s <= (r.seqs.at(-1) ?? 0));
      const mine = new Set(r.seqs);
      const missed = inRange.filter((s) => !mine.has(s)).length;
      report.check(missed === 0, `${r.name}: missed ${missed} of the ${inRange.length} ticks the delta reader saw`);
    }
    report.check(placer.errors === 0, `the placer got ${placer.errors} errors`);
    report.check(placer.closedWith === undefined, `the placer was closed (${placer.closedWith})`);
    const errors = srv.lines().filter((l) => l.includes('"level":50') || l.includes('"level":60'));
    report.check(errors.length === 0, `the server logged ${errors.length} errors, e.g. ${errors[0]?.slice(0, 300)}`);

    report.figure(
      'abuse',
      `${opts.nonReaders} never-reading subscribers + ${opts.flood} flood connections held, ` +
        `${loops} open/close loops, ${abuseSeconds.toFixed(0)} s`,
    );
    report.figure(
      'canvas / PNG per tick',
      `1000 x 1000 after ${opts.fill.toLocaleString('en-US')} random placements / ` +
        `${(pngBytes / 1024).toFixed(0)} KiB every ${TICK_MS} ms`,
    );
    report.figure(
      'server RSS idle / peak / after',
      `${mib(idleRss)} / ${mib(peak)} / ${mib(afterRss)} (bound: idle + ${mib(limit)})`,
    );
    report.figure('connections at the end of the abuse', held.subscribers);
    report.figure('slow readers dropped (canvas_ws_evicted_total)', evicted);
    report.figure(
      'readers: ticks seen, delta gaps, longest wait',
      readers.map((r) => `${r.name} ${r.ticks}/${r.gaps}/${r.maxGapMs.toFixed(0)} ms`).join(', '),
    );
    report.figure(
      'new clients during abuse: hello p50 / max',
      `${percentile(probes, 0.5)} / ${percentile(probes, 1)} ms (${probes.length} probes); ` +
        `/image max ${imageMaxMs.toFixed(0)} ms`,
    );
    report.figure(
      'server event-loop delay during the abuse: p99 / max',
      `${(lagP99 * 1000).toFixed(1)} / ${(lagMax * 1000).toFixed(1)} ms`,
    );
    report.figure('placer ack latency max', `${placer.maxAckMs.toFixed(0)} ms over ${placer.acks} acks`);
  } catch (err) {
    report.check(false, `slow-clients part aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    sampler?.stop();
    for (const s of abusers) s.destroy();
    for (const r of readers) r.close();
    placer?.close();
    const code = await server?.stop();
    report.check(code === undefined || code === 0, `the server exited with ${code} on SIGTERM`);
    tmp.remove();
  }
  return report.result();
}

/** The `p` quantile (0..1) of `values`, nearest rank, as whole milliseconds ("-" for none). */
function percentile(values: readonly number[], p: number): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number).toFixed(0);
}

async function waitSubscribers(http: string, want: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await health(http)).subscribers <= want) return true;
    await sleep(100);
  }
  return false;
}

/** One scrape of /metrics; the result reads unlabelled samples by name. */
async function scrape(http: string): Promise<(name: string) => number> {
  const text = await (await fetch(`${http}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? NaN);
}
