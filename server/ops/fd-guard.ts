/**
 * Stops accepting connections before the process runs out of file descriptors. At the limit, every
 * accept4 on the listen socket fails with EMFILE, and uWebSockets.js v20.30.0 retries at once, for
 * ever: the server spun a full core (0.96 cores measured with `prlimit --nofile=200` and 260 idle
 * connections), new clients hung, and a slowloris from one client could hold it there. So the number
 * of open descriptors is counted (from /proc, off the event loop) a few times a second, and the
 * server stops listening once it is within a reserve of the soft limit (new clients are refused at
 * once, the descriptors SQLite and the history workers need stay free), and listens again once
 * connections closed. Node raises the soft limit to the hard one at startup; the hard limit itself is
 * the operator's (`LimitNOFILE=` in systemd, `ulimit -n`): README "Production".
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './log.ts';

const CHECK_MS = 250;

export interface FdGuardOptions {
  /** Stop accepting new connections (close the listen socket). */
  pause(): void;
  /** Accept again; false when the port could not be listened on (retried at the next check). */
  resume(): boolean;
  registry: Registry;
  log: Logger;
  /** The soft limit; default: this process's, from /proc/self/limits. */
  limit?: number;
}

/** The soft RLIMIT_NOFILE of this process, or undefined where /proc does not tell. */
export function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts watching; returns the function that stops it. Does nothing where /proc is missing. */
export function guardFileDescriptors(opts: FdGuardOptions): () => void {
  const limit = opts.limit ?? openFileLimit();
  if (limit === undefined) return () => {};
  // Room for what the process opens besides client connections (database, WAL, workers, Redis).
  const reserve = Math.max(16, Math.ceil(limit * 0.05));
  const pauseAt = limit - reserve;
  const resumeAt = limit - 2 * reserve;
  let open = 0;
  let paused = false;
  let checking = false;
  new Gauge({
    name: 'canvas_open_fds',
    help: 'Open file descriptors of this process (sockets included)',
    registers: [opts.registry],
    collect() {
      this.set(open);
    },
  });
  new Gauge({
    name: 'canvas_accepting',
    help: '1 while the server accepts new connections; 0 while it is near its file descriptor limit',
    registers: [opts.registry],
    collect() {
      this.set(paused ? 0 : 1);
    },
  });
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      try {
        open = (await readdir('/proc/self/fd')).length;
      } catch (err) {
        // Reading the directory takes a descriptor too: none left means the limit is reached.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
        open = limit;
      }
      if (!paused && open >= pauseAt) {
        opts.pause();
        paused = true;
        opts.log.warn({ open, limit, reserve }, 'near the open file limit: not accepting new connections');
      } else if (paused && open <= resumeAt && opts.resume()) {
        paused = false;
        opts.log.info({ open, limit }, 'accepting new connections again');
      }
    } catch (err) {
      opts.log.debug({ err }, 'open file count failed');
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
