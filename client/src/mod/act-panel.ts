/**
 * Act: lock and unlock the canvas, ban and unban an identity or a network with a reason and an expiry,
 * clear an identity's display name, switch surge mode. Each is one request to the existing admin API; the result is said in the top bar
 * and lands in the audit log. The surge switch may not exist on this server yet (404): it says so.
 */
import { byId } from '../dom.ts';
import { failureText } from './admin-api.ts';
import type { ConsoleContext } from './console-context.ts';
import { banTarget, EXPIRIES } from './queries.ts';

/** Fills a <select> with the ban expiries, a day chosen by default (a raid account rarely comes back later). */
export function fillExpiries(select: HTMLSelectElement): void {
  select.replaceChildren(
    ...EXPIRIES.map((e) => {
      const o = document.createElement('option');
      o.value = e.seconds === null ? '' : String(e.seconds);
      o.textContent = e.label;
      o.selected = e.seconds === 86_400;
      return o;
    }),
  );
}

export const expiryOf = (select: HTMLSelectElement): number | null =>
  select.value === '' ? null : Number(select.value);

export class ActPanel {
  /** The lock changed by our own action (until, Unix ms; null: unlocked). */
  onLock: (until: number | null) => void = () => {};
  private readonly target = byId('ban-target', HTMLInputElement);
  private readonly surgeState = byId('surge-state', HTMLElement);
  private readonly surgeButtons = [byId('surge-auto', HTMLButtonElement), byId('surge-off', HTMLButtonElement)];

  constructor(private readonly c: ConsoleContext) {
    const minutes = byId('lock-minutes', HTMLInputElement);
    const lockReason = byId('lock-reason', HTMLInputElement);
    const reason = byId('ban-reason', HTMLInputElement);
    const expiry = byId('ban-expiry', HTMLSelectElement);
    fillExpiries(expiry);
    byId('lock-form', HTMLFormElement).addEventListener('submit', (e) => {
      e.preventDefault();
      const m = Number(minutes.value);
      if (!(m >= 1 && m <= 1440)) return c.notify('Lock: minutes must be 1 to 1440.', 'error');
      void this.lock(m * 60, lockReason.value || 'moderation');
    });
    byId('unlock', HTMLButtonElement).addEventListener('click', () => void this.unlock());
    byId('ban-form', HTMLFormElement).addEventListener('submit', (e) => {
      e.preventDefault();
      const t = banTarget(this.target.value);
      if (!t) return c.notify('Ban: enter an identity id or a network (CIDR).', 'error');
      void this.ban('id' in t ? t.id : t.prefix, reason.value, expiryOf(expiry));
    });
    byId('unban', HTMLButtonElement).addEventListener('click', () => {
      const t = banTarget(this.target.value);
      if (!t) return c.notify('Unban: enter an identity id or a network (CIDR).', 'error');
      void this.unban('id' in t ? t.id : t.prefix);
    });
    byId('clear-name', HTMLButtonElement).addEventListener('click', () => {
      const t = banTarget(this.target.value);
      if (!t || !('id' in t)) return c.notify('Clear name: enter an identity id.', 'error');
      void this.clearName(t.id);
    });
    for (const b of this.surgeButtons) {
      b.addEventListener('click', () => void this.surge(b.id === 'surge-auto' ? 'auto' : 'off'));
    }
  }

  /** Puts an identity (from a list) into the ban form, ready for a reason. */
  pick(id: string): void {
    this.target.value = id;
    this.target.focus();
  }

  showSurge(text: string): void {
    this.surgeState.textContent = text;
  }

  /** Bans an identity id or a network; true when the server did. */
  async ban(target: string, reason: string, seconds: number | null): Promise<boolean> {
    const t = banTarget(target);
    if (!t) return false;
    const r = await this.c.api.ban(t, reason, seconds);
    if (!r.ok) {
      this.c.notify(failureText(r, `Ban ${target}`), 'error');
      return false;
    }
    this.c.notify(`Banned ${target}${seconds === null ? ' until lifted' : ''}.`, 'ok');
    this.c.acted();
    return true;
  }

  async unban(target: string): Promise<boolean> {
    const t = banTarget(target);
    if (!t) return false;
    const r = await this.c.api.unban(t);
    if (!r.ok) {
      this.c.notify(failureText(r, `Unban ${target}`), 'error');
      return false;
    }
    this.c.notify(r.value['wasBanned'] === false ? `${target} was not banned.` : `Unbanned ${target}.`, 'ok');
    this.c.acted();
    return true;
  }

  /** Removes an identity's display name (audited as name-clear). */
  async clearName(id: string): Promise<void> {
    const r = await this.c.api.clearName(id);
    if (!r.ok) return this.c.notify(failureText(r, `Clear the name of ${id}`), 'error');
    const name = r.value['name'];
    this.c.notify(typeof name === 'string' ? `Cleared the name "${name}" of ${id}.` : `${id} had no name.`, 'ok');
    this.c.acted();
  }

  private async lock(seconds: number, reason: string): Promise<void> {
    const r = await this.c.api.lock(seconds, reason);
    if (!r.ok) return this.c.notify(failureText(r, 'Lock'), 'error');
    const until = r.value['lockedUntil'];
    this.onLock(typeof until === 'number' ? until : this.c.now() + seconds * 1000);
    this.c.notify(`Canvas locked for ${Math.round(seconds / 60)} min.`, 'ok');
    this.c.acted();
  }

  private async unlock(): Promise<void> {
    const r = await this.c.api.unlock();
    if (!r.ok) return this.c.notify(failureText(r, 'Unlock'), 'error');
    this.onLock(null);
    this.c.notify(r.value['wasLocked'] === false ? 'The canvas was not locked.' : 'Canvas unlocked.', 'ok');
    this.c.acted();
  }

  private async surge(mode: 'auto' | 'off'): Promise<void> {
    const r = await this.c.api.surge(mode);
    if (!r.ok) {
      // No switch on this server (yet): say it once and take the buttons away.
      if (r.status === 404) for (const b of this.surgeButtons) b.disabled = true;
      return this.c.notify(failureText(r, 'Surge mode'), 'error');
    }
    this.c.notify(`Surge mode: ${mode}.`, 'ok');
    this.c.acted();
  }
}
