/**
 * Regression tests for the defects the reliability suite (issue 7, perf/torture/) found, one test per
 * defect, each reproducing the suite's failing input at unit or integration scale.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientMessage } from '../../protocol/codec.ts';
import { floatKeys } from '../../protocol/msgpack-floats.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import { startTestServer, TestClient } from './fixture.ts';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
/** {t:'place', id:1, x:<X>, y:1, c:1} with X given as raw MessagePack. */
const placeWithX = (x: string) => hex(`85 a174 a5706c616365 a26964 01 a178 ${x} a179 01 a163 01`);

test('issue 7: float-encoded integers (1.0, -0.0, float32 2.0) are invalid fields, not placements', async () => {
  // The suite's hostile frames placed pixels with x = 1.0 as float64: msgpackr decodes it to 1.
  const floats = ['cb 3ff0000000000000', 'cb 8000000000000000', 'ca 40000000'];
  for (const x of floats) {
    const r = parseClientMessage(placeWithX(x));
    assert.deepEqual(r, { ok: false, code: ErrorCode.INVALID_FIELD, message: 'x must be an integer', id: 1 }, x);
  }
  // A float id is not echoed (it is not a valid id).
  const floatId = parseClientMessage(hex('85 a174 a5706c616365 a26964 cb3ff0000000000000 a178 01 a179 01 a163 01'));
  assert.equal(floatId.ok, false);
  if (!floatId.ok) assert.equal(floatId.id, undefined);
  // The same integers as integers still parse; so do str8 keys and floats in keys nobody reads.
  assert.equal(parseClientMessage(placeWithX('01')).ok, true);
  assert.equal(parseClientMessage(hex('86 a174 a5706c616365 a26964 01 a178 01 a179 01 a163 01 a56578747261 cb3ff8000000000000')).ok, true);
  assert.deepEqual(floatKeys(hex('83 d90178 cb3ff0000000000000 a179 01 a17a ca40000000')), new Set(['x', 'z']));
  // Deep nesting is walked without recursion.
  const deep = Buffer.alloc(5000, 0x91);
  deep[4999] = 0x01;
  assert.deepEqual(floatKeys(deep), new Set());

  const ts = await startTestServer({ width: 8, height: 8 });
  try {
    const c = await TestClient.connect(ts.ws);
    for (const x of floats) {
      c.socket.send(placeWithX(x));
      assert.equal((await c.nextOf('error')).code, ErrorCode.INVALID_FIELD);
    }
    assert.equal(ts.server.canvas.seq, 0, 'nothing placed');
    await c.close();
  } finally {
    await ts.dispose();
  }
});
