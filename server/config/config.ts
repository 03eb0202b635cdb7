/**
 * Configuration: the options of options.ts read from flags and environment, checked and converted.
 * Read once at start; the rest of the server receives the frozen `Config`.
 */
import { parseArgs } from 'node:util';
import { formatIpRanges, parseIpRanges, type IpRange } from '../identity/client-address.ts';
import { type Kind, OPTIONS, type OptionSpec } from './options.ts';
import { parsePalette } from './palette.ts';
import { OperatorError } from '../ops/operator-error.ts';

export { OPTIONS };

export interface Config {
  host: string;
  port: number;
  db: string;
  width: number;
  height: number;
  palette: readonly number[];
  tickMs: number;
  cooldownMs: number;
  /** `charges`: a bucket of maxCharges, one back every chargeMs (placement/charges.ts); cooldownMs unused. */
  cooldownModel: 'fixed' | 'charges';
  maxCharges: number;
  /** Largest project image, width x height (projects/project-image.ts). */
  projectMaxPixels: number;
  /** Projects one identity may register. */
  projectsPerIdentity: number;
  /** ms between two registrations of one identity. */
  projectEveryMs: number;
  chargeMs: number;
  synchronous: 'NORMAL' | 'FULL';
  commitDelayMs: number;
  commitBatch: number;
  busyTimeoutMs: number;
  snapshotEvery: number;
  maxBackpressure: number;
  maxBufferedTotal: number;
  stallMs: number;
  pngLevel: number;
  /** MiB of encoded tiles kept (tiles/tile-cache.ts). */
  tileCacheMb: number;
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
  /** New identities per address prefix and minute (0: no limit). */
  mintPerMinute: number;
  /** Placements one address prefix may make per cooldown. */
  addressPlacements: number;
  /** `verified`: identities with a challenge credit or an account skip the address limit. */
  addressLimitExempt: 'off' | 'verified';
  /** When a placement needs a solved proof-of-work challenge. */
  challenge: 'off' | 'new' | 'always';
  challengeEvery: number;
  challengeTtlMs: number;
  challengeDifficulty: number;
  challengeCost: number;
  /** Accounts: off, or sign-in offered (optional) or needed to place (required). */
  login: 'off' | 'optional' | 'required';
  oidcIssuer: string;
  oidcClientId: string;
  /** Secret: never logged nor shown in an error message. */
  oidcClientSecret: string;
  oidcScopes: string;
  /** The URL players reach this server at, without a trailing slash (empty: not set). */
  publicUrl: string;
  /** Surge defence (defence/surge.ts); factor 0: off. */
  surgeFactor: number;
  /** 0: 3 x surgeFactor. */
  surgeLockFactor: number;
  surgeLockMs: number;
  surgeMinRate: number;
  surgeWindowMs: number;
  surgeBaselineMs: number;
  surgeCalmMs: number;
  /** URL POSTed on each surge change; empty: none. */
  surgeWebhook: string;
  pprofPort: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  role: 'standalone' | 'writer' | 'edge';
  /** Redis URL (writer and edge roles). */
  redis: string;
  /** Edge: a Redis replica to subscribe and read from. */
  redisReplica: string;
  redisPrefix: string;
  writerTimeoutMs: number;
  /** Writer: the leader lease, ms. */
  leaseMs: number;
  /** Writer: commit batches kept in the replicated log stream. */
  logMaxLen: number;
  reusePort: boolean;
}

function convert(spec: OptionSpec, raw: string, source: string): unknown {
  const { kind } = spec;
  switch (kind.type) {
    case 'string':
      if (raw === '' && !kind.allowEmpty) throw new OperatorError(`${source} must not be empty`);
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new OperatorError(`${source}="${raw}" is not an integer`);
      const n = Number(raw);
      if (n < kind.min || n > kind.max) {
        throw new OperatorError(`${source}=${raw} is out of range [${kind.min}, ${kind.max}]`);
      }
      return n;
    }
    case 'enum': {
      const match = kind.values.find((v) => v.toLowerCase() === raw.toLowerCase());
      if (match === undefined) throw new OperatorError(`${source}="${raw}" must be one of ${kind.values.join(', ')}`);
      return match;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off|)$/i.test(raw)) return false;
      throw new OperatorError(`${source}="${raw}" must be true or false`);
    case 'iplist':
      try {
        return parseIpRanges(raw);
      } catch (err) {
        throw new OperatorError(`${source}: ${(err as Error).message}`);
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
        throw new OperatorError(`${source} must be printable ASCII without spaces or control characters`);
      return raw;
    case 'palette':
      try {
        return parsePalette(raw);
      } catch (err) {
        throw new OperatorError(`${source}: ${(err as Error).message}`);
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
    throw new OperatorError(`${source}: "${text}" is not an origin like https://canvas.example.com`);
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
  const config = out as unknown as Config;
  if (config.role !== 'standalone' && config.redis === '')
    throw new OperatorError(`--role ${config.role} needs --redis (REDIS_URL), e.g. redis://127.0.0.1:6379`);
  if (config.role === 'standalone' && config.redis !== '')
    throw new OperatorError('--redis is for --role writer or edge (a standalone server uses no Redis)');
  if (config.role !== 'edge' && config.redisReplica !== '')
    throw new OperatorError('--redis-replica is for --role edge (the writer publishes to the primary, --redis)');
  if (config.role === 'edge' && values.db !== undefined)
    throw new OperatorError('--role edge keeps no database: drop --db (the writer owns it)');
  checkLogin(config);
  // A charge flag on the fixed model would be silently ignored: the operator meant charges. (Its
  // default passes: configWith hands every option over, defaults included.)
  if (config.cooldownModel === 'fixed')
    for (const spec of OPTIONS.filter((o) => o.key === 'maxCharges' || o.key === 'chargeMs')) {
      const raw = values[spec.key];
      if (raw !== undefined && raw !== spec.default)
        throw new OperatorError(
          `${sources[spec.key] ?? `--${spec.flag}`} needs --cooldown-model charges (the model is fixed)`,
        );
    }
  if (config.surgeLockFactor !== 0 && config.surgeLockFactor < config.surgeFactor)
    throw new OperatorError(
      `--surge-lock-factor ${config.surgeLockFactor} is below --surge-factor ${config.surgeFactor}: the lock would come before the challenges`,
    );
  if (config.surgeWebhook !== '') checkWebhookUrl(config.surgeWebhook);
  for (const [flag, url] of [
    ['--redis', config.redis],
    ['--redis-replica', config.redisReplica],
  ] as const) {
    if (url !== '') checkRedisUrl(flag, url);
  }
  return Object.freeze(config);
}

/** True for a host name that can only mean this machine (plain http is allowed there: tests). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * `--login optional|required` needs a provider and the URL the provider sends players back to. An
 * http issuer would let anyone on the path forge logins, so only loopback issuers (tests, a provider
 * on the same host) may be plain http. Writes the normalised public URL (no trailing slash) back.
 */
function checkLogin(config: Config): void {
  const mutable = config as { -readonly [K in keyof Config]: Config[K] };
  if (config.publicUrl !== '') {
    let url: URL | undefined;
    try {
      url = new URL(config.publicUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '')
      throw new OperatorError(`--public-url "${config.publicUrl}" is not a URL like https://canvas.example.com`);
    mutable.publicUrl = url.href.replace(/\/+$/, '');
  }
  if (config.login === 'off') return;
  const missing = [
    ['--oidc-issuer', config.oidcIssuer],
    ['--oidc-client-id', config.oidcClientId],
    ['--public-url', config.publicUrl],
  ]
    .filter(([, v]) => v === '')
    .map(([flag]) => flag);
  if (missing.length > 0)
    throw new OperatorError(`--login ${config.login} needs ${missing.join(', ')} (see README, Accounts)`);
  let issuer: URL;
  try {
    issuer = new URL(config.oidcIssuer);
  } catch {
    throw new OperatorError(`--oidc-issuer "${config.oidcIssuer}" is not a URL`);
  }
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname)))
    throw new OperatorError(
      `--oidc-issuer must be https:// (plain http only for a loopback host), not ${issuer.protocol}//`,
    );
  if (!config.oidcScopes.split(/\s+/).includes('openid'))
    throw new OperatorError(`--oidc-scopes "${config.oidcScopes}" must include openid`);
}

/**
 * A Redis URL as ioredis reads it: `redis://` or `rediss://` (TLS), optionally with credentials
 * (`redis://:PASSWORD@host:6379` for requirepass, `redis://USER:PASSWORD@host:6379` for an ACL user).
 * The message never repeats the URL: it may hold a password.
 */
function checkRedisUrl(flag: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OperatorError(`${flag} is not a URL; use redis://[USER:PASSWORD@]HOST:PORT or rediss://...`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new OperatorError(`${flag} must start with redis:// or rediss:// (TLS), not ${parsed.protocol}//`);
  if (parsed.hostname === '') throw new OperatorError(`${flag} names no host`);
}

/** The message never repeats the URL: a chat webhook's URL is its secret. */
function checkWebhookUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '')
    throw new OperatorError('--surge-webhook must be an http:// or https:// URL');
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
  for (const spec of OPTIONS) {
    if (spec.key === 'db' && merged.role === 'edge') continue; // an edge has none
    asStrings[spec.key] = asCommandLine(spec.kind, merged[spec.key]);
  }
  return buildConfig(asStrings);
}

export type LoadResult = { kind: 'config'; config: Config } | { kind: 'help'; text: string };

/** Reads flags (which win) and environment variables. Throws OperatorError naming the bad value. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): LoadResult {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const spec of OPTIONS) options[spec.flag] = { type: spec.kind.type === 'bool' ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new OperatorError(`${(err as Error).message} (see --help)`);
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
