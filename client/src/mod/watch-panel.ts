/**
 * Watch: GET /api/admin/activity every 2 s (one at a time, never piling up): placements and new
 * identities per second, the top placers of the last 5 minutes, the most changed areas of the last
 * minute (a click looks there), the lock and surge state. A server without the route (404) is asked
 * again every 30 s, so the panel comes alive after an upgrade without a reload.
 */
import { byId } from '../dom.ts';
import { failureText } from './admin-api.ts';
import type { Activity, HotArea } from './answers.ts';
import type { ConsoleContext } from './console-context.ts';
import { button, el } from './el.ts';
import { rectText } from './rect.ts';
import { watchView } from './tables.ts';

const WATCH_MS = 2000;
const WATCH_MISSING_MS = 30_000;

export interface WatchHost {
  /** A hot area clicked: select it, show it, look at it. */
  look(area: HotArea): void;
  /** A top placer clicked: into the ban form. */
  pick(id: string): void;
  /** Lock and surge texts for the top bar and the act panel. */
  state(a: Activity, lockText: string, surgeText: string): void;
}

export class WatchPanel {
  private readonly rate = byId('w-rate', HTMLElement);
  private readonly fresh = byId('w-new', HTMLElement);
  private readonly error = byId('w-error', HTMLElement);
  private readonly top = byId('w-top', HTMLOListElement);
  private readonly hot = byId('w-hot', HTMLOListElement);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly c: ConsoleContext,
    private readonly host: WatchHost,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Asks now (after an action), not at the next turn. */
  now(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    void this.poll();
  }

  private async poll(): Promise<void> {
    const r = await this.c.api.activity();
    if (!this.running) return;
    this.error.hidden = r.ok;
    if (r.ok) this.show(r.value);
    else this.error.textContent = failureText(r, 'Watch');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), !r.ok && r.status === 404 ? WATCH_MISSING_MS : WATCH_MS);
  }

  private show(a: Activity): void {
    const v = watchView(a, this.c.now());
    this.rate.textContent = v.rate;
    this.fresh.textContent = v.newIds;
    this.host.state(a, v.locked, v.surge);
    this.top.replaceChildren(
      ...a.topPlacers.map((p) =>
        el(
          'li',
          {},
          el('span', { className: 'count', text: String(p.n) }),
          button(p.id, () => this.host.pick(p.id), { className: 'link', title: 'Into the ban form' }),
        ),
      ),
    );
    if (a.topPlacers.length === 0) this.top.append(el('li', { className: 'muted', text: 'nobody' }));
    this.hot.replaceChildren(
      ...a.hotAreas.map((h) =>
        el(
          'li',
          {},
          el('span', { className: 'count', text: String(h.n) }),
          button(rectText(h), () => this.host.look(h), { className: 'link', title: 'Look there' }),
        ),
      ),
    );
    if (a.hotAreas.length === 0) this.hot.append(el('li', { className: 'muted', text: 'quiet' }));
  }
}
