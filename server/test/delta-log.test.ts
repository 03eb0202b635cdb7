/**
 * The delta log a reconnecting delta subscriber catches up from: exactly the ticks after its seq, or
 * undefined so the caller sends a snapshot; bounded by entries and bytes, oldest first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeltaLog, type DeltaEntry } from '../streams/delta-log.ts';

/** A delta with a message of `bytes` bytes whose first byte tags it, so answers can be told apart. */
function delta(fromSeq: number, toSeq: number, bytes = 8): DeltaEntry {
  const message = new Uint8Array(bytes);
  message[0] = toSeq;
  return { fromSeq, toSeq, message };
}

/** Ticks 0->3, 3->5, 5->9. */
function logOfThree(maxEntries = 10, maxBytes = 1 << 20): { log: DeltaLog; entries: DeltaEntry[] } {
  const log = new DeltaLog(maxEntries, maxBytes);
  const entries = [delta(0, 3), delta(3, 5), delta(5, 9)];
  for (const e of entries) log.push(e);
  return { log, entries };
}

test('catchUp returns exactly the deltas after since, the first starting at since', () => {
  const { log, entries } = logOfThree();
  const [a, b, c] = entries as [DeltaEntry, DeltaEntry, DeltaEntry];
  assert.deepEqual(log.catchUp(0, 9), [a.message, b.message, c.message]);
  assert.deepEqual(log.catchUp(3, 9), [b.message, c.message]);
  const last = log.catchUp(5, 9);
  assert.equal(last?.length, 1);
  assert.equal(last?.[0], c.message, 'the published message itself, not a copy');
});

test('catchUp returns an empty list to a client that is current', () => {
  const { log } = logOfThree();
  assert.deepEqual(log.catchUp(9, 9), []);
  assert.deepEqual(new DeltaLog(10, 1000).catchUp(4, 4), [], 'even with nothing logged');
});

test(
  'catchUp returns undefined when since is older than the log, ' + 'not a tick boundary, or the log ends before latest',
  () => {
    const { log } = logOfThree(2);
    assert.equal(log.catchUp(0, 9), undefined, 'the tick from 0 was evicted (2 entries kept)');
    assert.ok(log.catchUp(3, 9), 'the oldest kept tick still answers');
    assert.equal(log.catchUp(4, 9), undefined, 'seq 4 was inside a tick, never published');
    assert.equal(log.catchUp(12, 9), undefined, 'a seq the server never reached');
    assert.equal(log.catchUp(3, 11), undefined, 'the server is past the last logged tick');
  },
);

test('the byte cap evicts the oldest deltas first but keeps the newest even when it alone is over the cap', () => {
  const log = new DeltaLog(100, 100);
  log.push(delta(0, 1, 40));
  log.push(delta(1, 2, 40));
  assert.equal(log.catchUp(0, 2)?.length, 2, '80 bytes fit');
  log.push(delta(2, 3, 40));
  assert.equal(log.catchUp(0, 3), undefined, '120 bytes: the oldest went');
  assert.equal(log.catchUp(1, 3)?.length, 2);
  log.push(delta(3, 4, 500));
  assert.equal(log.catchUp(2, 4), undefined, 'everything older went to make room');
  assert.equal(log.catchUp(3, 4)?.length, 1, 'the oversized newest delta stays');
  log.push(delta(4, 5, 10));
  assert.equal(log.catchUp(3, 5), undefined, 'then it goes first');
  assert.equal(log.catchUp(4, 5)?.length, 1);
});

test('clear forgets every delta, and a delta that does not continue the chain starts a new one', () => {
  const { log } = logOfThree();
  log.clear();
  assert.equal(log.catchUp(0, 9), undefined);
  assert.equal(log.catchUp(5, 9), undefined);
  log.push(delta(9, 10));
  assert.equal(log.catchUp(9, 10)?.length, 1, 'logging resumes after clear');
  log.push(delta(14, 15)); // ticks 10 -> 14 went out as a snapshot
  assert.equal(log.catchUp(9, 15), undefined, 'no chain through the gap');
  assert.equal(log.catchUp(14, 15)?.length, 1);
});
