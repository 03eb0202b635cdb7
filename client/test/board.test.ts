import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packDeltaPixels } from '../../protocol/delta.ts';
import { Board } from '../src/board/board.ts';

const palette = [0xffffff, 0x000000, 0xff0000, 0x00ff00];

/** A delta payload setting (x, y) to c for each entry, packed like the server does. */
function delta(width: number, height: number, changes: Array<[number, number, number]>): Uint8Array {
  const grid = new Uint8Array(width * height);
  const cells = changes.map(([x, y, c]) => {
    grid[y * width + x] = c;
    return y * width + x;
  });
  return packDeltaPixels(
    cells,
    Array.from(cells, (c) => grid[c] as number),
    width,
  );
}

test('an optimistic pixel shows at once and survives snapshots until one includes it', () => {
  const b = new Board(4, 3, palette);
  b.placeOptimistic(1, 2, 1, 3);
  assert.equal(b.colourAt(2, 1), 3);
  b.applySnapshot(new Uint8Array(12), 5); // a tick from before the placement
  assert.equal(b.colourAt(2, 1), 3, 'an unacked placement is not wiped by an older snapshot');
  b.confirm(1, 7);
  b.applySnapshot(new Uint8Array(12), 6);
  assert.equal(b.colourAt(2, 1), 3, 'snapshot at seq 6 does not include seq 7 yet');
  const withIt = new Uint8Array(12);
  withIt[1 * 4 + 2] = 3;
  b.applySnapshot(withIt, 7);
  assert.equal(b.pendingCount, 0);
  assert.equal(b.colourAt(2, 1), 3);
});

test('a snapshot at or past the ack seq shows the server truth, even if someone painted over', () => {
  const b = new Board(2, 2, palette);
  b.placeOptimistic(1, 0, 0, 2);
  b.confirm(1, 3);
  const later = new Uint8Array(4);
  later[0] = 1; // another user placed black at seq 4
  b.applySnapshot(later, 4);
  assert.equal(b.colourAt(0, 0), 1);
});

test('a refused placement is reverted to the server colour; the newest pending pixel wins', () => {
  const b = new Board(2, 2, palette, Uint8Array.from([0, 1, 0, 0]), 9);
  b.placeOptimistic(1, 1, 0, 2);
  b.placeOptimistic(2, 1, 0, 3);
  assert.equal(b.colourAt(1, 0), 3);
  assert.deepEqual(b.revert(2), { id: 2, x: 1, y: 0, c: 3 });
  assert.equal(b.colourAt(1, 0), 2);
  b.revert(1);
  assert.equal(b.colourAt(1, 0), 1, 'back to what the server has');
  assert.equal(b.revert(42), undefined);
});

test('losing the connection reverts unacked placements but keeps acked ones', () => {
  const b = new Board(3, 1, palette);
  b.placeOptimistic(1, 0, 0, 1);
  b.placeOptimistic(2, 1, 0, 2);
  b.confirm(1, 1);
  const dropped = b.revertUnacked();
  assert.deepEqual(
    dropped.map((p) => p.id),
    [2],
  );
  assert.equal(b.colourAt(0, 0), 1);
  assert.equal(b.colourAt(1, 0), 0);
  assert.deepEqual(
    b.clearPending().map((p) => p.id),
    [1],
  );
  assert.equal(b.colourAt(0, 0), 0);
});

test('confirm of an ack already included in the board drops the pending pixel at once', () => {
  const b = new Board(1, 1, palette, undefined, 10);
  b.placeOptimistic(1, 0, 0, 2);
  b.confirm(1, 10);
  assert.equal(b.pendingCount, 0);
});

test('deltas apply in sequence; old ones are ignored, gaps and bad payloads refused', () => {
  const b = new Board(300, 2, palette, undefined, 5);
  assert.equal(
    b.applyDelta(
      5,
      8,
      delta(300, 2, [
        [299, 1, 2],
        [0, 0, 1],
      ]),
    ),
    'applied',
  );
  assert.equal(b.seq, 8);
  assert.equal(b.colourAt(299, 1), 2, 'x above 255 uses the high byte');
  assert.equal(b.colourAt(0, 0), 1);
  assert.equal(b.applyDelta(5, 8, delta(300, 2, [[1, 1, 3]])), 'stale');
  assert.equal(b.colourAt(1, 1), 0);
  assert.equal(b.applyDelta(9, 12, delta(300, 2, [[1, 1, 3]])), 'gap');
  assert.equal(b.seq, 8);
  assert.equal(b.applyDelta(8, 9, new Uint8Array([1, 2, 3])), 'gap', 'truncated record');
  assert.equal(b.applyDelta(8, 9, delta(400, 3, [[350, 2, 1]])), 'gap', 'pixel outside this canvas');
  assert.equal(b.seq, 8);
  assert.equal(b.applyDelta(8, 8, new Uint8Array(0)), 'applied', 'an empty delta is fine');
});

test('a delta that reaches the ack seq drops the pending pixel', () => {
  const b = new Board(2, 1, palette, undefined, 0);
  b.placeOptimistic(7, 1, 0, 3);
  b.confirm(7, 1);
  b.applyDelta(0, 1, delta(2, 1, [[1, 0, 3]]));
  assert.equal(b.pendingCount, 0);
  assert.equal(b.colourAt(1, 0), 3);
});

test('a snapshot of the wrong size is refused', () => {
  const b = new Board(2, 2, palette);
  assert.throws(() => b.applySnapshot(new Uint8Array(3), 1));
  assert.throws(() => new Board(2, 2, palette, new Uint8Array(5)));
});

test('a snapshot handed over (owned) becomes the grid; any other is copied, so its owner may reuse it', () => {
  const b = new Board(2, 2, palette);
  const lent = Uint8Array.from([1, 2, 3, 0]);
  b.applySnapshot(lent, 4);
  lent.fill(0);
  assert.deepEqual(b.cells.single, Uint8Array.from([1, 2, 3, 0]), 'a copy: the lender’s later writes do not show');
  const given = Uint8Array.from([3, 3, 1, 1]);
  b.applySnapshot(given, 5, true);
  assert.equal(b.cells.single, given);
  assert.equal(b.colourAt(0, 1), 1);
  const delta2 = delta(2, 2, [[0, 0, 2]]);
  assert.equal(b.applyDelta(5, 6, delta2), 'applied');
  assert.equal(b.colourAt(0, 0), 2, 'deltas apply to the grid it took');
});
