/**
 * The template the page overlays: read from the hash (template-link.ts), loaded as an image, moved,
 * faded and hidden from the panel (template-panel.ts), and written back to the hash so the link shared
 * next carries it. A file chosen from the device has no address others could load, so it stays out of
 * the link (the panel says so).
 */
import type { LinkStore } from '../link/link-sync.ts';
import type { TemplateOverlay } from '../view/overlays.ts';
import { DOT_CELL, dottedRgba, paletteIndices, type TemplateGrid } from './template-diff.ts';
import {
  DEFAULT_OPACITY,
  formatTemplate,
  parseTemplate,
  type TemplateLink,
  type TemplateFailure,
  templateFailureText,
  templateSize,
  templateSource,
} from './template-link.ts';

export type TemplateStatus = 'none' | 'loading' | 'loaded' | 'error';
/** How it is drawn: Pxls's alpha blend, or a dot of the wanted colour per pixel (template-diff.ts). */
export type TemplateStyle = 'blend' | 'dots';

/** Above this many canvas pixels the dotted image (9 image pixels per canvas pixel) is not made. */
const MAX_DOTTED = 1_000_000;

export interface TemplateState {
  status: TemplateStatus;
  /** Placement and look; for a local file, `url` is the file's name. */
  link: TemplateLink | null;
  /** True for a file chosen from the device (not in the link). */
  local: boolean;
  hidden: boolean;
  /** What went wrong, for the panel (status 'error'). */
  error: string;
  /** The image's own size in pixels, once loaded. */
  natural: { width: number; height: number } | null;
  style: TemplateStyle;
}

/** The template's pixels as palette indices, for one image, size and palette (ox, oy added on use). */
interface GridCache {
  image: HTMLImageElement;
  w: number;
  h: number;
  palette: readonly number[];
  want: Int16Array;
  dotted: HTMLCanvasElement | null;
}

export interface PageLocation {
  href: string;
  origin: string;
}

/** Hash writes from the panel (sliders fire dozens of events a second) are coalesced to one per this. */
const WRITE_MS = 250;

function loadImage(src: string, cors = true): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    // Anonymous CORS: another site's image draws only when that site allows it, and never taints the
    // canvas (a tainted canvas would break reading pixels back, and hides the reason from the user).
    if (cors) img.crossOrigin = 'anonymous';
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('image did not load'));
    img.src = src;
  });
}

/**
 * Why `src` did not load as a CORS image. An <img> error says nothing, so: a CORS fetch gives the
 * status when the host allows it (or the page's own server); failing that, the image loading without
 * CORS means only the header is missing; failing that, a no-cors fetch tells an answer (a hidden error
 * status, or not an image) from no answer at all.
 */
async function diagnose(src: string): Promise<TemplateFailure> {
  try {
    const res = await fetch(src, { mode: 'cors', credentials: 'omit' });
    return res.ok ? { kind: 'not-image' } : { kind: 'http', status: res.status };
  } catch {
    // no CORS header, or no answer: told apart below
  }
  if (
    await loadImage(src, false).then(
      () => true,
      () => false,
    )
  )
    return { kind: 'cors' };
  try {
    await fetch(src, { mode: 'no-cors', credentials: 'omit' });
    return { kind: 'not-image' };
  } catch {
    return { kind: 'unreachable' };
  }
}

/** No template shown, drawn in `style` when one comes. */
function noTemplate(style: TemplateState['style']): TemplateState {
  return { status: 'none', link: null, local: false, hidden: false, error: '', natural: null, style };
}

export class Templates {
  onChange: () => void = () => {};
  private s: TemplateState = noTemplate('blend');
  private cache: GridCache | null = null;
  private image: HTMLImageElement | null = null;
  private objectUrl: string | null = null;
  /** Answers to an older load are dropped: only the latest request may set the image. */
  private request = 0;
  private writeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: LinkStore,
    private readonly location: () => PageLocation,
    /** The board's palette, once known (the template's colours are read as palette colours). */
    private readonly palette: () => readonly number[] | null,
  ) {}

  get state(): Readonly<TemplateState> {
    return this.s;
  }

  /** Applies the hash's template (at start, and when someone pastes a new link into the address bar). */
  fromHash(): void {
    const t = parseTemplate(this.store.read());
    if (!t) {
      if (!this.s.local && this.s.status !== 'none') this.clear();
      return;
    }
    const current = this.s.link;
    if (current && !this.s.local && current.url === t.url && this.s.status !== 'error') {
      this.set({ link: t }); // same image, new placement or opacity
      return;
    }
    void this.load(t, false);
  }

  /** Loads an image address typed into the panel, keeping the current placement. */
  loadUrl(url: string): void {
    const base = this.s.link ?? { ox: 0, oy: 0, width: null, opacity: DEFAULT_OPACITY, title: null };
    void this.load({ ...base, url: url.trim() }, false);
    this.writeSoon();
  }

  /** Loads a file from the device (an object URL: it never leaves the page). */
  loadFile(file: File): void {
    const base = this.s.link ?? { ox: 0, oy: 0, width: null, opacity: DEFAULT_OPACITY, title: null };
    void this.load({ ...base, url: file.name, title: null }, true, URL.createObjectURL(file));
    this.writeSoon();
  }

  /** Moves or resizes the template, or changes its opacity. */
  update(patch: Partial<Pick<TemplateLink, 'ox' | 'oy' | 'width' | 'opacity'>>): void {
    if (!this.s.link) return;
    this.set({ link: { ...this.s.link, ...patch } });
    this.writeSoon();
  }

  setHidden(hidden: boolean): void {
    this.set({ hidden });
  }

  setStyle(style: TemplateStyle): void {
    this.set({ style });
  }

  /** The template on the canvas grid as palette colours, or null (none loaded, or no palette yet). */
  grid(): TemplateGrid | null {
    const c = this.cached();
    const link = this.s.link;
    return c && link ? { x: link.ox, y: link.oy, w: c.w, h: c.h, want: c.want } : null;
  }

  remove(): void {
    this.clear();
    this.writeSoon();
  }

  /** What the renderer draws: nothing while hidden, loading or failed. */
  overlay(): TemplateOverlay | null {
    const { link, hidden, status, style } = this.s;
    if (!link || hidden || status !== 'loaded' || !this.image) return null;
    const { w, h } = templateSize(link, { width: this.image.naturalWidth, height: this.image.naturalHeight });
    const dotted = style === 'dots' ? this.dotted() : null;
    // Dots are drawn opaque: a faded dot would blur done and not done together again.
    if (dotted) return { image: dotted, x: link.ox, y: link.oy, w, h, opacity: 1 };
    return { image: this.image, x: link.ox, y: link.oy, w, h, opacity: link.opacity };
  }

  /** The pixel data for the current image, size and palette, read once and kept until one changes. */
  private cached(): GridCache | null {
    const palette = this.palette();
    const { link, status } = this.s;
    const image = this.image;
    if (!palette || !link || status !== 'loaded' || !image) return null;
    const { w, h } = templateSize(link, { width: image.naturalWidth, height: image.naturalHeight });
    const c = this.cache;
    if (c && c.image === image && c.w === w && c.h === h && c.palette === palette) return c;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx || w === 0 || h === 0) return null;
    ctx.imageSmoothingEnabled = false; // nearest: each canvas pixel takes one of the image's colours
    ctx.drawImage(image, 0, 0, w, h);
    const want = paletteIndices(ctx.getImageData(0, 0, w, h).data, palette);
    this.cache = { image, w, h, palette, want, dotted: null };
    return this.cache;
  }

  private dotted(): HTMLCanvasElement | null {
    const c = this.cached();
    if (!c || c.w * c.h > MAX_DOTTED) return null;
    if (c.dotted) return c.dotted;
    const canvas = document.createElement('canvas');
    canvas.width = c.w * DOT_CELL;
    canvas.height = c.h * DOT_CELL;
    const rgba = dottedRgba({ x: 0, y: 0, w: c.w, h: c.h, want: c.want }, c.palette);
    canvas.getContext('2d')?.putImageData(new ImageData(rgba, canvas.width, canvas.height), 0, 0);
    c.dotted = canvas;
    return canvas;
  }

  private async load(link: TemplateLink, local: boolean, objectUrl?: string): Promise<void> {
    const id = ++this.request;
    const page = this.location();
    const src = objectUrl ?? templateSource(link.url, page.href);
    this.releaseObjectUrl();
    this.objectUrl = objectUrl ?? null;
    this.image = null;
    if (!src) {
      this.set({ status: 'error', link, local, natural: null, error: 'That is not an image address (http or https).' });
      return;
    }
    this.set({ status: 'loading', link, local, natural: null, error: '' });
    try {
      const img = await loadImage(src);
      if (id !== this.request) return;
      this.image = img;
      this.set({ status: 'loaded', natural: { width: img.naturalWidth, height: img.naturalHeight } });
    } catch {
      if (id !== this.request) return;
      if (local) return this.set({ status: 'error', error: 'That file is not an image this browser can show.' });
      const failure = src.startsWith('data:') ? ({ kind: 'not-image' } as const) : await diagnose(src);
      if (id !== this.request) return;
      this.set({ status: 'error', error: templateFailureText(failure, src) });
    }
  }

  private clear(): void {
    this.request++;
    this.releaseObjectUrl();
    this.image = null;
    this.set(noTemplate(this.s.style)); // the style is the player's choice: it outlives the template
  }

  private releaseObjectUrl(): void {
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }

  private set(patch: Partial<TemplateState>): void {
    this.s = { ...this.s, ...patch };
    this.onChange();
  }

  /** The link follows the template: replaced, or removed for a local file or no template. */
  private writeSoon(): void {
    if (this.writeTimer !== undefined) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      const link = this.s.local ? null : this.s.link;
      const hash = formatTemplate(this.store.read(), link);
      if (hash !== this.store.read().replace(/^#/, '')) this.store.write(hash);
    }, WRITE_MS);
  }
}
