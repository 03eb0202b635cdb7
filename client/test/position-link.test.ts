import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampLink, formatLink, parseLink } from '../src/link/position-link.ts';

const none = { x: null, y: null, scale: null, colour: null };
const canvas = { width: 64, height: 48, paletteSize: 16, minScale: 0.5, maxScale: 64 };

test('parseLink reads a Pxls position link, with or without #, and the colour', () => {
  assert.deepEqual(parseLink('#x=10&y=20&scale=8'), { x: 10, y: 20, scale: 8, colour: null });
  assert.deepEqual(parseLink('x=10&y=20&scale=0.75&c=5'), { x: 10, y: 20, scale: 0.75, colour: 5 });
  assert.deepEqual(parseLink('#scale=4&y=3&x=2'), { x: 2, y: 3, scale: 4, colour: null }, 'any order');
  assert.deepEqual(parseLink('#x=10.7&y=20.2'), { x: 10, y: 20, scale: null, colour: null }, 'floored');
});

test('parseLink: missing parts read as null; x without y is no position', () => {
  assert.deepEqual(parseLink(''), none);
  assert.deepEqual(parseLink('#'), none);
  assert.deepEqual(parseLink('#x=10'), none);
  assert.deepEqual(parseLink('#y=10&scale=2'), { ...none, scale: 2 });
});

test('parseLink: garbage is ignored, never thrown', () => {
  assert.deepEqual(parseLink('#x=abc&y=1e3&scale=-2&c=1.5'), none);
  assert.deepEqual(parseLink('#x=&y=&scale=0&c=-1'), none);
  assert.deepEqual(parseLink('#x=%E0%A4%A&y=NaN&scale=Infinity'), none);
  assert.deepEqual(parseLink('#&&=&x&y'), none);
});

test('clampLink pulls an out-of-range link onto the canvas and drops a colour not in the palette', () => {
  assert.deepEqual(clampLink({ x: 999, y: -5, scale: 1000, colour: 16 }, canvas), {
    x: 63,
    y: 0,
    scale: 64,
    colour: null,
  });
  assert.deepEqual(clampLink({ x: 5, y: 6, scale: 0.01, colour: 15 }, canvas), { x: 5, y: 6, scale: 0.5, colour: 15 });
  assert.deepEqual(clampLink(none, canvas), none);
});

test('formatLink writes ours first and keeps other tools’ parameters byte for byte, in order', () => {
  const template = 'template=https%3A%2F%2Fexample.com%2Fa.png&ox=3&oy=4&tw=64&title=My%20art';
  assert.equal(
    formatLink(`#x=1&y=2&${template}&scale=3`, { x: 10, y: 20, scale: 8, colour: 5 }),
    `x=10&y=20&scale=8&c=5&${template}`,
  );
  assert.equal(formatLink('', { x: 0, y: 0, scale: 1 / 3, colour: null }), 'x=0&y=0&scale=0.33');
  assert.equal(formatLink('#foo&x=1', none), 'foo');
});

test('a formatted link parses back to the same view', () => {
  const link = { x: 40, y: 7, scale: 12.5, colour: 13 };
  assert.deepEqual(parseLink(formatLink('#template=t.png', link)), link);
});
