/**
 * The server under torture, started exactly as an operator would (the real CLI, server/main.ts,
 * through testkit/server-process.ts), so SIGKILL, RSS and file descriptors are the server's own; and
 * the HTTP probes every part uses. Every child is tracked and killed by pid if the suite stops early
 * (testkit/processes.ts).
 */
import { startServer as startServerProcess, type StartedServer } from '../testkit/server-process.ts';

export type ServerChild = StartedServer;

export interface StartOptions {
  db: string;
  /** Extra flags, e.g. ['--width', '64']. The suite always passes port 0, 127.0.0.1 and cooldown 0. */
  args?: readonly string[];
  timeoutMs?: number;
}

/** Starts server/main.ts and resolves once its startup log line names the URL it listens on. */
export function startServer(opts: StartOptions): Promise<ServerChild> {
  const args = ['--host', '127.0.0.1', '--port', '0', '--db', opts.db, '--cooldown-ms', '0', ...(opts.args ?? [])];
  return startServerProcess({ args, ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
}

/** GET /healthz as JSON. */
export async function health(http: string): Promise<{ ok: boolean; seq: number; subscribers: number }> {
  const res = await fetch(`${http}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as { ok: boolean; seq: number; subscribers: number };
}
