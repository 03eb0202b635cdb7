import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RECONNECT, ReconnectState, reconnectDelay } from '../src/connection/reconnect.ts';

test('delays grow exponentially from the base up to the cap, with equal jitter', () => {
  for (let failures = 1; failures <= 12; failures++) {
    const d = Math.min(RECONNECT.maxMs, RECONNECT.baseMs * 2 ** (failures - 1));
    assert.equal(reconnectDelay(failures, 0), d / 2, `lowest delay after ${failures} failures`);
    assert.ok(reconnectDelay(failures, 0.999999) <= d, `highest delay after ${failures} failures`);
    assert.ok(reconnectDelay(failures, 0.999999) > d * 0.99);
  }
  assert.equal(reconnectDelay(1, 0.5), 375);
  assert.ok(reconnectDelay(1e9, 0.5) <= RECONNECT.maxMs, 'no overflow for absurd counts');
  assert.equal(reconnectDelay(0, 0), RECONNECT.baseMs / 2, 'counts below 1 act as the first retry');
});

test('jitter spreads clients: different random draws give different delays', () => {
  const delays = new Set([0, 0.2, 0.4, 0.6, 0.8].map((r) => reconnectDelay(5, r)));
  assert.equal(delays.size, 5);
});

test('a connection that stayed up resets the backoff; a flapping one keeps backing off', () => {
  const s = new ReconnectState();
  assert.equal(s.failed(0, 0), 250);
  assert.equal(s.failed(1000, 0), 500);
  s.working(2000);
  assert.equal(s.failed(2000 + RECONNECT.stableMs - 1, 0), 1000, 'open for less than stableMs: keep backing off');
  s.working(50_000);
  assert.equal(s.failed(50_000 + RECONNECT.stableMs, 0), 250, 'stable connection: start over');
});

test('blocked means never worked after blockedAfter failures', () => {
  const s = new ReconnectState();
  for (let i = 1; i < RECONNECT.blockedAfter; i++) s.failed(i, 0.5);
  assert.equal(s.blocked, false);
  s.failed(100, 0.5);
  assert.equal(s.blocked, true);
  s.working(200);
  s.failed(300, 0.5);
  s.failed(400, 0.5);
  assert.equal(s.blocked, false, 'once it worked, failures are outages, not a blocking proxy');
});

test('however long the outage, the next attempt is within 4 s, spread over the last 2 s', () => {
  for (const failures of [5, 20, 1_000]) {
    assert.ok(reconnectDelay(failures, 0.999999) <= 4_000, `at most 4 s after ${failures} failures`);
    assert.ok(reconnectDelay(failures, 0) >= 2_000, 'at least 2 s: the jitter half');
  }
});
