import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonInt, nonIntegerKeys, type JsonBody } from '../http/body.ts';

const keys = (text: string) => [...nonIntegerKeys(text)].sort();

test('nonIntegerKeys reports top-level numbers written with a fraction, an exponent or as -0', () => {
  const text =
    '{"a":1.0,"b":1e0,"c":-0,"d":1E0,"e":10.5,"f":1,"g":0,"h":-5,"i":-0.0,"j":1e+2,"k":0.5,"l":2E-1,"m":123456789012}';
  assert.deepEqual(keys(text), ['a', 'b', 'c', 'd', 'e', 'i', 'j', 'k', 'l']);
});

test('nonIntegerKeys skips strings whole, escapes included, and unescapes keys', () => {
  assert.deepEqual(keys('{"s":"x\\": 1.0, \\"t\\": 2.5","k":1}'), [], 'a number inside a string value is text');
  assert.deepEqual(keys('{"s":"\\\\","x":1.5}'), ['x'], 'an escaped backslash ends before the closing quote');
  assert.deepEqual(keys('{"a\\"b":1.5}'), ['a"b']);
  assert.deepEqual(keys('{"\\u0078":1.0}'), ['x'], 'the key as JSON.parse reads it');
  assert.deepEqual(keys('{"{[":1.5,"]}":2}'), ['{[']);
});

test('nonIntegerKeys looks only at the outer object', () => {
  assert.deepEqual(keys('{"o":{"x":1.5},"a":[1.5,{"x":2.5}],"x":1}'), []);
  assert.deepEqual(keys('{"o":{"x":1.5,"s":"}"},"x":2.5}'), ['x']);
  for (const text of ['[1.5]', '1.5', '"1.5"', 'null', '{}', '[{"x":1.5}]']) assert.deepEqual(keys(text), [], text);
});

test(
  'nonIntegerKeys allows JSON whitespace anywhere and ' + 'flags a key written twice if any value is not an integer',
  () => {
    assert.deepEqual(keys('\n{ "x" :\t1.0 , "y" : 2\r\n}\n'), ['x']);
    assert.deepEqual(keys('{"x":1.0,"x":1}'), ['x']);
    assert.deepEqual(keys('{"x":1,"x":1e0}'), ['x']);
  },
);

test('nonIntegerKeys walks deep nesting without recursion', () => {
  const depth = 200_000;
  assert.deepEqual(keys(`{"a":${'['.repeat(depth)}${']'.repeat(depth)},"x":1.5}`), ['x']);
});

test('jsonInt takes plain integer literals only', () => {
  const body = (text: string): JsonBody => ({
    value: JSON.parse(text) as unknown,
    nonIntegerKeys: nonIntegerKeys(text),
  });
  assert.equal(jsonInt(body('{"x":1}'), 'x'), 1);
  assert.equal(jsonInt(body('{"x":0}'), 'x'), 0);
  assert.equal(jsonInt(body('{"x":-7}'), 'x'), -7);
  for (const literal of [
    '1.0',
    '1e0',
    '1E0',
    '-0',
    '10.5',
    '"1"',
    'true',
    'null',
    '9007199254740993',
    '1e400',
    '{}',
    '[1]',
  ]) {
    assert.equal(jsonInt(body(`{"x":${literal}}`), 'x'), undefined, literal);
  }
  assert.equal(jsonInt(body('{"y":1}'), 'x'), undefined, 'missing');
  assert.equal(jsonInt(body('[1]'), '0'), undefined, 'not an object');
});
