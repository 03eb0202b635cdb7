/** The fan-out of one tick to both WebSocket streams, with its budget check, delta log and metrics. */
import type { TemplatedApp } from 'uWebSockets.js';
import { Stream } from '../../protocol/messages.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Conn } from '../ws/conn.ts';
import type { SendBudget } from '../ws/send-budget.ts';
import type { DeltaLog } from './delta-log.ts';
import { publishSharded, subscriberCount } from './fanout.ts';
import type { TickOutput } from './ticker.ts';

/**
 * Publishes one tick: the PNG to PNG subscribers; to delta subscribers the delta, or the PNG when the
 * change was too large for a delta (which also breaks the chain the delta log can replay). Shard by
 * shard (fanout.ts), so the returned promise resolves when every subscriber's turn has come.
 */
export function publishTick(
  app: TemplatedApp,
  deltaLog: DeltaLog,
  metrics: Metrics,
  budget: SendBudget<Conn>,
  out: TickOutput,
): Promise<void> {
  const pngBytes = out.frame.message.length;
  const deltaMessage = out.delta ? out.delta.message : out.frame.message;
  budget.beforePublish((conn) => (conn.stream === Stream.PNG ? pngBytes : deltaMessage.length));
  if (out.delta) deltaLog.push(out.delta);
  else deltaLog.clear();
  metrics.publishedBytes.inc({ stream: Stream.PNG }, pngBytes * subscriberCount(app, Stream.PNG));
  metrics.publishedBytes.inc({ stream: Stream.DELTA }, deltaMessage.length * subscriberCount(app, Stream.DELTA));
  return publishSharded(app, [
    [Stream.PNG, out.frame.message],
    [Stream.DELTA, deltaMessage],
  ]);
}
