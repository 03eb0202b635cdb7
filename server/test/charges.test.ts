/**
 * Pixel charges (--cooldown-model charges, placement/charges.ts): the token bucket on an injected
 * clock (exactly N in a row, one charge back every T, in whole charges), the address bucket, the
 * restore at startup, and the placement service on a real committer and SQLite file with the model
 * plugged in (the charges in each answer, a failed commit giving the charge back).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ErrorCode } from '../../protocol/messages.ts';
import { buildConfig } from '../config/config.ts';
import { Metrics } from '../ops/metrics.ts';
import { Bans } from '../placement/bans.ts';
import { ChargeBuckets, ChargeCooldowns } from '../placement/charges.ts';
import { PlacementCommitter } from '../placement/committer.ts';
import { PlacementService, type PlaceResult, type Placer } from '../placement/service.ts';
import { openTestStore } from '../../testkit/fixture.ts';

const T = 10_000;
const T0 = 1_700_000_000_000;

test('a bucket of N allows exactly N in a row, then one charge back every T, never above N', () => {
  const b = new ChargeBuckets(3, T);
  assert.equal(b.left('k', T0), 3, 'an unknown key is full');
  assert.equal(b.nextCharge('k', T0), undefined);
  for (let i = 0; i < 3; i++) {
    assert.equal(b.nextAllowed('k', T0), 0, `spend ${i + 1} of 3 allowed`);
    b.spend('k', T0);
  }
  assert.equal(b.left('k', T0), 0);
  assert.equal(b.nextAllowed('k', T0), T0 + T, 'empty: the next charge is T away');
  assert.equal(b.left('k', T0 + T - 1), 0, 'not a millisecond early');
  assert.equal(b.left('k', T0 + T), 1, 'whole charges, on time');
  assert.equal(b.nextCharge('k', T0 + T), T0 + 2 * T);
  assert.equal(b.left('k', T0 + 2 * T + T / 2), 2);
  assert.equal(b.left('k', T0 + 3 * T), 3, 'full after N x T');
  assert.equal(b.nextCharge('k', T0 + 3 * T), undefined);
  assert.equal(b.left('k', T0 + 100 * T), 3, 'a long rest stores no more than N');
  b.spend('k', T0 + 100 * T);
  assert.equal(b.left('k', T0 + 100 * T), 2, 'after a rest the bucket counts from now, not from the past');
  assert.equal(b.nextCharge('k', T0 + 100 * T), T0 + 101 * T);
});

test('spending as charges come back keeps one placement per T; the undo gives one charge back', () => {
  const b = new ChargeBuckets(2, T);
  b.spend('k', T0);
  b.spend('k', T0);
  for (let i = 1; i <= 5; i++) {
    const at = T0 + i * T;
    assert.equal(b.left('k', at), 1, `charge ${i} back at ${i} T`);
    b.spend('k', at);
    assert.equal(b.left('k', at), 0);
  }
  const undo = b.spend('k', T0 + 5 * T + 1);
  assert.equal(
    b.left('k', T0 + 5 * T + 1),
    0,
    'nothing left: the spend ran past empty only because the test forced it',
  );
  undo();
  assert.equal(b.left('k', T0 + 6 * T), 1, 'the undone spend is back');
  b.prune(T0 + 100 * T);
  assert.equal(b.full('k'), 0, 'a full bucket is forgotten');
});

test('the address bucket holds max-charges x address-placements, shared by its identities', () => {
  const c = new ChargeCooldowns({ maxCharges: 2, chargeMs: T, addressPlacements: 2 });
  for (const id of ['a', 'a', 'b', 'b']) {
    assert.equal(c.networkNext('net', T0), 0);
    assert.equal(c.identityNext(id, T0), 0);
    c.claim(id, 'net', T0);
  }
  assert.equal(c.networkNext('net', T0), T0 + T, 'four charges spent: the network waits for its next');
  assert.equal(c.identityNext('c', T0), 0, 'a third identity has its own charges, the network has none');
  c.claim('x', undefined, T0);
  assert.deepEqual(c.charges('x', T0), { left: 1, max: 2, next: T0 + T }, 'an exempt claim spends no network charge');
  assert.equal(c.networkNext('net', T0), T0 + T);
});

test('a claim says when the identity may place next and what the row stores: the time its bucket is full', () => {
  const c = new ChargeCooldowns({ maxCharges: 3, chargeMs: T, addressPlacements: 1 });
  const first = c.claim('a', 'net', T0);
  assert.equal(first.next, T0, 'charges left: now');
  assert.equal(first.nextAt, T0 + T);
  c.claim('a', 'net', T0);
  const third = c.claim('a', 'net', T0);
  assert.equal(third.next, T0 + T, 'the last charge spent: when the next comes back');
  assert.equal(third.nextAt, T0 + 3 * T);
  assert.deepEqual(c.charges('a', T0), { left: 0, max: 3, next: T0 + T });

  // A restart: the identity from its stored full time, the address from its placements replayed.
  const again = new ChargeCooldowns(
    { maxCharges: 3, chargeMs: T, addressPlacements: 1 },
    { byWho: new Map([['a', third.nextAt]]), byAddrTimes: new Map([['net', [T0, T0, T0]]]) },
  );
  assert.deepEqual(again.charges('a', T0 + 1), { left: 0, max: 3, next: T0 + T });
  assert.equal(again.networkNext('net', T0 + 1), T0 + T);
  assert.deepEqual(again.charges('a', T0 + T), { left: 1, max: 3, next: T0 + 2 * T });

  // More placements than the bucket held (exempt ones among them): the replay stops at empty.
  const overfull = new ChargeCooldowns(
    { maxCharges: 3, chargeMs: T, addressPlacements: 1 },
    { byWho: new Map(), byAddrTimes: new Map([['net', [T0, T0, T0, T0, T0]]]) },
  );
  assert.equal(overfull.networkNext('net', T0), T0 + T, 'one charge back after T, not after 3 T');
});

test('--cooldown-model charges takes --max-charges and --charge-ms; on the fixed model they are refused', () => {
  const c = buildConfig({ cooldownModel: 'charges', maxCharges: '4', chargeMs: '2000' });
  assert.equal(c.cooldownModel, 'charges');
  assert.equal(c.maxCharges, 4);
  assert.equal(c.chargeMs, 2000);
  assert.equal(buildConfig({}).cooldownModel, 'fixed', 'fixed stays the default');
  assert.throws(() => buildConfig({ maxCharges: '4' }), /--max-charges needs --cooldown-model charges/);
  assert.throws(() => buildConfig({ cooldownModel: 'charges', maxCharges: '0' }), /out of range/);
});

const ALICE: Placer = { identityId: 'a'.repeat(16), addressKey: '10.0.0.1' };

function serviceWith(t: TestContext, maxCharges: number, chargeMs: number, failCommits = false) {
  const { store, canvas, close } = openTestStore(10, 10);
  if (failCommits)
    store.commit = () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
  const committer = new PlacementCommitter(
    store,
    canvas,
    { commitDelayMs: 0, commitBatch: 1, snapshotEvery: 1e9 },
    { commitFailed: () => {}, committed: () => {}, callbackFailed: (err) => assert.fail(String(err)) },
  );
  const service = new PlacementService({
    canvas,
    committer,
    metrics: new Metrics({ backend: 'native', role: 'standalone' }),
    cooldownMs: 0,
    bans: new Bans(new Map()),
    restored: { byWho: new Map(), byAddr: new Map() },
    cooldowns: new ChargeCooldowns({ maxCharges, chargeMs, addressPlacements: 1 }),
  });
  t.after(() => {
    service.close();
    committer.close();
    close();
  });
  return service;
}

const place = (s: PlacementService, x: number): Promise<PlaceResult> =>
  new Promise((resolve) => s.place(ALICE, { x, y: 0, color: 1 }, resolve));

test('the service with charges: N acks counting down, the next refused with the wait for a charge', async (t) => {
  const service = serviceWith(t, 3, 60_000);
  assert.deepEqual(service.standing(ALICE, Date.now()).charges, { left: 3, max: 3 });
  // Sent together: the charges are claimed before the commit, so a batch cannot overspend.
  const answers = await Promise.all([0, 1, 2, 3].map((x) => place(service, x)));
  const lefts = answers.map((r) => (r.ok ? r.charges?.left : undefined));
  assert.deepEqual(lefts.slice(0, 3), [2, 1, 0]);
  const last = answers[2];
  assert.ok(last?.ok && last.next > Date.now() + 55_000, 'no charge left: next is the refill');
  const refused = answers[3] as PlaceResult;
  assert.equal(!refused.ok && refused.code, ErrorCode.COOLDOWN);
  assert.ok(!refused.ok && refused.wait !== undefined && refused.wait > 55_000 && refused.wait <= 60_000);
  const standing = service.standing(ALICE, Date.now());
  assert.equal(standing.charges?.left, 0);
  assert.ok(standing.wait > 55_000);
});

test('the service with charges: a charge comes back after T (real clock, generous bounds)', async (t) => {
  const service = serviceWith(t, 2, 300);
  assert.equal((await place(service, 0)).ok, true);
  assert.equal((await place(service, 1)).ok, true);
  const refused = await place(service, 2);
  assert.ok(!refused.ok && refused.wait !== undefined && refused.wait <= 300, JSON.stringify(refused));
  await new Promise((resolve) => setTimeout(resolve, (refused.ok ? 0 : (refused.wait ?? 0)) + 50));
  const again = await place(service, 2);
  assert.ok(again.ok, JSON.stringify(again));
  assert.equal(again.charges?.left, 0, 'one charge came back and was spent');
});

test('the service with charges: a failed commit gives the charge back', async (t) => {
  const service = serviceWith(t, 2, 60_000, true);
  const r = await place(service, 0);
  assert.equal(!r.ok && r.code, ErrorCode.STORE_FAILED);
  assert.deepEqual(service.standing(ALICE, Date.now()).charges, { left: 2, max: 2 });
});
