import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatestOnly } from '../src/history/latest-only.ts';

/** Fake timers: `fire()` runs the ones due; a cancelled timer never runs. */
function fakeTimers() {
  const timers = new Set<{ fn: () => void; ms: number }>();
  return {
    setTimer: (fn: () => void, ms: number) => {
      const t = { fn, ms };
      timers.add(t);
      return () => timers.delete(t);
    },
    fire: () => {
      const due = [...timers];
      timers.clear();
      for (const t of due) t.fn();
    },
    get count() {
      return timers.size;
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('a burst of requests runs once, for the last value, after the delay', async () => {
  const timers = fakeTimers();
  const ran: number[] = [];
  const latest = new LatestOnly<number>({
    delayMs: 150,
    setTimer: timers.setTimer,
    run: async (v) => void ran.push(v),
  });
  for (const v of [1, 2, 3, 4]) latest.request(v);
  assert.equal(timers.count, 1, 'one timer: each request restarts the wait');
  assert.deepEqual(ran, []);
  timers.fire();
  await settle();
  assert.deepEqual(ran, [4]);
  assert.equal(latest.waiting, false);
});

test('never two at once: requests during a run wait, and only the latest of them runs next', async () => {
  const timers = fakeTimers();
  const ran: number[] = [];
  const finish: Array<() => void> = [];
  const latest = new LatestOnly<number>({
    delayMs: 10,
    setTimer: timers.setTimer,
    run: (v) => {
      ran.push(v);
      return new Promise<void>((resolve) => finish.push(resolve));
    },
  });
  latest.request(1);
  timers.fire();
  assert.deepEqual(ran, [1]);
  latest.request(2);
  latest.request(3);
  timers.fire(); // the delay is over, but 1 is still running
  assert.deepEqual(ran, [1]);
  assert.equal(latest.waiting, true);
  finish.shift()?.();
  await settle();
  assert.deepEqual(ran, [1, 3], '2 was replaced before it started');
  finish.shift()?.();
  await settle();
  assert.deepEqual(ran, [1, 3]);
});

test('cancel drops the waiting request; a failing run does not stop the next', async () => {
  const timers = fakeTimers();
  const ran: number[] = [];
  const warn = console.warn;
  console.warn = () => {};
  try {
    const latest = new LatestOnly<number>({
      delayMs: 10,
      setTimer: timers.setTimer,
      run: async (v) => {
        ran.push(v);
        if (v === 2) throw new Error('network down');
      },
    });
    latest.request(1);
    latest.cancel();
    timers.fire();
    await settle();
    assert.deepEqual(ran, []);
    latest.request(2);
    timers.fire();
    await settle();
    latest.request(3);
    timers.fire();
    await settle();
    assert.deepEqual(ran, [2, 3]);
  } finally {
    console.warn = warn;
  }
});
