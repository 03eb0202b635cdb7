import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hintText } from '../src/ui/first-hint.ts';

test('the first-visit hint says how to place: click with a mouse, tap then Place on a touch screen', () => {
  assert.match(hintText(false), /Pick a colour.*click a pixel/);
  assert.doesNotMatch(hintText(false), /tap/);
  assert.match(hintText(true), /Pick a colour.*tap a pixel.*"Place"/);
});
