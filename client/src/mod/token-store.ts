/**
 * Where the admin token lives: this tab's sessionStorage, nowhere else. Not localStorage (it would
 * outlive the tab and be readable by the canvas page at `/`, same origin), not a cookie (sent with
 * every request, readable by any page of the origin unless HttpOnly, which the page could not set),
 * never the URL (history, logs, Referer). sessionStorage is per tab: the canvas page in another tab
 * cannot read it. The storage is injected so this is unit tested.
 */
export const TOKEN_KEY = 'canvas.mod.adminToken';

export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export class TokenStore {
  constructor(private readonly storage: TokenStorage) {}

  get(): string | null {
    const t = this.storage.getItem(TOKEN_KEY);
    return t === null || t === '' ? null : t;
  }

  /** Keeps a token typed or pasted by hand; surrounding whitespace (a pasted newline) is not part of it. */
  set(token: string): boolean {
    const t = token.trim();
    if (t === '') return false;
    this.storage.setItem(TOKEN_KEY, t);
    return true;
  }

  clear(): void {
    this.storage.removeItem(TOKEN_KEY);
  }
}
