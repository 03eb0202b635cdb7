import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  banBody,
  banTarget,
  heatmapBySelection,
  heatmapPath,
  heatmapRegion,
  placementsPath,
  previewFits,
  rollbackBody,
} from '../src/mod/queries.ts';

const rect = { x: 10, y: 20, width: 30, height: 40 };

test('placements: rectangle, window and limit in the query; an open window sends no until; the cursor as before', () => {
  const open = new URL(placementsPath(rect, { since: 1000.7, until: null }, null), 'http://h');
  assert.equal(open.pathname, '/api/admin/placements');
  assert.deepEqual(Object.fromEntries(open.searchParams), {
    x: '10',
    y: '20',
    width: '30',
    height: '40',
    since: '1000',
    limit: '50',
  });
  const paged = new URL(placementsPath(rect, { since: 1000, until: 5000 }, 77, 10), 'http://h');
  assert.equal(paged.searchParams.get('until'), '5000');
  assert.equal(paged.searchParams.get('before'), '77');
  assert.equal(paged.searchParams.get('limit'), '10');
});

test('heatmap of the window: an open window ends 2 s ago, not at the server\'s cached "now" (10-30 s old)', () => {
  assert.equal(heatmapPath({ since: 1, until: null }, 10_000), '/api/history/heatmap?fromAt=1&toAt=8000');
  assert.equal(heatmapPath({ since: 1, until: 2 }, 10_000), '/api/history/heatmap?fromAt=1&toAt=2');
  assert.equal(
    heatmapPath({ since: 1, until: 2 }, 10_000, rect),
    '/api/history/heatmap?fromAt=1&toAt=2&x=10&y=20&w=30&h=40',
    "a region in the history API's names",
  );
});

test('heatmap region: the whole canvas up to 4096 a side; over it the selection within 4096, else why not', () => {
  const small = { width: 4096, height: 4096 };
  const big = { width: 16_384, height: 100 };
  assert.equal(heatmapBySelection(small), false);
  assert.equal(heatmapBySelection(big), true);
  assert.deepEqual(heatmapRegion(small, rect), { region: null }, 'whole, whatever is selected');
  assert.deepEqual(heatmapRegion(big, rect), { region: rect });
  assert.match((heatmapRegion(big, null) as { why: string }).why, /select a rectangle/);
  const wide = { x: 0, y: 0, width: 4097, height: 10 };
  assert.match((heatmapRegion(big, wide) as { why: string }).why, /over 4096/);
  assert.deepEqual(heatmapRegion(big, { ...wide, width: 4096 }), { region: { ...wide, width: 4096 } });
});

test('rollback body: the rectangle and since; until and ids only when given (the contract makes them optional)', () => {
  assert.deepEqual(rollbackBody(rect, { since: 5, until: null }, []), { ...rect, since: 5 });
  const ids = ['00000000000000aa'];
  const body = rollbackBody(rect, { since: 5, until: 9 }, ids);
  assert.deepEqual(body, { ...rect, since: 5, until: 9, ids });
  assert.notEqual(body.ids, ids, 'a copy: later ticks in the table do not change a sent body');
});

test('a preview is asked only within 1024 px a side (the server answers 413 beyond)', () => {
  assert.equal(previewFits({ x: 0, y: 0, width: 1024, height: 1024 }), true);
  assert.equal(previewFits({ x: 0, y: 0, width: 1025, height: 1 }), false);
});

test('ban: 16 hex digits are an identity, anything else a network; "until lifted" sends no seconds', () => {
  assert.deepEqual(banTarget(' 00000000000000AB '), { id: '00000000000000ab' });
  assert.deepEqual(banTarget('203.0.113.0/24'), { prefix: '203.0.113.0/24' });
  assert.equal(banTarget('  '), null);
  assert.deepEqual(banBody({ id: 'a' }, ' raid ', 3600), { id: 'a', reason: 'raid', seconds: 3600 });
  assert.deepEqual(banBody({ prefix: 'p' }, 'raid', null), { prefix: 'p', reason: 'raid' });
});
