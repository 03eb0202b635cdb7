/**
 * Topic sharding for tick fan-out. One `app.publish` to every subscriber runs in one turn of the
 * event loop: with 1,000 PNG subscribers a tick blocked the loop for about 30-37 ms inside uWS.js v20.30.0's
 * publish (perf/RESULTS.md, --pprof profile), against a 5 ms budget. Subscribers of each stream are
 * spread over SHARDS topics by connection id, and a tick publishes one shard per loop turn, so
 * placements, acks and HTTP keep being served between shards. Total work is unchanged.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Stream } from '../../protocol/messages.ts';

export const SHARDS = 32;

/** The topic a connection of `stream` subscribes to. */
export function topicOf(stream: Stream, connId: number): string {
  return `${stream}/${connId % SHARDS}`;
}

export function subscriberCount(app: TemplatedApp, stream: Stream): number {
  let n = 0;
  for (let shard = 0; shard < SHARDS; shard++) n += app.numSubscribers(`${stream}/${shard}`);
  return n;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Publishes each (stream, message) pair shard by shard, yielding to the event loop between shards.
 * Resolves when every shard got its messages.
 */
export async function publishSharded(
  app: TemplatedApp,
  messages: ReadonlyArray<readonly [Stream, Uint8Array]>,
): Promise<void> {
  for (let shard = 0; shard < SHARDS; shard++) {
    if (shard > 0) await nextTurn();
    for (const [stream, message] of messages) app.publish(`${stream}/${shard}`, message, true);
  }
}
