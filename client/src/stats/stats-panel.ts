/**
 * The stats panel: totals, the last hour, top placers all time and over the hour (by the names they
 * chose, bots marked), "your pixels" with the player's rank, and the player's own name (a small form:
 * `POST /api/me/name`). Fetches `GET /api/stats` and `/api/stats/me` when opened and every
 * REFRESH_MS while open (the server rebuilds its figures at most once a second; every few seconds is
 * plenty for a person reading them). DOM and fetch only; parsing and texts are in stats-text.ts.
 */
import { child } from '../dom.ts';
import { mineText, nameAnswerText, parseMine, parseStats, topLines, totalsText } from './stats-text.ts';

const REFRESH_MS = 5_000;

export interface StatsPanelDeps {
  /** The page's identity token when the server minted one in hello (no cookie), else null. */
  token(): string | null;
}

export class StatsPanel {
  /** The panel opened (main.ts closes the other top-left panels). */
  onOpen: () => void = () => {};
  private readonly totals: HTMLElement;
  private readonly mine: HTMLElement;
  private readonly top: HTMLOListElement;
  private readonly topHour: HTMLOListElement;
  private readonly error: HTMLElement;
  private readonly nameInput: HTMLInputElement;
  private readonly nameStatus: HTMLElement;
  /** The player edited the name field since the last save or load: a refresh does not overwrite it. */
  private nameEdited = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Answers to an older refresh are dropped. */
  private request = 0;

  /** The top bar's toggle and, on a phone, the one among the zoom buttons: both open and close it. */
  constructor(
    private readonly root: HTMLElement,
    private readonly toggles: readonly HTMLButtonElement[],
    private readonly deps: StatsPanelDeps,
  ) {
    this.totals = child(root, '.stats-totals', HTMLElement);
    this.mine = child(root, '.stats-mine', HTMLElement);
    this.top = child(root, '.stats-top', HTMLOListElement);
    this.topHour = child(root, '.stats-top-hour', HTMLOListElement);
    this.error = child(root, '.stats-error', HTMLElement);
    const form = child(root, '.stats-name', HTMLFormElement);
    this.nameInput = child(form, 'input[name="name"]', HTMLInputElement);
    this.nameStatus = child(form, '.stats-name-status', HTMLElement);
    this.nameInput.addEventListener('input', () => {
      this.nameEdited = true;
      this.nameStatus.textContent = '';
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.saveName(this.nameInput.value);
    });
    for (const t of toggles) t.addEventListener('click', () => this.setOpen(root.hidden));
    child(root, '.panel-close', HTMLButtonElement).addEventListener('click', () => this.setOpen(false));
    window.addEventListener('keydown', (e) => {
      if (e.defaultPrevented || !(e.key === 'Escape' && !root.hidden)) return;
      e.preventDefault(); // this Escape closed a panel: it does not also put the colour down
      this.setOpen(false);
    });
  }

  setOpen(open: boolean): void {
    if (open === !this.root.hidden) return;
    this.root.hidden = !open;
    for (const t of this.toggles) t.setAttribute('aria-expanded', String(open));
    clearInterval(this.timer);
    this.timer = undefined;
    if (!open) return;
    this.onOpen();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  /** The page's token as a bearer header when it has no cookie (hello minted it), else none. */
  private authorization(): Record<string, string> {
    const token = this.deps.token();
    return token === null ? {} : { authorization: `Bearer ${token}` };
  }

  async saveName(name: string): Promise<void> {
    this.nameStatus.textContent = 'Saving…';
    let text: string;
    try {
      const res = await fetch('/api/me/name', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...this.authorization() },
        body: JSON.stringify({ name }),
      });
      const body: unknown = await res.json().catch(() => null);
      const field = (k: string): string | undefined => {
        const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[k] : undefined;
        return typeof v === 'string' ? v : undefined;
      };
      text = nameAnswerText(res.status, field('error'), field('message'));
      if (res.ok) {
        this.nameEdited = false;
        this.nameInput.value = field('name') ?? '';
        if (!this.root.hidden) void this.refresh();
      }
    } catch {
      text = nameAnswerText(0, undefined, undefined);
    }
    this.nameStatus.textContent = text;
  }

  async refresh(): Promise<void> {
    const id = ++this.request;
    const headers: Record<string, string> = { accept: 'application/json', ...this.authorization() };
    const get = async (url: string, h: Record<string, string>): Promise<unknown> => {
      try {
        const res = await fetch(url, { headers: h });
        return res.ok ? await res.json() : null;
      } catch {
        return null;
      }
    };
    const [all, mine] = await Promise.all([
      get('/api/stats', { accept: 'application/json' }),
      get('/api/stats/me', headers),
    ]);
    if (id !== this.request || this.root.hidden) return;
    const stats = parseStats(all);
    const own = parseMine(mine);
    this.error.hidden = stats !== null;
    this.mine.textContent = mineText(own);
    if (own && !this.nameEdited && document.activeElement !== this.nameInput) this.nameInput.value = own.name ?? '';
    if (!stats) {
      this.error.textContent = 'Could not load the stats; retrying.';
      this.root.dataset['state'] = 'error';
      return;
    }
    const me = own?.id ?? null;
    this.totals.textContent = totalsText(stats);
    fill(this.top, topLines(stats.top, me));
    fill(this.topHour, topLines(stats.topHour, me));
    this.root.dataset['state'] = 'loaded';
  }
}

/** One <li> per line; the numbering is in the text, so the list is unstyled. */
function fill(list: HTMLOListElement, lines: readonly string[]): void {
  list.replaceChildren(
    ...(lines.length === 0 ? ['nobody yet'] : lines).map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
}
