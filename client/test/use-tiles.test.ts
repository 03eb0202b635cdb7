/**
 * A whole-canvas page told `use_tiles` (the canvas grew past 4096 a side under it) goes on in tile
 * mode at the new size: the app's routing, with every part of the page injected (no DOM).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMessage, parseClientMessage } from '../../protocol/codec.ts';
import {
  type ClientMessage,
  ErrorCode,
  MsgType,
  PROTOCOL_VERSION,
  type ServerMessage,
  Stream,
} from '../../protocol/messages.ts';
import { type AppDeps, CanvasApp, type TileSource } from '../src/app.ts';
import type { Board } from '../src/board/board.ts';
import type { ConnectionStatus } from '../src/connection/connection.ts';
import type { TileAnswer } from '../src/tiles/tile-sync.ts';

const PALETTE = [0xffffff, 0x000000, 0xff0000, 0x0000ff];

/** Accepts any call and property read (the parts of the page this test does not look at). */
function anything(): never {
  const f: () => unknown = () => proxy;
  const proxy: unknown = new Proxy(f, { get: (_t, key) => (key === 'then' ? undefined : proxy), apply: () => proxy });
  return proxy as never;
}

function rig(source: () => Promise<TileSource | null>) {
  const sent: ClientMessage[] = [];
  const boards: Board[] = [];
  const asked: string[] = [];
  const messages: string[] = [];
  let tileMode = false;
  const connection = {
    onMessage: (_bytes: Uint8Array) => {},
    onStatus: (_s: ConnectionStatus) => {},
    status: { kind: 'open' } as ConnectionStatus,
    start: () => {},
    retryNow: () => {},
    send: (bytes: Uint8Array) => {
      const parsed = parseClientMessage(bytes);
      assert.ok(parsed.ok);
      sent.push(parsed.msg);
      return true;
    },
  };
  const poller = { onImage: () => {}, onResult: () => {}, active: false, start: () => {}, stop: () => {} };
  const renderer = new Proxy(
    {
      setBoard: (b: Board) => boards.push(b),
    },
    { get: (t, key) => (key in t ? t[key as keyof typeof t] : anything()) },
  );
  const ui = new Proxy(
    { showMessage: (text: string) => messages.push(text) },
    { get: (t, key) => (key in t ? t[key as keyof typeof t] : anything()) },
  );
  const deps = {
    ui,
    renderer,
    decoder: { decode: async () => null },
    connection,
    poller,
    viewportSize: () => ({ w: 390, h: 844 }),
    now: () => 0,
    link: { read: () => '', write: () => {} },
    info: { show: () => {}, hide: () => {} },
    confirm: { show: () => {}, onConfirm: () => {} },
    tileSource: source,
    tileModeStarted: () => {
      tileMode = true;
    },
  } as unknown as AppDeps;
  const app = new CanvasApp(deps);
  const deliver = (m: ServerMessage): void => connection.onMessage(encodeMessage(m));
  return { app, sent, boards, asked, messages, deliver, tileMode: () => tileMode };
}

function source(width: number, height: number, asked: string[]): TileSource {
  return {
    layout: { width, height, tileSize: 256, maxLevel: Math.ceil(Math.log2(Math.max(width, height) / 256)) },
    palette: PALETTE,
    seq: 42,
    fetchTile: (level, tx, ty): Promise<TileAnswer> => {
      asked.push(`${level}/${tx}/${ty}`);
      return new Promise(() => {}); // never answers: this test is about the switch
    },
    setTimer: () => () => {},
    devicePixelRatio: () => 1,
    canvasSeq: async () => 42,
  };
}

const hello = (width: number, height: number): ServerMessage => ({
  t: MsgType.HELLO,
  v: PROTOCOL_VERSION,
  width,
  height,
  palette: PALETTE,
  seq: 10,
  tickMs: 1000,
  cooldownMs: 0,
  stream: Stream.DELTA,
  streams: [Stream.DELTA, Stream.PNG],
  you: 'someone',
  online: 1,
});

test('a whole-canvas page told use_tiles re-reads GET /api/canvas and goes on in tile mode at the new size', async () => {
  const asked: string[] = [];
  let reads = 0;
  const r = rig(async () => {
    reads++;
    return source(8192, 6000, asked);
  });
  r.deliver(hello(1000, 1000));
  assert.equal(r.app.tileSync, null);
  assert.equal(r.app.sync.board?.width, 1000);
  assert.equal(r.app.sync.board?.cells.chunked, false, 'whole-canvas mode: one grid');
  // The canvas grew past 4096: the resize (for opted-in clients), then use_tiles with no id.
  r.deliver({ t: MsgType.RESIZE, seq: 11, width: 8192, height: 6000, left: 0, top: 0 });
  r.deliver({ t: MsgType.ERROR, code: ErrorCode.USE_TILES, message: 'the canvas is served as tiles' });
  // A second one while GET /api/canvas is in flight asks nothing more.
  r.deliver({ t: MsgType.ERROR, code: ErrorCode.USE_TILES, message: 'the canvas is served as tiles' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reads, 1);
  assert.ok(r.app.tileSync, 'tile mode');
  assert.ok(r.tileMode(), 'the page was told (its poll reads GET /api/canvas now)');
  const board = r.app.sync.board;
  assert.ok(board);
  assert.deepEqual([board.width, board.height], [8192, 6000]);
  assert.equal(board.cells.chunked, true, 'cells in blocks: nothing allocated for 8192 x 6000');
  assert.equal(board.cells.allocatedBlocks, 0);
  assert.equal(r.boards.at(-1), board, 'the renderer draws the new board');
  // On the same connection: the new board's region subscribed at once, its tiles asked.
  const sub = r.sent.find((m) => m.t === MsgType.SUBSCRIBE);
  assert.ok(sub && sub.t === MsgType.SUBSCRIBE && sub.stream === 'delta' && sub.tw !== undefined);
  assert.equal(r.app.sync.nextSince(), 42, 'a reconnect resumes from GET /api/canvas seq');
  // Tile mode ignores later use_tiles (a large canvas's hello says it).
  r.deliver({ t: MsgType.ERROR, code: ErrorCode.USE_TILES, message: 'the canvas is served as tiles' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reads, 1);
  assert.equal(r.app.sync.board, board);
  assert.deepEqual(r.messages, []);
});

test('when GET /api/canvas does not answer, the page says so instead of showing a stale canvas as live', async () => {
  const r = rig(async () => null);
  r.deliver(hello(1000, 1000));
  r.deliver({ t: MsgType.ERROR, code: ErrorCode.USE_TILES, message: 'the canvas is served as tiles' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(r.app.tileSync, null);
  assert.equal(r.messages.length, 1);
  assert.match(r.messages[0] ?? '', /reload the page/);
});
