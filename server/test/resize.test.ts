/**
 * POST /api/admin/resize on a real server: the canvas grows right/down and left/top with every pixel
 * kept (checked against a replay of the stored history and against the test's own model), clients of
 * both streams follow within a tick, the past keeps its size, a restart with the first flags starts
 * at the grown size, bad sizes are refused with nothing changed, and a resize under placement load
 * loses no acknowledged placement.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeltaMsg, PngMsg, ResizeMsg } from '../../protocol/messages.ts';
import { applyDeltaPixels } from '../../protocol/delta.ts';
import { growCells } from '../canvas/canvas-size.ts';
import {
  decodeToIndices,
  fetchImageGrid,
  httpRequest,
  startTestServer,
  TestClient,
  type TestServer,
} from '../../testkit/fixture.ts';
import { HistoryReader } from '../history/replay.ts';
import Database from 'better-sqlite3';
import UPNG from 'upng-js';
import { projectPng } from '../../testkit/projects.ts';
import { PALETTE_2017 } from '../config/palette.ts';

const PALETTE = 16;

async function identity(ts: TestServer): Promise<string> {
  return String((await httpRequest(`${ts.http}/api/session`, { method: 'POST' })).json()['token']);
}

async function place(ts: TestServer, token: string, x: number, y: number, color: number) {
  return httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x, y, color }),
    headers: { Cookie: `canvas_token=${token}` },
  });
}

function admin(ts: TestServer, path: string, body?: unknown) {
  return httpRequest(`${ts.http}/api/admin/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: { Authorization: 'Bearer sesame' },
  });
}

/** The grid the test expects: placements applied and resizes grown, as the server must. */
class Model {
  grid: Uint8Array;
  constructor(
    public width: number,
    public height: number,
  ) {
    this.grid = new Uint8Array(width * height);
  }
  place(x: number, y: number, c: number): void {
    this.grid[y * this.width + x] = c;
  }
  grow(width: number, height: number, left: number, top: number): void {
    this.grid = growCells(this.grid, this.width, this.height, { width, height, left, top });
    this.width = width;
    this.height = height;
  }
}

/** Places near every edge and corner of the canvas as the model has it, and in the middle. */
async function paint(ts: TestServer, token: string, m: Model, colour: number): Promise<number> {
  const { width: w, height: h } = m;
  const spots = [
    [0, 0],
    [w - 1, 0],
    [0, h - 1],
    [w - 1, h - 1],
    [Math.floor(w / 2), 0],
    [0, Math.floor(h / 2)],
    [Math.floor(w / 2), Math.floor(h / 2)],
  ] as const;
  let seq = 0;
  for (const [i, [x, y]] of spots.entries()) {
    const c = (colour + i) % PALETTE || 1;
    const res = await place(ts, token, x, y, c);
    assert.equal(res.status, 200, res.body);
    seq = Number(res.json()['seq']);
    m.place(x, y, c);
  }
  return seq;
}

async function servedGrid(ts: TestServer, seq: number): Promise<{ width: number; height: number; grid: Uint8Array }> {
  const c = await TestClient.connect(ts.ws);
  const png = await c.pngAtLeast(seq);
  await c.close();
  return decodeToIndices(png.png, ts.config.palette);
}

async function historyGrid(ts: TestServer, seq: number) {
  const res = await fetch(`${ts.http}/api/history/image?seq=${seq}`);
  assert.equal(res.status, 200);
  return decodeToIndices(new Uint8Array(await res.arrayBuffer()), ts.config.palette);
}

test('a resize right/down then left/top keeps every pixel, the past keeps its size, and a restart with the first flags starts grown', async (t) => {
  const ts = await startTestServer({ width: 20, height: 12, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const token = await identity(ts);
  const m = new Model(20, 12);
  const before = await paint(ts, token, m, 1);
  const atFirst = new Uint8Array(m.grid);

  const grow1 = await admin(ts, 'resize', { width: 30, height: 16 });
  assert.equal(grow1.status, 200, grow1.body);
  const seq1 = Number(grow1.json()['seq']);
  assert.equal(seq1, before + 1, 'a resize takes the next seq');
  m.grow(30, 16, 0, 0);
  const mid = await paint(ts, token, m, 5);
  const atMid = new Uint8Array(m.grid);

  const grow2 = await admin(ts, 'resize', { width: 40, height: 21, left: 7, top: 3 });
  assert.equal(grow2.status, 200, grow2.body);
  const seq2 = Number(grow2.json()['seq']);
  m.grow(40, 21, 7, 3);
  const last = await paint(ts, token, m, 9);

  const now = await servedGrid(ts, last);
  assert.deepEqual([now.width, now.height], [40, 21]);
  assert.deepEqual(now.grid, m.grid, 'the served canvas is the model: every pixel moved by left/top');
  assert.deepEqual(await fetchImageGrid(ts), m.grid);

  // The history: each seq has the size it had then.
  const h0 = await historyGrid(ts, before);
  assert.deepEqual([h0.width, h0.height, h0.grid], [20, 12, atFirst]);
  const h1 = await historyGrid(ts, mid);
  assert.deepEqual([h1.width, h1.height, h1.grid], [30, 16, atMid]);
  const hr = await historyGrid(ts, seq2);
  assert.deepEqual([hr.width, hr.height], [40, 21]);
  const h2 = await historyGrid(ts, last);
  assert.deepEqual(h2.grid, m.grid);

  // /api/canvas and a new socket's hello say the new size.
  const info = (await httpRequest(`${ts.http}/api/canvas`)).json();
  assert.deepEqual([info['width'], info['height']], [40, 21]);
  assert.deepEqual(info['resizes'], [
    { seq: seq1, width: 30, height: 16, left: 0, top: 0 },
    { seq: seq2, width: 40, height: 21, left: 7, top: 3 },
  ]);
  const late = await TestClient.connect(ts.ws);
  const hello = await late.nextOf('hello');
  assert.deepEqual([hello.width, hello.height], [40, 21]);
  await late.close();

  const audit = (await admin(ts, 'audit')).json()['entries'] as Array<Record<string, unknown>>;
  const resizes = audit.filter((e) => e['action'] === 'resize');
  assert.equal(resizes.length, 2);

  // Restart with the flags it was first started with: the grown canvas, exact.
  await ts.stop();
  const again = await startTestServer({ width: 20, height: 12, adminToken: 'sesame' }, ts.dir);
  t.after(() => again.stop());
  assert.deepEqual([again.server.canvas.width, again.server.canvas.height], [40, 21]);
  assert.equal(again.server.canvas.seq, last);
  assert.deepEqual(await fetchImageGrid(again), m.grid);

  // The stored history replays to the same grid (the replay the history endpoints use).
  const db = new Database(again.config.db, { readonly: true });
  t.after(() => db.close());
  const reader = new HistoryReader(db, 20, 12);
  assert.deepEqual(reader.canvasAt(last), m.grid);
  assert.deepEqual(reader.canvasAt(seq1 - 1), atFirst);
  assert.equal(reader.canvasAt(seq1).length, 30 * 16);
});

test('clients on the png and delta streams follow a resize within a tick; deltas after it use the new coordinates', async (t) => {
  const ts = await startTestServer({ width: 16, height: 16, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const token = await identity(ts);
  const m = new Model(16, 16);
  const seq0 = await paint(ts, token, m, 2);
  await servedGrid(ts, seq0);
  const pngClient = await TestClient.connect(`${ts.ws}?stream=png&resize=1`);
  const deltaClient = await TestClient.connect(`${ts.ws}?stream=delta&resize=1`);
  // A client that did not ask for `resize` (one written before it) gets only the frame of the new size.
  const older = await TestClient.connect(`${ts.ws}?stream=delta`);
  t.after(() => older.close());
  t.after(() => pngClient.close());
  t.after(() => deltaClient.close());
  await pngClient.pngAtLeast(seq0);
  await older.pngAtLeast(seq0);
  const start = await deltaClient.pngAtLeast(seq0);
  assert.equal(start.seq, seq0);

  const res = await admin(ts, 'resize', { width: 24, height: 20, left: 5, top: 2 });
  assert.equal(res.status, 200, res.body);
  const seq = Number(res.json()['seq']);
  m.grow(24, 20, 5, 2);
  for (const c of [pngClient, deltaClient]) {
    const resize = await c.nextOf('resize');
    assert.deepEqual(
      { seq: resize.seq, width: resize.width, height: resize.height, left: resize.left, top: resize.top },
      { seq, width: 24, height: 20, left: 5, top: 2 } satisfies Omit<ResizeMsg, 't'>,
    );
    // The message right after the resize is the new canvas, whole.
    const png = await c.next<PngMsg>((x) => x.t === 'png' && x.seq >= seq);
    const decoded = decodeToIndices(png.png, ts.config.palette);
    assert.deepEqual([decoded.width, decoded.height], [24, 20]);
    assert.deepEqual(decoded.grid, m.grid);
    const order = c.received.map((x) => x.t);
    assert.equal(order[order.indexOf('resize') + 1], 'png', 'the frame of the new size follows the resize');
  }
  const fresh = await older.next<PngMsg>((x) => x.t === 'png' && x.seq >= seq);
  assert.deepEqual(decodeToIndices(fresh.png, ts.config.palette).grid, m.grid);
  assert.ok(!older.received.some((x) => x.t === 'resize'));
  // The delta client keeps applying deltas in the new coordinates.
  const grid = new Uint8Array(m.grid);
  const after = await place(ts, token, 23, 19, 7);
  assert.equal(after.status, 200);
  m.place(23, 19, 7);
  const delta = await deltaClient.next<DeltaMsg>((x) => x.t === 'delta' && x.toSeq >= Number(after.json()['seq']));
  assert.equal(delta.fromSeq, seq);
  assert.ok(applyDeltaPixels(delta.px, grid, 24, 20));
  assert.deepEqual(grid, m.grid);
});

test('a shrink, a side over 16,384 or a bad left/top is refused with 400 and a code, and nothing changes', async (t) => {
  const ts = await startTestServer({ width: 20, height: 20, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const token = await identity(ts);
  const m = new Model(20, 20);
  const seq = await paint(ts, token, m, 3);
  const cases: Array<[unknown, string]> = [
    [{ width: 19, height: 30 }, 'canvas_shrink'],
    [{ width: 30, height: 10 }, 'canvas_shrink'],
    [{ width: 16_385, height: 20 }, 'canvas_too_large'],
    [{ width: 20, height: 20 }, 'invalid_field'],
    [{ width: 30, height: 30, left: 11 }, 'invalid_field'],
    [{ width: 30, height: 30, top: -1 }, 'invalid_field'],
    [{ width: 30 }, 'invalid_field'],
    [{ width: 30.5, height: 30 }, 'invalid_field'],
  ];
  for (const [body, code] of cases) {
    const res = await admin(ts, 'resize', body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.body}`);
    assert.equal(res.json()['error'], code, JSON.stringify(body));
  }
  assert.deepEqual([ts.server.canvas.width, ts.server.canvas.height, ts.server.canvas.seq], [20, 20, seq]);
  assert.deepEqual((await servedGrid(ts, seq)).grid, m.grid);
  const unauthorized = await httpRequest(`${ts.http}/api/admin/resize`, {
    method: 'POST',
    body: JSON.stringify({ width: 30, height: 30 }),
  });
  assert.equal(unauthorized.status, 401);
});

test('a resize during heavy placement loses no acknowledged placement: each lands where its seq says', async (t) => {
  const ts = await startTestServer({ width: 64, height: 64, adminToken: 'sesame', commitDelayMs: 5 });
  t.after(() => ts.dispose());
  const clients = await Promise.all(Array.from({ length: 8 }, () => TestClient.connect(ts.ws)));
  t.after(() => Promise.all(clients.map((c) => c.close())));
  for (const c of clients) await c.nextOf('hello');
  // Each client places on its own row band with ids; acks carry the seq.
  const acked: Array<{ x: number; y: number; c: number; seq: number }> = [];
  let id = 0;
  const sent = new Map<number, { x: number; y: number; c: number }>();
  const waits: Array<Promise<void>> = [];
  const round = (k: number) => {
    for (const [i, client] of clients.entries()) {
      const x = (k * 7 + i) % 64;
      const y = i * 8 + (k % 8);
      const c = (k + i) % 15 || 1;
      const msgId = ++id;
      sent.set(msgId, { x, y, c });
      client.send({ t: 'place', id: msgId, x, y, c });
      waits.push(
        client
          .next((msg) => (msg.t === 'ack' || msg.t === 'error') && msg.id === msgId)
          .then((msg) => {
            if (msg.t === 'ack')
              acked.push({ ...(sent.get(msgId) as { x: number; y: number; c: number }), seq: msg.seq });
          }),
      );
    }
  };
  for (let k = 0; k < 40; k++) round(k);
  const resized = admin(ts, 'resize', { width: 80, height: 72, left: 10, top: 4 });
  for (let k = 40; k < 80; k++) round(k);
  const res = await resized;
  await Promise.all(waits);
  assert.equal(res.status, 200, res.body);
  const resizeSeq = Number(res.json()['seq']);
  assert.ok(acked.length > 0);
  // Placements acked before the resize were in the old coordinates; they moved by (10, 4).
  const expected = new Map<number, { c: number; seq: number }>();
  for (const a of acked.sort((p, q) => p.seq - q.seq)) {
    const moved = a.seq < resizeSeq;
    const x = moved ? a.x + 10 : a.x;
    const y = moved ? a.y + 4 : a.y;
    expected.set(y * 80 + x, { c: a.c, seq: a.seq });
  }
  const served = await servedGrid(ts, Math.max(...acked.map((a) => a.seq), resizeSeq));
  assert.equal(served.width, 80);
  for (const [cell, { c, seq }] of expected) {
    assert.equal(served.grid[cell], c, `cell ${cell % 80},${Math.floor(cell / 80)} (seq ${seq})`);
  }
});

test('moderation across a left/top growth: look, identity rollback and area rollback use today’s coordinates', async (t) => {
  const ts = await startTestServer({ width: 16, height: 16, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const alice = await identity(ts);
  const vandalSession = (await httpRequest(`${ts.http}/api/session`, { method: 'POST' })).json();
  const vandal = String(vandalSession['token']);
  const vandalId = String(vandalSession['id']);
  assert.equal((await place(ts, alice, 3, 3, 4)).status, 200);
  const since = Date.now();
  assert.equal((await place(ts, vandal, 3, 3, 9)).status, 200); // over alice's
  assert.equal((await place(ts, vandal, 5, 6, 9)).status, 200); // on blank
  const grown = await admin(ts, 'resize', { width: 24, height: 20, left: 4, top: 2 });
  assert.equal(grown.status, 200, grown.body);
  // After the growth, in the new coordinates: the vandal places once more.
  const last = await place(ts, vandal, 20, 18, 9);
  assert.equal(last.status, 200);

  // Look: the rectangle is today's, and so are the rows' x and y, before the resize and after.
  const look = await admin(ts, `placements?x=6&y=4&width=18&height=16&since=${since}`);
  assert.equal(look.status, 200, look.body);
  // (Alice's placement may share the window's first millisecond: the vandal's rows are the ones asked about.)
  const rows = (look.json()['placements'] as Array<{ x: number; y: number; who: string }>)
    .filter((r) => r.who === vandalId)
    .map((r) => [r.x, r.y]);
  assert.deepEqual(rows, [
    [20, 18],
    [9, 8],
    [7, 5],
  ]);

  const res = await admin(ts, 'rollback', { id: vandalId, since });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json()['changed'], 3);
  const served = await servedGrid(ts, Number(res.json()['seq']));
  assert.equal(served.width, 24);
  assert.equal(served.grid[5 * 24 + 7], 4, "alice's pixel is back where it moved to");
  assert.equal(served.grid[8 * 24 + 9], 0);
  assert.equal(served.grid[18 * 24 + 20], 0);
});

test('projects and bot regions move with the art on a left/top growth, kept across a restart', async (t) => {
  const ts = await startTestServer({ width: 16, height: 16, adminToken: 'sesame', projectEveryMs: 0 });
  t.after(() => ts.dispose());
  const me = await identity(ts);
  // A 2 x 1 project at (4, 4) wanting colours 3 and 5; (4, 4) is painted right before the resize.
  const image = projectPng(2, 1, PALETTE_2017, (x) => (x === 0 ? 3 : 5)).toString('base64');
  const made = await httpRequest(`${ts.http}/api/projects`, {
    method: 'POST',
    headers: { Cookie: `canvas_token=${me}` },
    body: JSON.stringify({ name: 'flag', x: 4, y: 4, image }),
  });
  assert.equal(made.status, 201, made.body);
  const id = Number(made.json()['id']);
  assert.equal((await place(ts, me, 4, 4, 3)).status, 200);
  const bot = await admin(ts, 'bots', { name: 'painter', everyMs: 1000, region: { x: 0, y: 0, width: 3, height: 3 } });
  assert.equal(bot.status, 200, bot.body);
  const botToken = String(bot.json()['token']);

  assert.equal((await admin(ts, 'resize', { width: 20, height: 19, left: 2, top: 3 })).status, 200);
  const project = (await httpRequest(`${ts.http}/api/projects/${id}`)).json();
  assert.deepEqual([project['x'], project['y'], project['done']], [6, 7, 1]);
  // The other pixel of the project, at its new place, counts.
  assert.equal((await place(ts, me, 7, 7, 5)).status, 200);
  assert.equal((await httpRequest(`${ts.http}/api/projects/${id}`)).json()['done'], 2);
  // The bot's region moved too: (0, 0) is outside it now, (2, 3) inside.
  assert.equal((await place(ts, botToken, 0, 0, 1)).status, 403);
  const inside = await httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x: 2, y: 3, color: 1 }),
    headers: { Authorization: `Bearer ${botToken}` },
  });
  assert.equal(inside.status, 200, inside.body);

  await ts.stop();
  const again = await startTestServer({ width: 16, height: 16, adminToken: 'sesame' }, ts.dir);
  t.after(() => again.stop());
  const kept = (await httpRequest(`${again.http}/api/projects/${id}`)).json();
  assert.deepEqual([kept['x'], kept['y'], kept['done']], [6, 7, 2]);
  const bots = (await admin(again, 'bots')).json()['bots'] as Array<{ region?: { x: number; y: number } }>;
  assert.deepEqual(bots[0]?.region, { x: 2, y: 3, width: 3, height: 3 });
});

/** APNG frames as palette indices, -1 where transparent (not canvas yet at that frame's seq). */
function framesWithOutside(png: Uint8Array, palette: readonly number[]): { width: number; frames: Int16Array[] } {
  const img = UPNG.decode(new Uint8Array(png).buffer);
  const lookup = new Map(palette.map((rgb, i) => [rgb, i]));
  const frames = UPNG.toRGBA8(img).map((buf) => {
    const rgba = new Uint8Array(buf);
    const out = new Int16Array(img.width * img.height);
    for (let p = 0; p < out.length; p++) {
      if (rgba[p * 4 + 3] === 0) {
        out[p] = -1;
        continue;
      }
      const rgb = ((rgba[p * 4] as number) << 16) | ((rgba[p * 4 + 1] as number) << 8) | (rgba[p * 4 + 2] as number);
      out[p] = lookup.get(rgb) ?? -2;
    }
    return out;
  });
  return { width: img.width, frames };
}

test('a timelapse across a left/top growth shows it: earlier frames where their pixels are now, the rest transparent; the heatmap counts today’s places', async (t) => {
  const ts = await startTestServer({ width: 6, height: 4, adminToken: 'sesame' });
  t.after(() => ts.dispose());
  const token = await identity(ts);
  const first = Number((await place(ts, token, 1, 1, 5)).json()['seq']);
  const grow = await admin(ts, 'resize', { width: 9, height: 6, left: 2, top: 1 });
  const resizeSeq = Number(grow.json()['seq']);
  const last = Number((await place(ts, token, 8, 5, 7)).json()['seq']);
  assert.deepEqual([first, resizeSeq, last], [1, 2, 3]);

  const res = await fetch(`${ts.http}/api/history/timelapse?from=${first}&to=${last}&frames=3`);
  assert.equal(res.status, 200, await res.clone().text());
  const apng = framesWithOutside(new Uint8Array(await res.arrayBuffer()), ts.config.palette);
  assert.equal(apng.width, 9);
  const [f0, f1, f2] = apng.frames as [Int16Array, Int16Array, Int16Array];
  const at = (f: Int16Array, x: number, y: number) => f[y * 9 + x];
  // Frame 0 (seq 1, a 6 x 4 canvas): its pixel (1, 1) is at (3, 2) now; what was not canvas is transparent.
  assert.equal(at(f0, 3, 2), 5);
  assert.equal(at(f0, 2, 1), 0);
  assert.equal(at(f0, 0, 0), -1);
  assert.equal(at(f0, 8, 5), -1);
  assert.equal(at(f0, 7, 4), 0);
  // Frame 1 (the resize): the whole canvas, blank where it grew.
  assert.equal(at(f1, 0, 0), 0);
  assert.equal(at(f1, 3, 2), 5);
  assert.equal(at(f2, 8, 5), 7);

  const heat = await fetch(`${ts.http}/api/history/heatmap?from=0&to=${last}&x=3&y=2&w=1&h=1`);
  assert.equal(heat.status, 200, await heat.clone().text());
  assert.equal(heat.headers.get('x-heatmap-total'), '1', 'the placement at (1, 1) counts at (3, 2)');
});
