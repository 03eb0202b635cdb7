import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  historyErrorText,
  historyImageUrl,
  historyLabel,
  localInputValue,
  parseLocalInput,
  sliderStep,
  stepTime,
  TIMELAPSE_DELAY_MS,
  timelapseFileName,
  regionTimelapsePlan,
  timelapsePlan,
  timelapseUrl,
} from '../src/history/history-urls.ts';

test('the canvas at a seq is /api/history/image?seq=N', () => {
  assert.equal(historyImageUrl(0), '/api/history/image?seq=0');
  assert.equal(historyImageUrl(12345), '/api/history/image?seq=12345');
});

test('a timelapse of the whole history: 100 frames, a small canvas scaled up to ~512 px', () => {
  const plan = timelapsePlan(64, 48, 0, 5000);
  assert.deepEqual(plan, { from: 0, to: 5000, frames: 100, scale: 8, delay: TIMELAPSE_DELAY_MS });
  assert.equal(plan && timelapseUrl(plan), '/api/history/timelapse?from=0&to=5000&frames=100&scale=8&delay=100');
  assert.equal(plan && timelapseFileName(plan), 'timelapse-0-5000.png');
});

test('no more frames than placements, and nothing to animate below two seqs', () => {
  assert.equal(timelapsePlan(64, 48, 0, 3)?.frames, 4);
  assert.equal(timelapsePlan(64, 48, 7, 7), null);
  assert.equal(timelapsePlan(64, 48, 0, 0), null);
  assert.equal(timelapsePlan(64, 48, 9, 3), null);
});

test('large canvases stay within the server limits (100 M pixels over all frames, 4096 px a side)', () => {
  const big = timelapsePlan(2000, 2000, 0, 1_000_000);
  assert.deepEqual(big && { frames: big.frames, scale: big.scale }, { frames: 25, scale: 1 });
  const wide = timelapsePlan(4096, 100, 0, 1000);
  assert.equal(wide?.scale, 1);
  for (const [w, h] of [
    [1000, 1000],
    [300, 200],
    [4096, 4096],
  ] as const) {
    const p = timelapsePlan(w, h, 0, 1e6);
    assert.ok(p, `${w} x ${h}`);
    assert.ok(
      p.frames >= 2 && p.frames * w * h * p.scale * p.scale <= 100_000_000,
      `${w} x ${h}: ${JSON.stringify(p)}`,
    );
    assert.ok(Math.max(w, h) * p.scale <= 4096);
  }
  assert.equal(timelapsePlan(8000, 8000, 0, 10), null, 'not even two frames fit');
});

test('refusals are explained by their code: busy says when to retry', () => {
  const busy = { status: 429, body: { error: 'busy', message: '1 build(s) in progress' }, retryAfter: '5' };
  assert.equal(historyErrorText(busy, 'timelapse'), 'The server is busy building another timelapse: try again in 5 s.');
  assert.equal(
    historyErrorText({ ...busy, retryAfter: null }, 'image'),
    'The server is busy: retrying in a few seconds.',
  );
  assert.match(
    historyErrorText({ status: 503, body: { error: 'unavailable', message: 'x' }, retryAfter: null }, 'image'),
    /unavailable right now/,
  );
  assert.equal(
    historyErrorText(
      { status: 400, body: { error: 'bad_request', message: 'seq 9 is after 3' }, retryAfter: null },
      'image',
    ),
    'The server could not show history (bad_request): seq 9 is after 3',
  );
  assert.match(
    historyErrorText(
      { status: 413, body: { error: 'too_large', message: 'no past canvases over 4096 a side' }, retryAfter: null },
      'image',
    ),
    /^The server refused a past canvas this large \(no past canvases over 4096 a side\): zoom in to see the history of a smaller area, or click a pixel to see its own history\.$/,
    'a past canvas refused for its size: said plainly, not as a timelapse, with what may still work',
  );
  assert.equal(
    historyErrorText({ status: 502, body: null, retryAfter: null }, 'image'),
    'The server could not show history (HTTP 502).',
  );
});

test('the slider steps by a hundredth of the history per arrow (Shift: one), a tenth per page', () => {
  assert.equal(sliderStep('ArrowRight', false, 13_000), 130);
  assert.equal(sliderStep('ArrowLeft', false, 13_000), -130);
  assert.equal(sliderStep('ArrowDown', true, 13_000), -1, 'Shift: one placement');
  assert.equal(sliderStep('PageUp', false, 13_000), 1_300);
  assert.equal(sliderStep('PageDown', false, 13_000), -1_300);
  assert.equal(sliderStep('ArrowUp', false, 40), 1, 'never less than one');
  assert.equal(sliderStep('Home', false, 13_000), null, 'the slider does Home and End itself');
});

test('time steps stop at now; datetime-local values round-trip in local time', () => {
  const now = Date.UTC(2026, 11, 6, 18, 0, 0);
  assert.equal(stepTime(now - 600_000, -3_600_000, now), now - 4_200_000);
  assert.equal(stepTime(now - 600_000, 3_600_000, now), now, 'not into the future');
  assert.equal(stepTime(1_000, -3_600_000, now), 0);
  const at = new Date(2026, 11, 6, 17, 5, 9).getTime();
  assert.equal(localInputValue(at), '2026-12-06T17:05:09');
  assert.equal(parseLocalInput('2026-12-06T17:05:09'), at);
  assert.equal(parseLocalInput('2026-12-06T17:05'), at - 9_000, 'seconds are optional');
  assert.equal(parseLocalInput(''), null);
  assert.equal(parseLocalInput('yesterday'), null);
});

test('the history label names the moment shown when it is known, and always the seq', () => {
  const format = (ms: number) => `T${ms}`;
  assert.equal(historyLabel(42, null, format), 'History: seq 42');
  assert.equal(historyLabel(42, 1_000, format), 'History: T1000 · seq 42');
});

test("a huge canvas's timelapse is of the view's region, planned for the region's size", () => {
  const small = regionTimelapsePlan({ x: 16_256, y: 16_320, w: 128, h: 64 }, 0, 5000);
  assert.deepEqual(small, {
    from: 0,
    to: 5000,
    frames: 100,
    scale: 4,
    delay: TIMELAPSE_DELAY_MS,
    region: { x: 16_256, y: 16_320, w: 128, h: 64 },
  });
  assert.equal(
    small && timelapseUrl(small),
    '/api/history/timelapse?from=0&to=5000&frames=100&scale=4&delay=100&x=16256&y=16320&w=128&h=64',
  );
  assert.equal(small && timelapseFileName(small), 'timelapse-0-5000-at-16256-16320-128x64.png');
  // Zoomed far out: a 4096 x 4096 region, 5 frames of 16.8 M pixels within the 100 M limit.
  const big = regionTimelapsePlan({ x: 6144, y: 6144, w: 4096, h: 4096 }, 10, 1_000_000);
  assert.ok(big);
  assert.deepEqual({ frames: big.frames, scale: big.scale }, { frames: 5, scale: 1 });
  assert.ok(big.frames * 4096 * 4096 <= 100_000_000);
  assert.equal(regionTimelapsePlan({ x: 0, y: 0, w: 64, h: 64 }, 3, 3), null, 'nothing to animate');
});
