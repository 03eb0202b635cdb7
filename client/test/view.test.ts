import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SCALE, View } from '../src/view/view.ts';

const near = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} is not ${b}`);

test('fit shows the whole board centred', () => {
  const v = new View(1000, 500, 800, 600);
  assert.ok(v.scale * 1000 <= 800 && v.scale * 500 <= 600);
  near(v.ox + (1000 * v.scale) / 2, 400);
  near(v.oy + (500 * v.scale) / 2, 300);
});

test('zoomAt keeps the board point under the anchor in place', () => {
  const v = new View(100, 100, 800, 600);
  const anchor = { x: 313, y: 211 };
  const before = v.screenToBoard(anchor);
  v.zoomAt(anchor, 3);
  const after = v.screenToBoard(anchor);
  near(after.x, before.x, 1e-9);
  near(after.y, before.y, 1e-9);
  v.zoomAt(anchor, 1 / 2);
  near(v.screenToBoard(anchor).x, before.x, 1e-9);
});

test('zoom is clamped between a bit below "fit" and MAX_SCALE, still about the anchor', () => {
  const v = new View(100, 100, 800, 600);
  v.zoomAt({ x: 400, y: 300 }, 1e6);
  assert.equal(v.scale, MAX_SCALE);
  const board = v.screenToBoard({ x: 400, y: 300 });
  v.zoomAt({ x: 400, y: 300 }, 1e-6);
  assert.equal(v.scale, v.minScale());
  assert.ok(v.minScale() < v.fitScale());
  assert.ok(Number.isFinite(board.x));
  v.zoomAt({ x: 1, y: 1 }, NaN);
  v.zoomAt({ x: 1, y: 1 }, -2);
  assert.equal(v.scale, v.minScale(), 'nonsense factors are ignored');
});

test('pixelAt maps screen points to board pixels and null outside the board', () => {
  const v = new View(10, 10, 100, 100);
  const c = v.pixelCentre(3, 7);
  assert.deepEqual(v.pixelAt(c), { x: 3, y: 7 });
  assert.deepEqual(v.pixelAt(v.boardToScreen({ x: 0, y: 0 })), { x: 0, y: 0 });
  assert.equal(v.pixelAt(v.boardToScreen({ x: 10, y: 5 })), null, 'right edge is outside');
  assert.equal(v.pixelAt(v.boardToScreen({ x: -0.01, y: 5 })), null);
});

test('pan moves the board with the pointer but never loses it entirely', () => {
  const v = new View(100, 100, 800, 600);
  v.zoomAt({ x: 400, y: 300 }, 4);
  const ox = v.ox;
  v.pan(25, -10);
  near(v.ox, ox + 25);
  v.pan(1e6, 1e6);
  assert.ok(v.ox < 800 && v.oy < 600, 'some of the board stays in view');
  v.pan(-1e7, -1e7);
  assert.ok(v.ox + 100 * v.scale > 0 && v.oy + 100 * v.scale > 0);
});

test('resize keeps the board point at the centre of the viewport', () => {
  const v = new View(100, 100, 800, 600);
  v.zoomAt({ x: 200, y: 150 }, 5);
  const centre = v.screenToBoard({ x: 400, y: 300 });
  v.resize(390, 700);
  const after = v.screenToBoard({ x: 195, y: 350 });
  near(after.x, centre.x, 1e-9);
  near(after.y, centre.y, 1e-9);
});

test('centreOn puts the pixel at the viewport centre at the asked scale, held to the zoom range', () => {
  const v = new View(64, 48, 1000, 700);
  v.centreOn(10, 20, 8);
  assert.equal(v.scale, 8);
  assert.deepEqual(v.pixelAt({ x: 500, y: 350 }), { x: 10, y: 20 });
  assert.deepEqual(v.centrePixel(), { x: 10, y: 20 });
  v.centreOn(63, 0, 1000);
  assert.equal(v.scale, MAX_SCALE);
  assert.deepEqual(v.centrePixel(), { x: 63, y: 0 });
});
