/**
 * The pixel info panel: with no colour selected, a click on a pixel shows its coordinates, colour,
 * who placed it and when (from `GET /api/pixel`), and a button that copies the pixel's position link.
 * DOM and fetch only; the parsing and texts are pure, in pixel-info.ts.
 */
import { child } from '../dom.ts';
import { colourName, cssColour } from '../ui/colours.ts';
import { parsePixelInfo, pixelLink, placedText } from './pixel-info.ts';

const localTime = (ms: number): string => new Date(ms).toLocaleString();

export class InfoPanel {
  private readonly xy: HTMLElement;
  private readonly swatch: HTMLElement;
  private readonly colour: HTMLElement;
  private readonly who: HTMLElement;
  private readonly when: HTMLElement;
  private readonly error: HTMLElement;
  private readonly copy: HTMLButtonElement;
  private readonly copied: HTMLElement;
  private readonly linkText: HTMLInputElement;
  /** Answers to an older click are dropped: only the latest request may fill the panel. */
  private request = 0;
  private link = '';

  constructor(private readonly root: HTMLElement) {
    this.xy = child(root, '.info-xy', HTMLElement);
    this.swatch = child(root, '.info-swatch', HTMLElement);
    this.colour = child(root, '.info-colour', HTMLElement);
    this.who = child(root, '.info-who', HTMLElement);
    this.when = child(root, '.info-when', HTMLElement);
    this.error = child(root, '.info-error', HTMLElement);
    this.copy = child(root, '.info-copy', HTMLButtonElement);
    this.copied = child(root, '.info-copied', HTMLElement);
    this.linkText = child(root, '.info-link', HTMLInputElement);
    child(root, '.info-close', HTMLButtonElement).addEventListener('click', () => this.hide());
    this.copy.addEventListener('click', () => void this.copyLink());
    window.addEventListener('keydown', (e) => {
      if (e.defaultPrevented || !(e.key === 'Escape' && !this.root.hidden)) return;
      e.preventDefault(); // this Escape closed a panel: it does not also put the colour down
      this.hide();
    });
  }

  /** Shows pixel (x, y) and fetches who placed it; `scale` goes into its link, `palette` names the colour. */
  async show(x: number, y: number, scale: number, palette: readonly number[]): Promise<void> {
    const id = ++this.request;
    this.link = pixelLink(location.origin + location.pathname, x, y, scale);
    this.xy.textContent = `(${x}, ${y})`;
    this.swatch.style.background = 'transparent';
    for (const e of [this.colour, this.who, this.when]) e.textContent = '…';
    this.error.hidden = true;
    this.copied.hidden = true;
    this.linkText.hidden = true;
    this.root.dataset['state'] = 'loading';
    this.root.hidden = false;
    let info = null;
    try {
      const res = await fetch(`/api/pixel?x=${x}&y=${y}`, { headers: { accept: 'application/json' } });
      info = res.ok ? parsePixelInfo(await res.json()) : null;
    } catch {
      info = null;
    }
    if (id !== this.request) return;
    if (!info) {
      this.error.textContent = 'Could not load who placed this pixel; try again.';
      this.error.hidden = false;
      this.root.dataset['state'] = 'error';
      return;
    }
    const rgb = palette[info.color];
    this.swatch.style.background = rgb === undefined ? 'transparent' : cssColour(rgb);
    this.colour.textContent =
      rgb === undefined ? `colour ${info.color}` : `colour ${info.color}: ${colourName(rgb)} ${cssColour(rgb)}`;
    this.colour.dataset['index'] = String(info.color);
    const placed = placedText(info, localTime);
    this.who.textContent = placed.who;
    this.when.textContent = placed.when;
    this.root.dataset['state'] = 'loaded';
  }

  hide(): void {
    this.request++;
    this.root.hidden = true;
  }

  /** Copies the link; where the clipboard is refused (permissions, plain http), shows it selected instead. */
  private async copyLink(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.link);
      this.copied.hidden = false;
    } catch {
      this.linkText.value = this.link;
      this.linkText.hidden = false;
      this.linkText.select();
    }
  }
}
