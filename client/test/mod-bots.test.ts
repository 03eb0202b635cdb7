/**
 * The console's bots panel without the DOM: reading GET /api/admin/bots and the mint's answer, the
 * mint form's body (and what it refuses before asking the server), and the table's texts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBots, parseMintedBot } from '../src/mod/answers.ts';
import { type BotFields, botMintBody } from '../src/mod/queries.ts';
import { botRow, quotaText } from '../src/mod/tables.ts';

const NOW = new Date(2026, 0, 2, 12, 0, 0).getTime();
const bot = {
  id: '9c1e00aa11bb22cc',
  name: 'flag-painter',
  everyMs: 10_000,
  region: { x: 0, y: 0, width: 64, height: 32 },
  created: NOW - 3_600_000,
  expires: null,
  revoked: null,
  state: 'active',
  placed: 42,
};

test('bots answers are read field by field; a wrong field makes the answer unreadable', () => {
  assert.deepEqual(parseBots({ bots: [bot] }), [bot]);
  assert.deepEqual(parseBots({ bots: [{ ...bot, region: null, placed: undefined }] }), [
    { ...bot, region: null, placed: null },
  ]);
  assert.equal(parseBots({ bots: [{ ...bot, everyMs: '10' }] }), null);
  assert.equal(parseBots({ bots: [{ ...bot, region: 'all' }] }), null);
  assert.equal(parseBots({ bots: [{ ...bot, revoked: 'yes' }] }), null);
  assert.equal(parseBots([bot]), null);
  assert.deepEqual(parseMintedBot({ ...bot, token: 'bot.x.y' }), { ...bot, token: 'bot.x.y' });
  assert.equal(parseMintedBot(bot), null, 'a mint answer without its token');
});

const fields = (patch: Partial<BotFields> = {}): BotFields => ({
  name: ' painter ',
  everySeconds: '10',
  x: '',
  y: '',
  width: '',
  height: '',
  expiry: '',
  ...patch,
});

test('the mint form: name, quota in seconds, an optional region and expiry', () => {
  assert.deepEqual(botMintBody(fields()), { ok: true, body: { name: 'painter', everyMs: 10_000 } });
  assert.deepEqual(
    botMintBody(fields({ everySeconds: '0.5', x: '1', y: '2', width: '3', height: '4', expiry: '3600' })),
    {
      ok: true,
      body: { name: 'painter', everyMs: 500, region: { x: 1, y: 2, width: 3, height: 4 }, seconds: 3600 },
    },
  );
  for (const bad of [
    { name: '   ' },
    { name: 'x'.repeat(65) },
    { everySeconds: '' },
    { everySeconds: '0.01' },
    { everySeconds: '86401' },
    { everySeconds: 'often' },
    { x: '1' }, // part of a region
    { x: '1', y: '1', width: '0', height: '1' },
    { x: '-1', y: '1', width: '1', height: '1' },
    { x: '1.5', y: '1', width: '1', height: '1' },
  ])
    assert.equal(botMintBody(fields(bad)).ok, false, JSON.stringify(bad));
});

test('the bots table: quota, region, expiry, placed and state in words', () => {
  assert.equal(quotaText(10_000), '1 px every 10 s');
  assert.equal(quotaText(500), '1 px every 0.5 s');
  assert.equal(quotaText(120_000), '1 px every 2 min');
  assert.equal(quotaText(90_000), '1 px every 90 s');
  assert.equal(quotaText(7_200_000), '1 px every 2 h');
  assert.deepEqual(botRow(bot, NOW), {
    id: bot.id,
    name: 'flag-painter',
    quota: '1 px every 10 s',
    region: '0,0 64 × 32',
    expires: 'never',
    placed: '42',
    state: 'active',
    active: true,
  });
  const revoked = botRow({ ...bot, region: null, revoked: NOW - 120_000, state: 'revoked', placed: null }, NOW);
  assert.deepEqual(
    [revoked.region, revoked.state, revoked.placed, revoked.active],
    ['anywhere', 'revoked 2 min ago', '—', false],
  );
  const expired = botRow({ ...bot, expires: NOW - 5_000, state: 'expired' }, NOW);
  assert.deepEqual([expired.expires, expired.state, expired.active], ['11:59:55', 'expired 5 s ago', false]);
});
