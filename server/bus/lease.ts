/**
 * The writer lease: which of several `--role writer` processes on one Redis prefix leads. One key,
 * `P:lease`, taken with SET NX PX and holding `ID:EPOCH`; the epoch comes from INCR on `P:epoch` when
 * the lease is taken, so every leader has a larger one than the last (a fencing token: edges drop
 * messages of an older epoch, and the replicated log accepts appends only from the holder). Nothing
 * else decides: no home-made consensus beyond this key.
 *
 * The holder renews every leaseMs / 3 with a compare-and-renew script. It counts itself valid until
 * the time it *sent* its last successful renew plus leaseMs minus a quarter of leaseMs: Redis expires
 * the key at the earliest leaseMs after it ran that renew, so a leader that can no longer renew stops
 * acknowledging before any standby can take the key. A key that vanished (FLUSHALL, eviction, a
 * Redis restarted empty) is taken back by its holder with the same epoch, and the epoch counter is
 * raised to it, so the token never goes back.
 *
 * Every acquire and renew also stores Redis's own clock in `P:lease:renewed` (no expiry), and a clean
 * release sets it to 0. A standby that finds the lease free reads it in the same script: a lease
 * whose last renew is a whole lease old expired by itself, so its holder stopped acknowledging at
 * least a quarter lease ago, and the standby may take it at once; a key that vanished sooner (FLUSHALL,
 * eviction) may belong to a live leader about to put it back, so the standby waits half a lease
 * (writer.ts). Taking an expired lease at once rather than half a lease later is 1 s of the 5 s
 * failover budget with the default --lease-ms 2000.
 *
 * Standbys refresh `P:standby` (one key, any standby, kept three leases) each time they look at the
 * lease. A leader whose last renew found no such key is alone: then, while Redis is unreachable, it keeps acknowledging
 * its own clients as a single writer always did (no one can take over without Redis either); with a
 * standby around it stops at the end of its validity instead.
 */
import { randomBytes } from 'node:crypto';
import type { RedisLink } from './redis-link.ts';

export interface LeaseKeys {
  lease: string;
  epoch: string;
  standby: string;
  /** Redis's clock (ms) at the holder's last acquire or renew; 0 after a clean release. */
  renewed: string;
}

export function leaseKeys(prefix: string): LeaseKeys {
  return {
    lease: `${prefix}:lease`,
    epoch: `${prefix}:epoch`,
    standby: `${prefix}:standby`,
    renewed: `${prefix}:lease:renewed`,
  };
}

/** Redis's clock in ms, inside a script (Redis 7 replicates a script's effects, so TIME is allowed). */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS lease, epoch, standby, renewed; ARGV id, leaseMs, minEpoch. Returns {epoch, standbyPresent},
 * epoch 0 when the lease is held.
 */
const ACQUIRE = `
${NOW_MS}
local s = redis.call('GET', KEYS[3])
local standby = 0
if s and s ~= ARGV[1] then standby = 1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, standby} end
local e = redis.call('INCR', KEYS[2])
local min = tonumber(ARGV[3])
if e <= min then e = min + 1; redis.call('SET', KEYS[2], e) end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. e, 'PX', ARGV[2])
redis.call('SET', KEYS[4], now)
return {e, standby}`;

/**
 * KEYS lease, epoch, standby, renewed; ARGV value, leaseMs, epoch, id (a standby key of our own, left from
 * before this process led, does not count). Returns {held, standbyPresent}: held 1 when
 * renewed (or taken back after the key vanished, unless a newer epoch was handed out meanwhile), 0
 * when another process holds it or held it after us.
 */
const RENEW = `
${NOW_MS}
local v = redis.call('GET', KEYS[1])
local s = redis.call('GET', KEYS[3])
local standby = 0
if s and s ~= ARGV[4] then standby = 1 end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[4], now)
  return {1, standby}
end
if v then return {0, standby} end
local e = tonumber(redis.call('GET', KEYS[2]) or '0')
if e > tonumber(ARGV[3]) then return {0, standby} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[4], now)
return {1, standby}`;

/**
 * KEYS lease, renewed; ARGV value. Deletes the lease only if still ours, and marks it released
 * (renewed 0), so a standby takes over at once: the releaser acknowledges nothing more.
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], 0)
return redis.call('DEL', KEYS[1])`;

/**
 * KEYS lease, renewed. Returns {'held', value, pttl} or {'free', ms since the last renew} (-1: not
 * known, the key is gone too).
 */
const LOOK = `
local v = redis.call('GET', KEYS[1])
if v then return {'held', v, redis.call('PTTL', KEYS[1])} end
local r = redis.call('GET', KEYS[2])
if not r then return {'free', -1} end
${NOW_MS}
return {'free', now - tonumber(r)}`;

/** What a standby sees of the lease. */
export type LeaseLook =
  | { held: true; epoch: number /** ms until the key expires unless renewed */; ttlMs: number }
  | {
      held: false;
      /**
       * The last renew is a whole lease old (the key expired by itself) or the holder released it:
       * the holder acknowledges nothing any more, so the lease may be taken at once.
       */
      expired: boolean;
    };

export type LeaseState = 'standby' | 'leader';

export class WriterLease {
  readonly id = randomBytes(6).toString('hex');
  /** The epoch this process leads with, or the highest one it has seen while standby. */
  epoch = 0;
  state: LeaseState = 'standby';
  /** performance.now() until which a leader may acknowledge (see the module comment). */
  private validUntil = 0;
  /**
   * Whether the last renew (or the acquire) that reached Redis saw a standby's key. Not a time since
   * the last sighting: a leader frozen (SIGSTOP) for longer than that would wake up counting itself
   * alone and acknowledge without its lease.
   */
  private standbyPresent = false;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: LeaseKeys,
    readonly leaseMs: number,
    /** Called once when a renew finds another holder: this process must stop leading. */
    private readonly lost: (holder: string) => void,
  ) {}

  /** Lease value: who holds it and with which epoch (the log's appends check it, bus/replication-log.ts). */
  get value(): string {
    return `${this.id}:${this.epoch}`;
  }

  /**
   * May this leader acknowledge a placement now? Within its validity; past it only when no standby
   * was seen lately (a lone writer keeps serving its own clients through a Redis outage).
   */
  get valid(): boolean {
    if (this.state !== 'leader') return false;
    const now = performance.now();
    return now < this.validUntil || this.alone;
  }

  /**
   * No standby's key at the last look (a standby's key lives three leases after its last poll): acks
   * need not wait for the log, nor stop without Redis.
   */
  get alone(): boolean {
    return !this.standbyPresent;
  }

  /** Takes the lease if free; `minEpoch` is the highest epoch this process has seen. */
  async tryAcquire(minEpoch: number): Promise<boolean> {
    const sent = performance.now();
    const [e, standby] = (await this.link.redis.eval(
      ACQUIRE,
      4,
      this.keys.lease,
      this.keys.epoch,
      this.keys.standby,
      this.keys.renewed,
      this.id,
      this.leaseMs,
      minEpoch,
    )) as [number, number];
    if (e === 0) return false;
    this.epoch = e;
    this.state = 'leader';
    // A standby is waiting: acks wait for the append from the first one.
    this.standbyPresent = standby === 1;
    this.validUntil = sent + this.leaseMs - this.leaseMs / 4;
    this.timer = setInterval(() => this.renew(), this.leaseMs / 3);
    return true;
  }

  /** A standby says it is there (see the module comment); errors are the caller's to ignore. */
  async announceStandby(): Promise<void> {
    await this.link.redis.set(this.keys.standby, this.id, 'PX', 3 * this.leaseMs);
  }

  /** The holder's epoch from the lease key; undefined when the lease is free. */
  async holderEpoch(): Promise<number | undefined> {
    const v = await this.link.redis.get(this.keys.lease);
    return v === null ? undefined : epochOf(v);
  }

  /** The lease as a standby sees it: its holder and how long until it expires, or whether it ran out. */
  async look(): Promise<LeaseLook> {
    const reply = (await this.link.redis.eval(LOOK, 2, this.keys.lease, this.keys.renewed)) as
      | ['held', string, number]
      | ['free', number];
    if (reply[0] === 'held') return { held: true, epoch: epochOf(reply[1]), ttlMs: Number(reply[2]) };
    const since = Number(reply[1]);
    return { held: false, expired: since >= this.leaseMs };
  }

  private renew(): void {
    // Connected is enough: a PING unanswered for a while (this process's loop was blocked, not
    // Redis) must not stop the renew that would end the doubt.
    if (this.renewing || this.state !== 'leader' || this.link.redis.status !== 'ready') return;
    this.renewing = true;
    const sent = performance.now();
    this.link.redis
      .eval(
        RENEW,
        4,
        this.keys.lease,
        this.keys.epoch,
        this.keys.standby,
        this.keys.renewed,
        this.value,
        this.leaseMs,
        this.epoch,
        this.id,
      )
      .then(
        (reply) => {
          const [held, standby] = reply as [number, number];
          this.standbyPresent = standby === 1;
          if (this.state !== 'leader') return;
          if (held === 1) {
            this.validUntil = sent + this.leaseMs - this.leaseMs / 4;
            return;
          }
          this.stop();
          this.lost('another writer');
        },
        () => {
          // Unreachable: `valid` runs out by itself; the next renew tries again.
        },
      )
      .finally(() => {
        this.renewing = false;
      });
  }

  private stop(): void {
    this.state = 'standby';
    this.validUntil = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops renewing and, if still ours, deletes the key so a standby takes over at once. */
  async release(): Promise<void> {
    const wasLeader = this.state === 'leader';
    this.stop();
    if (!wasLeader || !this.link.up) return;
    await this.link.redis.eval(RELEASE, 2, this.keys.lease, this.keys.renewed, this.value).catch(() => undefined);
  }
}

function epochOf(value: string): number {
  const e = Number(value.split(':')[1] ?? 0);
  return Number.isSafeInteger(e) ? e : 0;
}
