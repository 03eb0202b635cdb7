/** Operations endpoints on the main app: Prometheus `/metrics`. */
import type { TemplatedApp } from 'uWebSockets.js';
import { endBounded } from './http-send.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export function registerMetricsRoute(app: TemplatedApp, metrics: Metrics, log: Logger): void {
  app.get('/metrics', (res) => {
    // registry.metrics() is async: uWS requires onAborted before the await, and cork after it.
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    metrics.registry.metrics().then(
      (body) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('200 OK');
          res.writeHeader('Content-Type', metrics.registry.contentType);
          res.writeHeader('Cache-Control', 'no-store');
          endBounded(res, body);
        });
      },
      (err: unknown) => {
        log.error({ err }, 'metrics collection failed');
        if (aborted) return;
        res.cork(() => res.writeStatus('500 Internal Server Error').end('metrics collection failed\n'));
      },
    );
  });
}
