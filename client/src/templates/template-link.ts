/**
 * Template links, in Pxls's names so the template links communities already share keep working:
 * `template=URL&ox=X&oy=Y&tw=W&oo=OPACITY[&title=T]` overlays the image at URL with its top-left corner
 * on canvas pixel (X, Y), scaled to W canvas pixels wide (its own width when absent), at OPACITY (0..1).
 * Pure (no DOM), unit tested; the hash is split by hash-params.ts like the position link's.
 */
import { numberValue, otherSegments, ownValues } from '../link/hash-params.ts';

export interface TemplateLink {
  /** The image's address as written in the link (decoded); templateSource() resolves and vets it. */
  url: string;
  ox: number;
  oy: number;
  /** Width on the canvas in canvas pixels; null: the image's own width. */
  width: number | null;
  /** 0 (invisible) to 1 (opaque). */
  opacity: number;
  /** Pxls's optional name for the template; kept so a link passed on keeps it. */
  title: string | null;
}

/** Pxls's default: the canvas under the template stays visible. */
export const DEFAULT_OPACITY = 0.5;
/** A width beyond any canvas (16,384) plus room for offsets: larger values are typos, not templates. */
const MAX_WIDTH = 32_768;
const OWN_KEYS = new Set(['template', 'ox', 'oy', 'tw', 'oo', 'title']);

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // a stray '%': take the text as it is rather than lose the template
  }
}

/** The template in a hash (with or without `#`), or null when it has none. Bad numbers take defaults. */
export function parseTemplate(hash: string): TemplateLink | null {
  const raw = ownValues(hash, OWN_KEYS);
  const url = decode(raw.get('template') ?? '').trim();
  if (url === '') return null;
  const int = (key: string): number => {
    const v = numberValue(raw.get(key));
    return v === null ? 0 : Math.max(-MAX_WIDTH, Math.min(MAX_WIDTH, Math.floor(v)));
  };
  const tw = numberValue(raw.get('tw'));
  const oo = numberValue(raw.get('oo'));
  const title = raw.get('title');
  return {
    url,
    ox: int('ox'),
    oy: int('oy'),
    width: tw !== null && tw >= 1 ? Math.min(MAX_WIDTH, Math.floor(tw)) : null,
    opacity: oo === null ? DEFAULT_OPACITY : Math.min(1, Math.max(0, oo)),
    title: title === undefined || title === '' ? null : decode(title),
  };
}

/**
 * The hash (without `#`) with the template's parameters replaced by `t`'s (removed for null), after
 * everyone else's, which stay as they were.
 */
export function formatTemplate(previous: string, t: TemplateLink | null): string {
  const others = otherSegments(previous, OWN_KEYS);
  if (!t) return others.join('&');
  const own = [`template=${encodeURIComponent(t.url)}`, `ox=${t.ox}`, `oy=${t.oy}`];
  if (t.width !== null) own.push(`tw=${t.width}`);
  // Two decimals: the slider's step; keeps shared links short.
  own.push(`oo=${Number(t.opacity.toFixed(2))}`);
  if (t.title !== null) own.push(`title=${encodeURIComponent(t.title)}`);
  return [...others, ...own].join('&');
}

/**
 * The address to load a template from: relative addresses resolve against the page; only images the
 * page may fetch as images (http, https, data:image, blob) pass, so a link cannot smuggle in another
 * scheme. Null when unusable.
 */
export function templateSource(url: string, base: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return null;
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:' || parsed.protocol === 'blob:') return parsed.href;
  if (parsed.protocol === 'data:' && /^data:image\//i.test(parsed.href)) return parsed.href;
  return null;
}

/**
 * Why a template image did not load, as far as a page can tell (templates.ts finds out): the browser
 * hides the reason from an <img>, so it is asked again with fetch and without CORS.
 */
export type TemplateFailure =
  /** The image is there, but its host sends no Access-Control-Allow-Origin, so the page may not use it. */
  | { kind: 'cors' }
  /** The server answered with an error status (404, 403, 500...). */
  | { kind: 'http'; status: number }
  /** The server answered, but not with an image this browser can show (or, without CORS, a hidden error). */
  | { kind: 'not-image' }
  /** No answer at all: a wrong host name, a server that is down, or no network. */
  | { kind: 'unreachable' };

/** What the page says when a template image did not load, naming the failure and what to do. */
export function templateFailureText(f: TemplateFailure, src: string): string {
  let host = 'its server';
  try {
    const u = new URL(src);
    if (u.protocol === 'http:' || u.protocol === 'https:') host = u.host;
  } catch {
    // not an address with a host: keep the generic name
  }
  switch (f.kind) {
    case 'cors':
      return (
        `Template blocked: ${host} does not let other sites use its images (no CORS header, ` +
        'Access-Control-Allow-Origin). Save the image and choose it under "a file from this device", or ' +
        'use an image host that allows it.'
      );
    case 'http':
      return `Template not found: ${host} answered ${f.status}${f.status === 404 ? ' (no such image)' : ''}. Check the address.`;
    case 'not-image':
      return `Template failed: ${host} answered, but not with an image this browser can show (PNG, GIF, JPEG or WebP). Check the address.`;
    case 'unreachable':
      return `Template failed: ${host} could not be reached (network error, or a wrong address).`;
  }
}

/** The template's size on the canvas: `width` wide (the image's own width by default), aspect kept. */
export function templateSize(
  t: Pick<TemplateLink, 'width'>,
  image: { width: number; height: number },
): { w: number; h: number } {
  const w = t.width ?? image.width;
  const h = image.width > 0 ? Math.max(1, Math.round((image.height * w) / image.width)) : 0;
  return { w, h };
}
