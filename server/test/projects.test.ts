/**
 * Projects as units: the image check (exact palette, transparency, size, malformed), the index, and
 * progress kept incrementally through a real store and committer (random placements, moderation
 * rows, a restart) equal to a recount over the grid; griefs and contributors as defined.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeServerMessage, encodeMessage } from '../../protocol/codec.ts';
import { MsgType, type ProgressMsg } from '../../protocol/messages.ts';
import { Canvas } from '../canvas/canvas.ts';
import { PALETTE_2017 } from '../config/palette.ts';
import { PlacementCommitter } from '../placement/committer.ts';
import { decodeTarget, NONE } from '../projects/project-image.ts';
import { ProjectIndex } from '../projects/project-index.ts';
import { GRIEFS_KEPT, Projects } from '../projects/projects.ts';
import { restoreProjects } from '../projects/restore.ts';
import { ProjectStore } from '../store/project-store.ts';
import { Store } from '../store/store.ts';
import { openTestStore } from '../../testkit/fixture.ts';
import { projectPng } from '../../testkit/projects.ts';
import { Rng } from '../../testkit/rng.ts';

const PALETTE = PALETTE_2017;

describe('project image', () => {
  test('opaque pixels become palette indices, transparent ones are not part of the project', () => {
    const png = projectPng(3, 2, PALETTE, (x, y) => (x === 1 && y === 0 ? -1 : (x + y * 3) % 16));
    const r = decodeTarget(png, PALETTE, 100);
    assert.ok(r.ok);
    assert.equal(r.target.width, 3);
    assert.equal(r.target.height, 2);
    assert.deepEqual([...r.target.pixels], [0, NONE, 2, 3, 4, 5]);
    assert.equal(r.target.total, 5);
  });

  test('a colour outside the palette is refused with image_palette', () => {
    const png = projectPng(2, 2, [...PALETTE.slice(0, 15), 0x123456], (x) => (x === 0 ? 0 : 15));
    const r = decodeTarget(png, PALETTE, 100);
    assert.ok(!r.ok);
    assert.equal(r.code, 'image_palette');
    assert.match(r.message, /#123456/);
  });

  test('too large and malformed images are refused with their codes', () => {
    const big = decodeTarget(
      projectPng(20, 20, PALETTE, () => 1),
      PALETTE,
      399,
    );
    assert.ok(!big.ok);
    assert.equal(big.code, 'image_too_large');
    const junk = decodeTarget(Buffer.from('not a png at all, clearly'), PALETTE, 100);
    assert.ok(!junk.ok);
    assert.equal(junk.code, 'bad_image');
    const cut = projectPng(4, 4, PALETTE, () => 2).subarray(0, 40);
    const truncated = decodeTarget(cut, PALETTE, 100);
    assert.ok(!truncated.ok);
    assert.equal(truncated.code, 'bad_image');
    const empty = decodeTarget(
      projectPng(2, 2, PALETTE, () => -1),
      PALETTE,
      100,
    );
    assert.ok(!empty.ok);
    assert.equal(empty.code, 'bad_image');
  });
});

describe('project index', () => {
  test('finds exactly the projects with a pixel at a point, across chunk borders', () => {
    const index = new ProjectIndex(300, 300);
    const a = { id: 1, x: 60, y: 60, width: 10, height: 10, target: new Uint8Array(100).fill(3) };
    const holes = new Uint8Array(100).fill(4);
    holes[0] = NONE;
    const b = { id: 2, x: 62, y: 62, width: 10, height: 10, target: holes };
    index.add(a);
    index.add(b);
    const at = (x: number, y: number) => {
      const found: Array<[number, number]> = [];
      index.at(x, y, (p, want) => found.push([p.id, want]));
      return found;
    };
    assert.deepEqual(at(60, 60), [[1, 3]]);
    assert.deepEqual(at(62, 62), [[1, 3]]); // b has a hole there
    assert.deepEqual(at(65, 65), [
      [1, 3],
      [2, 4],
    ]);
    assert.deepEqual(at(71, 71), [[2, 4]]);
    assert.deepEqual(at(72, 72), []);
    index.remove(a);
    assert.deepEqual(at(65, 65), [[2, 4]]);
  });
});

/** Every project's done as a plain recount over the grid. */
function recount(projects: Projects, grid: Uint8Array, width: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of projects.all()) {
    let done = 0;
    for (let ly = 0; ly < p.height; ly++)
      for (let lx = 0; lx < p.width; lx++) {
        const want = p.target[ly * p.width + lx];
        if (want !== NONE && grid[(p.y + ly) * width + p.x + lx] === want) done++;
      }
    out.set(p.id, done);
  }
  return out;
}

const doneOf = (projects: Projects) => new Map([...projects.all()].map((p) => [p.id, p.done]));

describe('project progress through the committer', () => {
  test('random placements and moderation rows keep done equal to a recount, across a restart', () => {
    const W = 48;
    const H = 40;
    const { store, dbPath, dir } = openTestStore(W, H);
    try {
      const rng = new Rng(7);
      const canvas = new Canvas(W, H, 16);
      const projectStore = new ProjectStore(store.db);
      let projects = new Projects(W, H);
      const committer = new PlacementCommitter(
        store,
        canvas,
        { commitDelayMs: 1_000_000, commitBatch: 1_000_000, snapshotEvery: 1_000_000 },
        {
          commitFailed: (err) => assert.fail(String(err)),
          committed: () => {},
          callbackFailed: (err) => assert.fail(String(err)),
          stored: (rows, previous) => projects.stored(rows, previous),
        },
      );
      // Overlapping projects with holes, small colour range so pixels turn right and wrong often.
      for (let i = 0; i < 12; i++) {
        const width = 3 + rng.int(20);
        const height = 3 + rng.int(20);
        const target = new Uint8Array(width * height);
        for (let k = 0; k < target.length; k++) target[k] = rng.int(5) === 0 ? NONE : rng.int(4);
        const record = {
          name: `p${i}`,
          x: rng.int(W - width),
          y: rng.int(H - height),
          width,
          height,
          owner: '00000000000000aa',
          createdAt: 1,
          createdSeq: canvas.seq,
          target,
        };
        const id = projectStore.insert(record, Buffer.alloc(0));
        projects.add({ ...record, id, hidden: false }, canvas);
      }
      const players = ['0000000000000001', '0000000000000002', '0000000000000003'];
      for (let round = 0; round < 20; round++) {
        const batch = Array.from({ length: 50 }, () => ({
          x: rng.int(W),
          y: rng.int(H),
          color: rng.int(4),
          who: players[rng.int(3)] as string,
          addr: '',
          nextAt: 0,
        }));
        for (const r of batch) committer.submit(r, () => {});
        committer.flush();
        if (round % 5 === 4) {
          // A wipe as moderation writes it: one all-or-nothing commit of mod rows.
          const x0 = rng.int(W - 8);
          const y0 = rng.int(H - 8);
          const rows = [];
          for (let y = y0; y < y0 + 8; y++)
            for (let x = x0; x < x0 + 8; x++) rows.push({ x, y, color: 0, who: 'mod:wipe', addr: '', nextAt: 0 });
          committer.commitNow(rows);
        }
        assert.deepEqual(doneOf(projects), recount(projects, canvas.toGrid(), W));
        if (round === 10) projectStore.saveStates(projects.states(canvas.seq));
      }
      const before = [...projects.all()].map((p) => ({
        id: p.id,
        done: p.done,
        griefs: p.griefs,
        contributors: [...p.contributors].sort(),
      }));
      // Griefs are right pixels turned wrong; moderation contributes nothing.
      for (const p of projects.all()) {
        assert.ok(p.griefs.length <= GRIEFS_KEPT);
        for (const g of p.griefs) {
          const want = p.target[(g.y - p.y) * p.width + (g.x - p.x)];
          assert.notEqual(g.color, want);
        }
        assert.ok(![...p.contributors.keys()].some((who) => who.startsWith('mod:')));
      }
      // Restart from the state saved halfway: the replay brings griefs and contributors back exactly.
      committer.close();
      store.close();
      const reopened = Store.open({
        path: dbPath,
        width: W,
        height: H,
        paletteSize: 16,
        synchronous: 'NORMAL',
        busyTimeoutMs: 1000,
      });
      try {
        const loaded = reopened.load(16);
        const canvas2 = loaded.canvas;
        projects = restoreProjects(new ProjectStore(reopened.db), canvas2);
        const after = [...projects.all()].map((p) => ({
          id: p.id,
          done: p.done,
          griefs: p.griefs,
          contributors: [...p.contributors].sort(),
        }));
        assert.deepEqual(after, before);
      } finally {
        reopened.close();
      }
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a tick carries each touched project once, with that tick griefs', () => {
    const projects = new Projects(10, 10);
    projects.add(
      {
        id: 1,
        name: 'a',
        x: 0,
        y: 0,
        width: 2,
        height: 1,
        owner: '0000000000000001',
        createdAt: 0,
        createdSeq: 0,
        hidden: false,
        target: Uint8Array.from([5, 6]),
      },
      new Canvas(10, 10, 16),
    );
    const row = (seq: number, x: number, color: number, who: string) => ({ seq, x, y: 0, color, who, at: 1000 + seq });
    projects.stored([row(1, 0, 5, 'a'), row(2, 1, 6, 'b'), row(3, 0, 2, 'griefer')], Uint8Array.from([0, 0, 5]));
    projects.stored([row(4, 9, 1, 'c')], Uint8Array.from([0])); // outside the project
    const tick = projects.takeTick(4);
    assert.equal(tick?.count, 1);
    assert.equal(tick?.progress(2), undefined);
    const msg = decodeServerMessage(encodeMessage(tick?.progress(1) as ProgressMsg)) as ProgressMsg;
    assert.equal(msg.t, MsgType.PROGRESS);
    assert.deepEqual(
      { project: msg.project, seq: msg.seq, total: msg.total, done: msg.done },
      { project: 1, seq: 4, total: 2, done: 1 },
    );
    assert.deepEqual(msg.griefs, [{ x: 0, y: 0, color: 2, who: 'griefer', at: 1003, seq: 3 }]);
    assert.equal(projects.takeTick(4), undefined);
    assert.deepEqual(projects.get(1)?.topContributors(10), [
      { id: 'a', placed: 1 },
      { id: 'b', placed: 1 },
    ]);
  });
});
