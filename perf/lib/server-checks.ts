/** Checks on a server under test: where it runs, whether /image is current, what it stored. */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import type { ServerUnderTest } from './server-process.ts';

/** Where the kernel lets process `pid` run, and its cgroup, for the notes. */
export function placement(pid: number): { cpus: string; inGroup: boolean } {
  const cpus = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  return { cpus, inGroup: readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes('canvasbench') };
}

/** Waits until /image carries the latest seq (the next tick after the fill), at most 10 s. */
export async function waitForFreshImage(server: ServerUnderTest): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { seq } = (await (await fetch(`${server.http}/healthz`)).json()) as { seq: number };
    const res = await fetch(`${server.http}/image`, { method: 'HEAD' });
    if (res.headers.get('etag')?.endsWith(`-${seq}"`)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** GET `url` (an /image): its bytes and the headers a baseline must reproduce; fails unless a 200 PNG. */
export async function fetchImage(url: string): Promise<{ png: Buffer; etag: string; cacheControl: string }> {
  const res = await fetch(url);
  if (res.status !== 200 || res.headers.get('content-type') !== 'image/png')
    throw new Error(`GET ${url}: ${res.status} ${res.headers.get('content-type')}`);
  return {
    png: Buffer.from(await res.arrayBuffer()),
    etag: res.headers.get('etag') ?? '"none"',
    cacheControl: res.headers.get('cache-control') ?? 'public, max-age=1',
  };
}

/** Rows in the placements table of a closed database: every acked placement must be one. */
export function countPlacements(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM placements').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
