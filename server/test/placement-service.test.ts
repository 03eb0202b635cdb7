/**
 * The placement service on a real committer and SQLite file, without a server: the rules (bounds,
 * palette, ban), cooldowns by identity and by address, the cooldown claimed before the commit and
 * given back when the commit fails, and cooldowns restored at startup.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { test, type TestContext } from 'node:test';
import { ErrorCode } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import { Metrics } from '../ops/metrics.ts';
import { PlacementCommitter, type CommitterOptions } from '../placement/committer.ts';
import { Bans } from '../placement/bans.ts';
import { PlacementService, type PlaceResult, type Placer } from '../placement/service.ts';
import type { Store } from '../store/store.ts';
import { openTestStore } from '../../testkit/fixture.ts';

const SIZE = 10;
const COOLDOWN_MS = 60_000;
const ALICE: Placer = { identityId: 'a'.repeat(16), addressKey: '10.0.0.1' };
const BOB: Placer = { identityId: 'b'.repeat(16), addressKey: '10.0.0.2' };

interface Setup {
  dbPath: string;
  store: Store;
  canvas: Canvas;
  metrics: Metrics;
  service: PlacementService;
  bans: Bans;
}

interface SetupOptions {
  committer?: Partial<CommitterOptions>;
  banned?: string[];
  restored?: { byWho?: Array<[string, number]>; byAddr?: Array<[string, number]> };
}

/** The service as the server wires it, on a fresh SQLite file deleted after the test. */
function setup(t: TestContext, opts: SetupOptions = {}): Setup {
  const { dbPath, store, canvas, close } = openTestStore(SIZE, SIZE);
  const committer = new PlacementCommitter(
    store,
    canvas,
    { commitDelayMs: 0, commitBatch: 1, snapshotEvery: 1e9, ...opts.committer },
    { commitFailed: () => {}, committed: () => {}, callbackFailed: (err) => assert.fail(String(err)) },
  );
  const metrics = new Metrics({ backend: 'native', role: 'standalone' });
  const bans = new Bans(new Map((opts.banned ?? []).map((id) => [id, { reason: 'test', until: undefined }])));
  const service = new PlacementService({
    canvas,
    committer,
    metrics,
    cooldownMs: COOLDOWN_MS,
    bans,
    restored: {
      byWho: new Map(opts.restored?.byWho),
      byAddr: new Map(opts.restored?.byAddr?.map(([k, t]) => [k, [t]])),
    },
  });
  t.after(() => {
    service.close();
    committer.close();
    close();
  });
  return { dbPath, store, canvas, metrics, service, bans };
}

function place(service: PlacementService, who: Placer, x: number, y: number, color: number): Promise<PlaceResult> {
  return new Promise((resolve) => service.place(who, { x, y, color }, resolve));
}

function storedCount(store: Store): number {
  return (store.db.prepare('SELECT COUNT(*) AS n FROM placements').get() as { n: number }).n;
}

async function resultCount(metrics: Metrics, result: string): Promise<number> {
  return (await metrics.placements.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
}

function assertCooldown(r: PlaceResult, expectedWaitMs: number): void {
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, ErrorCode.COOLDOWN);
  assert.ok(
    r.wait !== undefined && r.wait > expectedWaitMs - 5_000 && r.wait <= expectedWaitMs,
    `wait ${r.wait} ms, expected about ${expectedWaitMs}`,
  );
}

test(
  'out-of-bounds, off-palette and banned placements are refused with their code, ' +
    'stored nowhere, and claim no cooldown',
  async (t) => {
    const s = setup(t, { banned: [BOB.identityId] });
    const cases: Array<[Placer, number, number, number, ErrorCode]> = [
      [ALICE, SIZE, 0, 1, ErrorCode.OUT_OF_BOUNDS],
      [ALICE, 0, -1, 1, ErrorCode.OUT_OF_BOUNDS],
      [ALICE, 0, 0, 16, ErrorCode.BAD_COLOR],
      [ALICE, 0, 0, -1, ErrorCode.BAD_COLOR],
      [BOB, 0, 0, 1, ErrorCode.BANNED],
    ];
    for (const [who, x, y, c, code] of cases) {
      const r = await place(s.service, who, x, y, c);
      assert.equal(!r.ok && r.code, code, `(${x}, ${y}) colour ${c} by ${who.identityId.slice(0, 1)}`);
    }
    assert.equal(storedCount(s.store), 0);
    assert.equal(s.canvas.seq, 0);
    assert.equal(s.service.nextAllowed(ALICE), 0, 'a refused placement starts no cooldown');
    assert.equal(s.service.nextAllowed(BOB), 0);
    assert.equal(await resultCount(s.metrics, ErrorCode.OUT_OF_BOUNDS), 2);
    assert.equal(await resultCount(s.metrics, ErrorCode.BANNED), 1);
    assert.equal((await place(s.service, ALICE, 0, 0, 15)).ok, true, 'the same placer may still place');
  },
);

test(
  'an accepted placement starts a cooldown for its identity, ' + 'from any address, with the wait in the answer',
  async (t) => {
    const s = setup(t);
    const before = Date.now();
    const ok = await place(s.service, ALICE, 1, 1, 3);
    assert.equal(ok.ok, true);
    assert.equal(ok.ok && ok.seq, 1);
    const next = ok.ok ? ok.next : 0;
    assert.ok(next >= before + COOLDOWN_MS && next <= Date.now() + COOLDOWN_MS, 'next = placement time + cooldown');
    assert.equal(s.service.nextAllowed(ALICE), next);
    assertCooldown(
      await place(s.service, { identityId: ALICE.identityId, addressKey: '10.9.9.9' }, 2, 2, 3),
      COOLDOWN_MS,
    );
    assert.equal(storedCount(s.store), 1);
    assert.equal(s.canvas.get(2, 2), 0);
  },
);

test('an address in cooldown refuses other identities from it, not identities elsewhere', async (t) => {
  const s = setup(t);
  assert.equal((await place(s.service, ALICE, 1, 1, 3)).ok, true);
  assertCooldown(
    await place(s.service, { identityId: BOB.identityId, addressKey: ALICE.addressKey }, 2, 2, 3),
    COOLDOWN_MS,
  );
  assert.equal((await place(s.service, BOB, 2, 2, 3)).ok, true, 'another identity from another address');
});

test('the cooldown is claimed before the commit: two placements in one batch, the second is refused', async (t) => {
  const s = setup(t, { committer: { commitDelayMs: 20, commitBatch: 100 } });
  const answers: PlaceResult[] = [];
  const first = new Promise<PlaceResult>((resolve) => s.service.place(ALICE, { x: 1, y: 1, color: 3 }, resolve));
  s.service.place(ALICE, { x: 2, y: 2, color: 4 }, (r) => answers.push(r));
  assert.equal(answers.length, 1, 'the second is refused at once, while the first waits for its batch');
  assertCooldown(answers[0] as PlaceResult, COOLDOWN_MS);
  const r = await first;
  assert.equal(r.ok && r.seq, 1);
  assert.equal(storedCount(s.store), 1);
  assert.equal(s.canvas.get(2, 2), 0);
});

test('a commit that fails gives the cooldown back, to its previous value', async (t) => {
  const expired = Date.now() - 1_000;
  const s = setup(t, { restored: { byWho: [[ALICE.identityId, expired]] } });
  const locker = new Database(s.dbPath);
  t.after(() => locker.close());
  locker.exec('BEGIN IMMEDIATE'); // another connection holds the write lock: the commit fails

  const failed = await place(s.service, ALICE, 1, 1, 3);
  assert.equal(!failed.ok && failed.code, ErrorCode.STORE_FAILED);
  assert.equal(
    s.service.nextAllowed(ALICE),
    expired,
    'identity: the expired cooldown from before, not the claimed one',
  );
  assert.equal(
    s.service.nextAllowed({ identityId: BOB.identityId, addressKey: ALICE.addressKey }),
    0,
    'address: no cooldown, as before',
  );
  assert.equal(await resultCount(s.metrics, ErrorCode.STORE_FAILED), 1);

  locker.exec('ROLLBACK');
  const retried = await place(s.service, ALICE, 1, 1, 3);
  assert.equal(retried.ok && retried.seq, 1, 'the retry is not refused for cooldown and gets the first seq');
});

test('nextAllowed is the later of the identity cooldown and the address cooldown', (t) => {
  const now = Date.now();
  const s = setup(t, {
    restored: { byWho: [[ALICE.identityId, now + 1_000]], byAddr: [[ALICE.addressKey, now + 5_000]] },
  });
  assert.equal(s.service.nextAllowed(ALICE), now + 5_000);
  assert.equal(s.service.nextAllowed({ identityId: ALICE.identityId, addressKey: BOB.addressKey }), now + 1_000);
  assert.equal(s.service.nextAllowed({ identityId: BOB.identityId, addressKey: ALICE.addressKey }), now + 5_000);
  assert.equal(s.service.nextAllowed(BOB), 0);
});

test('cooldowns restored at startup refuse placements until they end', async (t) => {
  const now = Date.now();
  const s = setup(t, {
    restored: { byWho: [[ALICE.identityId, now + 30_000]], byAddr: [[BOB.addressKey, now + 20_000]] },
  });
  assertCooldown(await place(s.service, { identityId: ALICE.identityId, addressKey: '10.9.9.9' }, 1, 1, 1), 30_000);
  assertCooldown(await place(s.service, { identityId: 'c'.repeat(16), addressKey: BOB.addressKey }, 1, 1, 1), 20_000);
  assert.equal((await place(s.service, { identityId: 'c'.repeat(16), addressKey: '10.9.9.9' }, 1, 1, 1)).ok, true);
  assert.equal(storedCount(s.store), 1);
});

test('bans: an identity, a network (a new identity from it too), timed bans that end by themselves', async (t) => {
  const s = setup(t, { banned: [ALICE.identityId] });
  const first = await place(s.service, ALICE, 1, 1, 1);
  assert.equal(!first.ok && first.code, ErrorCode.BANNED);
  assert.equal(!first.ok && first.wait, undefined, 'a ban until lifted has no end to wait for');
  s.bans.setIdentity(ALICE.identityId, undefined);
  assert.equal((await place(s.service, ALICE, 1, 1, 1)).ok, true);

  s.bans.setPrefix('10.0.0.0/24', { reason: 'raid', until: undefined });
  const newcomer = { identityId: 'd'.repeat(16), addressKey: '10.0.0.77/32' };
  const net = await place(s.service, newcomer, 2, 2, 1);
  assert.equal(!net.ok && net.code, ErrorCode.BANNED);
  assert.match(!net.ok ? net.message : '', /network is banned.*raid/);
  assert.equal((await place(s.service, { identityId: 'e'.repeat(16), addressKey: '10.0.1.5/32' }, 3, 3, 1)).ok, true);
  s.bans.setPrefix('10.0.0.0/24', undefined);

  s.bans.setIdentity(BOB.identityId, { reason: 'spam', until: Date.now() + 60_000 });
  const timed = await place(s.service, BOB, 4, 4, 1);
  assert.equal(!timed.ok && timed.code, ErrorCode.BANNED);
  assert.ok(!timed.ok && (timed.wait ?? 0) > 59_000, 'a timed ban says when it ends');
  s.bans.setIdentity(BOB.identityId, { reason: 'spam', until: Date.now() - 1 });
  assert.equal((await place(s.service, BOB, 4, 4, 1)).ok, true, 'an ended ban no longer refuses');
  assert.equal(s.canvas.get(2, 2), 0);
});
