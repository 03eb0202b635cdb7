/**
 * Display names (README "Display names"): the name rules on their own, the writer's names on a real
 * SQLite file (unique ignoring case and width, kept across a restart, refused to banned identities
 * and bots), the stats' labels, then a real server: a player names itself with its token, the top
 * lists and `/api/stats/me` show the name (and a sanctioned bot's pixels show the bot's name), a
 * moderator clears a name (audited), and every figure still equals a recount of the database.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { checkName, DisplayNames, NAME_LIMITS, nameKey } from '../identity/display-names.ts';
import { Bans } from '../placement/bans.ts';
import { Bots } from '../placement/bots.ts';
import { Stats } from '../stats/stats.ts';
import { NameStore } from '../store/name-store.ts';
import { httpRequest, startTestServer, tempDir, type TestServer } from '../../testkit/fixture.ts';
import { recountIdentity, recountStats, statsSince } from '../../testkit/stats-recount.ts';

const name = (raw: string): string | null | undefined => {
  const c = checkName(raw);
  return c.ok ? c.name : undefined;
};

test('names are trimmed, NFC, spaces folded; letters of any script, digits, space, _ - . only', () => {
  assert.equal(name('  Ada   Lovelace '), 'Ada Lovelace');
  assert.equal(name('Zoe\u0308'), 'Zoë', 'NFC: e + combining diaeresis is one letter');
  for (const ok of ['李小龙', 'Ελένη', 'Дмитрий', 'ana_b-2.0', 'हिन्दी', 'x'])
    assert.equal(name(ok), ok, `${ok} is allowed`);
  assert.equal(name(''), null, 'empty clears');
  assert.equal(name('   '), null, 'blank clears');
  for (const bad of [
    'a\u0007b', // control
    'tab\there', // whitespace other than a space
    'line\nbreak',
    'zero\u200bwidth', // format character
    '\u202eevil', // bidi override
    '<script>',
    'smile 😀',
    '___', // no letter or digit
    '\u0301abc', // starts with a combining mark
    'z'.repeat(25),
    'deadbeef', // reads as an identity id
    '0123456789abcdef',
    'You', // the page's word for the player's own row
    'Moderator',
  ])
    assert.equal(name(bad), undefined, `${JSON.stringify(bad)} is refused`);
  assert.equal(name('z'.repeat(24)), 'z'.repeat(24));
  assert.equal(name('李'.repeat(24)), '李'.repeat(24), 'the limit counts characters, not bytes');
  assert.equal(name('cafe'), 'cafe', 'hex letters but short: a word, not an id');
  assert.equal(nameKey('ＡＬＩＣＥ'), 'alice', 'fullwidth folds to the same key');
});

describe('the writer keeps names in SQLite', () => {
  let dir = '';
  let db: Database.Database;
  const bans = new Bans(new Map());
  const bots = new Bots([{ id: 'b0b0b0b0b0b0b0b0', name: 'painter', everyMs: 1000, created: 1 }]);
  const open = () => new DisplayNames(new NameStore(db), { bans, bots });
  const placer = (identityId: string, addressKey = '192.0.2.1/32') => ({ identityId, addressKey });
  /** Each change a changeMs after the last, so the once-per-changeMs limit never holds one back here. */
  let t = 1_800_000_000_000;
  const later = () => (t += NAME_LIMITS.changeMs);
  const A = 'aaaaaaaaaaaaaaaa';
  const B = 'bbbbbbbbbbbbbbbb';

  before(() => {
    dir = tempDir();
    db = new Database(join(dir, 'names.db'));
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('unique ignoring case and width; the holder may re-case its own; clearing frees it; a restart keeps them', () => {
    const names = open();
    assert.deepEqual(names.choose(placer(A), 'Alice', later()), { ok: true, id: A, name: 'Alice' });
    const taken = names.choose(placer(B), 'ＡＬＩＣＥ', later());
    assert.equal(taken.ok, false);
    assert.equal(!taken.ok && taken.code, 'name_taken');
    assert.deepEqual(
      names.choose(placer(A), 'ALICE', later()),
      { ok: true, id: A, name: 'ALICE' },
      'its own name, re-cased',
    );
    assert.deepEqual(names.choose(placer(A), 'Ada', later()), { ok: true, id: A, name: 'Ada' });
    assert.deepEqual(
      names.choose(placer(B), 'alice', later()),
      { ok: true, id: B, name: 'alice' },
      'renaming freed it',
    );
    assert.equal(names.clear(B), 'alice');
    assert.equal(names.of(B), undefined);
    const again = open();
    assert.equal(again.of(A), 'Ada', 'read back from the table');
    assert.equal(again.of(B), undefined);
    assert.equal(again.size, 1);
    assert.deepEqual(names.choose(placer(A), '', later()), { ok: true, id: A, name: null }, 'an empty name clears it');
    assert.equal(open().size, 0);
  });

  test('a name is set at most once per changeMs; a refused attempt and a clearing do not count', () => {
    const names = open();
    const C = 'cccccccccccccccc';
    const t0 = later();
    assert.equal(names.choose(placer(C), 'First', t0).ok, true);
    const soon = names.choose(placer(C), 'Second', t0 + 1000);
    assert.deepEqual(soon.ok ? undefined : [soon.code, soon.wait], ['cooldown', NAME_LIMITS.changeMs - 1000]);
    assert.equal(names.of(C), 'First');
    const taken = names.choose(placer(B), 'FIRST', t0 + 1000);
    assert.equal(!taken.ok && taken.code, 'name_taken');
    assert.equal(names.choose(placer(B), 'Other', t0 + 1000).ok, true, 'the refused attempt did not count');
    assert.deepEqual(names.choose(placer(C), '', t0 + 2000), { ok: true, id: C, name: null }, 'clearing is not held');
    assert.equal(names.choose(placer(C), 'Second', t0 + NAME_LIMITS.changeMs).ok, true);
    names.clear(B);
    names.clear(C);
  });

  test('a banned identity or network cannot set a name (it may clear its own); a bot cannot choose one', () => {
    const names = open();
    assert.equal(names.choose(placer(A), 'Before', later()).ok, true);
    bans.setIdentity(A, { reason: 'vandal', until: undefined });
    const refused = names.choose(placer(A), 'After', later());
    assert.equal(!refused.ok && refused.code, 'banned');
    assert.equal(names.of(A), 'Before', 'unchanged');
    assert.deepEqual(names.choose(placer(A), '', later()), { ok: true, id: A, name: null });
    bans.setIdentity(A, undefined);
    bans.setPrefix('198.51.100.0/24', { reason: 'raid', until: undefined });
    const network = names.choose(placer(B, '198.51.100.7/32'), 'Raider', later());
    assert.equal(!network.ok && network.code, 'banned');
    bans.setPrefix('198.51.100.0/24', undefined);
    const bot = names.choose({ ...placer('b0b0b0b0b0b0b0b0'), bot: 'b0b0b0b0b0b0b0b0' }, 'Human', later());
    assert.equal(!bot.ok && bot.code, 'invalid_field');
    const invalid = names.choose(placer(B), 'a\u200bb', later());
    assert.equal(!invalid.ok && invalid.code, 'invalid_field');
  });
});

test('the top lists and per-identity figures carry the chosen name or the bot mark', () => {
  const labels = new Map([
    ['a', { name: 'Ada' }],
    ['b', { bot: 'painter' }],
  ]);
  const stats = new Stats({ paletteSize: 4, now: () => 10 * 60_000, label: (id) => labels.get(id) });
  stats.add([
    { seq: 1, who: 'a', color: 1, at: 10 * 60_000 },
    { seq: 2, who: 'b', color: 1, at: 10 * 60_000 },
    { seq: 3, who: 'b', color: 1, at: 10 * 60_000 },
    { seq: 4, who: 'c', color: 1, at: 10 * 60_000 },
  ]);
  const expected = [
    { id: 'b', placed: 2, bot: 'painter' },
    { id: 'a', placed: 1, name: 'Ada' },
    { id: 'c', placed: 1 },
  ];
  const s = stats.summary();
  assert.deepEqual(s.top, expected);
  assert.deepEqual(s.topHour, expected);
  assert.deepEqual(stats.of('a'), { id: 'a', placed: 1, first: 600_000, last: 600_000, rank: 2, name: 'Ada' });
  assert.deepEqual(stats.of('z'), { id: 'z', placed: 0, first: null, last: null, rank: null });
});

const ADMIN = 'names-admin-token';

describe('display names on a server', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ adminToken: ADMIN, width: 16, height: 16 });
  });
  after(() => ts?.dispose());

  const session = async () =>
    (await httpRequest(`${ts.http}/api/session`, { method: 'POST' })).json() as { id: string; token: string };
  const setName = (token: string | undefined, body: unknown) =>
    httpRequest(`${ts.http}/api/me/name`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: token === undefined ? {} : { Cookie: `canvas_token=${token}` },
    });
  const admin = (path: string, body?: unknown) =>
    httpRequest(`${ts.http}/api/admin/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
  const place = async (token: string, x: number, y: number) => {
    const res = await httpRequest(`${ts.http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x, y, color: 3 }),
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200, res.body);
  };
  const recounted = async (ids: readonly string[]) => {
    const { at, ...served } = await statsSince(ts.http, Date.now());
    assert.deepEqual(served, recountStats(ts.config.db, at, ts.config.palette.length));
    for (const id of ids) {
      const me = await httpRequest(`${ts.http}/api/stats/me?id=${id}`);
      assert.deepEqual(me.json(), recountIdentity(ts.config.db, id));
    }
    return served;
  };

  test('a player names itself; the top lists, /api/stats/me and a bot’s entry show names; a moderator clears one', async () => {
    const [ada, bob] = [await session(), await session()];
    const set = await setName(ada.token, { name: '  Ada  L. ' });
    assert.equal(set.status, 200, set.body);
    assert.deepEqual(set.json(), { id: ada.id, name: 'Ada L.' });
    const taken = await setName(bob.token, { name: 'ada l.' });
    assert.equal(taken.status, 409, taken.body);
    assert.equal(taken.json().error, 'name_taken');
    for (const [x, y] of [
      [1, 1],
      [2, 2],
    ] as const)
      await place(ada.token, x, y);
    await place(bob.token, 3, 3);
    const bot = (await admin('bots', { name: 'flag-painter', everyMs: 100 })).json() as { id: string; token: string };
    await place(bot.token, 4, 4);
    const botName = await setName(bot.token, { name: 'Sneaky' });
    assert.equal(botName.status, 400, 'a bot is named by its moderator');

    const served = await recounted([ada.id, bob.id, bot.id]);
    assert.deepEqual(served.top, [
      { id: ada.id, placed: 2, name: 'Ada L.' },
      ...[
        { id: bob.id, placed: 1 },
        { id: bot.id, placed: 1, bot: 'flag-painter' },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    ]);
    const me = await httpRequest(`${ts.http}/api/stats/me`, { headers: { Cookie: `canvas_token=${ada.token}` } });
    assert.deepEqual(me.json(), { ...recountIdentity(ts.config.db, ada.id), name: 'Ada L.' });

    const cleared = await admin('names/clear', { id: ada.id });
    assert.equal(cleared.status, 200, cleared.body);
    assert.deepEqual(cleared.json(), { cleared: ada.id, name: 'Ada L.' });
    const audit = (await admin('audit?limit=5')).json() as { entries: Array<{ action: string; params: unknown }> };
    assert.deepEqual(
      audit.entries.find((e) => e.action === 'name-clear')?.params,
      { id: ada.id },
      'the clearing is audited',
    );
    const after = await recounted([ada.id]);
    assert.deepEqual(after.top[0], { id: ada.id, placed: 2 }, 'the id again');
    assert.equal((await setName(bob.token, { name: 'Ada L.' })).status, 200, 'the cleared name is free');
  });

  test('the route refuses a caller without a token, bad bodies and bad names; a banned identity cannot set one', async () => {
    const none = await setName(undefined, { name: 'Nobody' });
    assert.equal(none.status, 401, none.body);
    assert.equal(none.json().error, 'unauthorized');
    const p = await session();
    for (const [body, code] of [
      ['not json', 'bad_json'],
      [{ name: 5 }, 'invalid_field'],
      [{}, 'invalid_field'],
      [{ name: 'bell\u0007' }, 'invalid_field'],
      [{ name: 'x'.repeat(300) }, 'invalid_field'],
    ] as const) {
      const res = await setName(p.token, body);
      assert.equal(res.json().error, code, `${JSON.stringify(body)}: ${res.body}`);
    }
    assert.equal((await setName(p.token, { name: 'Carol' })).status, 200);
    const soon = await setName(p.token, { name: 'Caroline' });
    assert.equal(soon.status, 429, soon.body);
    assert.equal(soon.json().error, 'cooldown');
    assert.ok(Number(soon.headers['retry-after']) >= 1);
    assert.deepEqual((await setName(p.token, { name: null })).json(), { id: p.id, name: null }, 'null clears');
    assert.equal((await admin('ban', { id: p.id, reason: 'spam' })).status, 200);
    const banned = await setName(p.token, { name: 'Carol' });
    assert.equal(banned.status, 403, banned.body);
    assert.equal(banned.json().error, 'banned');
    const get = await httpRequest(`${ts.http}/api/me/name`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
  });
});
