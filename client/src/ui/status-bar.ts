/**
 * The top bar's live parts: the connection status (with the reconnect countdown) and the cooldown
 * countdown. Keeps what only they need (when the next reconnect is due, whether the last poll
 * reached the server); the texts come from status-text.ts.
 */
import type { Connection } from '../connection/connection.ts';
import type { ImagePoller } from '../connection/image-poller.ts';
import type { ReadySignal } from './ready-signal.ts';
import type { ChargeClock } from '../place/cooldown.ts';
import { cooldownFor, statusFor, titleFor } from './status-text.ts';
import type { Ui } from './ui.ts';

export interface StatusBarDeps {
  ui: Ui;
  connection: Connection;
  poller: ImagePoller;
  now(): number;
  /** The tab title and the opt-in signal when the cooldown ends (absent in unit tests). */
  ready?: Pick<ReadySignal, 'update'>;
}

export class StatusBar {
  private retryAt = 0;
  /** Whether the last poll reached the server (only meaningful while polling). */
  private pollOk = true;

  constructor(private readonly d: StatusBarDeps) {}

  retryIn(ms: number): void {
    this.retryAt = this.d.now() + ms;
  }

  polled(ok: boolean): void {
    this.pollOk = ok;
  }

  /** The connection line, and whether the palette (placing) is enabled. */
  showStatus(placingEnabled: boolean, loaded: boolean): void {
    const { kind, text } = statusFor({
      loaded,
      conn: this.d.connection.status,
      polling: this.d.poller.active,
      pollOk: this.pollOk,
      retryInMs: Math.max(0, this.retryAt - this.d.now()),
    });
    this.d.ui.setStatus(kind, text);
    this.d.ui.setPlacingEnabled(placingEnabled);
    this.d.ui.setRetryVisible(this.d.connection.status.kind === 'waiting');
    // A count from a lost connection would go stale: shown again by the next hello.
    if (this.d.connection.status.kind !== 'open') this.d.ui.setOnline(undefined);
  }

  /** The cooldown countdown; while waiting to reconnect, the retry countdown too. */
  showTimers(
    nextAllowedAt: number,
    cooldownMs: number,
    placingEnabled: boolean,
    loaded: boolean,
    charges?: ChargeClock,
  ): void {
    const now = this.d.now();
    const waitMs = nextAllowedAt - now;
    const { text, waiting } = cooldownFor(waitMs, cooldownMs, placingEnabled, charges, now);
    this.d.ui.setCooldown(text, waiting);
    this.d.ready?.update(titleFor(waitMs, cooldownMs, placingEnabled), waiting, text);
    if (this.d.connection.status.kind === 'waiting') this.showStatus(placingEnabled, loaded);
  }
}
