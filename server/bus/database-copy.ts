/**
 * A copy of the leader's database for a standby the replicated log cannot bring up to date: one
 * started empty beside a leader whose log was trimmed (`--log-max-len`), or one further behind than
 * the log reaches. Through Redis, so a standby needs nothing but the Redis it already uses:
 *
 * 1. The standby sets `P:copy:req` to a fresh id (expires after COPY_IDLE_MS unless renewed).
 * 2. The leader takes the request (GETDEL: one copy at a time), writes a consistent copy of its
 *    database with `VACUUM INTO` in a thread (store/copy-worker.ts: one read snapshot in WAL mode,
 *    commits go on), sets `P:copy:ID:meta` to the copy's size and last seq, and pushes the file in
 *    chunks of CHUNK_BYTES onto the list `P:copy:ID`, never more than IN_FLIGHT chunks ahead of the
 *    standby (Redis holds at most ~2 MB of it at any time, whatever the database's size).
 * 3. The standby pops the chunks into `<db>.copy`, and once it has them all the caller puts that
 *    file in place of its database and follows the log from the copy's seq (writer.ts).
 *
 * Either side gives up when the other makes no progress for COPY_IDLE_MS; every key expires by itself.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../ops/log.ts';
import { startWorker } from '../ops/worker-thread.ts';
import type { CopyReport, CopyWorkerData } from '../store/copy-worker.ts';
import type { RedisLink } from './redis-link.ts';

/** Below Redis's 512 MB string limit by far, and small enough that one push or pop is ~1 ms. */
const CHUNK_BYTES = 256 * 1024;
/** Chunks the leader pushes ahead of the standby's pops. */
const IN_FLIGHT = 8;
/** A side that sees no progress from the other for this long gives up (and the keys expire). */
const COPY_IDLE_MS = 30_000;
/** How often the leader looks for a request, and a waiting side looks again. */
const LOOK_MS = 250;
const WAIT_MS = 20;

const WORKER = new URL('../store/copy-worker.ts', import.meta.url);

export interface CopyKeys {
  request: string;
  chunks: (id: string) => string;
  meta: (id: string) => string;
}

export function copyKeys(prefix: string): CopyKeys {
  return {
    request: `${prefix}:copy:req`,
    chunks: (id) => `${prefix}:copy:${id}`,
    meta: (id) => `${prefix}:copy:${id}:meta`,
  };
}

/** What the leader says of a copy before its chunks: its bytes and the last seq it holds. */
interface CopyMeta {
  size: number;
  seq: number;
}

function decodeMeta(text: string | null): CopyMeta | undefined {
  if (text === null) return undefined;
  try {
    const m = JSON.parse(text) as Partial<CopyMeta>;
    const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    return ok(m.size) && ok(m.seq) ? { size: m.size, seq: m.seq } : undefined;
  } catch {
    return undefined;
  }
}

/** `VACUUM INTO` in a thread; resolves with the copy's last seq. */
function vacuumInto(path: string, into: string, busyTimeoutMs: number): Promise<number> {
  const data: CopyWorkerData = { path, into, busyTimeoutMs };
  const worker = startWorker(WORKER, data);
  return new Promise((resolve, reject) => {
    worker.once('message', (r: CopyReport) => (r.t === 'copied' ? resolve(r.seq) : reject(new Error(r.message))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`copy thread exited (${code}) without a copy`)));
  });
}

/** The leader's side: answers standbys' requests, one copy at a time, while `start`ed. */
export class CopyServer {
  private timer: NodeJS.Timeout | undefined;
  private serving = false;
  private stopped = false;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: CopyKeys,
    private readonly dbPath: string,
    private readonly busyTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.look(), LOOK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private look(): void {
    if (this.serving || this.stopped || !this.link.up) return;
    this.serving = true;
    this.link.redis
      .getdel(this.keys.request)
      .then((id) => (id && /^[0-9a-f]{16}$/.test(id) ? this.serve(id) : undefined))
      .catch((err: unknown) => this.log.error({ err }, 'database copy for a standby failed'))
      .finally(() => {
        this.serving = false;
      });
  }

  private async serve(id: string): Promise<void> {
    const { redis } = this.link;
    const started = performance.now();
    const into = `${this.dbPath}.copy-${id}`;
    rmSync(into, { force: true });
    try {
      const seq = await vacuumInto(this.dbPath, into, this.busyTimeoutMs);
      const size = statSync(into).size;
      this.log.info({ id, seq, bytes: size }, 'a standby asked for a database copy: sending it through Redis');
      await redis.set(this.keys.meta(id), JSON.stringify({ size, seq } satisfies CopyMeta), 'PX', COPY_IDLE_MS);
      const fd = openSync(into, 'r');
      try {
        const chunk = Buffer.alloc(CHUNK_BYTES);
        let sent = 0;
        let progressAt = performance.now();
        while (sent < size) {
          if (this.stopped) throw new Error('no longer the leader');
          if (performance.now() - progressAt > COPY_IDLE_MS) throw new Error('the standby stopped taking chunks');
          if ((await redis.llen(this.keys.chunks(id))) >= IN_FLIGHT) {
            await sleep(WAIT_MS);
            continue;
          }
          const n = readSync(fd, chunk, 0, CHUNK_BYTES, sent);
          await redis
            .multi()
            .rpush(this.keys.chunks(id), chunk.subarray(0, n))
            .pexpire(this.keys.chunks(id), COPY_IDLE_MS)
            .exec();
          sent += n;
          progressAt = performance.now();
        }
      } finally {
        closeSync(fd);
      }
      this.log.info({ id, seq, bytes: size, ms: Math.round(performance.now() - started) }, 'database copy sent');
    } finally {
      rmSync(into, { force: true });
    }
  }
}

/**
 * The standby's side: asks the leader for a copy and writes it to `into`; resolves with the copy's
 * last seq once the whole file is there (fsynced). Throws when the leader does not answer or stops
 * sending for COPY_IDLE_MS.
 */
export async function fetchCopy(link: RedisLink, keys: CopyKeys, into: string, log: Logger): Promise<number> {
  const { redis } = link;
  const id = randomBytes(8).toString('hex');
  await redis.set(keys.request, id, 'PX', COPY_IDLE_MS);
  log.warn({ id }, 'the replicated log cannot bring this database up to date: asking the leader for a copy');
  let meta: CopyMeta | undefined;
  let progressAt = performance.now();
  while (!meta) {
    if (performance.now() - progressAt > COPY_IDLE_MS) throw new Error('no leader answered the copy request');
    await sleep(LOOK_MS);
    meta = decodeMeta(await redis.get(keys.meta(id)));
  }
  rmSync(into, { force: true });
  const fd = openSync(into, 'w');
  try {
    let got = 0;
    progressAt = performance.now();
    while (got < meta.size) {
      if (performance.now() - progressAt > COPY_IDLE_MS) throw new Error('the leader stopped sending the copy');
      const chunks = (await redis.lpopBuffer(keys.chunks(id), IN_FLIGHT)) as Buffer[] | null;
      if (!chunks || chunks.length === 0) {
        await sleep(WAIT_MS);
        continue;
      }
      for (const c of chunks) {
        writeSync(fd, c, 0, c.length, got);
        got += c.length;
      }
      progressAt = performance.now();
    }
    if (got !== meta.size) throw new Error(`the copy has ${got} bytes, the leader sent ${meta.size}`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(into, { force: true });
    throw err;
  }
  closeSync(fd);
  await redis.del(keys.meta(id), keys.chunks(id)).catch(() => undefined);
  log.info({ id, seq: meta.seq, bytes: meta.size }, 'received a copy of the leader database');
  return meta.seq;
}
