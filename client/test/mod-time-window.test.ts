import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  agoText,
  clockText,
  durationText,
  SLIDER_STEPS,
  sliderAt,
  windowFromSlider,
  windowText,
} from '../src/mod/time-window.ts';

const HOUR = 3_600_000;
const now = new Date(2026, 2, 14, 15, 30, 0).getTime();

test('the thumbs choose a window over the span ending now; the right thumb at the end is an open window', () => {
  assert.deepEqual(windowFromSlider(HOUR, now, 0, SLIDER_STEPS), { since: now - HOUR, until: null });
  assert.deepEqual(windowFromSlider(HOUR, now, 500, 750), { since: now - HOUR / 2, until: now - HOUR / 4 });
  assert.deepEqual(
    windowFromSlider(HOUR, now, 750, 500),
    { since: now - HOUR / 2, until: now - HOUR / 4 },
    'crossed thumbs',
  );
});

test('thumbs on one spot make a window one step long, not an empty one (the server refuses those)', () => {
  assert.deepEqual(windowFromSlider(HOUR, now, 500, 500), {
    since: now - HOUR / 2,
    until: now - HOUR / 2 + HOUR / 1000,
  });
  assert.deepEqual(windowFromSlider(HOUR, now, SLIDER_STEPS, SLIDER_STEPS), { since: now - HOUR / 1000, until: null });
});

test('sliderAt is the inverse, held to the slider', () => {
  assert.equal(sliderAt(HOUR, now, now - HOUR / 2), 500);
  assert.equal(sliderAt(HOUR, now, now - 2 * HOUR), 0);
  assert.equal(sliderAt(HOUR, now, now + HOUR), SLIDER_STEPS);
});

test('times: the clock alone today, with the date on another day; ago in the largest whole unit', () => {
  assert.equal(clockText(new Date(2026, 2, 14, 9, 5, 7).getTime(), now), '09:05:07');
  assert.equal(clockText(new Date(2026, 2, 13, 23, 59, 59).getTime(), now), '2026-03-13 23:59:59');
  assert.equal(agoText(now - 12_400, now), '12 s ago');
  assert.equal(agoText(now - 3 * 60_000, now), '3 min ago');
  assert.equal(agoText(now - 5 * HOUR, now), '5 h ago');
  assert.equal(agoText(now - 50 * HOUR, now), '2 d ago');
  assert.equal(agoText(now + 5000, now), '0 s ago', 'a server clock a little ahead is not "in the future"');
});

test('the window label says both ends and the length', () => {
  assert.equal(windowText({ since: now - 15 * 60_000, until: null }, now), '15:15:00 → now (15 min)');
  assert.equal(windowText({ since: now - 6 * HOUR, until: now - HOUR }, now), '09:30:00 → 14:30:00 (5 h)');
});

test('durations for locks and bans', () => {
  assert.equal(durationText(42), '42 s');
  assert.equal(durationText(245), '4 min 05 s');
  assert.equal(durationText(7800), '2 h 10 min');
  assert.equal(durationText(-3), '0 s');
});
