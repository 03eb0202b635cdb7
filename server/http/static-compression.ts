/**
 * The static files' compressed variants, made once at startup (never per request): brotli at quality
 * 11 and gzip at level 9, node:zlib. Measured on the built client: app.js 135,991 bytes is 40,589
 * with brotli and 46,356 with gzip (brotli about 250 ms of CPU, gzip about 10 ms), the page 13,238 ->
 * 3,080, the stylesheet 11,502 -> 2,774. Most of what a phone downloaded before its first paint on a
 * big canvas was these files uncompressed (perf/first-paint.ts, perf/RESULTS.md).
 *
 * - Off the event loop and one file at a time: zlib's async calls run in libuv's thread pool, which
 *   the tick's deflate shares; a file at a time leaves it the other threads. The server answers from
 *   the first request on, with the bytes as they are until a file's variants are ready (a second or
 *   two after start for the whole build).
 * - Memoised by content in the process: servers started in one process (tests, several roles)
 *   compress each distinct file once.
 * - Files under 1 KB stay as they are (one packet either way; the Content-Encoding header and the
 *   client's decompression would cost more than the bytes saved), and a variant that is not smaller
 *   is dropped (images are compressed already).
 * - Source maps (`.map`, fetched only when someone opens the devtools) get gzip only: brotli 11 of
 *   2 MB of maps cost about 6 s of CPU at every start, for a fifth fewer bytes than gzip.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { ContentCoding } from './accept-encoding.ts';

/** One way of sending a file's bytes, with its own ETag (caches must not mix variants). */
export interface Variant {
  coding: ContentCoding;
  body: Buffer;
  etag: string;
}

/** Below this many bytes a file is sent as it is. */
export const MIN_COMPRESS_BYTES = 1024;

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** The ETag of a variant: the identity's with the coding appended (`"hash"`, `"hash-br"`, `"hash-gz"`). */
export function variantEtag(version: string, coding: ContentCoding): string {
  return coding === 'identity' ? `"${version}"` : `"${version}-${coding === 'br' ? 'br' : 'gz'}"`;
}

/** Compressions run one after another on this chain. */
let queue: Promise<unknown> = Promise.resolve();
const made = new Map<string, Promise<Variant[]>>();

/**
 * The compressed variants worth sending for `body` (whose content hash is `version`), smallest first;
 * empty when none pays. Never rejects: a failed compression leaves the file uncompressed.
 */
export function compressedVariants(body: Buffer, version: string, name: string): Promise<Variant[]> {
  if (body.length < MIN_COMPRESS_BYTES) return Promise.resolve([]);
  const withBrotli = !name.endsWith('.map');
  const key = `${version}:${withBrotli}`;
  let variants = made.get(key);
  if (!variants) {
    const run = async (): Promise<Variant[]> => {
      const out: Variant[] = [];
      if (withBrotli) {
        const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length };
        out.push({ coding: 'br', body: await brotli(body, { params }), etag: variantEtag(version, 'br') });
      }
      out.push({ coding: 'gzip', body: await gz(body, { level: 9 }), etag: variantEtag(version, 'gzip') });
      return out.filter((v) => v.body.length < body.length).sort((a, b) => a.body.length - b.body.length);
    };
    variants = queue.then(run).catch(() => []);
    queue = variants;
    made.set(key, variants);
  }
  return variants;
}
