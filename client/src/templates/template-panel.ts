/**
 * The template panel: load an image from an address or a file, move it (x, y inputs and one-pixel
 * nudges), size and fade it, hide or remove it. DOM only; the state and the link live in templates.ts.
 */
import { child } from '../dom.ts';
import { progressText } from './template-diff.ts';
import type { TemplateState, TemplateStyle, Templates } from './templates.ts';

function statusText(s: Readonly<TemplateState>): string {
  switch (s.status) {
    case 'none':
      return 'No template. Load an image to draw it over the canvas as a guide.';
    case 'loading':
      return 'Loading the image…';
    case 'error':
      return s.error;
    case 'loaded': {
      const size = s.natural ? `${s.natural.width} × ${s.natural.height} image` : 'Image';
      const local = s.local ? ' From this device: it is not in the page link (host it to share it).' : '';
      return `${size} at (${s.link?.ox}, ${s.link?.oy}).${local}`;
    }
  }
}

export class TemplatePanel {
  /** "Next wrong pixel" was pressed (main.ts finds it and aims there). */
  onNext: () => void = () => {};
  private readonly url: HTMLInputElement;
  private readonly progress: HTMLElement;
  private readonly styles: HTMLInputElement[];
  private readonly status: HTMLElement;
  private readonly controls: HTMLFieldSetElement;
  private readonly ox: HTMLInputElement;
  private readonly oy: HTMLInputElement;
  private readonly tw: HTMLInputElement;
  private readonly oo: HTMLInputElement;
  private readonly hide: HTMLInputElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly toggle: HTMLButtonElement,
    private readonly templates: Templates,
  ) {
    this.url = child(root, 'input[name="url"]', HTMLInputElement);
    this.status = child(root, '.tpl-status', HTMLElement);
    this.controls = child(root, '.tpl-controls', HTMLFieldSetElement);
    this.ox = child(root, 'input[name="ox"]', HTMLInputElement);
    this.oy = child(root, 'input[name="oy"]', HTMLInputElement);
    this.tw = child(root, 'input[name="tw"]', HTMLInputElement);
    this.oo = child(root, 'input[name="oo"]', HTMLInputElement);
    this.hide = child(root, 'input[name="hide"]', HTMLInputElement);
    const file = child(root, 'input[type="file"]', HTMLInputElement);
    this.progress = child(root, '.tpl-progress', HTMLElement);
    this.styles = [...root.querySelectorAll<HTMLInputElement>('input[name="style"]')];
    for (const r of this.styles) {
      r.addEventListener('change', () => {
        if (r.checked) templates.setStyle(r.value as TemplateStyle);
      });
    }
    child(root, '.tpl-next', HTMLButtonElement).addEventListener('click', () => this.onNext());

    toggle.addEventListener('click', () => this.setOpen(root.hidden));
    child(root, '.panel-close', HTMLButtonElement).addEventListener('click', () => this.setOpen(false));
    child(root, 'form.tpl-url', HTMLFormElement).addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.url.value.trim() !== '') templates.loadUrl(this.url.value);
    });
    file.addEventListener('change', () => {
      const f = file.files?.[0];
      if (f) templates.loadFile(f);
      file.value = ''; // choosing the same file again loads it again
    });
    const int = (input: HTMLInputElement): number | null => {
      const v = Number(input.value);
      return input.value !== '' && Number.isFinite(v) ? Math.round(v) : null;
    };
    this.ox.addEventListener('change', () => templates.update({ ox: int(this.ox) ?? 0 }));
    this.oy.addEventListener('change', () => templates.update({ oy: int(this.oy) ?? 0 }));
    this.tw.addEventListener('change', () => {
      const w = int(this.tw);
      templates.update({ width: w !== null && w >= 1 ? w : null });
    });
    this.oo.addEventListener('input', () => templates.update({ opacity: Number(this.oo.value) }));
    this.hide.addEventListener('change', () => templates.setHidden(this.hide.checked));
    for (const b of root.querySelectorAll<HTMLButtonElement>('.tpl-nudge button')) {
      b.addEventListener('click', () => {
        const link = templates.state.link;
        if (link) templates.update({ ox: link.ox + Number(b.dataset['dx']), oy: link.oy + Number(b.dataset['dy']) });
      });
    }
    child(root, '.tpl-remove', HTMLButtonElement).addEventListener('click', () => templates.remove());
    window.addEventListener('keydown', (e) => {
      if (e.defaultPrevented || !(e.key === 'Escape' && !root.hidden)) return;
      e.preventDefault(); // this Escape closed a panel: it does not also put the colour down
      this.setOpen(false);
    });
  }

  setOpen(open: boolean): void {
    this.root.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    if (open) this.render();
  }

  /** Shows the state; never overwrites the field being typed in. */
  render(): void {
    const s = this.templates.state;
    this.root.dataset['state'] = s.status;
    this.toggle.dataset['active'] = String(s.status === 'loaded' && !s.hidden);
    this.status.textContent = statusText(s);
    this.controls.disabled = s.link === null;
    const link = s.link;
    const put = (input: HTMLInputElement, value: string): void => {
      if (document.activeElement !== input) input.value = value;
    };
    if (link && !s.local) put(this.url, link.url);
    put(this.ox, link ? String(link.ox) : '');
    put(this.oy, link ? String(link.oy) : '');
    put(this.tw, link?.width != null ? String(link.width) : s.natural ? String(s.natural.width) : '');
    put(this.oo, String(link?.opacity ?? 0.5));
    this.hide.checked = s.hidden;
    for (const r of this.styles) r.checked = r.value === s.style;
    if (s.status !== 'loaded') this.showProgress(null);
  }

  /** How many pixels still differ from the template (null: nothing to count). */
  showProgress(p: { left: number; total: number } | null): void {
    const text = p ? progressText(p) : '';
    if (this.progress.textContent !== text) this.progress.textContent = text;
    this.root.dataset['left'] = p ? String(p.left) : '';
  }
}
