/** The projects panel's logic: answers checked, progress folded into the open project, texts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MsgType, type ProgressMsg } from '../../protocol/messages.ts';
import { applyProgress, GRIEFS_SHOWN, leftText, parseDetail, parseList } from '../src/projects/projects-text.ts';

const detail = {
  id: 3,
  name: 'Flag',
  x: 1,
  y: 2,
  width: 4,
  height: 5,
  total: 20,
  done: 5,
  percent: 25,
  griefs: [{ x: 1, y: 2, color: 3, who: 'abcdef0123456789', at: 1000, seq: 40 }],
};

const progress = (seq: number, done: number, griefSeqs: number[] = []): ProgressMsg => ({
  t: MsgType.PROGRESS,
  project: 3,
  seq,
  total: 20,
  done,
  griefs: griefSeqs.map((s) => ({ x: 2, y: 3, color: 1, who: 'mod:wipe', at: 2000, seq: s })),
});

test('a detail answer opens the project as of its newest grief; a malformed one is refused', () => {
  const open = parseDetail(detail);
  assert.equal(open?.seq, 40);
  assert.equal(open && leftText(open), '15 left');
  assert.equal(parseDetail({ ...detail, griefs: [{ x: -1 }] }), null);
  assert.equal(parseDetail('<html>'), null);
  assert.deepEqual(parseList({ projects: [detail] })?.[0]?.name, 'Flag');
  assert.equal(parseList({ projects: [{ id: 'x' }] }), null);
});

test('progress moves the figures forward, newest griefs first, never back or for another project', () => {
  const open = parseDetail(detail);
  assert.ok(open);
  const later = applyProgress(open, progress(45, 6, [41, 44]));
  assert.equal(later.done, 6);
  assert.deepEqual(
    later.griefs.map((g) => g.seq),
    [44, 41, 40],
  );
  assert.equal(applyProgress(later, progress(39, 1)), later, 'an older tick changes nothing');
  assert.equal(applyProgress(later, { ...progress(50, 1), project: 4 }), later, 'another project');
  assert.equal(applyProgress(later, progress(45, 6, [44])).griefs.length, 3, 'a grief is listed once');
  let many = later;
  for (let s = 100; s < 200; s++) many = applyProgress(many, progress(s, 6, [s]));
  assert.equal(many.griefs.length, GRIEFS_SHOWN);
  assert.equal(leftText({ ...many, done: 20 }), 'Done: every pixel matches');
});
