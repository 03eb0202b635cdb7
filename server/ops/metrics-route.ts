/** Operations endpoints on the main app: Prometheus `/metrics`. */
import { sendError, type Router } from '../http/guard.ts';
import { endBounded, trackAborted } from '../http/send.ts';
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
          if (state.aborted) return;
          res.cork(() => {
            res.writeStatus('200 OK');
            res.writeHeader('Content-Type', metrics.registry.contentType);
            res.writeHeader('Cache-Control', 'no-store');
            endBounded(res, body);
          });
        },
        (err: unknown) => {
          log.error({ err }, 'metrics collection failed');
          if (state.aborted) return;
          sendError(res, HttpCode.INTERNAL, 'metrics collection failed');
        },
      );
    },
  });
}
