/**
 * The server as an operator runs it, in a child process: `node --import tsx server/main.ts` with
 * flags and environment. The one way the CLI tests, the browser tests, the benchmarks and the
 * reliability suite start it (tests of the server's logic use the in-process fixture.ts instead).
 *
 * The child is the server process itself, not a shell or npm around it, so SIGKILL reaches the server
 * and the CPU time and RSS read from /proc for its pid are the server's own. A `wrap` (taskset, prlimit,
 * a cgroup shell) must exec the command it wraps, as those three do, to keep it so.
 */
import { startChild, tsxCommand, type Child } from './processes.ts';
import { REPO_ROOT } from './paths.ts';

export interface ServerProcessOptions {
  /** Flags for server/main.ts. */
  args?: readonly string[];
  /** Added to the environment, e.g. `{ ADMIN_TOKEN: '...' }`. */
  env?: Record<string, string>;
  /** Turns the command line into the one to run, e.g. prefixed with `taskset -c 0`; must exec it. */
  wrap?: (command: readonly string[]) => readonly string[];
  /** For messages (default "canvas server"). */
  name?: string;
}

/** A started server/main.ts, listening or not. */
export interface ServerProcess extends Child {
  /** The stdout lines seen so far (pino JSON; the last 2,000). */
  lines(): string[];
  /** Resolves with the URL of the startup log line; rejects if the process exits before it. */
  readonly listening: Promise<string>;
  /** SIGKILL (no shutdown at all), then waits for the exit. */
  kill(): Promise<number | string>;
}

/** A server/main.ts that has logged the URL it listens on. */
export interface StartedServer extends ServerProcess {
  readonly port: number;
  /** http://HOST:PORT as the server logged it. */
  readonly http: string;
  /** ws://HOST:PORT/ws */
  readonly ws: string;
}

/**
 * Flags for a server on loopback at a port the OS picks, storing in `db`, plus options by flag name
 * without the dashes (`{ 'cooldown-ms': 0, width: 64 }`).
 */
export function loopbackArgs(db: string, options: Record<string, string | number> = {}): string[] {
  const args = ['--host', '127.0.0.1', '--port', '0', '--db', db];
  for (const [flag, value] of Object.entries(options)) args.push(`--${flag}`, String(value));
  return args;
}

/** The startup line main.ts logs: `{"level":30,...,"url":"http://127.0.0.1:PORT",...,"msg":"listening on ..."}`. */
const LISTENING = /"url":"(http:\/\/[^"]+)".*"msg":"listening on /;
const KEEP_LINES = 2000;

/**
 * Starts server/main.ts without waiting for anything: for tests that expect it to fail (read `exited`
 * and `stderr()`), or that wait on `listening` themselves.
 */
export function spawnServer(opts: ServerProcessOptions = {}): ServerProcess {
  const lines: string[] = [];
  let seeUrl: (url: string) => void = () => {};
  const urlSeen = new Promise<string>((resolve) => (seeUrl = resolve));
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > 2 * KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
    const m = LISTENING.exec(line);
    if (m) seeUrl(m[1] as string);
  };
  const command = tsxCommand('server/main.ts', opts.args ?? []);
  const [file, ...args] = (opts.wrap ? opts.wrap(command) : command) as [string, ...string[]];
  const child = startChild(opts.name ?? 'canvas server', file, args, {
    cwd: REPO_ROOT,
    onLine,
    ...(opts.env ? { env: opts.env } : {}),
  });
  const listening = Promise.race([
    urlSeen,
    child.exited.then((code) => {
      const output = child.stderr().slice(-2000) || lines.slice(-5).join('\n');
      throw new Error(`${child.name} exited with ${code} before listening: ${output}`);
    }),
  ]);
  listening.catch(() => {}); // a caller that only wants the exit code need not handle it
  return {
    ...child,
    lines: () => lines.slice(-KEEP_LINES),
    listening,
    async kill() {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
      return child.exited;
    },
    // A server with thousands of sockets and a snapshot to write may take seconds to shut down.
    stop: (graceMs = 15_000) => child.stop(graceMs),
  };
}

/**
 * Starts server/main.ts and resolves once its startup log line names the URL (so `--log-level` must
 * be `info` or lower). If it exits first or takes longer than `timeoutMs`, it is killed and this
 * rejects with the end of its stderr.
 */
export async function startServer(opts: ServerProcessOptions & { timeoutMs?: number } = {}): Promise<StartedServer> {
  const server = spawnServer(opts);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`${server.name} did not log its URL within ${timeoutMs} ms: ${server.stderr().slice(-2000)}`)),
      timeoutMs,
    );
  });
  let http: string;
  try {
    http = await Promise.race([server.listening, timeout]);
  } catch (err) {
    await server.kill();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const url = new URL(http);
  return { ...server, port: Number(url.port), http, ws: `ws://${url.host}/ws` };
}
