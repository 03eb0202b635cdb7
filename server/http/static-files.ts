/**
 * The built browser client, loaded into memory once at startup: `client/index.html` at `/`,
 * `client/mod.html` (the moderation console) at `/mod`, and the esbuild output in `client/dist/`
 * under `/assets/`. Caching without renaming files:
 * - every file has a strong ETag (content hash), so a revalidation costs a 304 and no body;
 * - `/` is `no-cache` (always revalidated, so a deploy shows at the next load) and its asset links get
 *   `?v=<hash>`; an asset requested with the current hash is immutable for a year, anything else
 *   (no or an old `v`) is `no-cache`. A new build changes the hash, hence the URL, hence the fetch.
 * Each file also goes out compressed (brotli or gzip: the smallest variant the request's
 * Accept-Encoding allows, accept-encoding.ts), variants made once at startup (static-compression.ts),
 * each with its own ETag, so a cache never confuses them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMMUTABLE } from './cache.ts';
import { compressedVariants, type Variant, variantEtag } from './static-compression.ts';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** The ETag of the bytes as they are (the identity variant's). */
  etag: string;
  /** Short content hash; the `v` query value that makes this asset immutable. */
  version: string;
  /** The bytes as they are: sent when the request accepts no compressed variant. */
  identity: Variant;
  /** The variants to choose from, smallest first: the identity alone until compressed ones are ready. */
  variants: readonly Variant[];
  /** Resolves once `variants` holds the compressed ones too (never rejects). */
  compressed: Promise<void>;
}

export interface ClientSite {
  /** Resolves once every file's compressed variants are ready (tests wait for it; serving does not). */
  compressed: Promise<void>;
  index: StaticFile;
  /** The moderation console's page; null when the server was given none. */
  mod: StaticFile | null;
  /** By URL path, e.g. "/assets/app.js". */
  assets: ReadonlyMap<string, StaticFile>;
}

export const ASSET_PREFIX = '/assets/';
export const INDEX_CACHE_CONTROL = 'no-cache';

/** Where `npm run build` writes the bundle. */
export const CLIENT_DIST = fileURLToPath(new URL('../../client/dist/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** A file to serve, uncompressed until `startCompressing` made its variants. */
export function staticFile(body: Buffer, name: string): StaticFile {
  const version = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  const identity: Variant = { coding: 'identity', body, etag: variantEtag(version, 'identity') };
  const contentType = contentTypeFor(name);
  return {
    body,
    contentType,
    etag: identity.etag,
    version,
    identity,
    variants: [identity],
    compressed: Promise.resolve(),
  };
}

/** Makes `file`'s compressed variants in the background (static-compression.ts); serving goes on meanwhile. */
export function startCompressing(file: StaticFile, name: string): void {
  file.compressed = compressedVariants(file.body, file.version, name).then((smaller) => {
    file.variants = [...smaller, file.identity];
  });
}

/** Reads every file of `dir` (flat: esbuild writes one folder); an unbuilt client is an empty map. */
export function loadAssets(dir: string = CLIENT_DIST): Map<string, StaticFile> {
  const assets = new Map<string, StaticFile>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isFile()) assets.set(ASSET_PREFIX + name, staticFile(readFileSync(path), name));
  }
  return assets;
}

/** Adds `?v=<hash>` to every src/href in the page that names a known asset. */
export function versionAssetLinks(html: string, assets: ReadonlyMap<string, StaticFile>): string {
  return html.replace(/\b(src|href)="(\/assets\/[^"?#]+)"/g, (whole, attr: string, path: string) => {
    const file = assets.get(path);
    return file ? `${attr}="${path}?v=${file.version}"` : whole;
  });
}

export function loadClientSite(indexHtml: Buffer, dir: string = CLIENT_DIST, modHtml?: Buffer): ClientSite {
  const assets = loadAssets(dir);
  const page = (html: Buffer, name: string): StaticFile =>
    staticFile(Buffer.from(versionAssetLinks(html.toString('utf8'), assets)), name);
  const index = page(indexHtml, 'index.html');
  const mod = modHtml ? page(modHtml, 'mod.html') : null;
  // What a first visit needs first: the page, then the assets, the source maps (devtools only) last.
  startCompressing(index, 'index.html');
  if (mod) startCompressing(mod, 'mod.html');
  const byNeed = [...assets].sort(([a], [b]) => Number(a.endsWith('.map')) - Number(b.endsWith('.map')));
  for (const [path, file] of byNeed) startCompressing(file, path);
  const files = [index, ...(mod ? [mod] : []), ...assets.values()];
  const compressed = Promise.all(files.map((f) => f.compressed)).then(() => undefined);
  return { compressed, index, mod, assets };
}

/**
 * Headers of the moderation console's page, which handles the admin token: no framing (a page that
 * bans and rolls back must not be clickjacked), no Referer (its links must not tell other sites it
 * exists), and a policy that runs only this origin's scripts and talks only to this origin, so text
 * that slipped into the page could neither run nor send the token anywhere (previews are data: PNGs).
 * The token itself never travels in a URL or cookie (client/src/mod/token-store.ts).
 */
export const MOD_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

/** Cache-Control for an asset request: immutable only when it asked for exactly this version. */
export function assetCacheControl(file: StaticFile, query: string): string {
  return new URLSearchParams(query).get('v') === file.version ? IMMUTABLE : INDEX_CACHE_CONTROL;
}
