import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePixelInfo, pixelLink, placedText } from '../src/pixel-info/pixel-info.ts';

const placed = { x: 10, y: 20, color: 5, who: '3f00aa11bb22cc33', at: 1764000000000, seq: 42 };
const never = { x: 1, y: 2, color: 0, who: null, at: null, seq: null };

test('parsePixelInfo accepts the documented answer, placed or never placed', () => {
  assert.deepEqual(parsePixelInfo(placed), placed);
  assert.deepEqual(parsePixelInfo(never), never);
});

test('parsePixelInfo refuses anything else', () => {
  assert.equal(parsePixelInfo(null), null);
  assert.equal(parsePixelInfo('<html>'), null);
  assert.equal(parsePixelInfo({ ...placed, x: '10' }), null);
  assert.equal(parsePixelInfo({ ...placed, who: 7 }), null);
  assert.equal(parsePixelInfo({ ...placed, at: 1.5 }), null);
  assert.equal(parsePixelInfo({ error: 'out_of_bounds' }), null);
});

test('placedText says who and when, or never placed', () => {
  const time = (ms: number) => `t${ms}`;
  assert.deepEqual(placedText(placed, time), { who: '3f00aa11bb22cc33', when: 't1764000000000' });
  assert.deepEqual(placedText(never, time), { who: 'nobody', when: 'never placed' });
});

test('pixelLink is a position link to the pixel at the scale, two decimals at most', () => {
  assert.equal(pixelLink('http://h:1/', 10, 20, 8), 'http://h:1/#x=10&y=20&scale=8');
  assert.equal(pixelLink('http://h:1/', 0, 3, 12.3456), 'http://h:1/#x=0&y=3&scale=12.35');
});
