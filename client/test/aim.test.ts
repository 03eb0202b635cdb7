import assert from 'node:assert/strict';
import { test } from 'node:test';
import { panToShow, stepAim } from '../src/place/aim.ts';
import { View } from '../src/view/view.ts';

test('stepAim moves the reticle and holds it on the board', () => {
  const board = { width: 64, height: 48 };
  assert.deepEqual(stepAim({ x: 10, y: 10 }, 1, -1, board), { x: 11, y: 9 });
  assert.deepEqual(stepAim({ x: 60, y: 2 }, 10, -10, board), { x: 63, y: 0 });
  assert.deepEqual(stepAim({ x: 0, y: 47 }, -1, 1, board), { x: 0, y: 47 });
});

test('panToShow leaves a reticle well inside the view alone', () => {
  const view = new View(1000, 1000, 400, 300);
  view.centreOn(500, 500, 10);
  assert.deepEqual(panToShow(view, { x: 500, y: 500 }), { dx: 0, dy: 0 });
});

test('panToShow scrolls a reticle near or past an edge back inside, and then it stays put', () => {
  const view = new View(1000, 1000, 400, 300);
  view.centreOn(500, 500, 10);
  for (const p of [
    { x: 519, y: 500 },
    { x: 530, y: 500 },
    { x: 480, y: 486 },
    { x: 500, y: 520 },
  ]) {
    const pan = panToShow(view, p);
    assert.ok(pan.dx !== 0 || pan.dy !== 0, `(${p.x}, ${p.y}) needs a scroll`);
    view.pan(pan.dx, pan.dy);
    const s = view.boardToScreen(p);
    assert.ok(s.x >= 48 && s.x + 10 <= 400 - 48 && s.y >= 48 && s.y + 10 <= 300 - 48, `(${p.x}, ${p.y}) on screen`);
    assert.deepEqual(panToShow(view, p), { dx: 0, dy: 0 });
  }
});
