/**
 * Test fixtures: a real server on port 0 with a real SQLite file in a temp dir, and a real WebSocket
 * client (the `ws` package) that queues decoded frames so tests await events instead of sleeping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import UPNG from 'upng-js';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../protocol/codec.ts';
import type { ClientMessage, PngMsg, ServerMessage } from '../protocol/messages.ts';
import type { Canvas } from '../server/canvas/canvas.ts';
import { configWith, type Config } from '../server/config/config.ts';
import { createLogger } from '../server/ops/log.ts';
import { startServer, type RunningServer } from '../server/server.ts';
import { Store } from '../server/store/store.ts';
import { Rng } from './rng.ts';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'canvas-test-'));
}

export interface TestServer {
  server: RunningServer;
  config: Config;
  dir: string;
  http: string;
  ws: string;
  /** Closes the server (idempotent); keeps the temp dir so a restart can reuse it. */
  stop(): Promise<void>;
  /** Stops and deletes the temp dir. */
  dispose(): Promise<void>;
}

export async function startTestServer(overrides: Partial<Config> = {}, dir = tempDir()): Promise<TestServer> {
  const config = configWith({
    host: '127.0.0.1',
    port: 0,
    db: join(dir, 'canvas.db'),
    tickMs: 50,
    cooldownMs: 0,
    logLevel: 'silent',
    ...overrides,
  });
  const server = await startServer(config, createLogger(config.logLevel));
  const stop = () => server.close();
  return {
    server,
    config,
    dir,
    http: `http://127.0.0.1:${server.port}`,
    ws: `ws://127.0.0.1:${server.port}/ws`,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Waiter = {
  match: (m: ServerMessage) => boolean;
  resolve: (m: ServerMessage) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
};

export class TestClient {
  readonly socket: WebSocket;
  /** Every decoded frame received, in order. */
  readonly received: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Frames not yet taken by `next`, in arrival order. */
  private unclaimed: ServerMessage[] = [];
  private waiters: Waiter[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer) => {
      const msg = decodeServerMessage(new Uint8Array(data));
      this.received.push(msg);
      const waiter = this.waiters.find((w) => w.match(msg));
      if (!waiter) {
        this.unclaimed.push(msg);
        return;
      }
      this.waiters = this.waiters.filter((w) => w !== waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(msg);
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** `from` picks the loopback source address (127.0.0.2, ...) so one machine can be many clients. */
  static connect(url: string, opts: { from?: string; cookie?: string } = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        ...(opts.from ? { localAddress: opts.from } : {}),
        ...(opts.cookie ? { headers: { Cookie: opts.cookie } } : {}),
      });
      const client = new TestClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  send(msg: ClientMessage | Record<string, unknown>): void {
    this.socket.send(encodeMessage(msg as ClientMessage));
  }

  /**
   * Takes the oldest frame that matches and was not taken before, waiting for one if needed. Frames
   * that do not match stay available to later calls.
   */
  next<T extends ServerMessage = ServerMessage>(
    match: (m: ServerMessage) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<T> {
    const i = this.unclaimed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a message`));
      }, timeoutMs);
      this.waiters.push({ match, resolve: (m) => resolve(m as T), reject, timer });
    });
  }

  /** Next message of type t (the type guard keeps test code short). */
  nextOf<K extends ServerMessage['t']>(t: K, timeoutMs?: number): Promise<Extract<ServerMessage, { t: K }>> {
    return this.next((m) => m.t === t, timeoutMs);
  }

  /** Waits for a PNG frame whose seq is at least `seq`. */
  pngAtLeast(seq: number, timeoutMs?: number): Promise<PngMsg> {
    return this.next<PngMsg>((m) => m.t === 'png' && m.seq >= seq, timeoutMs);
  }

  close(): Promise<unknown> {
    this.socket.close();
    return this.closed;
  }
}

/**
 * Places each `[x, y, colour]` in order over one new socket to `url`, waits for every ack and closes
 * it; returns each placement's seq, in the list's order.
 */
export async function placeEach(
  url: string,
  list: ReadonlyArray<readonly [number, number, number]>,
): Promise<number[]> {
  const placer = await TestClient.connect(url);
  await placer.nextOf('hello');
  for (const [i, [x, y, c]] of list.entries()) placer.send({ t: 'place', id: i + 1, x, y, c });
  const seqs: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const ack = await placer.nextOf('ack');
    seqs[ack.id - 1] = ack.seq;
  }
  await placer.close();
  return seqs;
}

/** Decodes a PNG with upng-js and maps every pixel back to its palette index (throws if absent). */
export function decodeToIndices(
  png: Uint8Array,
  palette: readonly number[],
): { width: number; height: number; depth: number; ctype: number; grid: Uint8Array } {
  const bytes = new Uint8Array(png).buffer;
  const img = UPNG.decode(bytes);
  const rgba = new Uint8Array(UPNG.toRGBA8(img)[0] as ArrayBuffer);
  const lookup = new Map(palette.map((rgb, i) => [rgb, i]));
  const grid = new Uint8Array(img.width * img.height);
  for (let p = 0; p < grid.length; p++) {
    const rgb = ((rgba[p * 4] as number) << 16) | ((rgba[p * 4 + 1] as number) << 8) | (rgba[p * 4 + 2] as number);
    const idx = lookup.get(rgb);
    if (idx === undefined) throw new Error(`pixel ${p} has colour ${rgb.toString(16)} not in the palette`);
    grid[p] = idx;
  }
  return { width: img.width, height: img.height, depth: img.depth, ctype: img.ctype, grid };
}

export async function fetchImageGrid(ts: TestServer): Promise<Uint8Array> {
  const res = await fetch(`${ts.http}/image`);
  return decodeToIndices(new Uint8Array(await res.arrayBuffer()), ts.config.palette).grid;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: () => Record<string, unknown>;
}

/**
 * A plain HTTP request (node:http, so the source address can be chosen like a second machine).
 * `fresh`: on a connection of its own, closed after the answer (a writer that changes role listens
 * anew on its port, and a kept-alive connection would stay with the listener it had).
 */
export function httpRequest(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; from?: string; fresh?: boolean } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        localAddress: opts.from,
        ...(opts.fresh ? { agent: false } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Test-only shortcut: fills a canvas with seeded noise in 16 colours, so a 1000 x 1000 PNG is ~500 KB
 * and a paused reader fills its kernel buffers within a few ticks. Written in bulk, so every cell is
 * marked changed: the next tick packs it all.
 */
export function fillNoise(canvas: Pick<Canvas, 'width' | 'height' | 'paint'>, seed: number): void {
  const rng = new Rng(seed);
  const grid = new Uint8Array(canvas.width * canvas.height);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.u32() & 15;
  canvas.paint(grid);
}

/**
 * A Store on a fresh SQLite file in a temp dir (WAL, synchronous NORMAL, no busy wait) and the canvas
 * it loads, for unit tests below the server. `close` closes the store and deletes the dir: call it
 * from `t.after` after closing whatever writes to the store.
 */
export function openTestStore(width: number, height: number, paletteSize = 16) {
  const dir = tempDir();
  const dbPath = join(dir, 'canvas.db');
  const store = Store.open({ path: dbPath, width, height, paletteSize, synchronous: 'NORMAL', busyTimeoutMs: 0 });
  const loaded = store.load(paletteSize);
  const { canvas } = loaded;
  canvas.track();
  const close = () => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, dbPath, store, loaded, canvas, close };
}

/** Every cell's last seq, row by row (tests compare it whole; the canvas keeps it in chunks). */
export function seqsOf(canvas: Pick<Canvas, 'width' | 'height' | 'lastSeqAt'>): Uint32Array {
  const out = new Uint32Array(canvas.width * canvas.height);
  for (let y = 0; y < canvas.height; y++)
    for (let x = 0; x < canvas.width; x++) out[y * canvas.width + x] = canvas.lastSeqAt(x, y);
  return out;
}
