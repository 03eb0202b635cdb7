import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cooldownFor, statusFor, titleFor } from '../src/ui/status-text.ts';
import { groupDigits } from '../src/ui/numbers.ts';

const base = { polling: false, pollOk: true, retryInMs: 0, loaded: true };

test('status: connected before the first snapshot says it is loading, not live', () => {
  assert.deepEqual(statusFor({ ...base, conn: { kind: 'open' }, loaded: false }), {
    kind: 'loading',
    text: 'Loading the canvas…',
  });
});

test('status: live, connecting, and every disconnected state says placing is disabled', () => {
  assert.deepEqual(statusFor({ ...base, conn: { kind: 'open' } }), { kind: 'connected', text: 'Live' });
  assert.equal(statusFor({ ...base, conn: { kind: 'connecting', attempt: 1 } }).kind, 'connecting');
  for (const conn of [
    { kind: 'connecting', attempt: 2 },
    { kind: 'waiting', retryInMs: 3000, failures: 2, blocked: false },
  ] as const) {
    const s = statusFor({ ...base, conn, retryInMs: 2100 });
    assert.equal(s.kind, 'reconnecting');
    assert.match(s.text, /placing disabled/);
  }
  assert.equal(
    statusFor({ ...base, conn: { kind: 'waiting', retryInMs: 3000, failures: 1, blocked: false }, retryInMs: 2100 })
      .text,
    'Disconnected: retrying in 3 s; placing disabled',
  );
});

test('status: polling says so, and offline when polls fail too; an open socket wins', () => {
  const waiting = { kind: 'waiting', retryInMs: 8000, failures: 3, blocked: true } as const;
  assert.equal(statusFor({ ...base, conn: waiting, polling: true }).kind, 'polling');
  assert.match(statusFor({ ...base, conn: waiting, polling: true }).text, /polling.*WebSocket blocked/);
  assert.equal(statusFor({ ...base, conn: waiting, polling: true, pollOk: false }).kind, 'offline');
  assert.equal(statusFor({ ...base, conn: { kind: 'open' }, polling: true }).kind, 'connected');
});

test('cooldown timer', () => {
  assert.deepEqual(cooldownFor(4200, 5000, true), { text: 'Next pixel in 5 s', waiting: true });
  assert.deepEqual(cooldownFor(0, 5000, true), { text: 'Ready to place', waiting: false });
  assert.deepEqual(cooldownFor(-10, 0, true), { text: 'Ready (no cooldown)', waiting: false });
  assert.deepEqual(cooldownFor(4200, 5000, false), { text: '', waiting: false });
});

test('tab title: the countdown while waiting, "Ready" when it ends, the plain name otherwise', () => {
  assert.equal(titleFor(42_000, 60_000, true), '42 s · Canvas');
  assert.equal(titleFor(65_000, 300_000, true), '1:05 · Canvas');
  assert.equal(titleFor(0, 60_000, true), 'Ready · Canvas');
  assert.equal(titleFor(-5, 60_000, true), 'Ready · Canvas', 'a deadline just passed');
  assert.equal(titleFor(0, 0, true), 'Canvas', 'no cooldown: nothing to wait for');
  assert.equal(titleFor(42_000, 60_000, false), 'Canvas', 'placing impossible: the status says why');
});

test('groupDigits writes thousands separators as en-US does', () => {
  for (const n of [0, 7, 999, 1000, 12345, 1234567, -4321, 1e9])
    assert.equal(groupDigits(n), n.toLocaleString('en-US'));
});

test('cooldown timer with charges: "N of M pixels", the refill countdown, waiting only when none are left', () => {
  const now = 100_000;
  assert.deepEqual(cooldownFor(0, 30_000, true, { left: 5, max: 5 }, now), { text: '5 of 5 pixels', waiting: false });
  assert.deepEqual(cooldownFor(0, 30_000, true, { left: 2, max: 5, nextAt: now + 12_300 }, now), {
    text: '2 of 5 pixels · +1 in 13 s',
    waiting: false,
  });
  assert.deepEqual(cooldownFor(7_000, 30_000, true, { left: 0, max: 5, nextAt: now + 7_000 }, now), {
    text: '0 of 5 pixels · next in 7 s',
    waiting: true,
  });
  assert.deepEqual(cooldownFor(0, 30_000, true, { left: 1, max: 1 }, now), { text: '1 of 1 pixel', waiting: false });
  assert.deepEqual(cooldownFor(0, 30_000, false, { left: 5, max: 5 }, now), { text: '', waiting: false });
});
