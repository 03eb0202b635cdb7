/**
 * The ban, said persistently: when hello says the identity or its network is banned, or a placement
 * is refused with `banned`, a notice stays over the canvas (and after a reload: it is kept in
 * localStorage) instead of a toast per click; a hello without a ban, or the next placement the
 * server accepts, clears it (a lifted ban).
 */

const STORAGE_KEY = 'canvas.banned';

export class BanNotice {
  constructor(private readonly el: HTMLElement) {
    this.render(read());
  }

  get banned(): boolean {
    return read() !== null;
  }

  /** A refusal with `banned` (the server's message as the reason), or null once a placement lands. */
  set(reason: string | null): void {
    try {
      if (reason === null) localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, reason);
    } catch {
      // storage disabled: the notice lasts for this page only
    }
    this.render(reason);
  }

  private render(reason: string | null): void {
    this.el.hidden = reason === null;
    document.body.dataset['banned'] = String(reason !== null);
    this.el.textContent =
      reason === null
        ? ''
        : `Banned: a moderator has stopped this identity from placing pixels (the server says: ${reason}). Your pixels are refused; you can still look.`;
  }
}

function read(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}
