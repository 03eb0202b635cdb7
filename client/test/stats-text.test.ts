import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  count,
  mineText,
  nameAnswerText,
  parseMine,
  parseStats,
  placerLabel,
  topLines,
  totalsText,
} from '../src/stats/stats-text.ts';

const ME = '3f00aa11bb22cc33';
const body = {
  placements: 1234567,
  lastHour: 42,
  perColor: [1, 2],
  active5m: 1,
  top: [
    { id: ME, placed: 30 },
    { id: '0123456789abcdef', placed: 12 },
  ],
  topHour: [],
  modChanges: 0,
  at: 1764000000000,
};

test('parseStats keeps the figures the panel shows, and refuses anything else', () => {
  assert.deepEqual(parseStats(body), {
    placements: 1234567,
    lastHour: 42,
    active5m: 1,
    top: body.top,
    topHour: [],
  });
  assert.equal(parseStats(null), null);
  assert.equal(parseStats('<html>'), null);
  assert.equal(parseStats({ ...body, placements: '5' }), null);
  assert.equal(parseStats({ ...body, top: [{ id: 7, placed: 1 }] }), null);
  assert.equal(parseStats({ ...body, topHour: undefined }), null);
  assert.equal(parseStats({ error: 'unavailable' }), null);
});

test('parseMine accepts a placer, a player who never placed and a page without identity', () => {
  assert.deepEqual(parseMine({ id: ME, placed: 3, first: 1, last: 2, rank: 7 }), {
    id: ME,
    placed: 3,
    rank: 7,
    name: null,
  });
  assert.deepEqual(parseMine({ id: ME, placed: 3, first: 1, last: 2, rank: 7, name: 'Ada' })?.name, 'Ada');
  assert.deepEqual(parseMine({ id: null, placed: 0, first: null, last: null, rank: null }), {
    id: null,
    placed: 0,
    rank: null,
    name: null,
  });
  assert.equal(parseMine({ id: ME, placed: -1, rank: null }), null);
  assert.equal(parseMine({ id: ME, placed: 1, rank: 1.5 }), null);
});

test('texts: grouped counts, singular and plural, your pixels with rank or none yet', () => {
  assert.equal(count(0), '0');
  assert.equal(count(999), '999');
  assert.equal(count(1234567), '1,234,567');
  assert.equal(
    totalsText(parseStats(body) ?? assert.fail()),
    '1,234,567 pixels placed, 42 in the last hour; 1 person placing in the last 5 minutes.',
  );
  assert.match(totalsText({ placements: 0, lastHour: 0, active5m: 3, top: [], topHour: [] }), /3 people placing/);
  assert.equal(mineText({ id: ME, placed: 1234, rank: 2, name: null }), 'Your pixels: 1,234 (rank 2)');
  assert.equal(mineText({ id: ME, placed: 0, rank: null, name: null }), 'Your pixels: none yet.');
  assert.equal(mineText(null), 'Your pixels: unknown for now.');
});

test('top lines number the placers and mark the player as you', () => {
  assert.equal(placerLabel({ id: '0123456789abcdef' }, ME), '01234567…');
  assert.deepEqual(topLines(body.top, ME), ['1. you 30', '2. 01234567… 12']);
  assert.deepEqual(topLines(body.top, null), ['1. 3f00aa11… 30', '2. 01234567… 12']);
});

test('top lines show chosen names, bots marked as bots, and the player as you with its name', () => {
  const rows = parseStats({
    ...body,
    top: [
      { id: ME, placed: 30, name: 'Ada' },
      { id: 'b0b0b0b0b0b0b0b0', placed: 20, bot: 'flag-painter' },
      { id: '0123456789abcdef', placed: 12, name: 'Bob' },
      { id: 'fedcba9876543210', placed: 2, name: 7 },
    ],
  })?.top;
  assert.ok(rows);
  assert.deepEqual(topLines(rows, ME), [
    '1. you (Ada) 30',
    '2. flag-painter (bot) 20',
    '3. Bob 12',
    '4. fedcba98… 2', // a name of the wrong type is left out
  ]);
  assert.equal(topLines(rows, null)[0], '1. Ada 30');
});

test('the name form says what the server answered', () => {
  assert.equal(nameAnswerText(200, undefined, undefined), 'Saved.');
  assert.equal(nameAnswerText(409, 'name_taken', 'x'), 'That name is taken.');
  assert.equal(nameAnswerText(403, 'banned', 'x'), 'Banned identities cannot set a name.');
  assert.equal(
    nameAnswerText(400, 'invalid_field', 'a name has at most 24 characters'),
    'Not allowed: a name has at most 24 characters.',
  );
  assert.equal(nameAnswerText(503, 'unavailable', 'x'), 'Could not save the name; try again.');
  assert.match(nameAnswerText(429, 'cooldown', 'x'), /once every few seconds/);
});
