/**
 * The audit log beside the actions: the newest 200 entries, refreshed after every action of this page
 * and every 10 s (other moderators act too), filtered as you type without asking the server again.
 */
import { byId } from '../dom.ts';
import { failureText } from './admin-api.ts';
import type { ConsoleContext } from './console-context.ts';
import { el } from './el.ts';
import { type AuditRow, auditRow, filterAudit } from './tables.ts';

const AUDIT_LIMIT = 200;
const AUDIT_REFRESH_MS = 10_000;

export class AuditPanel {
  private rows: AuditRow[] = [];
  private readonly list = byId('audit-list', HTMLOListElement);
  private readonly filter = byId('audit-filter', HTMLInputElement);
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped per request: an older answer arriving late does not replace a newer one. */
  private asked = 0;

  constructor(private readonly c: ConsoleContext) {
    this.filter.addEventListener('input', () => this.render());
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    const ask = ++this.asked;
    const r = await this.c.api.audit(AUDIT_LIMIT);
    if (ask !== this.asked) return;
    if (r.ok) {
      const now = this.c.now();
      this.rows = r.value.map((e) => auditRow(e, now));
      this.render();
    } else if (r.status !== 401) {
      this.list.replaceChildren(el('li', { className: 'error', text: failureText(r, 'Audit log') }));
    }
    this.timer = setTimeout(() => void this.refresh(), AUDIT_REFRESH_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.asked++;
  }

  private render(): void {
    const shown = filterAudit(this.rows, this.filter.value);
    this.list.replaceChildren(
      ...shown.map((r) =>
        el(
          'li',
          { attrs: { 'data-action': r.action } },
          el('time', { text: r.when }),
          ' ',
          el('strong', { text: r.action }),
          ' ',
          el('span', { className: 'muted', text: r.actor }),
          ' ',
          el('span', { className: 'detail', text: r.detail }),
        ),
      ),
    );
    if (shown.length === 0) this.list.append(el('li', { className: 'muted', text: 'No entries.' }));
  }
}
