/**
 * Makes a Surge visible and keeps it current: a once-a-second update (so a lock ends, and the end is
 * logged and sent, even when nobody places), its gauges in `/metrics`, one log line per change, the
 * webhook, and the `surge` field of `/healthz`.
 */
import { Counter } from 'prom-client';
import type { Logger } from '../ops/log.ts';
import type { Metrics } from '../ops/metrics.ts';
import { SURGE_STATE_VALUE, type Surge, type SurgeChange } from './surge.ts';
import { eventOf, SurgeWebhook } from './surge-webhook.ts';

const UPDATE_MS = 1000;

export interface SurgeHealth {
  state: string;
  mode: string;
  since: number;
  until?: number;
  learning: boolean;
  rate: number;
  newRate: number;
  baseline: number;
  newBaseline: number;
}

export class SurgeWatch {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly surge: Surge,
    deps: { metrics: Metrics; log: Logger; webhook: string },
  ) {
    const { metrics, log } = deps;
    const registers = [metrics.registry];
    const status = () => surge.status(Date.now());
    metrics.watch('canvas_surge_state', 'Surge defence: 0 normal, 1 challenges for everyone, 2 locked', () => {
      return SURGE_STATE_VALUE[status().state];
    });
    metrics.watch('canvas_surge_placements_per_second', 'Accepted placements/s over the surge window', () => {
      return status().rate;
    });
    metrics.watch(
      'canvas_surge_new_identities_per_second',
      'First placements of identities/s over the surge window',
      () => {
        return status().newRate;
      },
    );
    metrics.watch(
      'canvas_surge_baseline_placements_per_second',
      'Baseline of placements/s (at least --surge-min-rate)',
      () => {
        return status().baseline;
      },
    );
    metrics.watch(
      'canvas_surge_baseline_new_identities_per_second',
      'Baseline of new identities/s (at least --surge-min-rate)',
      () => {
        return status().newBaseline;
      },
    );
    const changes = new Counter({
      name: 'canvas_surge_changes_total',
      help: 'Surge state changes, by the state entered',
      labelNames: ['state'],
      registers,
    });
    const webhookResults = new Counter({
      name: 'canvas_surge_webhook_total',
      help: 'Surge webhook POSTs by result: delivered, failed',
      labelNames: ['result'],
      registers,
    });
    const webhook =
      deps.webhook === ''
        ? undefined
        : new SurgeWebhook(deps.webhook, {
            delivered: () => webhookResults.inc({ result: 'delivered' }),
            failed: (err, body) => {
              webhookResults.inc({ result: 'failed' });
              log.warn({ err, event: body.event }, 'surge webhook failed');
            },
          });
    surge.onChange((change: SurgeChange) => {
      changes.inc({ state: change.state });
      const fields = { surge: { ...change, event: eventOf(change) } };
      if (change.state === 'normal') log.info(fields, 'surge over: placing as usual');
      else
        log.warn(
          fields,
          `surge: ${change.state === 'locked' ? 'canvas locked' : 'challenges for everyone'} (${change.reason})`,
        );
      webhook?.post(change);
    });
    this.timer = setInterval(() => surge.update(Date.now()), UPDATE_MS).unref();
  }

  health(now: number): SurgeHealth {
    const s = this.surge.status(now);
    const health: SurgeHealth = {
      state: s.state,
      mode: s.mode,
      since: s.since,
      learning: s.learning,
      rate: s.rate,
      newRate: s.newRate,
      baseline: s.baseline,
      newBaseline: s.newBaseline,
    };
    if (s.until !== undefined) health.until = s.until;
    return health;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
