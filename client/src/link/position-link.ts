/**
 * Position links, in Pxls's form so the links people already share keep working:
 * `#x=X&y=Y&scale=S` centres canvas pixel (X, Y) at S screen pixels per canvas pixel; `c=INDEX` is the
 * selected colour. Other parameters (the template's, template-link.ts) are kept byte for byte and in
 * order (hash-params.ts). Pure (no DOM), unit tested.
 */
import { numberValue, otherSegments, ownValues } from './hash-params.ts';

export interface PositionLink {
  /** Centre pixel; both or neither. */
  x: number | null;
  y: number | null;
  scale: number | null;
  colour: number | null;
}

/** The keys this module owns; every other `key=value` in the hash belongs to someone else. */
const OWN_KEYS = new Set(['x', 'y', 'scale', 'c']);

/** Reads a hash (with or without `#`). Garbage, missing or unusable values read as null. */
export function parseLink(hash: string): PositionLink {
  const raw = ownValues(hash, OWN_KEYS);
  const num = (key: string): number | null => numberValue(raw.get(key));
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
  return [...own, ...otherSegments(previous, OWN_KEYS)].join('&');
}
