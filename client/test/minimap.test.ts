import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minimapLayout, outlineRect } from '../src/view/minimap.ts';
import { View } from '../src/view/view.ts';

test('no minimap while the whole canvas is on screen', () => {
  const view = new View(1000, 500, 800, 600);
  assert.equal(minimapLayout(view, 160), null);
  view.zoomAt({ x: 400, y: 300 }, 1.02); // still inside the margin fit leaves
  assert.equal(minimapLayout(view, 160), null);
});

test('zoomed in, the minimap keeps the canvas aspect and outlines the part on screen', () => {
  const view = new View(1000, 500, 800, 600);
  view.centreOn(250, 100, 4); // 200 x 150 canvas pixels on screen, around the centre of pixel (250, 100)
  const layout = minimapLayout(view, 160);
  assert.ok(layout);
  assert.deepEqual({ w: layout.w, h: layout.h }, { w: 160, h: 80 });
  const r = layout.view;
  assert.deepEqual([r.x, r.y, r.w, r.h], [150.5, 25.5, 200, 150]);
});

test('the outline is clamped to the canvas when the view runs past its edge', () => {
  const view = new View(100, 100, 400, 400);
  view.centreOn(0, 0, 10); // the top-left corner at the centre of the screen
  const r = minimapLayout(view, 160)?.view;
  assert.ok(r);
  assert.deepEqual(
    [r.x, r.y, r.w, r.h].map((v) => Math.round(v * 10) / 10),
    [0, 0, 20.5, 20.5],
  );
});

test('on a big canvas the outline grows about its centre to stay visible', () => {
  const k = 110 / 4000; // a 110 px minimap of a 4000 px canvas
  const tiny = outlineRect({ x: 2000, y: 1000, w: 30, h: 60 }, k, 8);
  assert.deepEqual([tiny.w, tiny.h], [8, 8], 'under a pixel otherwise');
  assert.ok(Math.abs(tiny.x + tiny.w / 2 - 2015 * k) < 1e-9, 'centred on the view');
  const big = outlineRect({ x: 0, y: 0, w: 2000, h: 1000 }, k, 8);
  assert.deepEqual([big.w, big.h], [55, 27.5], 'a large view keeps its size');
});
