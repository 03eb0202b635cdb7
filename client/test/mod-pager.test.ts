import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CursorPager } from '../src/mod/pager.ts';

test('forward follows the server cursor; back re-asks the earlier page; reset starts over', () => {
  const p = new CursorPager();
  assert.equal(p.current, null);
  assert.equal(p.forward(), false, 'no answer yet: no next page');
  p.answered(90);
  assert.equal(p.hasNext, true);
  assert.equal(p.forward(), true);
  assert.equal(p.current, 90);
  assert.equal(p.page, 2);
  p.answered(null);
  assert.equal(p.hasNext, false, 'the last page');
  p.answered(40);
  p.forward();
  assert.equal(p.current, 40);
  assert.equal(p.back(), true);
  assert.equal(p.current, 90);
  assert.equal(p.hasPrevious, true);
  p.reset();
  assert.equal(p.current, null);
  assert.equal(p.hasPrevious, false);
  assert.equal(p.back(), false);
});
