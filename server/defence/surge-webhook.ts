/**
 * Tells an outside system (a moderators' chat, a pager) of surge changes: one JSON POST per change to
 * `--surge-webhook`. Never on the placement path's time: the POST runs in the background, with a
 * short timeout. At most one is in flight; changes that happen meanwhile (a storm of them) collapse
 * into the newest, sent once the one in flight ends, so a flapping surge cannot pile up requests and
 * the receiver always ends on the state in force.
 */
import type { SurgeChange, SurgeState } from './surge.ts';

/** A receiver that does not answer in this long is given up on (the next change is sent anyway). */
const TIMEOUT_MS = 3000;

export type SurgeEvent = 'surge.started' | 'surge.locked' | 'surge.unlocked' | 'surge.ended';

/** The body POSTed: what happened, the state now, and the rates that caused it (per second). */
export interface SurgeWebhookBody {
  event: SurgeEvent;
  state: SurgeState;
  from: SurgeState;
  reason: string;
  rate: number;
  newRate: number;
  baseline: number;
  newBaseline: number;
  /** Unix ms of the change. */
  at: number;
  /** While locked: when the lock ends (Unix ms). */
  until?: number;
  actor?: string;
}

export function eventOf(change: Pick<SurgeChange, 'from' | 'state'>): SurgeEvent {
  if (change.state === 'normal') return 'surge.ended';
  if (change.state === 'locked') return 'surge.locked';
  return change.from === 'locked' ? 'surge.unlocked' : 'surge.started';
}

export function webhookBody(change: SurgeChange): SurgeWebhookBody {
  return { event: eventOf(change), ...change };
}

export class SurgeWebhook {
  private inFlight = false;
  private pending: SurgeWebhookBody | undefined;

  constructor(
    private readonly url: string,
    private readonly report: {
      delivered: (body: SurgeWebhookBody) => void;
      failed: (err: Error, body: SurgeWebhookBody) => void;
    },
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  post(change: SurgeChange): void {
    const body = webhookBody(change);
    if (this.inFlight) {
      this.pending = body; // the newest replaces any older one waiting
      return;
    }
    this.deliver(body);
  }

  private deliver(body: SurgeWebhookBody): void {
    this.inFlight = true;
    fetch(this.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    })
      .then(async (res) => {
        await res.body?.cancel(); // the answer's body is not read: free the connection
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
        this.report.delivered(body);
      })
      .catch((err: unknown) => this.report.failed(err instanceof Error ? err : new Error(String(err)), body))
      .finally(() => {
        this.inFlight = false;
        const next = this.pending;
        this.pending = undefined;
        if (next) this.deliver(next);
      });
  }
}
