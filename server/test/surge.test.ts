/**
 * The surge detector alone, on a fake clock: baseline, both thresholds, the floor, the warm-up, the
 * lock's end, the calm return, and a moderator's modes. No timers, no I/O.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Surge, type SurgeChange, type SurgeOptions } from '../defence/surge.ts';
import { buildConfig } from '../config/config.ts';
import { eventOf } from '../defence/surge-webhook.ts';

const T0 = 1_700_000_000_000;
const OPTIONS: SurgeOptions = {
  factor: 4,
  lockFactor: 12,
  lockMs: 30_000,
  minRate: 2,
  windowMs: 10_000,
  baselineMs: 300_000,
  calmMs: 20_000,
};

/** A Surge on a fake clock, with helpers to place at a steady rate. */
function rig(options: Partial<SurgeOptions> = {}) {
  let now = T0;
  const surge = new Surge({ ...OPTIONS, ...options }, now);
  const changes: SurgeChange[] = [];
  surge.onChange((c) => changes.push(c));
  return {
    surge,
    changes,
    now: () => now,
    /** `perSecond` placements a second for `seconds`, a share `freshShare` of them first placements. */
    steady(perSecond: number, seconds: number, freshShare = 0): void {
      for (let s = 0; s < seconds; s++) {
        for (let i = 0; i < perSecond; i++)
          surge.placed(now + Math.floor((i * 1000) / perSecond), i < perSecond * freshShare);
        now += 1000;
        surge.update(now);
      }
    },
    /** `n` placements within the current second. */
    burst(n: number, fresh: boolean): void {
      for (let i = 0; i < n; i++) {
        surge.placed(now, fresh);
      }
    },
    advance(ms: number): void {
      now += ms;
      surge.update(now);
    },
    state: () => surge.status(now).state,
  };
}

test('a steady rate sets the baseline and never surges', () => {
  const r = rig();
  r.steady(20, 120, 0.1);
  const s = r.surge.status(r.now());
  assert.equal(s.state, 'normal');
  assert.ok(Math.abs(s.baseline - 20) < 0.5, `baseline ${s.baseline}`);
  assert.ok(Math.abs(s.newBaseline - 2) < 0.5, `new baseline ${s.newBaseline}`);
  assert.ok(Math.abs(s.rate - 20) < 2.5, `rate ${s.rate}`);
  assert.deepEqual(r.changes, []);
});

test('placements over factor x baseline turn challenges on; over the lock factor, the lock', () => {
  const r = rig();
  r.steady(10, 60);
  // 10/s baseline, 10 s window: 4x is 400 placements in the window, 12x 1200.
  r.burst(250, false); // with the window's 90 from the steady rate: 340
  assert.equal(r.state(), 'normal');
  r.burst(100, false);
  assert.equal(r.state(), 'challenge');
  assert.equal(r.surge.challengeAllSince(r.now()), r.now());
  assert.equal(r.changes[0]?.reason, 'surge: too many placements');
  r.burst(800, false);
  assert.equal(r.state(), 'locked');
  const lock = r.surge.lock(r.now());
  assert.equal(lock?.until, r.now() + OPTIONS.lockMs);
  assert.equal(lock?.reason, 'surge: too many placements');
  assert.deepEqual(
    r.changes.map((c) => eventOf(c)),
    ['surge.started', 'surge.locked'],
  );
  assert.equal(r.surge.challengeAllSince(r.now()), r.changes[0]?.at, 'the lock is the same surge');
});

test('new identities trip it on their own, even when placements overall stay under the factor', () => {
  const r = rig();
  r.steady(50, 60, 0.04); // 50/s, 2 of them new: the floor (2/s) is the new-identity baseline
  // 150 new identities in the window: 15/s, over 4 x 2/s, while placements (650/10 s) stay under 4 x 50/s.
  r.burst(150, true);
  assert.equal(r.state(), 'challenge');
  assert.equal(r.changes[0]?.reason, 'surge: too many new players');
  assert.ok((r.changes[0]?.newRate ?? 0) > 4 * (r.changes[0]?.newBaseline ?? 0));
});

test('the floor: a quiet canvas whose first visitors arrive together does not surge', () => {
  const r = rig({ minRate: 5 });
  r.steady(0, 60);
  r.burst(190, true); // 19/s in the window: under 4 x 5/s although the measured baseline is 0
  assert.equal(r.state(), 'normal');
  r.burst(20, true);
  assert.equal(r.state(), 'challenge', 'past the floor it does');
});

test('nothing triggers before the baseline holds a window of seconds (a restart)', () => {
  const r = rig();
  r.burst(5000, true);
  assert.equal(r.state(), 'normal');
  r.advance(10_000); // the burst's seconds leave the window for the baseline: it now knows the rate
  r.burst(1000, true);
  assert.equal(r.state(), 'normal');
});

test('a lock ends by itself into challenges, which end after a calm period', () => {
  const r = rig();
  r.steady(10, 60);
  r.burst(1500, true);
  assert.equal(r.state(), 'locked');
  r.advance(OPTIONS.lockMs - 1);
  assert.equal(r.state(), 'locked');
  r.advance(1);
  assert.equal(r.state(), 'challenge', 'the lock is spent: the burst before it does not lock again');
  assert.equal(r.surge.lock(r.now()), undefined);
  r.steady(10, 19);
  assert.equal(r.state(), 'challenge');
  r.steady(10, 2);
  assert.equal(r.state(), 'normal');
  assert.equal(r.surge.challengeAllSince(r.now()), undefined);
  assert.deepEqual(
    r.changes.map((c) => eventOf(c)),
    ['surge.started', 'surge.locked', 'surge.unlocked', 'surge.ended'],
    'placement by placement, the rate passes the challenge threshold first',
  );
});

test('a rate that stays high keeps challenges on; the calm period starts over', () => {
  const r = rig();
  r.steady(10, 60);
  r.steady(60, 10);
  assert.equal(r.state(), 'challenge');
  r.steady(60, 60);
  assert.equal(r.state(), 'challenge', 'still 6x');
  r.steady(10, 15); // under 4x after 5 s: 10 s of calm
  r.steady(90, 5); // over 4x again after 4 s, before 20 s of calm
  r.steady(10, 15);
  assert.equal(r.state(), 'challenge', 'the calm was interrupted');
  r.steady(10, 30);
  assert.equal(r.state(), 'normal');
});

test('surge seconds do not raise the baseline', () => {
  const r = rig();
  r.steady(10, 60);
  r.steady(60, 60); // a minute-long surge at 6x
  r.steady(10, 40);
  assert.equal(r.state(), 'normal');
  const s = r.surge.status(r.now());
  assert.ok(s.baseline < 11, `baseline ${s.baseline} rose with the surge`);
});

test('an idle gap longer than the baseline empties it down to the floor', () => {
  const r = rig();
  r.steady(100, 60);
  r.advance(10 * OPTIONS.baselineMs);
  const s = r.surge.status(r.now());
  assert.equal(s.baseline, OPTIONS.minRate);
  assert.equal(s.rate, 0);
});

test('moderators: off ends a surge and keeps it off, challenge holds challenges on, unlock ends a surge lock', () => {
  const r = rig();
  r.steady(10, 60);
  r.burst(1500, false);
  assert.equal(r.state(), 'locked');
  r.surge.unlock(r.now(), 'admin@test');
  assert.equal(r.state(), 'challenge');
  assert.equal(r.changes.at(-1)?.actor, 'admin@test');
  r.surge.setMode('off', r.now(), 'admin@test');
  assert.equal(r.state(), 'normal');
  r.burst(5000, true);
  assert.equal(r.state(), 'normal', 'off stays off');
  r.advance(OPTIONS.windowMs);
  r.surge.setMode('challenge', r.now(), 'admin@test');
  assert.equal(r.state(), 'challenge');
  r.advance(10 * OPTIONS.calmMs);
  assert.equal(r.state(), 'challenge', 'held on');
  r.surge.setMode('auto', r.now(), 'admin@test');
  r.advance(OPTIONS.calmMs);
  assert.equal(r.state(), 'normal', 'auto ends it after a calm period');
});

test('factor 0 builds no surge defence', () => {
  assert.throws(() => new Surge({ ...OPTIONS, factor: 0 }, T0), /factor > 0/);
});

test('the surge options are checked at start: a lock below the challenge, a webhook that is no http URL', () => {
  assert.throws(() => buildConfig({ surgeFactor: '5', surgeLockFactor: '4' }), /--surge-lock-factor 4 is below/);
  assert.equal(buildConfig({ surgeFactor: '5', surgeLockFactor: '5' }).surgeLockFactor, 5);
  for (const url of ['ftp://example.com/hook', 'hooks.example.com/secret-token', 'mailto:ops@example.com']) {
    assert.throws(
      () => buildConfig({ surgeWebhook: url }),
      (err: Error) => /--surge-webhook must be an http/.test(err.message) && !err.message.includes(url),
      url,
    );
  }
  assert.equal(
    buildConfig({ surgeWebhook: 'https://hooks.example.com/x' }).surgeWebhook,
    'https://hooks.example.com/x',
  );
  assert.equal(buildConfig({}).surgeFactor, 0, 'off by default');
});
