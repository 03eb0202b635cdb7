/** HTTP caching shared by every route that serves versioned bytes: ETag matching and the lifetimes. */
import { emptyAnswer, type HttpAnswer } from './answer.ts';

/** Bytes that never change under their URL (a versioned asset, a past canvas): kept for a year. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** If-None-Match matches when any listed tag equals ours under weak comparison (RFC 9110 13.1.2). */
export function etagMatches(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** 304 for a request whose If-None-Match holds `etag`: no body, and no work. */
export function notModified(etag: string, cacheControl: string): HttpAnswer {
  return emptyAnswer('304 Not Modified', { ETag: etag, 'Cache-Control': cacheControl });
}
