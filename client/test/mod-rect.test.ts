import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampRect, rectBetween, rectFromFields, rectOnScreen, sameRect, scaleToShow } from '../src/mod/rect.ts';

test('a drag selects both corner pixels, whichever way it went', () => {
  const r = { x: 3, y: 4, width: 5, height: 2 };
  assert.deepEqual(rectBetween({ x: 3.2, y: 4.9 }, { x: 7.99, y: 5.1 }, 64, 48), r);
  assert.deepEqual(rectBetween({ x: 7.5, y: 5.5 }, { x: 3.5, y: 4.5 }, 64, 48), r);
  assert.deepEqual(rectBetween({ x: 3.5, y: 4.5 }, { x: 3.5, y: 4.5 }, 64, 48), { x: 3, y: 4, width: 1, height: 1 });
});

test('a drag past the edges is held to the canvas; one wholly outside selects nothing', () => {
  assert.deepEqual(rectBetween({ x: -5, y: -5 }, { x: 100, y: 2 }, 64, 48), { x: 0, y: 0, width: 64, height: 3 });
  assert.equal(rectBetween({ x: -5, y: -5 }, { x: -1, y: -1 }, 64, 48), null);
  assert.equal(clampRect({ x: 64, y: 0, width: 5, height: 5 }, 64, 48), null);
});

test('on screen under the view transform', () => {
  assert.deepEqual(rectOnScreen({ x: 2, y: 3, width: 4, height: 5 }, { scale: 10, ox: 7, oy: -1 }), {
    x: 27,
    y: 29,
    width: 40,
    height: 50,
  });
});

test('a hot area is shown at most 60% of the viewport, never past the max zoom', () => {
  assert.equal(scaleToShow({ x: 0, y: 0, width: 100, height: 10 }, { w: 1000, h: 600 }, 64), 6);
  assert.equal(scaleToShow({ x: 0, y: 0, width: 1, height: 1 }, { w: 1000, h: 600 }, 64), 64);
  assert.equal(sameRect({ x: 0, y: 0, width: 1, height: 1 }, { x: 0, y: 0, width: 1, height: 1 }), true);
  assert.equal(sameRect(null, { x: 0, y: 0, width: 1, height: 1 }), false);
});

test('a rectangle typed by numbers: whole numbers only, held to the canvas', () => {
  assert.deepEqual(rectFromFields({ x: '60', y: ' 40 ', width: '10', height: '10' }, 64, 48), {
    x: 60,
    y: 40,
    width: 4,
    height: 8,
  });
  assert.equal(rectFromFields({ x: '1.5', y: '0', width: '1', height: '1' }, 64, 48), null);
  assert.equal(rectFromFields({ x: '', y: '0', width: '1', height: '1' }, 64, 48), null);
  assert.equal(rectFromFields({ x: '0', y: '0', width: '0', height: '1' }, 64, 48), null);
  assert.equal(rectFromFields({ x: '64', y: '0', width: '1', height: '1' }, 64, 48), null);
});
