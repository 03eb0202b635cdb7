/**
 * Which content coding a request accepts, from its `Accept-Encoding` (RFC 9110 12.5.3), for the
 * static files served compressed (static-files.ts). Written here rather than taken from a library:
 * the rules are a dozen lines, and the packages that do it (negotiator, accepts) pull in the Express
 * request model this server does not have.
 *
 * - Each element is `coding` or `coding;q=VALUE`; codings are case-insensitive, `x-gzip` is gzip.
 *   A q-value that is not `0`..`1` with at most three decimals makes its element count as absent.
 * - A coding not named takes the q of `*` when present, else 0 (not acceptable); `identity` not
 *   named takes the q of `*` when present, else 1: it is refused only by `identity;q=0`, or by
 *   `*;q=0` without an `identity` element.
 * - No header, or an empty one: identity only. (RFC 9110 lets a server send any coding to a request
 *   without the header; curl and scripts that send none expect plain bytes, and uWS does not tell
 *   an absent header from an empty one.)
 */

/** The codings the server has: brotli, gzip, and the bytes as they are. */
export type ContentCoding = 'br' | 'gzip' | 'identity';

/** The q-value (0..1) a request gives each coding; 0 is "not acceptable". */
export type AcceptedCodings = (coding: ContentCoding) => number;

const Q_VALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** Parses `Accept-Encoding`. Elements past the first 32 are ignored (a header is a few of them). */
export function parseAcceptEncoding(header: string): AcceptedCodings {
  const named = new Map<string, number>();
  for (const element of header.split(',').slice(0, 32)) {
    const [name = '', ...params] = element.split(';');
    let coding = name.trim().toLowerCase();
    if (coding === '') continue;
    if (coding === 'x-gzip') coding = 'gzip';
    let q = 1;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const value = param.slice(eq + 1).trim();
      q = Q_VALUE.test(value) ? Number(value) : Number.NaN;
    }
    if (Number.isNaN(q) || named.has(coding)) continue; // the first valid element of a coding counts
    named.set(coding, q);
  }
  const star = named.get('*');
  return (coding) => named.get(coding) ?? star ?? (coding === 'identity' ? 1 : 0);
}

/**
 * The variant to send: the acceptable one (q > 0) with the highest q, and of those the first listed
 * (the caller lists its variants smallest first, so a browser, which sends no q-values, gets the
 * smallest). When none is acceptable (`identity;q=0` and no coding we have): the last-resort
 * variant, identity (RFC 9110 12.5.3 allows sending it rather than a 406).
 */
export function chooseVariant<V extends { coding: ContentCoding }>(
  variants: readonly V[],
  accepted: AcceptedCodings,
  fallback: V,
): V {
  let best = fallback;
  let bestQ = 0;
  for (const v of variants) {
    const q = accepted(v.coding);
    if (q > bestQ) {
      best = v;
      bestQ = q;
    }
  }
  return best;
}
