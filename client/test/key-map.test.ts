import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colourKey, cycleColour, digitColour, KEY_PAN, KEY_ZOOM, keyAction } from '../src/input/key-map.ts';

const key = (k: string, shiftKey = false) => ({ key: k, shiftKey });

test('with the canvas focused the arrows move the cursor (Shift: ten pixels) and Enter or Space places', () => {
  assert.deepEqual(keyAction(key('ArrowRight'), true), { kind: 'aim', dx: 1, dy: 0 });
  assert.deepEqual(keyAction(key('ArrowUp', true), true), { kind: 'aim', dx: 0, dy: -10 });
  assert.deepEqual(keyAction(key('Enter'), true), { kind: 'place' });
  assert.deepEqual(keyAction(key(' '), true), { kind: 'place' });
});

test('elsewhere the arrows pan toward the arrow, and Enter or Space are left to the focused control', () => {
  assert.deepEqual(keyAction(key('ArrowRight'), false), { kind: 'pan', dx: -KEY_PAN, dy: 0 });
  assert.deepEqual(keyAction(key('ArrowUp'), false), { kind: 'pan', dx: 0, dy: KEY_PAN });
  assert.equal(keyAction(key('Enter'), false), null);
  assert.equal(keyAction(key(' '), false), null);
});

test('digits pick the first ten colours in keyboard order; ] and [ step through all', () => {
  assert.deepEqual(keyAction(key('1'), false), { kind: 'pick', index: 0 });
  assert.deepEqual(keyAction(key('9'), true), { kind: 'pick', index: 8 });
  assert.deepEqual(keyAction(key('0'), false), { kind: 'pick', index: 9 });
  assert.deepEqual(keyAction(key(']'), false), { kind: 'cycle', step: 1 });
  assert.deepEqual(keyAction(key('['), false), { kind: 'cycle', step: -1 });
  assert.equal(digitColour('a'), null);
  assert.deepEqual([0, 8, 9, 10].map(colourKey), ['1', '9', '0', null]);
});

test('zoom, fit, the template and history panels have keys; other keys mean nothing', () => {
  assert.deepEqual(keyAction(key('+'), false), { kind: 'zoom', factor: KEY_ZOOM });
  assert.deepEqual(keyAction(key('-'), true), { kind: 'zoom', factor: 1 / KEY_ZOOM });
  assert.deepEqual(keyAction(key('f'), false), { kind: 'fit' });
  assert.deepEqual(keyAction(key('T', true), false), { kind: 'template' });
  assert.deepEqual(keyAction(key('h'), true), { kind: 'history' });
  assert.equal(keyAction(key('q'), true), null);
  assert.equal(keyAction(key('Tab'), true), null);
});

test('cycleColour wraps around and starts at an end when nothing is selected', () => {
  assert.equal(cycleColour(null, 1, 16), 0);
  assert.equal(cycleColour(null, -1, 16), 15);
  assert.equal(cycleColour(15, 1, 16), 0);
  assert.equal(cycleColour(0, -1, 16), 15);
  assert.equal(cycleColour(4, 1, 16), 5);
  assert.equal(cycleColour(null, 1, 0), null);
});
