/**
 * What the history tests share: a real Store on a SQLite file in a temp dir, filled through
 * Store.commit exactly as the committer writes (consecutive seqs, prev_seq links, the canvas applied
 * after the commit); a real uWS app on port 0 with only the history routes (server.ts wires them in
 * production); and the test's own record of every placement, to replay independently.
 */
import UPNG from 'upng-js';
import { PALETTE_2017 } from '../config/palette.ts';
import { Keyframes } from '../history/keyframes.ts';
import { HistoryService, type HistoryServiceOptions } from '../history/history-service.ts';
import { HttpGuard, Router } from '../http/guard.ts';
import { answerHistory, HistoryAnswers } from '../history/history-answers.ts';
import { registerHistoryRoutes } from '../http/history-routes.ts';
import { ipRangeList, parseIpRanges } from '../identity/client-address.ts';
import { makeRequestIdentity } from '../identity/request-identity.ts';
import { IdentityIssuer } from '../identity/tokens.ts';
import { createLogger } from '../ops/log.ts';
import { listenPort, uws } from '../ops/uws-backend.ts';
import type { PlacementRow } from '../store/store.ts';
import { Rng } from '../../testkit/rng.ts';
import { openTestStore } from '../../testkit/fixture.ts';
import { MintLimit } from '../identity/mint-limit.ts';

export interface Placed {
  seq: number;
  x: number;
  y: number;
  color: number;
  at: number;
  who: string;
}

export interface RigOptions {
  width: number;
  height: number;
  keyframeEvery?: number;
  service?: Partial<HistoryServiceOptions>;
}

export type Rig = Awaited<ReturnType<typeof startHistoryRig>>;

export async function startHistoryRig(opts: RigOptions) {
  const { width, height } = opts;
  const palette = PALETTE_2017;
  const ts = openTestStore(width, height, palette.length);
  const placed: Placed[] = [];
  const keyframes = new Keyframes(ts.store.db, width, height, { every: opts.keyframeEvery ?? 50 });
  let history = new HistoryService(ts.store.db, {
    dbPath: ts.dbPath,
    width,
    height,
    palette,
    pngLevel: 6,
    ...opts.service,
  });
  const app = uws.App();
  const router = new Router(app, new HttpGuard(createLogger('silent')));
  // A getter, so a test can swap the service (as after a restart) under the same routes.
  const answers = new HistoryAnswers({
    get history() {
      return history;
    },
    canvasId: ts.store.canvasId,
    canvas: ts.canvas,
  });
  // Loopback is a trusted proxy, so a test speaks for another client with X-Forwarded-For (as behind nginx).
  const identify = makeRequestIdentity(
    new IdentityIssuer(Buffer.alloc(32, 7)),
    {
      trustedProxies: ipRangeList(parseIpRanges('127.0.0.1/32')),
      ipv4Prefix: 32,
      ipv6Prefix: 64,
    },
    new MintLimit(0),
  );
  registerHistoryRoutes(router, { history: (req, done) => answerHistory(answers, req, done) }, identify);
  const socket = await new Promise<Parameters<typeof uws.us_listen_socket_close>[0] | false>((resolve) =>
    app.listen('127.0.0.1', 0, resolve),
  );
  if (!socket) throw new Error('cannot listen');
  const url = `http://127.0.0.1:${listenPort(socket)}`;

  /** Commits one batch (one transaction, like the committer), then applies it to the canvas. */
  const commit = (cells: ReadonlyArray<{ x: number; y: number; color: number }>, at: number, who = 'tester'): void => {
    const rows: PlacementRow[] = cells.map((c, i) => {
      const seq = ts.canvas.seq + 1 + i;
      return { ...c, who, addr: '', nextAt: 0, seq, at, prevSeq: 0 };
    });
    ts.store.commit(rows);
    for (const r of rows) {
      ts.canvas.apply(r.x, r.y, r.color, r.seq);
      placed.push({ seq: r.seq, x: r.x, y: r.y, color: r.color, at: r.at, who: r.who });
    }
  };

  /** `count` random placements in batches of up to 37, one ms apart per batch from `startAt`. */
  const placeRandom = (count: number, seed: number, startAt = 1_700_000_000_000): void => {
    const rng = new Rng(seed);
    let at = placed.at(-1)?.at ?? startAt;
    for (let left = count; left > 0; ) {
      const n = Math.min(left, 1 + rng.int(37));
      const cells = Array.from({ length: n }, () => ({
        x: rng.int(width),
        y: rng.int(height),
        color: rng.int(palette.length),
      }));
      commit(cells, ++at);
      left -= n;
    }
  };

  /** The grid after `seq`, replayed from the test's own record (independent of history/). */
  const expectedAt = (seq: number): Uint8Array => {
    const grid = new Uint8Array(width * height);
    for (const p of placed) {
      if (p.seq > seq) break;
      grid[p.y * width + p.x] = p.color;
    }
    return grid;
  };

  return {
    ...ts,
    url,
    palette,
    placed,
    keyframes,
    get history() {
      return history;
    },
    commit,
    placeRandom,
    expectedAt,
    /** Replaces the history service (e.g. after reopening the store). */
    setHistory(next: HistoryService) {
      history = next;
    },
    async close() {
      uws.us_listen_socket_close(socket);
      await keyframes.stop();
      await history.close();
      ts.close();
    },
  };
}

/** Every frame of a PNG or APNG as palette indices (upng-js composites APNG frames into full RGBA). */
export function decodeFrames(
  png: Uint8Array,
  palette: readonly number[],
): { width: number; height: number; frames: Uint8Array[]; delays: number[] } {
  const img = UPNG.decode(new Uint8Array(png).buffer);
  const lookup = new Map(palette.map((rgb, i) => [rgb, i]));
  const frames = UPNG.toRGBA8(img).map((buf) => {
    const rgba = new Uint8Array(buf);
    const grid = new Uint8Array(img.width * img.height);
    for (let p = 0; p < grid.length; p++) {
      const rgb = ((rgba[p * 4] as number) << 16) | ((rgba[p * 4 + 1] as number) << 8) | (rgba[p * 4 + 2] as number);
      const idx = lookup.get(rgb);
      if (idx === undefined || rgba[p * 4 + 3] !== 255) throw new Error(`pixel ${p} is not an opaque palette colour`);
      grid[p] = idx;
    }
    return grid;
  });
  return { width: img.width, height: img.height, frames, delays: img.frames.map((f) => f.delay) };
}

/** GET as bytes, with status and headers. */
export async function getBytes(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** GET a JSON error answer. */
export async function getError(
  url: string,
  init: { headers?: Record<string, string> } = {},
): Promise<{ status: number; error: string; message: string; retryAfter: string | null }> {
  const res = await fetch(url, init);
  const body = (await res.json()) as { error: string; message: string };
  return { status: res.status, error: body.error, message: body.message, retryAfter: res.headers.get('retry-after') };
}
