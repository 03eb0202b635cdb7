/**
 * `GET /image` as tests and the reliability suite read it: the bytes, the ETag and the seq it names
 * ("<canvas-id>-<seq>"), and waiting until a server shows at least a seq (ticks are at most a second
 * apart).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Image {
  png: Uint8Array;
  etag: string;
  seq: number;
  /** How long the request took. */
  ms: number;
}

export async function image(http: string): Promise<Image> {
  const started = performance.now();
  const res = await fetch(`${http}/image`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`${http}/image answered ${res.status}`);
  const png = new Uint8Array(await res.arrayBuffer());
  const etag = res.headers.get('etag') ?? '';
  const seq = Number(/-(\d+)"$/.exec(etag)?.[1] ?? Number.NaN);
  return { png, etag, seq, ms: performance.now() - started };
}

/** Polls /image until its seq is at least `seq`. */
export async function imageAtLeast(http: string, seq: number, timeoutMs = 15_000): Promise<Image> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const img = await image(http);
    if (img.seq >= seq) return img;
    if (Date.now() > deadline)
      throw new Error(`${http}/image still at seq ${img.seq} after ${timeoutMs} ms, want ${seq}`);
    await sleep(20);
  }
}

/** Polls /image until it shows exactly `seq` (for comparing servers at the same moment). */
export async function imageAt(http: string, seq: number, timeoutMs = 15_000): Promise<Image> {
  const img = await imageAtLeast(http, seq, timeoutMs);
  if (img.seq !== seq) throw new Error(`${http}/image jumped to ${img.seq}, want ${seq}`);
  return img;
}
