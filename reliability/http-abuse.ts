/**
 * Part 5, HTTP abuse, all at once against one server while a probe fetches /image every 100 ms:
 * malformed requests (http-requests.ts), slowloris headers and bodies trickled a byte a second,
 * connections that pipeline thousands of GET /image and never read, a flood of unread GET /image,
 * and (measured last, on its own) pipelined header-only answers (HEAD, 304). The probe must always
 * get its image, RSS must stay within a bound, and every abusive connection must be closed by the
 * server, so file descriptors come back.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { mib } from '../testkit/format.ts';
import { fdCount, openFilesLimit, rssBytes } from '../testkit/processes.ts';
import { Rng } from '../testkit/rng.ts';
import { loopback, Report, RssSampler, tempDir, type Mode, type PartResult } from './common.ts';
import { badRequests } from './http-requests.ts';
import { rawHttp, tcpConnect } from './raw-clients.ts';
import { startServer, type ServerChild } from './server-child.ts';
import { image } from '../testkit/image-probe.ts';
import { fill } from './ws-clients.ts';

export interface HttpOptions {
  fill: number;
  /** Times each malformed request is sent. */
  reps: number;
  slowloris: number;
  pipeliners: number;
  pipelineDepth: number;
  unreadFlood: number;
  headerOnlyMs: number;
}

export const HTTP_DEFAULTS: Record<Mode, HttpOptions> = {
  fast: {
    fill: 30_000,
    reps: 2,
    slowloris: 200,
    pipeliners: 4,
    pipelineDepth: 2_000,
    unreadFlood: 200,
    headerOnlyMs: 2_000,
  },
  full: {
    fill: 100_000,
    reps: 10,
    slowloris: 1_000,
    pipeliners: 20,
    pipelineDepth: 5_000,
    unreadFlood: 1_000,
    headerOnlyMs: 5_000,
  },
};

/** uWS closes idle and incomplete HTTP connections after 10 s; allow for load. */
const CLOSE_WITHIN_MS = 25_000;
const MAX_IMAGE_MS = 2_000;
const PER_CONNECTION = 64 << 10;

/** A raw connection whose close (by the server) is timed. */
interface Abuser {
  socket: Socket;
  closedAfterMs: number | undefined;
}

async function openAbuser(port: number, from: string, started: number, first: string, read: boolean): Promise<Abuser> {
  const socket = await tcpConnect(port, from);
  const a: Abuser = { socket, closedAfterMs: undefined };
  socket.once('close', () => (a.closedAfterMs = Date.now() - started));
  if (read) socket.on('data', () => {});
  socket.write(first);
  // Unread: paused for good. 'close' still fires for a paused socket once the server resets it or
  // the suite resumes it below to see the FIN.
  if (!read) socket.pause();
  return a;
}

async function malformed(
  port: number,
  reps: number,
  rng: Rng,
): Promise<{ statuses: Map<number, number>; bad: string[] }> {
  const statuses = new Map<number, number>();
  const bad: string[] = [];
  const jobs = badRequests(rng).flatMap((r) => Array.from({ length: reps }, () => r));
  let next = 0;
  const worker = async (w: number) => {
    while (next < jobs.length) {
      const r = jobs[next++] as (typeof jobs)[number]; // next < jobs.length: checked by the loop
      try {
        const answer = await rawHttp(port, loopback(5000 + w), r.bytes, CLOSE_WITHIN_MS);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500) bad.push(`${r.name}: answered ${answer.head.split('\r\n')[0]}`);
      } catch (err) {
        bad.push(`${r.name}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 256 }, (_, w) => worker(w)));
  return { statuses, bad };
}

/** Pipelines HEAD or conditional GETs for `ms` without reading; returns the bytes sent. */
async function headerOnly(port: number, from: string, etag: string, head: boolean, ms: number): Promise<number> {
  const socket = await tcpConnect(port, from);
  socket.pause();
  const one = head
    ? 'HEAD /image HTTP/1.1\r\nHost: x\r\n\r\n'
    : `GET /image HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${etag}\r\n\r\n`;
  const chunk = one.repeat(1000);
  let sent = 0;
  const until = Date.now() + ms;
  while (Date.now() < until && !socket.destroyed) {
    if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), sleep(200)]);
    sent += chunk.length;
  }
  socket.destroy();
  return sent;
}

export async function runHttpAbuse(
  mode: Mode,
  seed: number,
  overrides: Partial<HttpOptions> = {},
): Promise<PartResult> {
  const opts = { ...HTTP_DEFAULTS[mode], ...overrides };
  const report = new Report('5. HTTP abuse');
  const rng = new Rng(seed ^ 0x27d4eb2f);
  const needFds = opts.slowloris + opts.pipeliners + opts.unreadFlood + 400;
  if (
    !report.check(
      openFilesLimit().soft >= needFds,
      `needs an open-file limit of ${needFds} (ulimit -n ${needFds}), have ${openFilesLimit().soft}`,
    )
  )
    return report.result();
  const tmp = tempDir('http');
  let server: ServerChild | undefined;
  let sampler: RssSampler | undefined;
  const abusers: Abuser[] = [];
  const trickles: NodeJS.Timeout[] = [];
  try {
    server = await startServer({ db: `${tmp.dir}/canvas.db`, args: ['--tick-ms', '100', '--log-level', 'info'] });
    const srv = server;
    await fill(srv.ws, opts.fill, rng);
    await sleep(300);
    const first = await image(srv.http);
    const pngBytes = first.png.length;
    const etag = `"${(await fetch(`${srv.http}/image`, { method: 'HEAD' })).headers.get('etag')?.replace(/"/g, '')}"`;
    const idleRss = rssBytes(srv.pid);
    const idleFds = fdCount(srv.pid);
    sampler = new RssSampler(srv.pid, 50);
    const started = Date.now();

    let probing = true;
    let probes = 0;
    let probeFailures = 0;
    let probeMaxMs = 0;
    const prober = (async () => {
      while (probing) {
        try {
          probeMaxMs = Math.max(probeMaxMs, (await image(srv.http)).ms);
          probes++;
        } catch {
          probeFailures++;
        }
        await sleep(100);
      }
    })();

    // Slowloris: half trickle header lines, half trickle a POST body; one line or byte a second.
    for (let i = 0; i < opts.slowloris; i++) {
      const headers = i % 2 === 0;
      const head = headers
        ? 'GET /image HTTP/1.1\r\nHost: x\r\n'
        : 'POST /api/pixel HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"x":';
      abusers.push(await openAbuser(srv.port, loopback(6000 + i), started, head, true));
    }
    const slowloris = abusers.slice();
    trickles.push(
      setInterval(() => {
        for (const [i, a] of slowloris.entries())
          if (!a.socket.destroyed) a.socket.write(i % 2 === 0 ? 'X-Slow: 1\r\n' : '1');
      }, 1000),
    );
    // Pipelines of GET /image nobody reads, and a flood of single unread GET /image.
    for (let i = 0; i < opts.pipeliners; i++) {
      abusers.push(
        await openAbuser(
          srv.port,
          loopback(7500 + i),
          started,
          'GET /image HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(opts.pipelineDepth),
          false,
        ),
      );
    }
    for (let i = 0; i < opts.unreadFlood; i++) {
      abusers.push(
        await openAbuser(srv.port, loopback(8000 + i), started, 'GET /image HTTP/1.1\r\nHost: x\r\n\r\n', false),
      );
    }
    const bad = await malformed(srv.port, opts.reps, rng);
    await sleep(3000); // let unread bytes pile up to their limits before the RSS peak is judged

    // Every abusive connection must be closed by the server. Paused sockets see the close only once
    // they read, so resume them now (they never read before this point).
    const resumedAt = Date.now();
    for (const a of abusers) a.socket.resume();
    const deadline = Date.now() + CLOSE_WITHIN_MS;
    while (abusers.some((a) => a.closedAfterMs === undefined) && Date.now() < deadline) await sleep(200);
    const open = abusers.filter((a) => a.closedAfterMs === undefined).length;
    trickles.forEach(clearInterval);
    probing = false;
    await prober;
    const peak = sampler.stop();

    const headerRss = rssBytes(srv.pid);
    const headerSampler = new RssSampler(srv.pid, 50);
    const headSent = await headerOnly(srv.port, loopback(9000), etag, true, opts.headerOnlyMs);
    const inmSent = await headerOnly(srv.port, loopback(9001), etag, false, opts.headerOnlyMs);
    const headerGrowth = headerSampler.stop() - headerRss;
    await sleep(500);
    const fdsAfter = fdCount(srv.pid);

    const limit =
      (opts.pipeliners + opts.unreadFlood) * (pngBytes + PER_CONNECTION) + opts.slowloris * PER_CONNECTION + (64 << 20);
    report.check(peak - idleRss <= limit, `server RSS grew by ${mib(peak - idleRss)}, over the bound ${mib(limit)}`);
    // Before the fix in server/http/send.ts this grew about 3x the requests' bytes, without limit.
    const headerLimit = 32 << 20;
    report.check(
      headerGrowth <= headerLimit,
      `pipelined HEAD/304 grew RSS by ${mib(headerGrowth)} for ${mib(headSent + inmSent)} of requests`,
    );
    report.check(
      open === 0,
      `${open} abusive connections not closed by the server within ${CLOSE_WITHIN_MS / 1000} s after the abuse`,
    );
    report.check(bad.bad.length === 0, `malformed requests: ${bad.bad.slice(0, 5).join('; ')}`);
    report.check(probeFailures === 0, `${probeFailures} of ${probes + probeFailures} /image probes failed`);
    report.check(probeMaxMs <= MAX_IMAGE_MS, `/image took ${probeMaxMs.toFixed(0)} ms (limit ${MAX_IMAGE_MS})`);
    report.check(
      fdsAfter <= idleFds + 10,
      `server holds ${fdsAfter} file descriptors after the abuse, ${idleFds} before`,
    );
    const errors = srv.lines().filter((l) => l.includes('"level":50') || l.includes('"level":60'));
    report.check(errors.length === 0, `the server logged ${errors.length} errors, e.g. ${errors[0]?.slice(0, 300)}`);

    const closeTimes = abusers.map((a) => a.closedAfterMs ?? Infinity);
    const abuseSeconds = (resumedAt - started) / 1000;
    report.figure(
      'malformed requests (kinds x reps) / answers by status',
      `${badRequests(rng).length} x ${opts.reps} / ${[...bad.statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s === 0 ? 'closed' : s} ${n}`)
        .join(', ')}`,
    );
    report.figure(
      'abusive connections',
      `${opts.slowloris} slowloris (headers / POST body, a byte a second), ` +
        `${opts.pipeliners} x ${opts.pipelineDepth} pipelined GET /image unread, ${opts.unreadFlood} unread GET /image`,
    );
    report.figure(
      'abuse phase / all abusive connections closed by the server after',
      `${abuseSeconds.toFixed(0)} s / ${(Math.max(...closeTimes) / 1000).toFixed(1)} s`,
    );
    report.figure(
      '/image probes during the abuse: count / failures / slowest',
      `${probes} / ${probeFailures} / ${probeMaxMs.toFixed(0)} ms (PNG ${(pngBytes / 1024).toFixed(0)} KiB)`,
    );
    report.figure('server RSS idle / peak', `${mib(idleRss)} / ${mib(peak)} (bound: idle + ${mib(limit)})`);
    report.figure('server file descriptors before / after', `${idleFds} / ${fdsAfter}`);
    report.figure(
      'pipelined HEAD / 304 unread: requests sent before the server closed, RSS growth',
      `${(headSent / 1024).toFixed(0)} KiB / ${(inmSent / 1024).toFixed(0)} KiB, ${mib(headerGrowth)}`,
    );
  } catch (err) {
    report.check(false, `HTTP part aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    trickles.forEach(clearInterval);
    sampler?.stop();
    for (const a of abusers) a.socket.destroy();
    const code = await server?.stop();
    report.check(code === undefined || code === 0, `the server exited with ${code} on SIGTERM`);
    tmp.remove();
  }
  return report.result();
}
