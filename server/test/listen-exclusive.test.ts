/**
 * A second server on a port one already listens on is refused. uWS listens with SO_REUSEPORT unless
 * told otherwise, and then the kernel splits new connections between the two: two canvases, two
 * databases, each user seeing one of them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../../testkit/fixture.ts';
import { freePort } from '../../testkit/processes.ts';
import { OperatorError } from '../ops/operator-error.ts';

test('a second server on the same port stops with a one-line error instead of sharing the port', async (t) => {
  // A port chosen here, not 0: uWS shares only ports it was asked for by number.
  const port = await freePort();
  const first = await startTestServer({ port });
  t.after(() => first.dispose());
  await assert.rejects(
    startTestServer({ port }),
    (err: unknown) => err instanceof OperatorError && /cannot listen on 127\.0\.0\.1:\d+/.test(err.message),
  );
  assert.equal((await fetch(`${first.http}/healthz`)).status, 200, 'the first one keeps serving');
});
