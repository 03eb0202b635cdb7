import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { IMMUTABLE } from '../http/cache.ts';
import { assetCacheControl, contentTypeFor, loadClientSite, versionAssetLinks } from '../http/static-files.ts';
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
