/** /image probes shared by the writer/edge tests: wait until a server shows at least a seq. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Image {
  png: Uint8Array;
  etag: string;
  /** The seq the ETag names ("<canvas-id>-<seq>"). */
  seq: number;
}

export async function image(http: string): Promise<Image> {
  const res = await fetch(`${http}/image`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`${http}/image answered ${res.status}`);
  const etag = res.headers.get('etag') ?? '';
  return { png: new Uint8Array(await res.arrayBuffer()), etag, seq: Number(/-(\d+)"$/.exec(etag)?.[1] ?? Number.NaN) };
}

/** Polls /image until its seq is at least `seq` (ticks are at most a second apart). */
export async function imageAtLeast(http: string, seq: number, timeoutMs = 10_000): Promise<Image> {
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
export async function waitForImage(http: string, seq: number, timeoutMs = 10_000): Promise<Image> {
  const img = await imageAtLeast(http, seq, timeoutMs);
  if (img.seq !== seq) throw new Error(`${http}/image jumped to ${img.seq}, want ${seq}`);
  return img;
}
