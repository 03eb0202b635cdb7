/**
 * The page chrome around the canvas: palette buttons, connection status, cursor readout, cooldown
 * timer and the message line. DOM only; the decisions (what to say, when) are made by the app.
 */
import { byId } from '../dom.ts';
import { colourName, cssColour, isLight } from './colours.ts';
import { colourKey } from '../input/key-map.ts';
import type { StatusKind } from './status-text.ts';
import { groupDigits } from './numbers.ts';

export interface UiElements {
  status: HTMLElement;
  cursor: HTMLElement;
  cooldown: HTMLElement;
  online: HTMLElement;
  message: HTMLElement;
  palette: HTMLFieldSetElement;
  swatches: HTMLElement;
  retry: HTMLButtonElement;
  /** The look tool: pressed while no colour is in hand (a click then shows pixel info). */
  look: HTMLButtonElement;
  /** The "Loading the canvas…" placeholder, until the first snapshot. */
  loading: HTMLElement | null;
  /** Sign in / signed in (shown when the server offers accounts); absent from pages without it. */
  account?: HTMLElement | null;
}

const MESSAGE_MS = 6000;

export function findUiElements(): UiElements {
  return {
    status: byId('status', HTMLElement),
    cursor: byId('cursor', HTMLElement),
    cooldown: byId('cooldown', HTMLElement),
    online: byId('online', HTMLElement),
    message: byId('message', HTMLElement),
    palette: byId('palette', HTMLFieldSetElement),
    swatches: byId('swatches', HTMLElement),
    retry: byId('retry', HTMLButtonElement),
    look: byId('look', HTMLButtonElement),
    loading: document.getElementById('boot'),
    account: document.getElementById('account'),
  };
}

export class Ui {
  onPick: (index: number) => void = () => {};
  onRetry: () => void = () => {};
  onLook: () => void = () => {};
  private buttons: HTMLButtonElement[] = [];
  private palette: readonly number[] = [];
  private messageTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly el: UiElements) {
    el.retry.addEventListener('click', () => this.onRetry());
    el.look.addEventListener('click', () => this.onLook());
  }

  setStatus(kind: StatusKind, text: string): void {
    this.el.status.dataset['state'] = kind;
    this.el.status.textContent = text;
  }

  /** Placing allowed or not: the palette is a disabled fieldset while it is not. */
  setPlacingEnabled(enabled: boolean): void {
    this.el.palette.disabled = !enabled;
    document.body.dataset['placing'] = enabled ? 'on' : 'off';
  }

  /** The "retry now" button, shown while waiting to reconnect. */
  setRetryVisible(visible: boolean): void {
    this.el.retry.hidden = !visible;
  }

  hideLoading(): void {
    this.el.loading?.remove();
  }

  setPalette(palette: readonly number[], selected: number | null): void {
    this.palette = palette;
    this.el.swatches.replaceChildren();
    this.buttons = palette.map((rgb, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'swatch';
      b.style.background = cssColour(rgb);
      b.style.color = isLight(rgb) ? '#000' : '#fff';
      b.dataset['index'] = String(i);
      b.setAttribute('aria-label', `${colourName(rgb)} (${cssColour(rgb)})`);
      const key = colourKey(i);
      if (key !== null) {
        b.dataset['key'] = key;
        b.setAttribute('aria-keyshortcuts', key);
      }
      b.title = `${colourName(rgb)} ${cssColour(rgb)}${key === null ? '' : ` (key ${key})`}`;
      b.addEventListener('click', () => this.onPick(i));
      return b;
    });
    this.el.swatches.append(...this.buttons);
    this.setSelected(selected);
  }

  setSelected(index: number | null): void {
    for (const [i, b] of this.buttons.entries()) b.setAttribute('aria-pressed', String(i === index));
    this.el.look.setAttribute('aria-pressed', String(index === null));
  }

  /** The pixel under the cursor, its colour, and (`want`) the colour a template wants there. */
  setCursor(pixel: { x: number; y: number } | null, colourIndex: number | null, want: number | null = null): void {
    if (!pixel) {
      this.el.cursor.textContent = '';
      return;
    }
    const rgb = colourIndex === null ? undefined : this.palette[colourIndex];
    const colour = rgb === undefined ? '' : ` ${colourName(rgb)}`;
    const wantRgb = want === null ? undefined : this.palette[want];
    const template = wantRgb === undefined ? '' : want === colourIndex ? ' · done' : ` · wants ${colourName(wantRgb)}`;
    this.el.cursor.textContent = `(${pixel.x}, ${pixel.y})${colour}${template}`;
  }

  /** "N watching" (from hello and `online` messages); undefined hides it (not connected). */
  setOnline(n: number | undefined): void {
    const el = this.el.online;
    el.hidden = n === undefined;
    el.textContent = n === undefined ? '' : `${groupDigits(n)} watching`;
  }

  /**
   * The account link, from hello: nothing when the server offers no accounts, "Sign in" (to the
   * provider, through /auth/login) for an anonymous identity, "Signed in · Sign out" for an account.
   */
  setAccount(login: 'optional' | 'required' | undefined, account: boolean): void {
    const el = this.el.account;
    if (!el) return;
    el.hidden = login === undefined;
    const link = document.createElement('a');
    link.href = account ? '/auth/logout' : '/auth/login';
    link.textContent = account ? 'Sign out' : 'Sign in';
    el.replaceChildren(...(account ? ['Signed in · ', link] : [link]));
  }

  setCooldown(text: string, waiting: boolean): void {
    this.el.cooldown.textContent = text;
    this.el.cooldown.dataset['waiting'] = String(waiting);
  }

  /** Makes the cooldown countdown blink once (a click during the cooldown). */
  nudgeCooldown(): void {
    const c = this.el.cooldown;
    c.classList.remove('nudge');
    void c.offsetWidth; // restarts the CSS animation
    c.classList.add('nudge');
  }

  hideMessage(): void {
    clearTimeout(this.messageTimer);
    this.el.message.hidden = true;
  }

  /** Shows a message for a few seconds; `kind` styles it (errors stand out). */
  showMessage(text: string, kind: 'error' | 'info'): void {
    const m = this.el.message;
    m.textContent = text;
    m.dataset['kind'] = kind;
    m.hidden = false;
    clearTimeout(this.messageTimer);
    this.messageTimer = setTimeout(() => {
      m.hidden = true;
    }, MESSAGE_MS);
  }
}
