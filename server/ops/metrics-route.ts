/** Operations endpoints on the main app: Prometheus `/metrics`. */
import { sendCode, writeAnswer } from '../http/answer.ts';
import type { Router } from '../http/guard.ts';
import { trackAborted } from '../http/send.ts';
import { HttpCode } from '../http/status.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export function registerMetricsRoute(router: Router, metrics: Metrics, log: Logger): void {
  router.route('/metrics', {
    get: (res) => {
      // registry.metrics() is async: uWS requires onAborted before the await, and cork after it.
      const state = trackAborted(res);
      metrics.registry.metrics().then(
        (body) => {
          const headers = { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' };
          writeAnswer(res, { status: '200 OK', headers, body: Buffer.from(body) }, state);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics collection failed');
          sendCode(res, state, HttpCode.INTERNAL, 'metrics collection failed');
        },
      );
    },
  });
}
