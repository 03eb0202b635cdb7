/**
 * A filesystem that fills up on demand, for the storage-fault part. As root: a small tmpfs mounted
 * on a temp dir, filled with a filler file until ENOSPC and freed by deleting it. Where mounting is
 * not permitted (or TORTURE_DISK_FAULT=fsize): the server's RLIMIT_FSIZE, lowered with `prlimit` to
 * the database files' current size (writes past it fail with EFBIG; Node ignores SIGXFSZ) and lifted
 * again. Every mount is unmounted however the run ends.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { onAbort, tempDir } from './common.ts';

export interface DiskFault {
  /** How the fault is made, for the report. */
  readonly method: string;
  /** Where the database lives. */
  readonly dir: string;
  /** Makes the next write that grows a file fail. `pid` is the server's. */
  fill(pid: number): void;
  clear(pid: number): void;
  cleanup(): void;
}

const TMPFS_BYTES = 16 << 20;

function run(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: `${r.stderr ?? ''}${r.error?.message ?? ''}`.trim() };
}

function tmpfs(): DiskFault | undefined {
  const tmp = tempDir('disk');
  const mounted = run('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES},mode=0700`, 'tmpfs', tmp.dir]);
  if (!mounted.ok) {
    tmp.remove();
    return undefined;
  }
  const unmount = () => {
    run('umount', ['-l', tmp.dir]);
    tmp.remove();
  };
  const forget = onAbort(unmount);
  const filler = join(tmp.dir, 'filler');
  return {
    method: `tmpfs of ${TMPFS_BYTES >> 20} MiB filled with a filler file (mount -t tmpfs)`,
    dir: tmp.dir,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        // Big chunks first, then smaller ones, so the last free block is taken too.
        for (let chunk = 1 << 20; chunk >= 512; chunk >>= 1) {
          const buf = Buffer.alloc(chunk, 0xaa);
          try {
            for (;;) writeSync(fd, buf);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    clear() {
      unlinkSync(filler);
    },
    cleanup() {
      forget();
      unmount();
    },
  };
}

function fsizeLimit(why: string): DiskFault {
  const tmp = tempDir('disk');
  const largest = () => Math.max(...readdirSync(tmp.dir).map((f) => statSync(join(tmp.dir, f)).size));
  const prlimit = (pid: number, value: string) => {
    const r = run('prlimit', ['--pid', String(pid), `--fsize=${value}`]);
    if (!r.ok) throw new Error(`prlimit failed: ${r.err}`);
  };
  return {
    method: `RLIMIT_FSIZE of the server lowered to the largest database file with prlimit (${why})`,
    dir: tmp.dir,
    fill: (pid) => prlimit(pid, `${largest()}:unlimited`),
    clear: (pid) => prlimit(pid, 'unlimited:unlimited'),
    cleanup: () => tmp.remove(),
  };
}

/** The best fault available here: tmpfs as root, else the file size limit. */
export function makeDiskFault(): DiskFault {
  if (process.env['TORTURE_DISK_FAULT'] === 'fsize') return fsizeLimit('forced by TORTURE_DISK_FAULT=fsize');
  return tmpfs() ?? fsizeLimit('mounting a tmpfs is not permitted here');
}
