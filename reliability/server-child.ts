/**
 * The server under torture as a child process, started exactly as an operator would (the real CLI,
 * server/main.ts), so SIGKILL, RSS and file descriptors are the server's own. Every child is tracked
 * and killed by pid if the suite stops early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, rssOf } from './common.ts';

const live = new Set<ChildProcess>();

export interface ServerChild {
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly http: string;
  /** ws://127.0.0.1:PORT/ws */
  readonly ws: string;
  /** Resolves with the exit code or signal name once the process is gone (stdout drained). */
  readonly exited: Promise<number | string>;
  rss(): number;
  /** Log lines seen so far (the last 2,000). */
  lines(): string[];
  stderr(): string;
  /** Sends SIGKILL and waits for the exit. */
  kill(): Promise<number | string>;
  /** SIGTERM (graceful shutdown), then SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<number | string>;
}

export interface StartOptions {
  db: string;
  /** Extra flags, e.g. ['--width', '64']. The suite always passes port 0, 127.0.0.1 and cooldown 0. */
  args?: readonly string[];
  /** Wraps the command, e.g. ['prlimit', '--fsize=1000000', '--']. */
  wrapper?: readonly string[];
  timeoutMs?: number;
}

/** Starts server/main.ts and resolves once its startup log line names the URL it listens on. */
export async function startServer(opts: StartOptions): Promise<ServerChild> {
  const args = [
    ...(opts.wrapper ?? []),
    process.execPath,
    '--import',
    'tsx',
    'server/main.ts',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--db',
    opts.db,
    '--cooldown-ms',
    '0',
    ...(opts.args ?? []),
  ];
  const proc = spawn(args[0] as string, args.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error('could not start the server');
  live.add(proc);
  const pid = proc.pid;
  const lines: string[] = [];
  let partial = '';
  let err = '';
  let resolveUrl: (url: string) => void = () => {};
  const urlSeen = new Promise<string>((resolve) => (resolveUrl = resolve));
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      // pino writes JSON; the startup line is the one with "url".
      const m = /"url":"(http:\/\/[^"]+)"/.exec(line);
      if (m) resolveUrl(m[1] as string);
    }
    if (lines.length > 4000) lines.splice(0, lines.length - 2000);
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-16_000);
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once('close', (code, signal) => {
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const giveUp = new AbortController(); // cancels the startup timer, which would hold the process open
  const outcome = await Promise.race([
    urlSeen.then((url) => ({ url })),
    exited.then((code) => ({ exit: code })),
    sleep(timeoutMs, undefined, { signal: giveUp.signal }).then(
      () => ({ timeout: true }),
      () => ({ timeout: true }),
    ),
  ]);
  giveUp.abort();
  if (!('url' in outcome)) {
    proc.kill('SIGKILL');
    await exited;
    const why = 'exit' in outcome ? `exited with ${outcome.exit}` : `did not start within ${timeoutMs} ms`;
    throw new Error(`server ${why}: ${err.slice(-2000) || lines.slice(-5).join('\n')}`);
  }
  const http = outcome.url;
  const port = Number(new URL(http).port);
  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    return exited;
  };
  return {
    pid,
    port,
    http,
    ws: `ws://127.0.0.1:${port}/ws`,
    exited,
    rss: () => rssOf(pid),
    lines: () => lines.slice(-2000),
    stderr: () => err,
    kill,
    async stop(graceMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** SIGKILLs every server child still running (by pid): for failures, timeouts and Ctrl-C. */
export function killAllServers(): void {
  for (const proc of live) proc.kill('SIGKILL');
}

// However this process ends normally (process.exit included), no server child outlives it.
process.once('exit', killAllServers);

/** GET /healthz as JSON. */
export async function health(http: string): Promise<{ ok: boolean; seq: number; subscribers: number }> {
  const res = await fetch(`${http}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as { ok: boolean; seq: number; subscribers: number };
}

/** GET /image: the bytes and the seq named by its ETag ("<canvas-id>-<seq>"). */
export async function image(http: string): Promise<{ png: Uint8Array; seq: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${http}/image`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`/image answered ${res.status}`);
  const png = new Uint8Array(await res.arrayBuffer());
  const seq = Number(/-(\d+)"$/.exec(res.headers.get('etag') ?? '')?.[1] ?? NaN);
  return { png, seq, ms: performance.now() - started };
}

/** Waits until /image shows at least `seq` (the next tick after the last placement). */
export async function imageAtLeast(http: string, seq: number, timeoutMs = 15_000): Promise<{ png: Uint8Array; seq: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const img = await image(http);
    if (img.seq >= seq) return img;
    if (Date.now() > deadline) throw new Error(`/image still at seq ${img.seq} after ${timeoutMs} ms, want ${seq}`);
    await sleep(25);
  }
}
