/**
 * Configuration: every option's flag, environment variable, default and check, in one table.
 * Read once at start; the rest of the server receives the frozen `Config`.
 */
import { parseArgs } from 'node:util';
import { formatIpRanges, parseIpRanges, type IpRange } from '../identity/client-address.ts';
import { parsePalette } from './palette.ts';

export interface Config {
  host: string;
  port: number;
  db: string;
  width: number;
  height: number;
  palette: readonly number[];
  tickMs: number;
  cooldownMs: number;
  synchronous: 'NORMAL' | 'FULL';
  commitDelayMs: number;
  commitBatch: number;
  busyTimeoutMs: number;
  snapshotEvery: number;
  maxBackpressure: number;
  maxBufferedTotal: number;
  stallMs: number;
  pngLevel: number;
  deltaMaxPercent: number;
  deltaRing: number;
  allowUwsFallback: boolean;
  pprof: boolean;
  secret: string;
  adminToken: string;
  trustedProxies: readonly IpRange[];
  /** Origins (`https://canvas.example.com`) whose pages may open the WebSocket; empty: any. */
  allowedOrigins: readonly string[];
  ipv4Prefix: number;
  ipv6Prefix: number;
  pprofPort: number;
  benchImageMode: 'cached' | 'grid' | 'db';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
}

type Kind =
  | { type: 'int'; min: number; max: number }
  | { type: 'string'; allowEmpty?: boolean }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'bool' }
  | { type: 'palette' }
  | { type: 'iplist' }
  | { type: 'originlist' }
  | { type: 'bearer' };

interface OptionSpec {
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
    kind: int(1, 4096),
    default: '1000',
    help: 'canvas width in pixels',
  },
  {
    key: 'height',
    flag: 'height',
    env: 'CANVAS_HEIGHT',
    kind: int(1, 4096),
    default: '1000',
    help: 'canvas height in pixels',
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
    key: 'benchImageMode',
    flag: 'bench-image-mode',
    env: 'BENCH_IMAGE_MODE',
    kind: { type: 'enum', values: ['cached', 'grid', 'db'] },
    default: 'cached',
    help: 'BENCHMARK ONLY: grid/db encode /image on every request (the origin experiment)',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: { type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] },
    default: 'info',
    help: 'log level',
  },
];

export class ConfigError extends Error {}

function convert(spec: OptionSpec, raw: string, source: string): unknown {
  const { kind } = spec;
  switch (kind.type) {
    case 'string':
      if (raw === '' && !kind.allowEmpty) throw new ConfigError(`${source} must not be empty`);
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${source}="${raw}" is not an integer`);
      const n = Number(raw);
      if (n < kind.min || n > kind.max) {
        throw new ConfigError(`${source}=${raw} is out of range [${kind.min}, ${kind.max}]`);
      }
      return n;
    }
    case 'enum': {
      const match = kind.values.find((v) => v.toLowerCase() === raw.toLowerCase());
      if (match === undefined) throw new ConfigError(`${source}="${raw}" must be one of ${kind.values.join(', ')}`);
      return match;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off|)$/i.test(raw)) return false;
      throw new ConfigError(`${source}="${raw}" must be true or false`);
    case 'iplist':
      try {
        return parseIpRanges(raw);
      } catch (err) {
        throw new ConfigError(`${source}: ${(err as Error).message}`);
      }
    case 'originlist':
      return Object.freeze(
        raw
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o !== '')
          .map((o) => parseOrigin(o, source)),
      );
    case 'bearer':
      // The Authorization header is read as `Bearer <one run of non-space characters>`, so a token
      // with spaces, control or non-ASCII characters could never authenticate. The message leaves
      // the value out: it is a secret.
      if (!/^[\x21-\x7e]*$/.test(raw))
        throw new ConfigError(`${source} must be printable ASCII without spaces or control characters`);
      return raw;
    case 'palette':
      try {
        return parsePalette(raw);
      } catch (err) {
        throw new ConfigError(`${source}: ${(err as Error).message}`);
      }
  }
}

/** `https://Canvas.example.com/` -> `https://canvas.example.com`, the form browsers send in `Origin`. */
function parseOrigin(text: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const bare =
    url !== undefined &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '';
  if (
    url === undefined ||
    !bare ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    text.endsWith('#') ||
    text.endsWith('?')
  ) {
    throw new ConfigError(`${source}: "${text}" is not an origin like https://canvas.example.com`);
  }
  return url.origin;
}

/** Builds a validated, frozen config from raw strings by option key (used by tests and loadConfig). */
export function buildConfig(
  values: Partial<Record<keyof Config, string>>,
  sources: Partial<Record<keyof Config, string>> = {},
): Config {
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const raw = values[spec.key] ?? spec.default;
    out[spec.key] = convert(spec, raw, sources[spec.key] ?? `--${spec.flag}`);
  }
  return Object.freeze(out) as unknown as Config;
}

/** A typed value back as it would be typed on the command line. */
function asCommandLine(kind: Kind, value: Config[keyof Config]): string {
  switch (kind.type) {
    case 'palette':
      return (value as readonly number[]).map((c) => c.toString(16).padStart(6, '0')).join(',');
    case 'iplist':
      return formatIpRanges(value as readonly IpRange[]);
    case 'originlist':
      return (value as readonly string[]).join(',');
    default:
      return String(value);
  }
}

/** Test/embedding helper: defaults plus typed overrides, validated like the command line. */
export function configWith(overrides: Partial<Config>): Config {
  const base = buildConfig({});
  const merged = { ...base, ...overrides };
  const asStrings: Partial<Record<keyof Config, string>> = {};
  for (const spec of OPTIONS) asStrings[spec.key] = asCommandLine(spec.kind, merged[spec.key]);
  return buildConfig(asStrings);
}

export type LoadResult = { kind: 'config'; config: Config } | { kind: 'help'; text: string };

/** Reads flags (which win) and environment variables. Throws ConfigError naming the bad value. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): LoadResult {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const spec of OPTIONS) options[spec.flag] = { type: spec.kind.type === 'bool' ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see --help)`);
  }
  if (parsed.values.help) return { kind: 'help', text: helpText() };
  const values: Partial<Record<keyof Config, string>> = {};
  const sources: Partial<Record<keyof Config, string>> = {};
  for (const spec of OPTIONS) {
    const flagValue = parsed.values[spec.flag];
    if (flagValue !== undefined) {
      values[spec.key] = String(flagValue);
      sources[spec.key] = `--${spec.flag}`;
    } else if (env[spec.env] !== undefined) {
      values[spec.key] = env[spec.env];
      sources[spec.key] = spec.env;
    }
  }
  return { kind: 'config', config: buildConfig(values, sources) };
}

export function helpText(): string {
  const lines = ['Usage: npm start -- [options]', '', 'Options (flag / environment variable, default):'];
  for (const spec of OPTIONS) {
    const flag = spec.kind.type === 'bool' ? `--${spec.flag}` : `--${spec.flag} <value>`;
    lines.push(`  ${flag.padEnd(28)} ${spec.env.padEnd(24)} default ${spec.default}`);
    lines.push(`  ${''.padEnd(28)} ${spec.help}`);
  }
  lines.push('  --help                       show this text');
  return lines.join('\n');
}
