import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chargesAt, chargesFromServer, deadlineFromAck, deadlineFromWait, formatWait } from '../src/place/cooldown.ts';

test('ack deadline: trusts the server time when plausible, clamps it otherwise', () => {
  assert.equal(deadlineFromAck(10_000 + 4_900, 10_000, 5_000), 14_900, 'clocks agree');
  assert.equal(deadlineFromAck(10_000 + 60_000, 10_000, 5_000), 15_000, 'server clock ahead: at most one cooldown');
  assert.equal(
    deadlineFromAck(10_000 - 60_000, 10_000, 5_000),
    10_000,
    'server clock behind: now (the server corrects us with wait)',
  );
  assert.equal(deadlineFromAck(123, 10_000, 0), 10_000, 'no cooldown');
});

test('wait deadline is relative to receipt', () => {
  assert.equal(deadlineFromWait(2_500, 1_000), 3_500);
  assert.equal(deadlineFromWait(-5, 1_000), 1_000);
});

test('formatWait rounds up and switches to m:ss and h:mm:ss', () => {
  assert.equal(formatWait(1), '1 s');
  assert.equal(formatWait(4_001), '5 s');
  assert.equal(formatWait(0), '0 s');
  assert.equal(formatWait(59_999), '1:00');
  assert.equal(formatWait(65_000), '1:05');
  assert.equal(formatWait(3_600_000), '1:00:00');
  assert.equal(formatWait(3_725_000), '1:02:05');
});

test('charges: the server next as local time, clamped to one period; whole charges back every period, up to max', () => {
  const c = chargesFromServer({ left: 1, max: 3, next: 5_000 }, 1_000, 10_000);
  assert.deepEqual(c, { left: 1, max: 3, nextAt: 5_000 });
  assert.deepEqual(chargesFromServer({ left: 1, max: 3, next: 99_000 }, 1_000, 10_000).nextAt, 11_000, 'clamped');
  assert.deepEqual(chargesFromServer({ left: 3, max: 3 }, 1_000, 10_000), { left: 3, max: 3 });
  assert.deepEqual(chargesAt(c, 4_999, 10_000), c, 'not yet');
  assert.deepEqual(chargesAt(c, 5_000, 10_000), { left: 2, max: 3, nextAt: 15_000 });
  assert.deepEqual(chargesAt(c, 15_000, 10_000), { left: 3, max: 3 }, 'full: no next');
  assert.deepEqual(chargesAt(c, 1_000_000, 10_000), { left: 3, max: 3 }, 'never above max');
});
