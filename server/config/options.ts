/**
 * Every option of the server in one table: flag, environment variable, kind (how config.ts checks
 * it), default as typed on the command line, and the help line `--help` shows.
 */
import { MAX_CANVAS_SIDE } from '../canvas/canvas-size.ts';
import type { Config } from './config.ts';
import { BUS_OPTIONS } from './bus-options.ts';

export type Kind =
  | { type: 'int'; min: number; max: number }
  | { type: 'string'; allowEmpty?: boolean }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'bool' }
  | { type: 'palette' }
  | { type: 'iplist' }
  | { type: 'originlist' }
  | { type: 'bearer' };

export interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  /** Default as it would be typed on the command line. */
  default: string;
  help: string;
}

const int = (min: number, max: number): Kind => ({ type: 'int', min, max });

/** All options with their defaults, documented once (shown by --help). */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'host',
    flag: 'host',
    env: 'HOST',
    kind: { type: 'string' },
    default: '0.0.0.0',
    help: 'address to listen on',
  },
  {
    key: 'port',
    flag: 'port',
    env: 'PORT',
    kind: int(0, 65535),
    default: '8080',
    help: 'TCP port (0 picks a free one)',
  },
  {
    key: 'db',
    flag: 'db',
    env: 'CANVAS_DB',
    kind: { type: 'string' },
    default: './data/canvas.db',
    help: 'SQLite file (created if missing)',
  },
  {
    key: 'width',
    flag: 'width',
    env: 'CANVAS_WIDTH',
    kind: int(1, MAX_CANVAS_SIDE),
    default: '1000',
    help: 'canvas width in pixels at first start (POST /api/admin/resize grows it up to 16384; the grown size is kept; over 4096: tiles and region deltas only, no /image or history images)',
  },
  {
    key: 'height',
    flag: 'height',
    env: 'CANVAS_HEIGHT',
    kind: int(1, MAX_CANVAS_SIDE),
    default: '1000',
    help: 'canvas height in pixels at first start (grown by a resize, like the width; over 4096: tiles and region deltas only)',
  },
  {
    key: 'palette',
    flag: 'palette',
    env: 'CANVAS_PALETTE',
    kind: { type: 'palette' },
    default: '2017',
    help: '"2017" (16 colours), "2022" (32) or hex list "ffffff,000000,..."',
  },
  {
    key: 'tickMs',
    flag: 'tick-ms',
    env: 'TICK_MS',
    kind: int(10, 60_000),
    default: '1000',
    help: 'ms between ticks (PNG encode + broadcast when changed)',
  },
  {
    key: 'cooldownMs',
    flag: 'cooldown-ms',
    env: 'COOLDOWN_MS',
    kind: int(0, 86_400_000),
    default: '5000',
    help: 'ms between two placements of one identity, and of one address (0 disables)',
  },
  {
    key: 'cooldownModel',
    flag: 'cooldown-model',
    env: 'COOLDOWN_MODEL',
    kind: { type: 'enum', values: ['fixed', 'charges'] },
    default: 'fixed',
    help: 'fixed: one placement per --cooldown-ms; charges: up to --max-charges in a row, one back every --charge-ms',
  },
  {
    key: 'maxCharges',
    flag: 'max-charges',
    env: 'MAX_CHARGES',
    kind: int(1, 10_000),
    default: '5',
    help: 'with --cooldown-model charges: charges an identity holds when full (an address: this x --address-placements)',
  },
  {
    key: 'chargeMs',
    flag: 'charge-ms',
    env: 'CHARGE_MS',
    kind: int(1, 86_400_000),
    default: '30000',
    help: 'with --cooldown-model charges: ms for one charge to come back',
  },
  {
    key: 'projectMaxPixels',
    flag: 'project-max-pixels',
    env: 'PROJECT_MAX_PIXELS',
    kind: int(1, 16_777_216),
    default: '262144',
    help: 'largest project image (width x height; README "Projects")',
  },
  {
    key: 'projectsPerIdentity',
    flag: 'projects-per-identity',
    env: 'PROJECTS_PER_IDENTITY',
    kind: int(0, 10_000),
    default: '5',
    help: 'projects one identity may register (0: nobody may)',
  },
  {
    key: 'projectEveryMs',
    flag: 'project-every-ms',
    env: 'PROJECT_EVERY_MS',
    kind: int(0, 86_400_000),
    default: '60000',
    help: 'ms an identity waits between two project registrations',
  },
  {
    key: 'synchronous',
    flag: 'synchronous',
    env: 'SQLITE_SYNCHRONOUS',
    kind: { type: 'enum', values: ['NORMAL', 'FULL'] },
    default: 'NORMAL',
    help: 'NORMAL survives a process crash, FULL also power loss',
  },
  {
    key: 'commitDelayMs',
    flag: 'commit-delay-ms',
    env: 'COMMIT_DELAY_MS',
    kind: int(0, 1000),
    default: '2',
    help: 'group commit: longest wait before a batch is written',
  },
  {
    key: 'commitBatch',
    flag: 'commit-batch',
    env: 'COMMIT_BATCH',
    kind: int(1, 100_000),
    default: '2000',
    help: 'group commit: placements that trigger an immediate write',
  },
  {
    key: 'busyTimeoutMs',
    flag: 'busy-timeout-ms',
    env: 'SQLITE_BUSY_TIMEOUT_MS',
    kind: int(0, 60_000),
    default: '200',
    help: 'how long a commit waits for a locked database before failing',
  },
  {
    key: 'snapshotEvery',
    flag: 'snapshot-every',
    env: 'SNAPSHOT_EVERY',
    kind: int(1, 100_000_000),
    default: '100000',
    help: 'placements between grid snapshots (startup replays the rest)',
  },
  {
    key: 'maxBackpressure',
    flag: 'max-backpressure',
    env: 'WS_MAX_BACKPRESSURE',
    kind: int(1024, 1 << 30),
    default: String(4 << 20),
    help: 'bytes of stream messages queued per socket before it skips ticks',
  },
  {
    key: 'stallMs',
    flag: 'stall-ms',
    env: 'WS_STALL_MS',
    kind: int(100, 600_000),
    default: '5000',
    help: 'a WebSocket with bytes to send that takes none for this long is closed (a reader that stopped)',
  },
  {
    key: 'maxBufferedTotal',
    flag: 'max-buffered-total',
    env: 'WS_MAX_BUFFERED_TOTAL',
    kind: int(0, 2 ** 40),
    default: String(128 << 20),
    help: 'bytes buffered for slow readers, all sockets together; over it the largest holders are dropped (0: no cap)',
  },
  {
    key: 'pngLevel',
    flag: 'png-level',
    env: 'PNG_DEFLATE_LEVEL',
    kind: int(1, 9),
    default: '8',
    help:
      'zlib level of the PNG encoder, run off the event loop (8: 1.03x the bytes of level 9 for a third ' +
      'of its CPU, ~75 ms per 1000 x 1000 tick; 6: 1.10x for ~14 ms; 1: 1.3x for ~5 ms, for CPU-bound servers)',
  },
  {
    key: 'tileCacheMb',
    flag: 'tile-cache-mb',
    env: 'TILE_CACHE_MB',
    kind: int(1, 65536),
    default: '64',
    help:
      'MiB of encoded tiles the writer or standalone server keeps, least recently asked out first (a 16,384 x 16,384 ' +
      'pyramid is 5,461 tiles of ~10-30 KB when busy); an evicted tile is encoded again when next asked',
  },
  {
    key: 'deltaMaxPercent',
    flag: 'delta-max-percent',
    env: 'DELTA_MAX_PERCENT',
    kind: int(0, 100),
    default: '10',
    help: 'a tick changing more than this % of the canvas sends delta subscribers a PNG instead',
  },
  {
    key: 'deltaRing',
    flag: 'delta-ring',
    env: 'DELTA_RING',
    kind: int(0, 100_000),
    default: '120',
    help: 'recent deltas kept for clients reconnecting with their seq',
  },
  {
    key: 'allowUwsFallback',
    flag: 'allow-uws-fallback',
    env: 'ALLOW_UWS_FALLBACK',
    kind: { type: 'bool' },
    default: 'false',
    help: 'start even on the slow pure-JS uWebSockets.js fallback',
  },
  {
    key: 'secret',
    flag: 'secret',
    env: 'CANVAS_SECRET',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'HMAC secret for identity tokens (empty: generated once, kept in the database)',
  },
  {
    key: 'adminToken',
    flag: 'admin-token',
    env: 'ADMIN_TOKEN',
    kind: { type: 'bearer' },
    default: '',
    help: 'bearer token for /api/admin/*, printable ASCII without spaces (empty: moderation API disabled)',
  },
  {
    key: 'trustedProxies',
    flag: 'trusted-proxies',
    env: 'TRUSTED_PROXIES',
    kind: { type: 'iplist' },
    default: '',
    help: 'comma-separated proxy addresses and CIDR ranges (10.0.0.0/8, fd00::/8) whose X-Forwarded-For is believed',
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'ALLOWED_ORIGINS',
    kind: { type: 'originlist' },
    default: '',
    help:
      'comma-separated origins (https://canvas.example.com) allowed to open the WebSocket; ' +
      'other browser pages get 403 (empty: any)',
  },
  {
    key: 'ipv4Prefix',
    flag: 'ipv4-prefix',
    env: 'IPV4_PREFIX',
    kind: int(0, 32),
    default: '32',
    help: 'IPv4 addresses sharing this prefix share a cooldown',
  },
  {
    key: 'ipv6Prefix',
    flag: 'ipv6-prefix',
    env: 'IPV6_PREFIX',
    kind: int(0, 128),
    default: '64',
    help: 'IPv6 addresses sharing this prefix share a cooldown',
  },
  {
    key: 'addressPlacements',
    flag: 'address-placements',
    env: 'ADDRESS_PLACEMENTS',
    kind: int(1, 100_000),
    default: '1',
    help: 'placements one address prefix may make per cooldown (a venue behind one NAT may need more)',
  },
  {
    key: 'addressLimitExempt',
    flag: 'address-limit-exempt',
    env: 'ADDRESS_LIMIT_EXEMPT',
    kind: { type: 'enum', values: ['off', 'verified'] },
    default: 'off',
    help: "verified: identities that solved a challenge (within --challenge-ttl-ms) or signed in are held only by their own cooldown, not by their network's --address-placements",
  },
  {
    key: 'mintPerMinute',
    flag: 'mint-per-minute',
    env: 'MINT_PER_MINUTE',
    kind: int(0, 1_000_000),
    default: '0',
    help: 'new identities one address prefix may mint per minute (bursts up to that many; 60 suits a public event); 0: no limit',
  },
  {
    key: 'challenge',
    flag: 'challenge',
    env: 'CHALLENGE',
    kind: { type: 'enum', values: ['off', 'new', 'always'] },
    default: 'off',
    help: "proof-of-work before placing: off; new (an identity's first placement, then every --challenge-every placements or --challenge-ttl-ms); always (every placement)",
  },
  {
    key: 'challengeEvery',
    flag: 'challenge-every',
    env: 'CHALLENGE_EVERY',
    kind: int(1, 1_000_000),
    // Issuing costs the server one key derivation (300-450 µs of CPU at the default cost) and a
    // placement ~36 µs at saturation, so a credit of 200 keeps the defence near 0.9x of off (20 cost
    // 0.6x: perf/RESULTS.md "Defences"). The first solve is what makes minting identities dear; at the
    // 5 s cooldown 200 placements take 17 minutes (the browser solves the next one during a cooldown),
    // and at r/place's minutes-long cooldowns the hour of --challenge-ttl-ms ends a credit first.
    default: '200',
    help: 'with --challenge new: placements one solved challenge pays for',
  },
  {
    key: 'challengeTtlMs',
    flag: 'challenge-ttl-ms',
    env: 'CHALLENGE_TTL_MS',
    kind: int(1000, 7 * 24 * 3600 * 1000),
    default: '3600000',
    help: 'with --challenge new: how long a solved challenge pays for placements',
  },
  {
    key: 'challengeDifficulty',
    flag: 'challenge-difficulty',
    env: 'CHALLENGE_DIFFICULTY',
    kind: int(2, 10_000_000),
    // About a second for a phone-class device (Chromium in a CPU quota of a quarter: median 0.9-1.1 s,
    // perf/challenge-solve.ts, perf/RESULTS.md "Defences").
    default: '4000',
    help: 'largest number of key derivations a challenge needs (it needs between half and all of it)',
  },
  {
    key: 'challengeCost',
    flag: 'challenge-cost',
    env: 'CHALLENGE_COST',
    kind: int(1, 1_000_000),
    default: '1000',
    help: 'PBKDF2-SHA-256 iterations per key derivation of a challenge',
  },
  {
    key: 'login',
    flag: 'login',
    env: 'LOGIN',
    kind: { type: 'enum', values: ['off', 'optional', 'required'] },
    default: 'off',
    help:
      'accounts through an OpenID Connect provider: "optional" lets players sign in, "required" refuses ' +
      'placements without an account (the writer decides; edges take it from the writer)',
  },
  {
    key: 'oidcIssuer',
    flag: 'oidc-issuer',
    env: 'OIDC_ISSUER',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'issuer URL of the OpenID Connect provider (https; http only for a loopback host)',
  },
  {
    key: 'oidcClientId',
    flag: 'oidc-client-id',
    env: 'OIDC_CLIENT_ID',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'client id registered at the provider',
  },
  {
    key: 'oidcClientSecret',
    flag: 'oidc-client-secret',
    env: 'OIDC_CLIENT_SECRET',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'client secret registered at the provider (empty: a public client, PKCE only)',
  },
  {
    key: 'oidcScopes',
    flag: 'oidc-scopes',
    env: 'OIDC_SCOPES',
    kind: { type: 'string' },
    default: 'openid',
    help: 'scopes asked of the provider, space-separated (must include openid)',
  },
  {
    key: 'publicUrl',
    flag: 'public-url',
    env: 'PUBLIC_URL',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'URL players reach this server at (https://canvas.example.com); the login redirect is <public-url>/auth/callback',
  },
  {
    key: 'surgeFactor',
    flag: 'surge-factor',
    env: 'SURGE_FACTOR',
    kind: int(0, 1000),
    default: '0',
    help:
      'surge defence: placements/s or new identities/s over this many times their baseline turn challenges ' +
      'on for everyone (writer or standalone; 0: off)',
  },
  {
    key: 'surgeLockFactor',
    flag: 'surge-lock-factor',
    env: 'SURGE_LOCK_FACTOR',
    kind: int(0, 100_000),
    default: '0',
    help: 'surge defence: over this many times the baseline the canvas locks for --surge-lock-ms (0: 3 x --surge-factor)',
  },
  {
    key: 'surgeLockMs',
    flag: 'surge-lock-ms',
    env: 'SURGE_LOCK_MS',
    kind: int(1000, 86_400_000),
    default: '60000',
    help: 'surge defence: how long a surge lock lasts; then challenges, until the rates stay calm',
  },
  {
    key: 'surgeMinRate',
    flag: 'surge-min-rate',
    env: 'SURGE_MIN_RATE',
    kind: int(1, 1_000_000),
    default: '5',
    help: "surge defence: floor of both baselines, per second (a quiet canvas's first visitors never trip it)",
  },
  {
    key: 'surgeWindowMs',
    flag: 'surge-window-ms',
    env: 'SURGE_WINDOW_MS',
    kind: int(1000, 600_000),
    default: '10000',
    help: 'surge defence: the short window the rates are measured over (whole seconds)',
  },
  {
    key: 'surgeBaselineMs',
    flag: 'surge-baseline-ms',
    env: 'SURGE_BASELINE_MS',
    kind: int(1000, 86_400_000),
    default: '900000',
    help: 'surge defence: the baseline is the mean rate of the last this-many ms outside surges',
  },
  {
    key: 'surgeCalmMs',
    flag: 'surge-calm-ms',
    env: 'SURGE_CALM_MS',
    kind: int(0, 86_400_000),
    default: '60000',
    help: 'surge defence: challenges end once the rates stayed under --surge-factor x baseline this long',
  },
  {
    key: 'surgeWebhook',
    flag: 'surge-webhook',
    env: 'SURGE_WEBHOOK',
    kind: { type: 'string', allowEmpty: true },
    default: '',
    help: 'surge defence: http(s) URL POSTed a JSON {event, state, rate, baseline, at, ...} on each change (empty: none)',
  },
  {
    key: 'pprof',
    flag: 'pprof',
    env: 'PPROF',
    kind: { type: 'bool' },
    default: 'false',
    help: 'serve /debug/pprof/profile and /debug/pprof/heap on 127.0.0.1:<pprof-port>',
  },
  {
    key: 'pprofPort',
    flag: 'pprof-port',
    env: 'PPROF_PORT',
    kind: int(0, 65535),
    default: '6060',
    help: 'port of the pprof listener (127.0.0.1 only)',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: { type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] },
    default: 'info',
    help: 'log level',
  },
  ...BUS_OPTIONS,
];
