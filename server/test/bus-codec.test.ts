/**
 * The bus codec (bus/bus-messages.ts): every message round-trips through encodeBus and its decoder,
 * and a payload that is not exactly the message (truncated, wrong-typed or missing fields, values out
 * of range, a PNG that is not one) decodes to undefined, so nothing forged or corrupted reaches the
 * writer's placement path or an edge's streams. A malformed request fails alone in its batch.
 */
import assert from 'node:assert/strict';
import type { StatsResult } from '../placement/authority.ts';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { MAX_POW_CHARS } from '../../protocol/messages.ts';
import {
  type AnswerBatch,
  type BeatMsg,
  type CanvasMeta,
  decodeAnswer,
  decodeAnswers,
  decodeMeta,
  decodePresence,
  decodeRequests,
  decodeTicks,
  encodeBus,
  type FrameMsg,
  type Request,
} from '../bus/bus-messages.ts';

const packr = new Packr({ useRecords: false });
const raw = (value: unknown): Buffer => packr.pack(value);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR...')]);
const ID = '0123456789abcdef';

const meta: CanvasMeta = {
  canvasId: 'c4nv45',
  width: 1000,
  height: 800,
  palette: [0xffffff, 0x000000, 0xff4500],
  tickMs: 1000,
  cooldownMs: 5000,
  secret: 'ab'.repeat(32),
};
const tick: FrameMsg = {
  k: 'tick',
  epoch: 3,
  canvasId: 'c4nv45',
  seq: 42,
  etag: '"c4nv45-42"',
  width: 1000,
  height: 800,
  resizeCount: 0,
  png: PNG,
  at: 1_760_000_000_000,
  delta: { fromSeq: 40, toSeq: 42, count: 2, message: Buffer.from([1, 2, 3]) },
};
const beat: BeatMsg = { k: 'beat', epoch: 3, canvasId: 'c4nv45', seq: 42, at: 1_760_000_000_000, online: 17 };
const requests: Request[] = [
  { i: 1, k: 'place', identityId: ID, addressKey: '203.0.113.7/32', x: 7, y: 9, c: 3 },
  { i: 2, k: 'standing', identityId: ID, addressKey: '2001:db8::/64' },
  { i: 3, k: 'pixel', x: 0, y: 0 },
  { i: 4, k: 'admin', a: { op: 'ban', actor: 'admin@127.0.0.1', id: ID, reason: 'raid' } },
  { i: 5, k: 'admin', a: { op: 'unban', actor: 'admin@127.0.0.1', id: ID } },
  { i: 6, k: 'admin', a: { op: 'rollback', actor: 'admin@127.0.0.1', id: ID, since: 0 } },
  { i: 7, k: 'admin', a: { op: 'wipe', actor: 'a', rect: { x: 1, y: 2, width: 3, height: 4 }, color: 5 } },
  { i: 8, k: 'admin', a: { op: 'audit', limit: 100 } },
  { i: 10, k: 'admin', a: { op: 'lock', actor: 'a', seconds: 60, reason: 'raid' } },
  { i: 12, k: 'admin', a: { op: 'ban', actor: 'a', id: ID, reason: 'spam', seconds: 3600 } },
  { i: 13, k: 'admin', a: { op: 'ban-prefix', actor: 'a', prefix: '2001:db8::/48', reason: 'raid' } },
  { i: 14, k: 'admin', a: { op: 'unban-prefix', actor: 'a', prefix: '10.0.0.0/8' } },
  { i: 11, k: 'admin', a: { op: 'unlock', actor: 'a' } },
  { i: 15, k: 'admin', a: { op: 'signals', limit: 20 } },
  { i: 16, k: 'admin', a: { op: 'surge', actor: 'a', mode: 'challenge' } },
  {
    i: 16,
    k: 'admin',
    a: { op: 'look', rect: { x: 0, y: 1, width: 500, height: 500 }, since: 1_760_000_000_000, limit: 100 },
  },
  {
    i: 17,
    k: 'admin',
    a: { op: 'look', rect: { x: 0, y: 1, width: 5, height: 5 }, since: 0, until: 9, limit: 1, before: 42 },
  },
  {
    i: 18,
    k: 'admin',
    a: { op: 'rollback-area', actor: 'a', rect: { x: 0, y: 0, width: 9, height: 9 }, since: 1, until: 2, ids: [ID] },
  },
  { i: 19, k: 'admin', a: { op: 'rollback-preview', rect: { x: 0, y: 0, width: 9, height: 9 }, since: 1 } },
  { i: 20, k: 'admin', a: { op: 'rollback-status' } },
  { i: 21, k: 'admin', a: { op: 'activity' } },
  {
    i: 9,
    k: 'history',
    r: { path: '/api/history/image', query: 'seq=5', ifNoneMatch: '', addressKey: '203.0.113.7/32' },
  },
  { i: 30, k: 'stats' },
  { i: 31, k: 'statsOf', id: ID },
  { i: 32, k: 'tile', level: 2, tx: 0, ty: 3 },
];

/** A copy of `value` with `patch` applied at the top level (undefined deletes the key). */
function withFields<T extends object>(value: T, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Normalises Buffers to plain arrays so deepEqual compares bytes, not classes. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x?.type === 'Buffer' ? x.data : x)));

test('every bus message round-trips through its decoder', () => {
  assert.deepEqual(decodeMeta(encodeBus(meta)), meta);
  assert.deepEqual(plain(decodeTicks(encodeBus(tick))), plain(tick));
  const { delta: _, ...noDelta } = tick;
  assert.deepEqual(plain(decodeTicks(encodeBus(noDelta))), plain(noDelta));
  assert.deepEqual(decodeTicks(encodeBus(beat)), beat);
  // A canvas over 4096 a side has no whole-canvas PNG: its ticks carry none.
  const { png: __, ...noPng } = tick;
  assert.deepEqual(plain(decodeTicks(encodeBus(noPng))), plain(noPng));
  assert.deepEqual(decodePresence(encodeBus({ edge: 'e1', n: 3 })), { edge: 'e1', n: 3 });
  assert.deepEqual(decodeRequests(encodeBus({ edge: 'e1', reqs: requests })), {
    edge: 'e1',
    reqs: requests,
    bad: [],
    unnumbered: 0,
  });
  const answers = decodeAnswers(
    encodeBus({ epoch: 3, ans: [{ i: 1, r: { ok: true, seq: 5, next: 1_760_000_005_000 } }] }),
  );
  assert.deepEqual(answers, { epoch: 3, ans: [{ i: 1, r: { ok: true, seq: 5, next: 1_760_000_005_000 } }] });
  // Without the writer's epoch an answer batch is not one: edges could not tell a stale writer's.
  assert.equal(decodeAnswers(encodeBus({ ans: [] } as unknown as AnswerBatch)), undefined);
  assert.equal(decodeTicks(encodeBus({ ...beat, epoch: undefined } as unknown as BeatMsg)), undefined);
});

test('a truncated payload, or one that is not a map, decodes to undefined', () => {
  for (const bytes of [encodeBus(meta), encodeBus(tick), encodeBus({ edge: 'e', reqs: requests })]) {
    for (const cut of [1, bytes.length >> 1, bytes.length - 1]) {
      const part = bytes.subarray(0, cut);
      assert.equal(decodeMeta(part), undefined);
      assert.equal(decodeTicks(part), undefined);
      assert.equal(decodeRequests(part), undefined);
    }
  }
  for (const v of [null, 7, 'tick', [1, 2], PNG]) {
    assert.equal(decodeTicks(raw(v)), undefined, `ticks from ${String(v)}`);
    assert.equal(decodeMeta(raw(v)), undefined);
    assert.equal(decodePresence(raw(v)), undefined);
    assert.equal(decodeAnswers(raw(v)), undefined);
  }
});

test('ticks: wrong-typed or missing fields, a seq past 2^53 and a PNG that is not one are refused', () => {
  const bad: Array<Record<string, unknown>> = [
    { seq: '42' },
    { seq: -1 },
    { seq: 2 ** 53 },
    { seq: 4.5 },
    { seq: undefined },
    { canvasId: 7 },
    { etag: undefined },
    { png: Buffer.from('not a png at all') },
    { png: 'iVBORw0KGgo=' },
    { at: 'now' },
    { k: 'frame' },
    { delta: { fromSeq: 40, toSeq: 41, count: 2, message: Buffer.from([1]) } }, // does not end at seq
    { delta: { fromSeq: 43, toSeq: 42, count: 2, message: Buffer.from([1]) } },
    { delta: { fromSeq: 40, toSeq: 42, count: '2', message: Buffer.from([1]) } },
    { delta: { fromSeq: 40, toSeq: 42, count: 2 } },
  ];
  for (const patch of bad) assert.equal(decodeTicks(raw(withFields(tick, patch))), undefined, JSON.stringify(patch));
  assert.equal(decodeTicks(raw(withFields(beat, { online: -3 }))), undefined);
  assert.equal(decodeTicks(raw(withFields(beat, { online: undefined }))), undefined);
});

test('meta: a palette, size, timing or secret out of shape is refused', () => {
  const bad: Array<Record<string, unknown>> = [
    { palette: [0xffffff] },
    { palette: [0xffffff, 0x1000000] },
    { palette: [0xffffff, '000000'] },
    { palette: 'ffffff,000000' },
    { width: 0 },
    { height: 1.5 },
    { tickMs: 0 },
    { cooldownMs: -1 },
    { secret: 'not hex' },
    { secret: 'abc' },
    { canvasId: undefined },
  ];
  for (const patch of bad) assert.equal(decodeMeta(raw(withFields(meta, patch))), undefined, JSON.stringify(patch));
});

test('a malformed request fails alone: the well-formed ones of its batch are kept', () => {
  const place = requests[0] as Record<string, unknown>;
  const forged = [
    withFields(place, { i: 10, x: '7' }), // string concatenation in the grid index, once
    withFields(place, { i: 11, c: 2.5 }), // stored as REAL, once
    withFields(place, { i: 12, identityId: {} }), // failed a whole commit batch, once
    withFields(place, { i: 13, identityId: 'not-an-identity' }),
    withFields(place, { i: 14, k: 'teleport' }),
    { i: 15, k: 'admin', a: { op: 'drop-table', actor: 'x' } },
    { i: 16, k: 'admin', a: { op: 'wipe', actor: 'x', rect: { x: 0, y: 0, width: '9', height: 9 }, color: 1 } },
    { i: 20, k: 'admin', a: { op: 'rollback-area', actor: 'x', rect: { x: 0, y: 0, width: 1, height: 1 }, since: -1 } },
    {
      i: 21,
      k: 'admin',
      a: { op: 'rollback-preview', rect: { x: 0, y: 0, width: 1, height: 1 }, since: 0, ids: ['not-an-id'] },
    },
    { i: 22, k: 'admin', a: { op: 'look', rect: { x: 0, y: 0, width: 1, height: 1 }, since: 0 } },
    { i: 17, k: 'history', r: { path: '/etc/passwd', query: '', ifNoneMatch: '', addressKey: '' } },
    // The address key builds are shared by: a string of at most 128 characters, never absent.
    {
      i: 18,
      k: 'history',
      r: { path: '/api/history/timelapse', query: '', ifNoneMatch: '', addressKey: 'a'.repeat(129) },
    },
    { i: 19, k: 'history', r: { path: '/api/history/timelapse', query: '', ifNoneMatch: '' } },
    { i: 23, k: 'admin', a: { op: 'surge', actor: 'x', mode: 'nuke' } },
    { i: 24, k: 'statsOf', id: 'mod:wipe' },
    { i: 25, k: 'tile', level: -1, tx: 0, ty: 0 },
    { i: 26, k: 'tile', level: 0, tx: 1.5, ty: 0 },
    { i: 27, k: 'tile', level: 0, tx: 0 },
    { i: 28, k: 'tile', level: 99, tx: 0, ty: 0 },
    withFields(place, { i: undefined }),
    withFields(place, { i: -2 }),
    'a string',
  ];
  const decoded = decodeRequests(raw({ edge: 'e1', reqs: [...requests, ...forged] }));
  assert.ok(decoded);
  assert.deepEqual(decoded.reqs, requests);
  assert.deepEqual(
    decoded.bad.map((b) => b.i),
    [10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 17, 18, 19, 23, 24, 25, 26, 27, 28],
  );
  assert.equal(decoded.unnumbered, 3);
  assert.equal(decodeRequests(raw({ edge: 'e1', reqs: 'all' })), undefined);
  assert.equal(decodeRequests(raw({ reqs: requests })), undefined);
});

test('answers are checked against the kind of request they answer', () => {
  assert.deepEqual(decodeAnswer('place', { ok: true, seq: 3, next: 9 }), { ok: true, seq: 3, next: 9 });
  assert.deepEqual(decodeAnswer('place', { ok: false, code: 'cooldown', message: 'wait', wait: 10 }), {
    ok: false,
    code: 'cooldown',
    message: 'wait',
    wait: 10,
  });
  assert.equal(decodeAnswer('place', { ok: false, code: 'made_up', message: 'x' }), undefined);
  assert.equal(decodeAnswer('place', { ok: true, seq: '3', next: 9 }), undefined);
  assert.equal(decodeAnswer('place', 5), undefined);
  assert.deepEqual(decodeAnswer('standing', { wait: 1500 }), { wait: 1500 });
  const restricted = {
    wait: 0,
    banned: { scope: 'network', reason: 'raid', until: 1_760_000_000_000 },
    locked: { reason: 'incident' },
  };
  assert.deepEqual(decodeAnswer('standing', restricted), restricted);
  assert.equal(decodeAnswer('standing', { wait: -1 }), undefined);
  assert.equal(decodeAnswer('standing', 1500), undefined);
  assert.equal(decodeAnswer('standing', { wait: 0, banned: { scope: 'planet', reason: 'x' } }), undefined);
  const pixel = { x: 1, y: 2, color: 3, who: ID, at: 5, seq: 6 };
  assert.deepEqual(decodeAnswer('pixel', { ok: true, pixel }), { ok: true, pixel });
  const never = { x: 1, y: 2, color: 0, who: null, at: null, seq: null };
  assert.deepEqual(decodeAnswer('pixel', { ok: true, pixel: never }), { ok: true, pixel: never });
  assert.equal(decodeAnswer('pixel', { ok: true, pixel: { ...pixel, who: 7 } }), undefined);
  assert.deepEqual(decodeAnswer('admin', { ok: true, result: { banned: ID } }), { ok: true, result: { banned: ID } });
  assert.equal(decodeAnswer('admin', { ok: true, result: 'done' }), undefined);
  // Moderation refusals carry HTTP-only codes too (409 rollback_running, 413 too_large); unknown ones are refused.
  const busy = { ok: false, code: 'rollback_running', message: 'one at a time' };
  assert.deepEqual(decodeAnswer('admin', busy), busy);
  assert.equal(decodeAnswer('admin', { ...busy, code: 'teapot' }), undefined);
  assert.equal(decodeAnswer('place', busy), undefined, 'only admin answers carry them');
  const answer = { status: '200 OK', headers: { ETag: '"x"' }, body: Buffer.from('png') };
  assert.deepEqual(decodeAnswer('history', answer), answer);
  assert.equal(decodeAnswer('history', { ...answer, headers: { ETag: 5 } }), undefined);
  assert.equal(decodeAnswer('history', { ...answer, body: 'png' }), undefined);
  assert.deepEqual(decodeAnswer('tile', answer), answer);
  assert.equal(decodeAnswer('tile', { ...answer, status: 200 }), undefined);
});

test('accounts: the login settings in meta and the account mark of place and standing round-trip, checked', () => {
  const withLogin: CanvasMeta = {
    ...meta,
    login: 'required',
    oidc: {
      issuer: 'https://id.example.com/realms/canvas',
      clientId: 'canvas',
      clientSecret: 's3cret',
      scopes: 'openid',
      publicUrl: 'https://canvas.example.com',
    },
  };
  assert.deepEqual(decodeMeta(encodeBus(withLogin)), withLogin);
  for (const patch of [
    { login: 'maybe' },
    { oidc: undefined },
    { oidc: { ...withLogin.oidc, clientId: 7 } },
    { login: undefined }, // settings without a mode
  ])
    assert.equal(decodeMeta(raw(withFields(withLogin, patch))), undefined, JSON.stringify(patch));

  const marked: Request[] = [
    { i: 1, k: 'place', identityId: ID, addressKey: '203.0.113.7/32', account: true, x: 7, y: 9, c: 3 },
    { i: 2, k: 'standing', identityId: ID, addressKey: '203.0.113.7/32', account: true },
  ];
  const decoded = decodeRequests(
    raw({
      edge: 'e1',
      reqs: [
        ...marked,
        withFields(marked[0] as object, { i: 3, account: 'yes' }),
        withFields(marked[1] as object, { i: 4, account: false }),
      ],
    }),
  );
  assert.deepEqual(decoded?.reqs, marked);
  assert.deepEqual(
    decoded?.bad.map((b) => b.i),
    [3, 4],
  );
});

test('stats answers: the summary and one identity round-trip; a wrong-typed field, a forged id or a huge list is refused', () => {
  const summary = {
    placements: 12,
    lastHour: 3,
    perColor: [4, 0, 8],
    active5m: 2,
    top: [{ id: ID, placed: 12 }],
    topHour: [{ id: ID, placed: 3 }],
    modChanges: 5,
    at: 1_760_000_000_000,
  };
  const ok = { ok: true, stats: summary };
  // Through msgpack, as an edge receives it.
  const wire = decodeAnswers(encodeBus({ epoch: 1, ans: [{ i: 1, r: ok as StatsResult }] }))?.ans[0];
  assert.ok(wire && 'r' in wire);
  assert.deepEqual(decodeAnswer('stats', wire.r), ok);
  assert.deepEqual(decodeAnswer('stats', { ok: false, code: 'unavailable', message: 'm' }), {
    ok: false,
    code: 'unavailable',
    message: 'm',
  });
  for (const patch of [
    { placements: -1 },
    { perColor: [1, 'x'] },
    { perColor: new Array(257).fill(0) },
    { top: [{ id: 'mod:wipe', placed: 1 }] },
    { topHour: new Array(101).fill({ id: ID, placed: 1 }) },
    { at: undefined },
  ]) {
    assert.equal(
      decodeAnswer('stats', { ok: true, stats: withFields(summary, patch) }),
      undefined,
      JSON.stringify(patch),
    );
  }
  const me = { ok: true, stats: { id: ID, placed: 2, first: 1, last: 9, rank: 1 } };
  assert.deepEqual(decodeAnswer('statsOf', me), me);
  const never = { ok: true, stats: { id: ID, placed: 0, first: null, last: null, rank: null } };
  assert.deepEqual(decodeAnswer('statsOf', never), never);
  assert.equal(decodeAnswer('statsOf', { ok: true, stats: { ...me.stats, rank: '1' } }), undefined);
  assert.equal(decodeAnswer('statsOf', { ok: true, stats: { ...me.stats, id: 'x' } }), undefined);
});

test('challenges: a place request carries pow by the client wire rule, and standing its challenge flag', () => {
  const withPow: Request = {
    i: 1,
    k: 'place',
    identityId: ID,
    addressKey: '203.0.113.7/32',
    x: 1,
    y: 2,
    c: 3,
    pow: 'cG93',
  };
  const decoded = decodeRequests(
    raw({
      edge: 'e1',
      reqs: [
        withPow,
        withFields(withPow, { i: 2, pow: 42 }),
        withFields(withPow, { i: 3, pow: '' }),
        withFields(withPow, { i: 4, pow: 'x'.repeat(MAX_POW_CHARS + 1) }),
      ],
    }),
  );
  assert.deepEqual(decoded?.reqs, [withPow]);
  assert.deepEqual(
    decoded?.bad.map((b) => b.i),
    [2, 3, 4],
  );
  assert.deepEqual(decodeAnswer('standing', { wait: 0, challenge: true }), { wait: 0, challenge: true });
  assert.equal(decodeAnswer('standing', { wait: 0, challenge: 'yes' }), undefined);
});

test('charges: place and standing answers carry them, checked (left within max, next only when not full)', () => {
  const charges = { left: 1, max: 3, next: 1_700_000_060_000 };
  const ok = { ok: true, seq: 3, next: 9, charges };
  assert.deepEqual(decodeAnswer('place', ok), ok);
  assert.deepEqual(decodeAnswer('standing', { wait: 0, charges }), { wait: 0, charges });
  const full = { left: 3, max: 3 };
  assert.deepEqual(decodeAnswer('standing', { wait: 0, charges: full }), { wait: 0, charges: full });
  for (const bad of [
    { left: 4, max: 3, next: 1 },
    { left: 0, max: 0 },
    { left: -1, max: 3, next: 1 },
    { left: 1, max: 3 },
    { left: 3, max: 3, next: 1 },
    { left: 1, max: 3, next: 'soon' },
    'three',
  ]) {
    assert.equal(decodeAnswer('place', { ...ok, charges: bad }), undefined, JSON.stringify(bad));
    assert.equal(decodeAnswer('standing', { wait: 0, charges: bad }), undefined, JSON.stringify(bad));
  }
});

test('bots: the bot mark of place and standing, the bot admin actions and pixel info round-trip, checked', () => {
  const marked: Request[] = [
    { i: 1, k: 'place', identityId: ID, addressKey: '203.0.113.7/32', bot: ID, x: 7, y: 9, c: 3 },
    { i: 2, k: 'standing', identityId: ID, addressKey: '203.0.113.7/32', bot: ID },
    {
      i: 3,
      k: 'admin',
      a: { op: 'bot-mint', actor: 'admin@::1', name: 'p', everyMs: 100, region: { x: 1, y: 2, width: 3, height: 4 } },
    },
    { i: 4, k: 'admin', a: { op: 'bot-mint', actor: 'admin@::1', name: 'q', everyMs: 100, seconds: 60 } },
    { i: 5, k: 'admin', a: { op: 'bot-list' } },
    { i: 6, k: 'admin', a: { op: 'bot-revoke', actor: 'admin@::1', id: ID } },
  ];
  const decoded = decodeRequests(
    raw({
      edge: 'e1',
      reqs: [
        ...marked,
        withFields(marked[0] as object, { i: 7, bot: 'not-an-id' }),
        withFields(marked[1] as object, { i: 8, bot: true }),
        { i: 9, k: 'admin', a: { op: 'bot-mint', actor: 'a', name: 'x'.repeat(65), everyMs: 100 } },
        { i: 10, k: 'admin', a: { op: 'bot-mint', actor: 'a', name: 'x', everyMs: 100, region: { x: 1 } } },
        { i: 11, k: 'admin', a: { op: 'bot-revoke', actor: 'a', id: 'zz' } },
      ],
    }),
  );
  assert.deepEqual(decoded?.reqs, marked);
  assert.deepEqual(
    decoded?.bad.map((b) => b.i),
    [7, 8, 9, 10, 11],
  );
  const pixel = { ok: true, pixel: { x: 1, y: 2, color: 3, who: ID, at: 5, seq: 6, bot: 'p' } } as const;
  assert.deepEqual(decodeAnswer('pixel', pixel), pixel);
  assert.equal(decodeAnswer('pixel', { ...pixel, pixel: { ...pixel.pixel, bot: 7 } }), undefined);
});

test('display names: the name request, its answer, the moderator clearing and labelled stats round-trip, checked', () => {
  const ok: Request[] = [
    { i: 1, k: 'name', identityId: ID, addressKey: '203.0.113.7/32', name: 'Ada' },
    { i: 2, k: 'name', identityId: ID, addressKey: '203.0.113.7/32', account: true, name: '' },
    { i: 3, k: 'admin', a: { op: 'name-clear', actor: 'admin@127.0.0.1', id: ID } },
  ];
  const decoded = decodeRequests(
    raw({
      edge: 'e1',
      reqs: [
        ...ok,
        withFields(ok[0] as object, { i: 4, name: 7 }),
        withFields(ok[0] as object, { i: 5, name: 'x'.repeat(257) }), // longer than any request may carry
        withFields(ok[0] as object, { i: 6, name: undefined }),
        { i: 7, k: 'admin', a: { op: 'name-clear', actor: 'a', id: 'mod:wipe' } },
      ],
    }),
  );
  assert.deepEqual(decoded?.reqs, ok);
  assert.deepEqual(
    decoded?.bad.map((b) => b.i),
    [4, 5, 6, 7],
  );
  assert.deepEqual(decodeAnswer('name', { ok: true, id: ID, name: 'Ada' }), { ok: true, id: ID, name: 'Ada' });
  assert.deepEqual(decodeAnswer('name', { ok: true, id: ID, name: null }), { ok: true, id: ID, name: null });
  const taken = { ok: false, code: 'name_taken', message: 'taken' };
  assert.deepEqual(decodeAnswer('name', taken), taken, 'an HTTP-only code crosses');
  assert.equal(decodeAnswer('name', { ...taken, code: 'teapot' }), undefined);
  const soon = { ok: false, code: 'cooldown', message: 'retry in 3 s', wait: 3000 };
  assert.deepEqual(decodeAnswer('name', soon), soon);
  assert.equal(decodeAnswer('name', { ...soon, wait: -1 }), undefined);
  assert.equal(decodeAnswer('name', { ok: true, id: ID, name: 5 }), undefined);
  const stats = {
    ok: true,
    stats: {
      placements: 3,
      lastHour: 3,
      perColor: [0, 3],
      active5m: 2,
      top: [
        { id: ID, placed: 2, name: 'Ada' },
        { id: 'b0b0b0b0b0b0b0b0', placed: 1, bot: 'painter' },
      ],
      topHour: [],
      modChanges: 0,
      at: 5,
    },
  };
  assert.deepEqual(decodeAnswer('stats', stats), stats);
  const botNamed = { ...stats.stats, top: [{ id: ID, placed: 1, bot: 9 }] };
  assert.equal(decodeAnswer('stats', { ok: true, stats: botNamed }), undefined);
  const me = { id: ID, placed: 2, first: 1, last: 2, rank: 1, name: 'Ada' };
  assert.deepEqual(decodeAnswer('statsOf', { ok: true, stats: me }), { ok: true, stats: me });
});
