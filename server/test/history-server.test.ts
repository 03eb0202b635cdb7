/**
 * History through the whole server (startServer, as npm start runs it): past canvases are served
 * from the running canvas's database, and still after a restart on the same file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeToIndices, httpRequest, startTestServer, tempDir } from '../../testkit/fixture.ts';

async function place(http: string, x: number, y: number, color: number): Promise<number> {
  const r = await httpRequest(`${http}/api/pixel`, { method: 'POST', body: JSON.stringify({ x, y, color }) });
  assert.equal(r.status, 200, r.body);
  return Number(r.json().seq);
}

async function pastPixel(http: string, seq: number, x: number, y: number, palette: readonly number[]): Promise<number> {
  const res = await fetch(`${http}/api/history/image?seq=${seq}`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const { grid, width } = decodeToIndices(new Uint8Array(await res.arrayBuffer()), palette);
  return grid[y * width + x] as number;
}

test('the server answers past canvases, and still does after a restart on the same database', async (t) => {
  const dir = tempDir();
  let ts = await startTestServer({ width: 32, height: 32 }, dir);
  t.after(() => ts.dispose());
  const first = await place(ts.http, 4, 5, 3);
  const second = await place(ts.http, 4, 5, 9);
  const { palette } = ts.config;
  assert.equal(await pastPixel(ts.http, first, 4, 5, palette), 3);
  assert.equal(await pastPixel(ts.http, second, 4, 5, palette), 9);
  assert.equal(await pastPixel(ts.http, 0, 4, 5, palette), 0);

  await ts.stop();
  ts = await startTestServer({ width: 32, height: 32 }, dir);
  const third = await place(ts.http, 4, 5, 12);
  assert.equal(third, second + 1, 'seqs continue');
  assert.equal(await pastPixel(ts.http, first, 4, 5, palette), 3);
  assert.equal(await pastPixel(ts.http, third, 4, 5, palette), 12);
  const future = await httpRequest(`${ts.http}/api/history/image?seq=${third + 1}`);
  assert.equal(future.status, 400);
  assert.match(String(future.json().message), /beyond the current seq/);
});
