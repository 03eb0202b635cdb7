/**
 * The servers under test as child processes, pinned by the CPU limit: ours (server/main.ts, the real
 * CLI entry, started by testkit/server-process.ts) and the bare uWebSockets.js baselines
 * (perf/baselines/).
 */
import type { CpuLimit } from './cpu-limit.ts';
import { freePort, startChild, tsxCommand, waitForHttp, withOpenFiles, type Child } from '../../testkit/processes.ts';
import { loopbackArgs, startServer } from '../../testkit/server-process.ts';
import { type Flags, toArgv } from './load/flags.ts';
import { REPO_ROOT } from '../../testkit/paths.ts';

export { REPO_ROOT };

export interface ServerUnderTest {
  child: Child;
  port: number;
  http: string;
  ws: string;
  /** Our server's stdout lines so far (pino JSON); absent for the baselines. */
  lines?: () => string[];
}

/**
 * Starts our server with --cooldown-ms 0 on a port the OS picks and waits for its startup log line.
 * Log level info: the server logs at info only when starting and stopping, never while measured.
 */
export async function startOurServer(
  limit: CpuLimit,
  dbPath: string,
  /** More server flags (`--stall-ms 2000`) and the open files (sockets) it must be allowed. */
  opts: { args?: readonly string[]; openFiles?: number; name?: string; timeoutMs?: number } = {},
): Promise<ServerUnderTest> {
  const args = [...loopbackArgs(dbPath, { 'log-level': 'info', 'cooldown-ms': 0 }), ...(opts.args ?? [])];
  const wrap = (command: readonly string[]) => {
    const { file, args: wrapped } = limit.wrap(withOpenFiles(command, opts.openFiles ?? 0));
    return [file, ...wrapped];
  };
  const server = await startServer({
    args,
    wrap,
    name: opts.name ?? 'canvas server',
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  return { child: server, port: server.port, http: server.http, ws: server.ws, lines: () => server.lines() };
}

/**
 * Starts a baseline server of perf/baselines/ (`script`, e.g. `bare-image-server.ts`) on a free port
 * with `args` (--host and --port added), limited like ours, and waits for `readyPath` to answer.
 */
export async function startBaseline(
  limit: CpuLimit,
  script: string,
  args: readonly string[],
  readyPath: string,
  openFiles = 0,
): Promise<ServerUnderTest> {
  const port = await freePort();
  const command = tsxCommand(`perf/baselines/${script}`, ['--host', '127.0.0.1', '--port', String(port), ...args]);
  const { file, args: wrapped } = limit.wrap(withOpenFiles(command, openFiles));
  const child = startChild(`baseline ${script} ${args.join(' ')}`, file, wrapped, { cwd: REPO_ROOT });
  const http = `http://127.0.0.1:${port}`;
  await waitForHttp(`${http}${readyPath}`, child);
  return { child, port, http, ws: `ws://127.0.0.1:${port}/ws` };
}

/**
 * Starts the load generator `script` (relative to the repo root) with tsx and `flags`, pinned to
 * `cpu` with taskset, allowed at least `openFiles` open files; each JSON line it prints goes to `onJson`.
 */
export function startPinnedScript<M extends { type: string }>(
  name: string,
  cpu: number,
  script: string,
  flags: Flags,
  onJson: (msg: M) => void,
  openFiles = 0,
): Child {
  const command = withOpenFiles(['taskset', '-c', String(cpu), ...tsxCommand(script, toArgv(flags))], openFiles);
  const [file, ...rest] = command as [string, ...string[]];
  const onLine = (line: string) => line.startsWith('{') && onJson(JSON.parse(line) as M);
  return startChild(name, file, rest, { cwd: REPO_ROOT, onLine });
}
