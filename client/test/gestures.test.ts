import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gestures, wheelZoomFactor, type GestureOp } from '../src/input/gestures.ts';
import { View } from '../src/view/view.ts';

function apply(view: View, ops: GestureOp[]): void {
  for (const op of ops) {
    if (op.kind === 'pan') view.pan(op.dx, op.dy);
    else view.zoomAt(op.anchor, op.factor);
  }
}

const zoomed = () => {
  const v = new View(200, 200, 800, 600);
  v.zoomAt({ x: 400, y: 300 }, 4);
  return v;
};

test('a press without movement is a tap at the release point; a drag is not', () => {
  const g = new Gestures();
  g.down(1, { x: 10, y: 10 }, false);
  assert.deepEqual(g.move(1, { x: 12, y: 11 }), [], 'within the slop nothing pans');
  assert.deepEqual(g.up(1, { x: 12, y: 11 }), { x: 12, y: 11 });

  g.down(1, { x: 10, y: 10 }, false);
  const ops = g.move(1, { x: 40, y: 10 });
  assert.deepEqual(ops, [{ kind: 'pan', dx: 30, dy: 0 }]);
  assert.equal(g.dragging, true);
  assert.equal(g.up(1, { x: 40, y: 10 }), null);
});

test('touch has a larger tap slop than the mouse', () => {
  const g = new Gestures();
  g.down(1, { x: 0, y: 0 }, true);
  g.move(1, { x: 9, y: 0 });
  assert.ok(g.up(1, { x: 9, y: 0 }), '9 px on touch is still a tap');
  g.down(1, { x: 0, y: 0 }, false);
  g.move(1, { x: 9, y: 0 });
  assert.equal(g.up(1, { x: 9, y: 0 }), null, '9 px with a mouse is a drag');
});

test('the board follows a drag exactly: the point grabbed stays under the pointer', () => {
  const v = zoomed();
  const g = new Gestures();
  const start = { x: 300, y: 200 };
  const grabbed = v.screenToBoard(start);
  g.down(1, start, false);
  for (let i = 1; i <= 10; i++) apply(v, g.move(1, { x: 300 + i * 7, y: 200 + i * 3 }));
  const now = v.screenToBoard({ x: 370, y: 230 });
  assert.ok(Math.abs(now.x - grabbed.x) < 1e-9 && Math.abs(now.y - grabbed.y) < 1e-9);
});

test('wheel zoom in the middle of a drag causes no jump', () => {
  const v = zoomed();
  const g = new Gestures();
  g.down(1, { x: 300, y: 200 }, false);
  apply(v, g.move(1, { x: 320, y: 200 }));
  // Zoom about the pointer mid-drag: the pixel under the pointer does not move...
  const under = v.screenToBoard({ x: 320, y: 200 });
  apply(v, [{ kind: 'zoom', anchor: { x: 320, y: 200 }, factor: wheelZoomFactor(-120, 0) }]);
  const afterZoom = v.screenToBoard({ x: 320, y: 200 });
  assert.ok(Math.abs(afterZoom.x - under.x) < 1e-9);
  // ...and continuing the drag moves the board only by the pointer's motion.
  apply(v, g.move(1, { x: 325, y: 202 }));
  const afterMove = v.screenToBoard({ x: 325, y: 202 });
  assert.ok(Math.abs(afterMove.x - under.x) < 1e-9 && Math.abs(afterMove.y - under.y) < 1e-9);
});

test('pinch zooms about the midpoint of the fingers and is never a tap', () => {
  const v = zoomed();
  const g = new Gestures();
  g.down(1, { x: 300, y: 300 }, true);
  g.down(2, { x: 400, y: 300 }, true);
  const mid = v.screenToBoard({ x: 350, y: 300 });
  const scale = v.scale;
  apply(v, g.move(1, { x: 250, y: 300 })); // fingers apart: distance 100 -> 150, midpoint 325
  assert.ok(Math.abs(v.scale / scale - 1.5) < 1e-9);
  apply(v, g.move(2, { x: 450, y: 300 })); // distance 150 -> 200, midpoint back to 350
  assert.ok(Math.abs(v.scale / scale - 2) < 1e-9);
  const midAfter = v.screenToBoard({ x: 350, y: 300 });
  assert.ok(
    Math.abs(midAfter.x - mid.x) < 1e-9 && Math.abs(midAfter.y - mid.y) < 1e-9,
    'the pinched point stays under the fingers',
  );
  assert.equal(g.up(1, { x: 250, y: 300 }), null);
  assert.equal(g.up(2, { x: 450, y: 300 }), null);
});

test('lifting one finger of a pinch continues as a drag without a jump', () => {
  const v = zoomed();
  const g = new Gestures();
  g.down(1, { x: 300, y: 300 }, true);
  g.down(2, { x: 400, y: 300 }, true);
  apply(v, g.move(2, { x: 420, y: 310 }));
  g.up(1, { x: 300, y: 300 });
  const under = v.screenToBoard({ x: 420, y: 310 });
  apply(v, g.move(2, { x: 430, y: 330 }));
  const after = v.screenToBoard({ x: 430, y: 330 });
  assert.ok(Math.abs(after.x - under.x) < 1e-9 && Math.abs(after.y - under.y) < 1e-9);
  assert.equal(g.up(2, { x: 430, y: 330 }), null, 'the end of a pinch is not a tap');
});

test('pointercancel forgets the press without a tap', () => {
  const g = new Gestures();
  g.down(1, { x: 0, y: 0 }, true);
  g.cancel(1);
  assert.equal(g.active, false);
  assert.equal(g.up(1, { x: 0, y: 0 }), null);
});

test('wheel zoom is symmetric and bounded per event', () => {
  const inF = wheelZoomFactor(-100, 0);
  const outF = wheelZoomFactor(100, 0);
  assert.ok(inF > 1 && outF < 1);
  assert.ok(Math.abs(inF * outF - 1) < 1e-12);
  assert.equal(wheelZoomFactor(-3, 1), wheelZoomFactor(-48, 0), 'line mode counts 16 px per line');
  assert.ok(wheelZoomFactor(-1e9, 0) < 2, 'a huge event cannot jump');
});
