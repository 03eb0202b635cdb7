import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseVariant, type ContentCoding, parseAcceptEncoding } from '../http/accept-encoding.ts';

const q = (header: string, coding: ContentCoding) => parseAcceptEncoding(header)(coding);

test('no or an empty Accept-Encoding: identity only', () => {
  for (const header of ['', '   ', ',']) {
    assert.equal(q(header, 'identity'), 1);
    assert.equal(q(header, 'br'), 0);
    assert.equal(q(header, 'gzip'), 0);
  }
});

test('q-values: named codings, *, identity, and what makes an element not count', () => {
  assert.equal(q('gzip, deflate, br', 'br'), 1);
  assert.equal(q('gzip;q=0.5', 'gzip'), 0.5);
  assert.equal(q('gzip ; Q = 0.125', 'gzip'), 0.125, 'spaces and case around q');
  assert.equal(q('gzip;level=9;q=0.2', 'gzip'), 0.2, 'other parameters are ignored');
  assert.equal(q('br;q=0', 'br'), 0);
  assert.equal(q('*;q=0.3', 'br'), 0.3, '* stands for codings not named');
  assert.equal(q('*;q=0.3, br;q=0.9', 'br'), 0.9, 'a named coding overrides *');
  assert.equal(q('gzip', 'identity'), 1, 'identity is acceptable unless refused');
  assert.equal(q('gzip, identity;q=0', 'identity'), 0);
  assert.equal(q('*;q=0', 'identity'), 0);
  assert.equal(q('*;q=0, identity;q=0.1', 'identity'), 0.1);
  assert.equal(q('X-GZIP', 'gzip'), 1, 'x-gzip is gzip, case-insensitive');
  for (const bad of ['q=2', 'q=1.5', 'q=0.1234', 'q=-1', 'q=', 'q=abc', 'q=.5'])
    assert.equal(q(`br;${bad}`, 'br'), 0, `br;${bad} does not count`);
  assert.equal(q('br;q=abc, br;q=0.4', 'br'), 0.4, 'the first valid element of a coding counts');
  assert.equal(q('br;q=1.000', 'br'), 1);
});

test('chooseVariant: highest q, then the first listed (smallest); the fallback when none is acceptable', () => {
  const identity = { coding: 'identity' as const, size: 100 };
  const variants = [{ coding: 'br' as const, size: 20 }, { coding: 'gzip' as const, size: 25 }, identity];
  const pick = (header: string) => chooseVariant(variants, parseAcceptEncoding(header), identity).coding;
  assert.equal(pick('gzip, deflate, br'), 'br');
  assert.equal(pick('gzip'), 'gzip');
  assert.equal(pick('br;q=0.5, gzip'), 'gzip');
  assert.equal(pick(''), 'identity');
  assert.equal(pick('identity;q=0'), 'identity');
  assert.equal(pick('identity;q=0, gzip;q=0.1'), 'gzip');
});
