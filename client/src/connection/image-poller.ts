/**
 * Fallback when the WebSocket cannot be opened at all (a proxy that blocks upgrades): GET /image once
 * per second with If-None-Match, so an unchanged canvas costs a 304 and no body. View only: placing
 * needs the WebSocket.
 */

export interface ImageResponse {
  status: number;
  etag: string | null;
  body: Uint8Array | null;
}

export interface PollerDeps {
  fetchImage(ifNoneMatch: string | null): Promise<ImageResponse>;
  setTimer(fn: () => void, ms: number): () => void;
  intervalMs?: number;
}

export class ImagePoller {
  onImage: (png: Uint8Array, seq: number | null) => void = () => {};
  onResult: (ok: boolean) => void = () => {};
  private etag: string | null = null;
  private cancelTimer: (() => void) | null = null;
  private running = false;
  /** Bumped by stop(), so a request that finishes after stop() is ignored. */
  private generation = 0;

  constructor(private readonly deps: PollerDeps) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll(this.generation);
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private async poll(generation: number): Promise<void> {
    let ok = false;
    try {
      const res = await this.deps.fetchImage(this.etag);
      if (generation !== this.generation) return;
      if (res.status === 200 && res.body) {
        this.etag = res.etag;
        this.onImage(res.body, seqFromEtag(res.etag));
        ok = true;
      } else {
        ok = res.status === 304;
      }
    } catch {
      ok = false; // server down or network gone: keep polling, the status says so
    }
    if (generation !== this.generation) return;
    this.onResult(ok);
    // Sequential, not setInterval: a slow response never piles up requests behind it.
    this.cancelTimer = this.deps.setTimer(() => void this.poll(generation), this.deps.intervalMs ?? 1000);
  }
}

/** The server's ETag is "<canvas-id>-<seq>" (PROTOCOL.md); null for any other shape. */
export function seqFromEtag(etag: string | null): number | null {
  const m = etag?.match(/-(\d+)"$/);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/** fetchImage for the browser: bypasses the HTTP cache so our own If-None-Match decides. */
export async function browserFetchImage(ifNoneMatch: string | null): Promise<ImageResponse> {
  const headers: Record<string, string> = {};
  if (ifNoneMatch) headers['If-None-Match'] = ifNoneMatch;
  const res = await fetch('/image', { headers, cache: 'no-store' });
  const body = res.status === 200 ? new Uint8Array(await res.arrayBuffer()) : null;
  return { status: res.status, etag: res.headers.get('ETag'), body };
}
