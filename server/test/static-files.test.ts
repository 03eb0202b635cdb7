import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { IMMUTABLE } from '../http/cache.ts';
import {
  assetCacheControl,
  CLIENT_DIST,
  contentTypeFor,
  loadClientSite,
  versionAssetLinks,
} from '../http/static-files.ts';
import { MIN_COMPRESS_BYTES } from '../http/static-compression.ts';
import { startTestServer, tempDir, type TestServer } from '../../testkit/fixture.ts';

let ts: TestServer;
before(async () => {
  ts = await startTestServer();
});
after(() => ts.dispose());

/** The versioned asset URLs the page links to (npm test builds the client first). */
async function assetLinks(): Promise<string[]> {
  const html = await (await fetch(`${ts.http}/`)).text();
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
}

test('GET / serves the client page: HTML, revalidated every load, 304 when unchanged', async () => {
  const res = await fetch(`${ts.http}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const etag = res.headers.get('etag');
  assert.match(etag ?? '', /^"[\w-]+"$/);
  assert.match(await res.text(), /<canvas id="view"/);
  const again = await fetch(`${ts.http}/`, { headers: { 'If-None-Match': etag ?? '' } });
  assert.equal(again.status, 304);
  assert.equal((await again.arrayBuffer()).byteLength, 0);
  const head = await fetch(`${ts.http}/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.ok(Number(head.headers.get('content-length')) > 100);
  const post = await fetch(`${ts.http}/`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('GET /mod serves the moderation console: its own versioned bundle, no-cache, not frameable, no identity cookie', async () => {
  const res = await fetch(`${ts.http}/mod`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self';.*frame-ancestors 'none'/);
  assert.equal(res.headers.get('set-cookie'), null, 'a moderator is not given a player identity');
  const html = await res.text();
  assert.match(html, /src="\/assets\/mod\.js\?v=[\w-]+"/);
  assert.match(html, /href="\/assets\/mod\.css\?v=[\w-]+"/);
  const page = await fetch(`${ts.http}/`);
  assert.equal(page.headers.get('x-frame-options'), null, 'the canvas page keeps its headers');
  assert.ok(!(await page.text()).includes('mod.js'), 'and its bundle');
});

test('the page links the built bundle with a content version; that URL is immutable', async () => {
  const links = await assetLinks();
  const js = links.find((l) => l.startsWith('/assets/app.js?v='));
  const css = links.find((l) => l.startsWith('/assets/app.css?v='));
  assert.ok(js && css, `versioned app.js and app.css links in ${JSON.stringify(links)}`);
  const res = await fetch(`${ts.http}${js}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), IMMUTABLE);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.ok((await res.arrayBuffer()).byteLength > 1000);
  const cssRes = await fetch(`${ts.http}${css}`);
  assert.equal(cssRes.headers.get('content-type'), 'text/css; charset=utf-8');
});

test('an asset without (or with a stale) version is revalidated, and 304s by ETag', async () => {
  for (const url of ['/assets/app.js', '/assets/app.js?v=old']) {
    const res = await fetch(`${ts.http}${url}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const etag = res.headers.get('etag') ?? '';
    const again = await fetch(`${ts.http}${url}`, { headers: { 'If-None-Match': `W/${etag}, "other"` } });
    assert.equal(again.status, 304);
  }
  const head = await fetch(`${ts.http}/assets/app.js`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.ok(Number(head.headers.get('content-length')) > 1000);
});

test('unknown assets answer 404, other methods 405; /image and 404 routes are unchanged', async () => {
  assert.equal((await fetch(`${ts.http}/assets/nope.js`)).status, 404);
  assert.equal((await fetch(`${ts.http}/assets/../server/server.ts`)).status, 404);
  const put = await fetch(`${ts.http}/assets/app.js`, { method: 'PUT', body: 'x' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, HEAD');
  assert.equal((await fetch(`${ts.http}/image`)).headers.get('content-type'), 'image/png');
  assert.equal((await fetch(`${ts.http}/elsewhere`)).status, 404);
});

test('loadClientSite versions only links to files that exist; a missing build is an empty site', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dist = join(dir, 'dist');
  mkdirSync(dist);
  writeFileSync(join(dist, 'app.js'), 'console.log(1)');
  const html = Buffer.from('<script src="/assets/app.js"></script><link href="/assets/gone.css"><a href="/x">');
  const site = loadClientSite(html, dist);
  const js = site.assets.get('/assets/app.js');
  assert.ok(js);
  assert.equal(js.contentType, 'text/javascript; charset=utf-8');
  assert.equal(
    site.index.body.toString(),
    `<script src="/assets/app.js?v=${js.version}"></script><link href="/assets/gone.css"><a href="/x">`,
  );
  assert.equal(assetCacheControl(js, `v=${js.version}`), IMMUTABLE);
  assert.equal(assetCacheControl(js, ''), 'no-cache');
  assert.equal(loadClientSite(html, join(dir, 'missing')).assets.size, 0);
  assert.equal(versionAssetLinks('<img src="/assets/a.png">', new Map()), '<img src="/assets/a.png">');
});

test('content types by extension', () => {
  assert.equal(contentTypeFor('a.map'), 'application/json; charset=utf-8');
  assert.equal(contentTypeFor('A.PNG'), 'image/png');
  assert.equal(contentTypeFor('x.unknown'), 'application/octet-stream');
});

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with exactly these headers (fetch would add its own Accept-Encoding and decompress). */
function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${ts.http}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The server's files are compressed in the background after start; the same bytes are compressed
 * once per process (static-compression.ts), so loading the same site here resolves when the
 * server's variants are ready.
 */
async function compressedSite() {
  const read = (name: string) => readFileSync(new URL(`../../client/${name}`, import.meta.url));
  const site = loadClientSite(read('index.html'), CLIENT_DIST, read('mod.html'));
  await site.compressed;
  return site;
}

const BROWSER = 'gzip, deflate, br, zstd';

test('static files go out brotli-compressed to a browser, gzip to a gzip-only client, as they are otherwise', async () => {
  await compressedSite();
  const plain = await raw('/assets/app.js');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: the bytes as they are');
  assert.equal(plain.headers.vary, 'Accept-Encoding');
  const br = await raw('/assets/app.js', { 'Accept-Encoding': BROWSER });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers.vary, 'Accept-Encoding');
  assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.ok(br.body.length < plain.body.length / 2, `${br.body.length} bytes of ${plain.body.length}`);
  assert.deepEqual(brotliDecompressSync(br.body), plain.body);
  const gz = await raw('/assets/app.js', { 'Accept-Encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.ok(gz.body.length > br.body.length, 'brotli 11 beats gzip 9 on the bundle');
  assert.deepEqual(gunzipSync(gz.body), plain.body);
  // Each variant has its own ETag, so no cache takes one for another.
  const tags = new Set([plain.headers.etag, br.headers.etag, gz.headers.etag]);
  assert.equal(tags.size, 3, JSON.stringify([...tags]));
  // The page and its stylesheet too.
  const page = await raw('/', { 'Accept-Encoding': BROWSER });
  assert.equal(page.headers['content-encoding'], 'br');
  assert.match(brotliDecompressSync(page.body).toString(), /<canvas id="view"/);
  assert.equal((await raw('/mod', { 'Accept-Encoding': 'gzip' })).headers['content-encoding'], 'gzip');
});

test('Accept-Encoding q-values: q=0 refuses a coding, identity;q=0 or *;q=0 refuses the plain bytes, higher q wins', async () => {
  await compressedSite();
  const coding = async (accept: string) =>
    (await raw('/assets/app.js', { 'Accept-Encoding': accept })).headers['content-encoding'] ?? 'identity';
  assert.equal(await coding('br;q=0, gzip'), 'gzip');
  assert.equal(await coding('br;q=0, gzip;q=0'), 'identity');
  assert.equal(await coding('gzip;q=1.0, br;q=0.5'), 'gzip', 'the client prefers gzip');
  assert.equal(await coding('*'), 'br', 'anything: the smallest');
  assert.equal(await coding('*;q=0, identity'), 'identity');
  assert.equal(await coding('identity'), 'identity');
  assert.equal(await coding('identity;q=0'), 'identity', 'nothing acceptable: the plain bytes, not a 406');
  assert.equal(await coding('BR'), 'br', 'codings are case-insensitive');
  assert.equal(await coding('x-gzip'), 'gzip');
  assert.equal(await coding('br;q=2, gzip'), 'gzip', 'an invalid q drops its element');
  assert.equal(await coding('compress, deflate'), 'identity', 'codings the server does not have');
});

test("304 and HEAD per variant: an ETag revalidates a variant the request accepts; HEAD gives the chosen one's length", async () => {
  await compressedSite();
  const br = await raw('/assets/app.js', { 'Accept-Encoding': BROWSER });
  const etag = br.headers.etag ?? '';
  const again = await raw('/assets/app.js', { 'Accept-Encoding': BROWSER, 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, etag);
  assert.equal(again.headers.vary, 'Accept-Encoding');
  // The same tag from a client that now takes only gzip is another variant: a 200 with its bytes.
  const other = await raw('/assets/app.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': etag });
  assert.equal(other.status, 200);
  assert.equal(other.headers['content-encoding'], 'gzip');
  // Plain bytes fetched before the variants were ready are still current: 304 with their own tag.
  const plain = await raw('/assets/app.js');
  const held = await raw('/assets/app.js', { 'Accept-Encoding': BROWSER, 'If-None-Match': plain.headers.etag ?? '' });
  assert.equal(held.status, 304);
  assert.equal(held.headers.etag, plain.headers.etag);
  assert.equal(held.headers['content-encoding'], undefined);
  const head = await raw('/assets/app.js', { 'Accept-Encoding': BROWSER }, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-encoding'], 'br');
  assert.equal(Number(head.headers['content-length']), br.body.length);
  assert.equal(head.headers.etag, etag);
});

test('files under 1 KB and files compression does not shrink stay as they are', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tiny.js'), 'console.log(1)');
  // Random bytes do not compress: no variant is kept.
  writeFileSync(
    join(dir, 'noise.png'),
    Buffer.from(Array.from({ length: 4 * MIN_COMPRESS_BYTES }, (_, i) => (i * 7919) % 251)).map(
      (b, i) => (b * 31 + i * i) & 255,
    ),
  );
  writeFileSync(join(dir, 'big.css'), 'body { color: red }\n'.repeat(200));
  const site = loadClientSite(Buffer.from('<p>tiny page</p>'), dir);
  await site.compressed;
  const coding = (path: string) => site.assets.get(path)?.variants.map((v) => v.coding);
  assert.deepEqual(coding('/assets/tiny.js'), ['identity']);
  assert.deepEqual(
    site.index.variants.map((v) => v.coding),
    ['identity'],
  );
  assert.deepEqual(coding('/assets/big.css'), ['br', 'gzip', 'identity'], 'smallest first');
  const noise = site.assets.get('/assets/noise.png');
  assert.ok(noise?.variants.every((v) => v.body.length <= noise.body.length));
  assert.equal(noise?.variants.at(-1)?.coding, 'identity');
});
