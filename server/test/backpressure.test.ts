import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeToIndices, fillNoise, startTestServer, TestClient } from '../../testkit/fixture.ts';

test('a subscriber that stops reading skips PNG ticks, then gets the latest one it has room for', async (t) => {
  const ts = await startTestServer({ width: 1000, height: 1000, tickMs: 20, maxBackpressure: 64 * 1024 });
  t.after(() => ts.dispose());
  // Test-only shortcut: noisy content makes every PNG ~500 KB, so a paused reader fills the kernel's
  // socket buffers within a few ticks. Placements below still go through the real path.
  fillNoise(ts.server.canvas, 0x9e3779b9);
  const fast = await TestClient.connect(ts.ws);
  const slow = await TestClient.connect(ts.ws);
  await slow.nextOf('png');
  slow.socket.pause(); // stop reading: bytes pile up in kernel buffers, then in uWS's buffer

  let seq = 0;
  const ticks = 60;
  for (let i = 0; i < ticks; i++) {
    fast.send({ t: 'place', id: i, x: i, y: 0, c: i % 16 });
    seq = (await fast.nextOf('ack')).seq;
    await fast.pngAtLeast(seq);
  }
  const fastPngs = fast.received.filter((m) => m.t === 'png').length;
  slow.socket.resume();
  // After draining, the slow reader gets the next tick's PNG: the newest canvas.
  fast.send({ t: 'place', id: 999, x: 999, y: 999, c: 3 });
  const last = (await fast.nextOf('ack')).seq;
  const png = await slow.pngAtLeast(last, 20_000);
  const slowPngs = slow.received.filter((m) => m.t === 'png').length;
  assert.ok(fastPngs >= ticks, `fast reader got every tick (${fastPngs})`);
  assert.ok(slowPngs < fastPngs / 2, `slow reader skipped ticks: ${slowPngs} PNGs vs ${fastPngs}`);
  assert.equal(decodeToIndices(png.png, ts.config.palette).grid[999 * 1000 + 999], 3);
  await fast.close();
  await slow.close();
});
