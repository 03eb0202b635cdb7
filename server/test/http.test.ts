import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, TestClient, decodeToIndices, type TestServer } from '../../testkit/fixture.ts';

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ width: 64, height: 48 });
});
after(() => ts.dispose());

test('GET /image serves the cached PNG with type, strong ETag and 1 s caching', async () => {
  const res = await fetch(`${ts.http}/image`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(res.headers.get('cache-control'), 'public, max-age=1');
  const etag = res.headers.get('etag');
  assert.match(etag ?? '', /^"[^"]+-0"$/, 'strong ETag naming seq 0');
  const img = decodeToIndices(new Uint8Array(await res.arrayBuffer()), ts.config.palette);
  assert.equal(img.width, 64);
  assert.equal(img.height, 48);
});

test('HEAD /image has the headers and length of GET but no body', async () => {
  const get = await fetch(`${ts.http}/image`);
  const body = new Uint8Array(await get.arrayBuffer());
  const head = await fetch(`${ts.http}/image`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'image/png');
  assert.equal(head.headers.get('etag'), get.headers.get('etag'));
  assert.equal(head.headers.get('content-length'), String(body.length));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
});

test('If-None-Match with the current ETag answers 304 without a body; a stale one gets 200', async () => {
  const etag = (await fetch(`${ts.http}/image`)).headers.get('etag') ?? '';
  const hit = await fetch(`${ts.http}/image`, { headers: { 'If-None-Match': `"stale", ${etag}` } });
  assert.equal(hit.status, 304);
  assert.equal(hit.headers.get('etag'), etag);
  assert.equal((await hit.arrayBuffer()).byteLength, 0);
  const miss = await fetch(`${ts.http}/image`, { headers: { 'If-None-Match': '"stale"' } });
  assert.equal(miss.status, 200);
});

test('a query string gets the same cached bytes and ETag (no new encode)', async () => {
  const a = await fetch(`${ts.http}/image`);
  const b = await fetch(`${ts.http}/image?nocache=${Date.now()}`);
  assert.equal(b.status, 200);
  assert.equal(b.headers.get('etag'), a.headers.get('etag'));
  assert.deepEqual(new Uint8Array(await b.arrayBuffer()), new Uint8Array(await a.arrayBuffer()));
});

test('the ETag changes after a placement is ticked in', async () => {
  const before = (await fetch(`${ts.http}/image`)).headers.get('etag');
  const c = await TestClient.connect(ts.ws);
  c.send({ t: 'place', id: 1, x: 3, y: 4, c: 5 });
  const ack = await c.nextOf('ack');
  await c.pngAtLeast(ack.seq);
  const res = await fetch(`${ts.http}/image`);
  assert.notEqual(res.headers.get('etag'), before);
  const img = decodeToIndices(new Uint8Array(await res.arrayBuffer()), ts.config.palette);
  assert.equal(img.grid[4 * 64 + 3], 5);
  await c.close();
});

test('unknown routes answer 404, wrong methods 405 with Allow', async () => {
  const missing = await fetch(`${ts.http}/nope`);
  assert.equal(missing.status, 404);
  const post = await fetch(`${ts.http}/image`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  const del = await fetch(`${ts.http}/healthz`, { method: 'DELETE' });
  assert.equal(del.status, 405);
});

test('GET /healthz reports ok, seq and the native uWS backend', async () => {
  const res = await fetch(`${ts.http}/healthz`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { ok: boolean; seq: number; backend: string };
  assert.equal(body.ok, true);
  assert.equal(body.backend, 'native');
  assert.equal(typeof body.seq, 'number');
});

test('GET / serves an HTML page', async () => {
  const res = await fetch(`${ts.http}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
});
