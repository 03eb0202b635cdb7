/**
 * Projects through an edge: registered, refused, watched, placed on, rolled back, wiped, hidden and
 * deleted through the edge, the writer owning them. Each project's progress equals a recount over
 * the canvas from the writer's database after random placements, a rollback, a wipe and a writer
 * restart; a grief reaches a watcher on the edge in the tick that holds it. Real redis-server,
 * writer and edge processes.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DeltaMsg, MsgType, type ProgressMsg, type ServerMessage } from '../../protocol/messages.ts';
import { PALETTE_2017 } from '../config/palette.ts';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, tempDir, TestClient } from '../../testkit/fixture.ts';
import { projectPng, recountProjects } from '../../testkit/projects.ts';
import { startRedis, type TestRedis } from '../../testkit/redis.ts';
import { Rng } from '../../testkit/rng.ts';
import type { StartedServer } from '../../testkit/server-process.ts';

const ADMIN = 'projects-admin-token';
const W = 32;
const H = 32;
const common = { 'tick-ms': 100, 'admin-token': ADMIN, 'log-level': 'info' };
const writerFlags = {
  ...common,
  width: W,
  height: H,
  'cooldown-ms': 0,
  'project-every-ms': 0,
  'project-max-pixels': 400,
};

interface Player {
  id: string;
  token: string;
}

describe('projects through an edge', () => {
  let redis: TestRedis;
  let dir = '';
  let db = '';
  let writer: StartedServer;
  let edge: StartedServer;
  let players: Player[] = [];

  before(async () => {
    redis = await startRedis();
    dir = tempDir();
    db = `${dir}/canvas.db`;
    writer = await startWriter(redis.url, db, writerFlags);
    edge = await startEdge(redis.url, common);
    players = await Promise.all(
      [1, 2, 3].map(async () => (await post('/api/session', {}, {})).json() as unknown as Player),
    );
  });
  after(async () => {
    await Promise.all([edge?.stop(), writer?.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    httpRequest(`${edge.http}${path}`, { method: 'POST', body: JSON.stringify(body), headers });
  const as = (p: Player | undefined) => ({ Cookie: `canvas_token=${(p as Player).token}` });
  const admin = { Authorization: `Bearer ${ADMIN}` };

  async function register(p: Player | undefined, name: string, x: number, y: number, png: Buffer) {
    return post('/api/projects', { name, x, y, image: png.toString('base64') }, as(p));
  }

  async function place(p: Player | undefined, x: number, y: number, color: number): Promise<number> {
    const res = await post('/api/pixel', { x, y, color }, as(p));
    assert.equal(res.status, 200, res.body);
    return (res.json() as { seq: number }).seq;
  }

  /** After a writer restart: until the edge's requests reach it again (503 meanwhile). */
  async function writerReached(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await httpRequest(`${edge.http}/api/projects`)).status === 503) {
      assert.ok(Date.now() < deadline, 'the edge never reached the restarted writer');
      await sleep(100);
    }
  }

  async function assertRecount(ids: readonly number[]): Promise<void> {
    const recount = recountProjects(db, W, H);
    for (const id of ids) {
      const res = await httpRequest(`${edge.http}/api/projects/${id}`);
      assert.equal(res.status, 200, res.body);
      const p = res.json() as { total: number; done: number; percent: number; left: number };
      assert.deepEqual({ total: p.total, done: p.done }, recount.get(id), `project ${id}`);
      assert.equal(p.left, p.total - p.done);
    }
  }

  test('bad images are refused with 400 and a code, unknown ids with 404', async () => {
    const offPalette = projectPng(4, 4, [...PALETTE_2017.slice(0, 15), 0x010203], () => 15);
    const cases: Array<[Buffer | string, string]> = [
      [offPalette, 'image_palette'],
      [projectPng(21, 20, PALETTE_2017, () => 1), 'image_too_large'],
      [Buffer.from('GIF89a, not a PNG'), 'bad_image'],
      ['!!not base64!!', 'bad_image'],
    ];
    for (const [image, code] of cases) {
      const res = await post(
        '/api/projects',
        { name: 'bad', x: 0, y: 0, image: typeof image === 'string' ? image : image.toString('base64') },
        as(players[0]),
      );
      assert.equal(res.status, 400, res.body);
      assert.equal(res.json().error, code);
    }
    const outside = await register(
      players[0],
      'outside',
      30,
      30,
      projectPng(4, 4, PALETTE_2017, () => 1),
    );
    assert.equal(outside.status, 400, outside.body);
    assert.equal(outside.json().error, 'out_of_bounds');
    assert.equal((await httpRequest(`${edge.http}/api/projects/999`)).status, 404);
    assert.equal((await httpRequest(`${edge.http}/api/projects/abc`)).status, 404);
    assert.equal((await httpRequest(`${edge.http}/api/projects/999/image`)).status, 404);
  });

  test('progress equals a recount after random placements, a rollback, a wipe and a writer restart; a grief reaches a watcher in its tick', async () => {
    const rng = new Rng(11);
    // Three overlapping projects with transparent holes; colours 0..3 so pixels turn right and wrong.
    const specs = [
      { x: 0, y: 0, w: 12, h: 10 },
      { x: 8, y: 6, w: 16, h: 16 },
      { x: 20, y: 20, w: 12, h: 12 },
    ];
    const ids: number[] = [];
    for (const [i, s] of specs.entries()) {
      const png = projectPng(s.w, s.h, PALETTE_2017, (x, y) => ((x * 7 + y * 3 + i) % 9 === 0 ? -1 : (x + y + i) % 4));
      const res = await register(players[i], `project ${i}`, s.x, s.y, png);
      assert.equal(res.status, 201, res.body);
      const body = res.json() as { id: number; width: number; height: number; done: number; total: number };
      assert.deepEqual([body.width, body.height], [s.w, s.h]);
      ids.push(body.id);
      const image = await httpRequest(`${edge.http}/api/projects/${body.id}/image`);
      assert.equal(image.status, 200);
      assert.equal(image.headers['content-type'], 'image/png');
    }
    await assertRecount(ids);
    const list = await httpRequest(`${edge.http}/api/projects?sort=new&limit=2`);
    assert.equal(list.status, 200, list.body);
    const listed = list.json() as { count: number; projects: Array<{ id: number }> };
    assert.equal(listed.count, 3);
    assert.deepEqual(
      listed.projects.map((p) => p.id),
      [ids[2], ids[1]],
    );

    // A watcher on the edge sees a grief in the fan-out of the delta that holds it.
    const watcher = await TestClient.connect(`${edge.ws}?stream=delta`);
    await watcher.nextOf(MsgType.HELLO);
    watcher.send({ t: MsgType.WATCH, project: ids[0] });
    const first = (await httpRequest(`${edge.http}/api/projects/${ids[0]}`)).json() as { x: number; y: number };
    // (1, 0) of project 0 wants colour 1 (not a hole: (7) % 9 != 0).
    const rightSeq = await place(players[1], first.x + 1, first.y, 1);
    const right = await watcher.next<ProgressMsg>((m) => m.t === MsgType.PROGRESS && m.seq >= rightSeq);
    assert.equal(right.project, ids[0]);
    assert.deepEqual(right.griefs, []);
    const griefSeq = await place(players[2], first.x + 1, first.y, 3);
    const grief = await watcher.next<ProgressMsg>((m) => m.t === MsgType.PROGRESS && m.griefs.length > 0);
    assert.deepEqual(grief.griefs, [
      {
        x: first.x + 1,
        y: first.y,
        color: 3,
        who: players[2]?.id,
        at: (grief.griefs[0] as { at: number }).at,
        seq: griefSeq,
      },
    ]);
    assert.equal(grief.done, right.done - 1);
    const at = watcher.received.indexOf(grief as ServerMessage);
    const delta = watcher.received[at - 1] as DeltaMsg;
    assert.equal(delta.t, MsgType.DELTA, 'the progress follows its tick delta');
    assert.equal(delta.toSeq, grief.seq);
    assert.ok(delta.fromSeq < griefSeq && griefSeq <= delta.toSeq);
    await watcher.close();
    const detail = (await httpRequest(`${edge.http}/api/projects/${ids[0]}`)).json() as {
      griefs: Array<{ seq: number }>;
      contributors: Array<{ id: string; placed: number }>;
    };
    assert.equal(detail.griefs[0]?.seq, griefSeq);
    assert.deepEqual(detail.contributors, [{ id: players[1]?.id, placed: 1 }]);

    for (let i = 0; i < 240; i++) {
      await place(players[rng.int(3)], rng.int(W), rng.int(H), rng.int(4));
    }
    await assertRecount(ids);
    const rollback = await post('/api/admin/rollback', { id: players[1]?.id, since: 0 }, admin);
    assert.equal(rollback.status, 200, rollback.body);
    await assertRecount(ids);
    const wipe = await post('/api/admin/wipe', { x: 4, y: 4, width: 12, height: 12, color: 2 }, admin);
    assert.equal(wipe.status, 200, wipe.body);
    await assertRecount(ids);
    const active = (await httpRequest(`${edge.http}/api/projects?sort=active`)).json() as {
      projects: Array<{ id: number; lastActivity: number }>;
    };
    const times = active.projects.map((p) => p.lastActivity);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );

    const griefsBefore = (await httpRequest(`${edge.http}/api/projects/${ids[1]}`)).json().griefs;
    await writer.stop();
    writer = await startWriter(redis.url, db, writerFlags);
    await writerReached();
    await assertRecount(ids);
    assert.deepEqual((await httpRequest(`${edge.http}/api/projects/${ids[1]}`)).json().griefs, griefsBefore);
    for (let i = 0; i < 60; i++) await place(players[rng.int(3)], rng.int(W), rng.int(H), rng.int(4));
    await assertRecount(ids);

    // Moderators hide and delete through the edge; both are audited.
    const hide = await post('/api/admin/projects/hide', { id: ids[2] }, admin);
    assert.equal(hide.status, 200, hide.body);
    assert.equal((await httpRequest(`${edge.http}/api/projects/${ids[2]}`)).status, 404);
    const shown = (await httpRequest(`${edge.http}/api/projects`)).json() as { projects: Array<{ id: number }> };
    assert.ok(!shown.projects.some((p) => p.id === ids[2]));
    const unhide = await post('/api/admin/projects/hide', { id: ids[2], hidden: false }, admin);
    assert.equal(unhide.status, 200, unhide.body);
    assert.equal((await httpRequest(`${edge.http}/api/projects/${ids[2]}`)).status, 200);
    const del = await post('/api/admin/projects/delete', { id: ids[2] }, admin);
    assert.equal(del.status, 200, del.body);
    assert.equal((await httpRequest(`${edge.http}/api/projects/${ids[2]}`)).status, 404);
    assert.equal((await post('/api/admin/projects/delete', { id: ids[2] }, admin)).status, 404);
    const audit = await httpRequest(`${edge.http}/api/admin/audit`, { headers: admin });
    const actions = (audit.json() as { entries: Array<{ action: string }> }).entries.map((e) => e.action);
    for (const a of ['project-hide', 'project-show', 'project-delete']) assert.ok(actions.includes(a), a);
  });
});
