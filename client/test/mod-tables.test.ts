import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PALETTE_2017 } from '../../server/config/palette.ts';
import {
  auditRow,
  filterAudit,
  identityRows,
  placementRow,
  progressText,
  signalsText,
  surgeText,
  watchView,
} from '../src/mod/tables.ts';

const now = new Date(2026, 2, 14, 15, 30, 0).getTime();

test('a placement row: where, colour by name and index, who, when and how long ago', () => {
  const row = placementRow({ seq: 7, x: 3, y: 4, color: 5, who: 'aa', at: now - 90_000 }, PALETTE_2017, now);
  assert.deepEqual(row, {
    seq: 7,
    where: '(3, 4)',
    css: '#e50000',
    colour: 'red (5)',
    who: 'aa',
    when: '15:28:30',
    ago: '1 min ago',
  });
  assert.equal(placementRow({ seq: 1, x: 0, y: 0, color: 99, who: 'b', at: now }, PALETTE_2017, now).css, null);
});

test('identities: most pixels here first, suspicious when the prefix is shared or a signal is bot-like (not a mere count)', () => {
  const rows = identityRows(
    [
      {
        id: 'quiet',
        here: 2,
        total: 2,
        firstSeen: now - 60_000,
        prefix: 'p',
        sharedPrefix: 1,
        signals: { placements: 2, atCooldownShare: 0.1, fast: false },
      },
      { id: 'busy', here: 9, total: 40, firstSeen: null, prefix: 'q', sharedPrefix: 4, signals: {} },
      {
        id: 'bot',
        here: 2,
        total: 5,
        firstSeen: now - 1000,
        prefix: 'r',
        sharedPrefix: 1,
        signals: { placements: 5, atCooldownShare: 0.923, firstAt: now - 1000, lastAt: now },
      },
    ],
    now,
  );
  assert.deepEqual(
    rows.map((r) => [r.id, r.shared, r.signals, r.suspicious]),
    [
      ['busy', '4 identities', '—', true],
      ['bot', '—', 'atCooldownShare 92%', true],
      ['quiet', '—', 'atCooldownShare 10%', false],
    ],
  );
  assert.equal(rows[2]?.firstSeen, '15:29:00 (1 min ago)');
  assert.equal(rows[0]?.firstSeen, 'unknown');
  assert.deepEqual(
    rows.map((r) => [r.label, r.bannedIdentity, r.ban]),
    [
      ['busy', false, ''],
      ['bot', false, ''],
      ['quiet', false, ''],
    ],
  );
});

test('identities: the display name beside the id, the ban in force (own or network) as text', () => {
  const base = { here: 1, total: 1, firstSeen: null, prefix: 'p', sharedPrefix: 1, signals: {} };
  const rows = identityRows(
    [
      { ...base, id: 'a', name: 'Ada', banned: { reason: 'raid', until: now + 60_000, scope: 'identity' } },
      { ...base, id: 'b', here: 0, banned: { reason: 'spam network', until: null, scope: 'network' } },
    ],
    now,
  );
  assert.deepEqual(
    rows.map((r) => [r.label, r.bannedIdentity, r.ban]),
    [
      ['a (Ada)', true, 'banned: raid, until 15:31:00'],
      ['b', false, 'network banned: spam network'],
    ],
  );
});

test('signals: flags by name, shares as percent, numbers rounded; zeros, counts and times left out', () => {
  assert.equal(
    signalsText({
      burst: true,
      rate: 3,
      ratio: 0.5,
      atCooldownShare: 0.456,
      note: 'x',
      zero: 0,
      off: false,
      none: null,
      placements: 9,
      lastAt: 5,
    }),
    'burst · rate 3 · ratio 0.50 · atCooldownShare 46% · note x',
  );
});

test('audit: one line per entry, filtered by every word in any order', () => {
  const rows = [
    auditRow(
      {
        id: 2,
        at: now,
        actor: 'admin@127.0.0.1',
        action: 'ban',
        params: { id: 'aa', reason: 'raid' },
        result: { banned: 'aa' },
      },
      now,
    ),
    auditRow(
      { id: 1, at: now - 1000, actor: 'admin@127.0.0.1', action: 'lock', params: { seconds: 60 }, result: null },
      now,
    ),
  ];
  assert.equal(rows[0]?.detail, 'id=aa reason=raid → banned=aa');
  assert.equal(rows[1]?.detail, 'seconds=60');
  const lock = auditRow(
    { id: 3, at: now, actor: 'a', action: 'lock', params: { seconds: 60 }, result: { lockedUntil: now + 60_000 } },
    now,
  );
  assert.equal(lock.detail, 'seconds=60 → lockedUntil=15:31:00', 'times as the clock, not Unix ms');
  assert.deepEqual(
    filterAudit(rows, 'RAID ban').map((r) => r.id),
    [2],
  );
  assert.deepEqual(
    filterAudit(rows, '  ').map((r) => r.id),
    [2, 1],
  );
  assert.deepEqual(filterAudit(rows, 'unlock'), []);
});

test('watch: rates, lock with time left and reason, surge state', () => {
  const v = watchView(
    {
      placementsPerSecond: 12.4,
      newIdentitiesPerSecond: 0.25,
      topPlacers: [],
      hotAreas: [],
      locked: { until: now + 245_000, reason: 'raid' },
      surge: { mode: 'auto', active: true },
    },
    now,
  );
  assert.deepEqual(v, {
    rate: '12 placements/s',
    newIds: '0.3 new identities/s',
    locked: 'LOCKED for 4 min 05 s (raid)',
    surge: 'auto, SURGE',
    isLocked: true,
  });
  assert.equal(surgeText(null, now), 'no surge');
  assert.equal(surgeText({ since: now - 60_000 }, now), 'SURGE since 15:29:00', 'the server reports {since} while on');
  assert.equal(surgeText({ level: 2 }, now), 'level=2');
});

test('rollback progress: running, done, failed with the reason', () => {
  assert.equal(
    progressText({ job: '1', state: 'running', done: 3, total: 10, error: null }),
    'Rolling back: 3 of 10 pixels…',
  );
  assert.equal(progressText({ job: '1', state: 'done', done: 1, total: 1, error: null }), 'Rolled back 1 pixel.');
  assert.equal(
    progressText({ job: '1', state: 'failed', done: 2, total: 9, error: 'store_failed' }),
    'The rollback failed after 2 of 9 pixels: store_failed',
  );
});
