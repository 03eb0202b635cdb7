/** What the figures were measured on: machine, kernel, runtime and library versions. */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './server-process.ts';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  packages: Record<string, string>;
  sqlite: string;
  /** Git commit of the code measured, and whether server/ or protocol/ had uncommitted changes. */
  revision: string;
}

const cpuModel = () => /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';

/** Installed version of a dependency, read from its package.json (exports may hide it from require). */
function installed(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    return pkg.name === name ? pkg.version : `${pkg.name}@${pkg.version}`;
  } catch {
    return 'not installed';
  }
}

const sqliteVersion = () => new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get() as string;

function revision(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'server', 'protocol', 'package.json').stdout.trim();
  return `${head.stdout.trim()}${dirty ? ' plus uncommitted changes in server/, protocol/ or package.json' : ''}`;
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    // Not availableParallelism(): the harness pins itself to one CPU, and that honours the affinity.
    nproc: cpus().length,
    cpuModel: cpuModel(),
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: release(),
    node: process.version,
    packages: Object.fromEntries(
      ['uWebSockets.js', 'better-sqlite3', 'msgpackr', 'upng-js', 'ws', 'tsx'].map((n) => [n, installed(n)]),
    ),
    sqlite: sqliteVersion(),
    revision: revision(),
  };
}
