/**
 * Child processes of tests, benchmarks and the reliability suite: start, wait until an HTTP URL
 * answers, stop by pid; and the one reader of what /proc says about a process (CPU time, RSS, open
 * files). Every child is tracked, so a timeout, Ctrl-C or the end of this process kills exactly what
 * was started here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set<ChildProcess>();
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every Linux build we run on). */
const CLOCK_TICKS = 100;

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<number | string>;
}

function tail(text: string, max = 4000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

export interface ChildOptions {
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Called with each complete stdout line. */
  onLine?: (line: string) => void;
}

export function startChild(name: string, file: string, args: readonly string[], opts: ChildOptions = {}): Child {
  const env = opts.env ? { ...process.env, ...opts.env } : undefined;
  const proc = spawn(file, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${file}`);
  live.add(proc);
  let out = '';
  let err = '';
  let partial = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out = tail(out + chunk, 1 << 20);
    if (!opts.onLine) return;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) opts.onLine(line);
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err = tail(err + chunk, 64 * 1024);
  });
  const exited = new Promise<number | string>((resolve) => {
    // 'close', not 'exit': it comes after stdout is drained, so the last lines have been seen.
    proc.once('close', (code, signal) => {
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const pid = proc.pid;
  return {
    name,
    proc,
    pid,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop(graceMs = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** Kills every child still running (SIGKILL, by pid). For timeouts and signals. */
export function killAllChildren(): void {
  for (const proc of live) proc.kill('SIGKILL');
}

// However this process ends normally (process.exit included), no child outlives it.
process.once('exit', killAllChildren);

/** The command line that runs a TypeScript file of this repository with Node and tsx. */
export function tsxCommand(script: string, args: readonly string[]): string[] {
  return [process.execPath, '--import', 'tsx', script, ...args];
}

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port free right now on 127.0.0.1 (the OS picks it; we release it for the child). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `url` until it answers 200, failing early if the child exits. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | undefined;
  void child.exited.then((code) => (exitedWith = code));
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) {
      const output = tail(child.stderr(), 2000) || tail(child.stdout(), 2000);
      throw new Error(`${child.name} exited with ${exitedWith} before answering: ${output}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms`);
}

/** CPU seconds (user + system) consumed so far by process `pid`, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after its closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // fields 14 and 15: utime, stime
  } catch {
    return NaN;
  }
}

/**
 * Resident set size of `pid` in bytes, from /proc/<pid>/status: `VmRSS` (now) or `VmHWM` (the peak);
 * NaN once the process is gone.
 */
export function rssBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Open file descriptors of a process (0 once it is gone). */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/**
 * This process's open-files limits from /proc/self/limits (soft, hard); Infinity for "unlimited".
 * Children started here inherit them unless wrapped with withOpenFiles.
 */
export function openFilesLimit(): { soft: number; hard: number } {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const n = (v: string | undefined) => (v === 'unlimited' ? Infinity : Number(v));
    return { soft: n(m?.[1]), hard: n(m?.[2]) };
  } catch {
    return { soft: NaN, hard: NaN };
  }
}

/**
 * `command` run with at least `files` open files allowed (10,000 sockets need more than the usual
 * 1,024): prefixed with util-linux `prlimit` when the current soft limit is lower. Raising the hard
 * limit needs root; without it the soft limit goes up to the hard one. Unchanged if prlimit is missing.
 */
export function withOpenFiles(command: readonly string[], files: number): string[] {
  const { soft, hard } = openFilesLimit();
  if (soft >= files) return [...command];
  if (spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status !== 0) return [...command];
  const root = process.getuid?.() === 0;
  const limit = root ? Math.max(files, Number.isFinite(hard) ? hard : files) : Math.min(files, hard);
  return ['prlimit', `--nofile=${Math.min(files, limit)}:${limit}`, ...command];
}
