/**
 * Options of the scale-out roles (docs/SCALING.md): which role this process plays, where Redis is,
 * and how long an edge waits for the writer before it refuses placements with `unavailable`.
 */
import type { OptionSpec } from './options.ts';

export const BUS_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'role',
    flag: 'role',
    env: 'ROLE',
    kind: { type: 'enum', values: ['standalone', 'writer', 'edge'] },
    default: 'standalone',
    help: 'standalone (everything in one process), writer (owns canvas and SQLite, publishes to Redis) or edge (stateless, serves clients from Redis; no --db)',
  },
  {
    key: 'redis',
    flag: 'redis',
    env: 'REDIS_URL',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'Redis URL for --role writer/edge, e.g. redis://127.0.0.1:6379',
  },
  {
    key: 'redisReplica',
    flag: 'redis-replica',
    env: 'REDIS_REPLICA_URL',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'edge: a replica of --redis to follow the writer from (ticks and frames); requests still go to --redis',
  },
  {
    key: 'redisPrefix',
    flag: 'redis-prefix',
    env: 'REDIS_PREFIX',
    kind: { type: 'string' },
    default: 'canvas',
    help: 'prefix of every Redis key and channel (several canvases can share one Redis)',
  },
  {
    key: 'writerTimeoutMs',
    flag: 'writer-timeout-ms',
    env: 'WRITER_TIMEOUT_MS',
    kind: { type: 'int', min: 500, max: 60_000 },
    default: '3000',
    help: 'edge: the writer counts as down after this long without a message from it; forwarded requests unanswered this long get `unavailable`',
  },
  {
    key: 'leaseMs',
    flag: 'lease-ms',
    env: 'LEASE_MS',
    kind: { type: 'int', min: 300, max: 60_000 },
    default: '2000',
    help: 'writer: the leader lease (renewed every third of it); a standby takes over this long after the leader stopped renewing, and a leader that cannot renew stops acknowledging a quarter of it before it expires',
  },
  {
    key: 'logMaxLen',
    flag: 'log-max-len',
    env: 'LOG_MAX_LEN',
    kind: { type: 'int', min: 100, max: 100_000_000 },
    default: '100000',
    help: 'writer: commit batches kept in the replicated log (a Redis Stream, trimmed with MAXLEN ~); a standby further behind copies the leader database instead',
  },
  {
    key: 'reusePort',
    flag: 'reuse-port',
    env: 'REUSE_PORT',
    kind: { type: 'bool' },
    default: 'false',
    help: 'share --port with other processes started with it (SO_REUSEPORT: several edges, one per core)',
  },
];
