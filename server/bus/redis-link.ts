/**
 * Connections to Redis (ioredis), set up for a bus that must say "unavailable" rather than wait:
 * no offline queue (a command while disconnected fails at once instead of piling up for later),
 * quick reconnects (every 250 ms at most, so service resumes within a second of Redis returning),
 * one log line per outage instead of one per retry, and a timed PING: a Redis that is connected but
 * does not answer (frozen, swapping, stopped with SIGSTOP) keeps its TCP connection open, so only an
 * unanswered PING tells. Such a link counts as down: `/healthz` says so within PING_TIMEOUT_MS, and
 * nothing is sent into it (placements are answered `unavailable` at once instead of after a timeout).
 */
import { Redis } from 'ioredis';
import type { Logger } from '../ops/log.ts';

/** How often each link asks Redis for a PONG. */
const PING_EVERY_MS = 500;
/** A link whose last PONG is older than this is down (Redis answers a PING in microseconds). */
const PING_TIMEOUT_MS = 2000;

export interface RedisLink {
  redis: Redis;
  /** Connected, and Redis answered a PING within PING_TIMEOUT_MS. */
  readonly up: boolean;
  /** Stops the PINGs and closes the connection after what is queued. */
  close(): Promise<void>;
}

export function connectRedis(url: string, name: string, log: Logger, onReady?: (first: boolean) => void): RedisLink {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 50, 250),
  });
  let connected = false;
  let lastPong = 0;
  let pinging = false;
  let readyBefore = false;
  let loggedDown = false;
  let loggedSilent = false;
  const answering = () => performance.now() - lastPong < PING_TIMEOUT_MS;
  redis.on('ready', () => {
    connected = true;
    lastPong = performance.now();
    if (loggedDown) log.info({ connection: name }, 'redis reachable again');
    loggedDown = false;
    const first = !readyBefore;
    readyBefore = true;
    onReady?.(first);
  });
  redis.on('close', () => {
    connected = false;
  });
  // Without a listener ioredis prints every failed reconnect attempt.
  redis.on('error', (err: Error) => {
    if (loggedDown) return;
    loggedDown = true;
    log.warn({ connection: name, err: err.message }, 'redis unreachable: retrying');
  });
  const pinger = setInterval(() => {
    if (!connected) return;
    if (!answering() && !loggedSilent) {
      loggedSilent = true;
      log.warn({ connection: name, ms: PING_TIMEOUT_MS }, 'redis connected but not answering PING: counted as down');
    }
    // One PING at a time: a frozen Redis would otherwise collect one per interval.
    if (pinging) return;
    pinging = true;
    redis
      .ping()
      .then(() => {
        lastPong = performance.now();
        if (loggedSilent) log.info({ connection: name }, 'redis answering again');
        loggedSilent = false;
      })
      .catch(() => {
        // Disconnected meanwhile: the 'error' and 'close' listeners report it.
      })
      .finally(() => {
        pinging = false;
      });
  }, PING_EVERY_MS);
  pinger.unref();
  redis.connect().catch(() => {
    // Reported by the 'error' listener; ioredis keeps retrying per retryStrategy.
  });
  return {
    redis,
    get up() {
      return connected && answering();
    },
    async close() {
      clearInterval(pinger);
      await redis.quit();
    },
  };
}

/**
 * Resolves once the link is up: Redis may not be up yet at start, may be reconnecting, or connected
 * and not answering (then no new 'ready' comes when it answers again, hence the polling).
 */
export function whenReady(link: RedisLink): Promise<void> {
  if (link.up) return Promise.resolve();
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (!link.up) return;
      clearInterval(check);
      resolve();
    }, PING_EVERY_MS / 5);
  });
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
