/**
 * Connections to Redis (ioredis), set up for a bus that must say "unavailable" rather than wait:
 * no offline queue (a command while disconnected fails at once instead of piling up for later),
 * quick reconnects (every 250 ms at most, so service resumes within a second of Redis returning),
 * and one log line per outage instead of one per retry.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../ops/log.ts';

export interface RedisLink {
  redis: Redis;
  /** True between `ready` and the next `close`. */
  readonly up: boolean;
}

export function connectRedis(url: string, name: string, log: Logger, onReady?: (first: boolean) => void): RedisLink {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 50, 250),
  });
  const link = { redis, up: false };
  let readyBefore = false;
  let loggedDown = false;
  redis.on('ready', () => {
    link.up = true;
    if (loggedDown) log.info({ connection: name }, 'redis reachable again');
    loggedDown = false;
    const first = !readyBefore;
    readyBefore = true;
    onReady?.(first);
  });
  redis.on('close', () => {
    link.up = false;
  });
  // Without a listener ioredis prints every failed reconnect attempt.
  redis.on('error', (err: Error) => {
    if (loggedDown) return;
    loggedDown = true;
    log.warn({ connection: name, err: err.message }, 'redis unreachable: retrying');
  });
  redis.connect().catch(() => {
    // Reported by the 'error' listener; ioredis keeps retrying per retryStrategy.
  });
  return link;
}

/** Resolves once the connection is ready (Redis may not be up yet at start). */
export function whenReady(link: RedisLink): Promise<void> {
  if (link.up) return Promise.resolve();
  return new Promise((resolve) => link.redis.once('ready', () => resolve()));
}

/**
 * Calls `handle` with every pub/sub message (binary) the link receives. A throw in it is logged, not
 * left to end the process from inside ioredis's event: a malformed message costs that message only.
 */
export function onMessages(link: RedisLink, log: Logger, handle: (channel: string, message: Buffer) => void): void {
  link.redis.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    try {
      handle(channel.toString(), message);
    } catch (err) {
      log.error({ err, channel: channel.toString() }, 'bus message handler failed');
    }
  });
}
