import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchImageGrid, startTestServer, TestClient } from '../../testkit/fixture.ts';

for (const mode of ['grid', 'db'] as const) {
  test(`benchmark-only /image mode "${mode}" serves the same canvas as the cached mode`, async (t) => {
    const ts = await startTestServer({ width: 9, height: 7, benchImageMode: mode });
    t.after(() => ts.dispose());
    const c = await TestClient.connect(ts.ws);
    c.send({ t: 'place', id: 1, x: 8, y: 6, c: 12 });
    const seq = (await c.nextOf('ack')).seq;
    // Encoded per request: the pixel shows even before a tick has published it.
    const grid = await fetchImageGrid(ts);
    assert.equal(grid[6 * 9 + 8], 12);
    const png = await c.pngAtLeast(seq);
    assert.ok(png.png.length > 0);
    await c.close();
  });
}
