/**
 * Position links, in Pxls's form so the links people already share keep working:
 * `#x=X&y=Y&scale=S` centres canvas pixel (X, Y) at S screen pixels per canvas pixel; `c=INDEX` is the
 * selected colour. Other parameters (`template=...` from overlay tools) are kept byte for byte and in
 * order. Pure (no DOM), unit tested. Hand-written rather than URLSearchParams, which would re-encode
 * the parameters it does not own (`template=https://...` would come back as `https%3A%2F%2F...`).
 */

export interface PositionLink {
  /** Centre pixel; both or neither. */
  x: number | null;
  y: number | null;
  scale: number | null;
  colour: number | null;
}

/** The keys this module owns; every other `key=value` in the hash belongs to someone else. */
const OWN_KEYS = new Set(['x', 'y', 'scale', 'c']);
const NUMBER = /^-?\d+(\.\d+)?$/;

function segments(hash: string): string[] {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  return body === '' ? [] : body.split('&');
}

function keyOf(segment: string): string {
  const eq = segment.indexOf('=');
  return eq < 0 ? segment : segment.slice(0, eq);
}

/** Reads a hash (with or without `#`). Garbage, missing or unusable values read as null. */
export function parseLink(hash: string): PositionLink {
  const raw = new Map<string, string>();
  for (const s of segments(hash)) {
    const key = keyOf(s);
    if (OWN_KEYS.has(key)) raw.set(key, s.slice(key.length + 1));
  }
  const num = (key: string): number | null => {
    const v = raw.get(key);
    return v !== undefined && NUMBER.test(v) ? Number(v) : null;
  };
  const x = num('x');
  const y = num('y');
  const scale = num('scale');
  const colour = num('c');
  const hasXY = x !== null && y !== null;
  return {
    x: hasXY ? Math.floor(x) : null,
    y: hasXY ? Math.floor(y) : null,
    scale: scale !== null && scale > 0 ? scale : null,
    colour: colour !== null && Number.isInteger(colour) && colour >= 0 ? colour : null,
  };
}

/** Fits a link to a canvas once its size and palette are known (hello): out-of-range values are pulled in. */
export function clampLink(
  link: PositionLink,
  canvas: { width: number; height: number; paletteSize: number; minScale: number; maxScale: number },
): PositionLink {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const hasXY = link.x !== null && link.y !== null;
  return {
    x: hasXY ? clamp(link.x as number, 0, canvas.width - 1) : null,
    y: hasXY ? clamp(link.y as number, 0, canvas.height - 1) : null,
    scale: link.scale === null ? null : clamp(link.scale, canvas.minScale, canvas.maxScale),
    colour: link.colour !== null && link.colour < canvas.paletteSize ? link.colour : null,
  };
}

/**
 * The hash (without `#`) for a view and colour, keeping the parameters other tools put there. Ours come
 * first, in Pxls's order; a null value drops its key.
 */
export function formatLink(previous: string, link: PositionLink): string {
  const own: string[] = [];
  if (link.x !== null && link.y !== null) own.push(`x=${link.x}`, `y=${link.y}`);
  // Two decimals: enough to restore the zoom to well under a pixel, short enough to share.
  if (link.scale !== null) own.push(`scale=${Number(link.scale.toFixed(2))}`);
  if (link.colour !== null) own.push(`c=${link.colour}`);
  const others = segments(previous).filter((s) => s !== '' && !OWN_KEYS.has(keyOf(s)));
  return [...own, ...others].join('&');
}
