/**
 * Bots: the sanctioned bots (README "Sanctioned bots") with their quota, region, expiry, pixels placed
 * and state; a form to mint one, whose token is shown once, to copy; revoke per row, after a
 * confirming second click. Everything through the existing admin bot routes (AdminApi): this panel
 * adds no path. Refreshed after each action of this page and every 10 s, like the audit log.
 */
import { byId } from '../dom.ts';
import { failureText } from './admin-api.ts';
import type { BotInfo } from './answers.ts';
import type { ConsoleContext } from './console-context.ts';
import { button, el } from './el.ts';
import { BOT_EXPIRIES, botMintBody } from './queries.ts';
import { botRow } from './tables.ts';

const BOTS_REFRESH_MS = 10_000;

export class BotsPanel {
  private readonly body = byId('bots-table', HTMLTableElement).tBodies[0] as HTMLTableSectionElement;
  private readonly error = byId('bots-error', HTMLElement);
  private readonly tokenBox = byId('bot-token', HTMLElement);
  private readonly tokenText = byId('bot-token-text', HTMLInputElement);
  private readonly tokenName = byId('bot-token-name', HTMLElement);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private asked = 0;
  /** The row whose Revoke was clicked once: the second click revokes. */
  private confirming: string | null = null;

  constructor(private readonly c: ConsoleContext) {
    const expiry = byId('bot-expiry', HTMLSelectElement);
    expiry.replaceChildren(
      ...BOT_EXPIRIES.map((e) => {
        const o = document.createElement('option');
        o.value = e.seconds === null ? '' : String(e.seconds);
        o.textContent = e.label;
        return o;
      }),
    );
    const form = byId('bot-form', HTMLFormElement);
    const field = (id: string) => byId(id, HTMLInputElement);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const parsed = botMintBody({
        name: field('bot-name').value,
        everySeconds: field('bot-every').value,
        x: field('bot-x').value,
        y: field('bot-y').value,
        width: field('bot-w').value,
        height: field('bot-h').value,
        expiry: expiry.value,
      });
      if (!parsed.ok) return c.notify(`Mint bot: ${parsed.message}.`, 'error');
      void this.mint(parsed.body);
    });
    byId('bot-token-copy', HTMLButtonElement).addEventListener('click', () => {
      this.tokenText.select();
      void navigator.clipboard?.writeText(this.tokenText.value).then(
        () => c.notify('Token copied.', 'ok'),
        () => c.notify('Copy it by hand: the clipboard is not available here.', 'error'),
      );
    });
    byId('bot-token-hide', HTMLButtonElement).addEventListener('click', () => this.hideToken());
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    const ask = ++this.asked;
    const r = await this.c.api.bots();
    if (ask !== this.asked) return;
    if (r.ok) {
      this.error.hidden = true;
      this.render(r.value);
    } else if (r.status !== 401) {
      this.error.hidden = false;
      this.error.textContent = failureText(r, 'Bots');
    }
    this.timer = setTimeout(() => void this.refresh(), BOTS_REFRESH_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.asked++;
    this.hideToken();
  }

  private async mint(body: Parameters<ConsoleContext['api']['mintBot']>[0]): Promise<void> {
    const r = await this.c.api.mintBot(body);
    if (!r.ok) return this.c.notify(failureText(r, `Mint bot "${body.name}"`), 'error');
    // The token exists only in this answer (the server stores none): shown now, gone when dismissed.
    this.tokenName.textContent = r.value.name;
    this.tokenText.value = r.value.token;
    this.tokenBox.hidden = false;
    this.tokenText.select();
    this.c.notify(`Minted bot "${r.value.name}": copy its token now, it is not shown again.`, 'ok');
    this.c.acted();
    void this.refresh();
  }

  private hideToken(): void {
    this.tokenText.value = '';
    this.tokenName.textContent = '';
    this.tokenBox.hidden = true;
  }

  private async revoke(bot: BotInfo): Promise<void> {
    const r = await this.c.api.revokeBot(bot.id);
    if (!r.ok) return this.c.notify(failureText(r, `Revoke bot "${bot.name}"`), 'error');
    this.c.notify(
      r.value['wasActive'] === false ? `Bot "${bot.name}" was not active.` : `Revoked bot "${bot.name}".`,
      'ok',
    );
    this.c.acted();
    void this.refresh();
  }

  private render(bots: readonly BotInfo[]): void {
    const now = this.c.now();
    this.body.replaceChildren(
      ...bots.map((b) => {
        const r = botRow(b, now);
        const revoke = button(
          this.confirming === b.id ? 'Really revoke?' : 'Revoke',
          () => {
            if (this.confirming !== b.id) {
              this.confirming = b.id;
              revoke.textContent = 'Really revoke?';
              return;
            }
            this.confirming = null;
            revoke.disabled = true;
            void this.revoke(b);
          },
          { className: 'danger', title: `Revoke ${b.name}: it places nothing from its next pixel on` },
        );
        revoke.disabled = !r.active;
        return el(
          'tr',
          { className: r.active ? '' : 'inactive', attrs: { 'data-bot': r.id } },
          el('td', { text: r.name }),
          el('td', { text: r.id, className: 'mono' }),
          el('td', { text: r.quota }),
          el('td', { text: r.region }),
          el('td', { text: r.expires }),
          el('td', { text: r.placed }),
          el('td', { text: r.state }),
          el('td', {}, revoke),
        );
      }),
    );
    if (bots.length === 0)
      this.body.append(el('tr', {}, el('td', { className: 'muted', text: 'No bots yet.', attrs: { colspan: '8' } })));
  }
}
