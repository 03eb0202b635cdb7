/**
 * The one place that splits the page's hash into `key=value` segments. Position links
 * (position-link.ts) and templates (template-link.ts) each own some keys and leave the others byte for
 * byte and in order. Hand-written rather than URLSearchParams, which would re-encode the parameters a
 * module does not own (`template=https%3A%2F%2F...` must come back exactly as it was pasted).
 */

/** The `key=value` segments of a hash, with or without its `#`. */
export function hashSegments(hash: string): string[] {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  return body === '' ? [] : body.split('&');
}

export function segmentKey(segment: string): string {
  const eq = segment.indexOf('=');
  return eq < 0 ? segment : segment.slice(0, eq);
}

/** The raw (still encoded) values of `keys` in a hash; the last one wins when a key repeats. */
export function ownValues(hash: string, keys: ReadonlySet<string>): Map<string, string> {
  const raw = new Map<string, string>();
  for (const s of hashSegments(hash)) {
    const key = segmentKey(s);
    if (keys.has(key)) raw.set(key, s.slice(key.length + 1));
  }
  return raw;
}

/** The segments of `hash` whose key is not in `keys`, in their order (empty segments dropped). */
export function otherSegments(hash: string, keys: ReadonlySet<string>): string[] {
  return hashSegments(hash).filter((s) => s !== '' && !keys.has(segmentKey(s)));
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** A plain decimal number (no exponent, no NaN or Infinity), or null. */
export function numberValue(raw: string | undefined): number | null {
  return raw !== undefined && NUMBER.test(raw) ? Number(raw) : null;
}
