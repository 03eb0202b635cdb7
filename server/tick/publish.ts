/** The fan-out of one tick to both WebSocket streams, with its budget check, delta log and metrics. */
import { Stream } from '../../protocol/messages.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Conn } from '../ws/conn.ts';
import type { SendBudget } from '../ws/send-budget.ts';
import type { DeltaLog } from './delta-log.ts';
import type { Subscribers } from './fanout.ts';
import type { TickOutput } from './ticker.ts';

/**
 * Publishes one tick: the PNG to PNG subscribers; to delta subscribers the delta, or the PNG when the
 * change was too large for a delta (which also breaks the chain the delta log can replay). Each goes
 * into the socket's outbox (fragmented, superseding what a slow reader has not started); a slice of
 * sockets per loop turn, so the returned promise resolves when every subscriber's turn has come.
 */
export function publishTick(
  subscribers: Subscribers,
  deltaLog: DeltaLog,
  metrics: Metrics,
  budget: SendBudget<Conn>,
  out: TickOutput,
): Promise<void> {
  const png = out.frame.message;
  const delta = out.delta?.message;
  // Outboxes queue references to these shared bytes, so a socket's own buffer in uWS holds at most a
  // fragment: the budget counts what uWS holds now.
  budget.beforePublish(() => 0);
  if (out.delta) deltaLog.push(out.delta);
  else deltaLog.clear();
  metrics.publishedBytes.inc({ stream: Stream.PNG }, png.length * subscribers.count(Stream.PNG));
  metrics.publishedBytes.inc({ stream: Stream.DELTA }, (delta ?? png).length * subscribers.count(Stream.DELTA));
  const now = performance.now();
  return subscribers.fanOut((ws, conn) => {
    if (conn.stream === Stream.DELTA && delta) conn.outbox.push(ws, delta, 'delta', now, png);
    else conn.outbox.push(ws, png, 'png', now);
  });
}
