/**
 * Look: the placements in the selected rectangle and time window, newest first, a page at a time, and
 * the identities behind them (pixels here and in all, first seen, shared address prefix, bot-like
 * signals) each with a one-click ban under the reason and expiry set once above the list, and a tick
 * to limit the rollback to some identities.
 */
import { byId, child } from '../dom.ts';
import { failureText } from './admin-api.ts';
import type { Rect } from './answers.ts';
import type { ConsoleContext } from './console-context.ts';
import { button, el } from './el.ts';
import { CursorPager } from './pager.ts';
import type { TimeWindow } from './queries.ts';
import { rectText } from './rect.ts';
import { identityRows, placementRow } from './tables.ts';
import { expiryOf, fillExpiries } from './act-panel.ts';

export interface LookHost {
  palette(): readonly number[];
  ban(id: string, reason: string, seconds: number | null): Promise<boolean>;
  unban(id: string): Promise<boolean>;
  /** The ticked identities changed (the rollback's `ids`). */
  idsChanged(ids: string[]): void;
  /** An identity clicked: into the ban form. */
  pick(id: string): void;
}

export class LookPanel {
  private readonly pager = new CursorPager();
  private readonly what = byId('look-what', HTMLElement);
  private readonly error = byId('look-error', HTMLElement);
  private readonly ids = child(byId('ids', HTMLTableElement), 'tbody', HTMLTableSectionElement);
  private readonly rows = child(byId('placements', HTMLTableElement), 'tbody', HTMLTableSectionElement);
  private readonly prev = byId('page-prev', HTMLButtonElement);
  private readonly next = byId('page-next', HTMLButtonElement);
  private readonly pageNo = byId('page-no', HTMLElement);
  private readonly reason = byId('quick-reason', HTMLInputElement);
  private readonly expiry = byId('quick-expiry', HTMLSelectElement);
  private query: { rect: Rect; window: TimeWindow } | null = null;
  private ticked = new Set<string>();
  /**
   * Identities banned (or unbanned) from this list in this tab, so the next look shows them as such:
   * the look's answer does not say whether an identity is banned.
   */
  private readonly banned = new Set<string>();
  private asked = 0;

  constructor(
    private readonly c: ConsoleContext,
    private readonly host: LookHost,
  ) {
    fillExpiries(this.expiry);
    this.prev.addEventListener('click', () => this.pager.back() && void this.fetch());
    this.next.addEventListener('click', () => this.pager.forward() && void this.fetch());
  }

  /** A new rectangle or window: page 1, ticks cleared (they named identities of another result). */
  look(rect: Rect, window: TimeWindow): void {
    this.query = { rect, window };
    this.pager.reset();
    this.ticked.clear();
    this.host.idsChanged([]);
    void this.fetch();
  }

  private async fetch(): Promise<void> {
    const q = this.query;
    if (!q) return;
    const ask = ++this.asked;
    this.what.textContent = `${rectText(q.rect)} · loading…`;
    const r = await this.c.api.placements(q.rect, q.window, this.pager.current);
    if (ask !== this.asked) return; // a newer look was asked meanwhile
    this.error.hidden = r.ok;
    if (!r.ok) {
      this.error.textContent = failureText(r, 'Placements');
      this.what.textContent = rectText(q.rect);
      return;
    }
    const now = this.c.now();
    const page = r.value;
    this.pager.answered(page.next);
    const palette = this.host.palette();
    this.rows.replaceChildren(
      ...page.placements.map((p) => {
        const row = placementRow(p, palette, now);
        const swatch = el('span', { className: 'swatch' });
        if (row.css) swatch.style.background = row.css;
        return el(
          'tr',
          { attrs: { 'data-seq': String(row.seq) } },
          el('td', { text: String(row.seq) }),
          el('td', { text: row.where }),
          el('td', {}, swatch, ` ${row.colour}`),
          el('td', {}, el('code', { text: row.who })),
          el('td', { text: row.when, title: row.ago }),
        );
      }),
    );
    if (page.placements.length === 0) this.rows.append(emptyRow(5, 'No placements here in this window.'));
    // The server summarises the identities of each page; ticks (the rollback's ids) are kept across
    // pages, so one can tick an identity on page 1 and another on page 3.
    this.showIdentities(page.identities, now);
    const indexing = page.indexing ? ' · totals still being counted after a restart' : '';
    this.what.textContent = `${rectText(q.rect)} · ${page.identities.length} identities on this page${indexing}`;
    this.prev.disabled = !this.pager.hasPrevious;
    this.next.disabled = !this.pager.hasNext;
    this.pageNo.textContent = `page ${this.pager.page}`;
  }

  private showIdentities(list: Parameters<typeof identityRows>[0], now: number): void {
    this.ids.replaceChildren(
      ...identityRows(list, now).map((row) => {
        // What the server says is in force when the page was asked; the buttons keep it up to date.
        if (row.bannedIdentity) this.banned.add(row.id);
        const tick = el('input', { attrs: { type: 'checkbox', 'aria-label': `Only ${row.id} in the rollback` } });
        tick.checked = this.ticked.has(row.id);
        tick.addEventListener('change', () => {
          if (tick.checked) this.ticked.add(row.id);
          else this.ticked.delete(row.id);
          this.host.idsChanged([...this.ticked]);
        });
        const show = (): void => {
          const banned = this.banned.has(row.id);
          ban.textContent = banned ? 'Unban' : 'Ban';
          tr.classList.toggle('banned', banned);
        };
        const ban: HTMLButtonElement = button('Ban', () => {
          ban.disabled = true;
          const was = this.banned.has(row.id);
          const act = was ? this.host.unban(row.id) : this.host.ban(row.id, this.reason.value, expiryOf(this.expiry));
          void act.then((ok) => {
            ban.disabled = false;
            if (!ok) return;
            if (was) this.banned.delete(row.id);
            else this.banned.add(row.id);
            show();
          });
        });
        ban.classList.add('danger');
        const tr = el(
          'tr',
          { className: row.suspicious ? 'suspicious' : '', attrs: { 'data-id': row.id } },
          el('td', {}, tick),
          el(
            'td',
            {},
            button(row.label, () => this.host.pick(row.id), { className: 'link', title: 'Into the ban form' }),
          ),
          // Next to the id, not at the far right: on a narrow screen it must not scroll out of reach.
          el('td', {}, ban),
          el('td', { text: row.here }),
          el('td', { text: row.total }),
          el('td', { text: row.firstSeen }),
          el('td', { text: row.shared }),
          el('td', { className: 'signals', text: row.ban === '' ? row.signals : `${row.ban} · ${row.signals}` }),
        );
        show();
        return tr;
      }),
    );
    if (list.length === 0) this.ids.append(emptyRow(8, 'Nobody.'));
  }
}

function emptyRow(span: number, text: string): HTMLTableRowElement {
  return el('tr', {}, el('td', { className: 'muted', text, attrs: { colspan: String(span) } }));
}
