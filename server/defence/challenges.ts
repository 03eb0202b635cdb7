/**
 * Proof-of-work challenges (ALTCHA v2, `altcha-lib`): issued to one identity by any front (standalone,
 * writer or edge: they share the server secret), verified once by the writer, in the placement path.
 *
 * Deterministic mode: the issuer picks the counter, derives its key once and signs it
 * (`keySignature`), so verifying is two HMACs whatever the cost, and the work of deriving falls on
 * the front that issues, never on the writer. The solver starts at counter 0, so the counter is the
 * work: `difficulty` derivations at most, half of that at least.
 *
 * The parameters are built here, in altcha-lib's format, and altcha-lib's PBKDF2 `deriveKey` derives
 * the key (in libuv's pool); the two HMACs that sign a challenge and the two that verify a solution
 * are node:crypto's, written here to altcha-lib's format (its `signChallenge` and `verifySolution`
 * with a key signature): altcha-lib computes each HMAC through WebCrypto (`importKey` then `sign`,
 * two promises), which cost 85 µs of CPU per HMAC against 5 µs for `createHmac` (Node 20.20,
 * perf/RESULTS.md "Defences"), and made a verification cost more than ten placements.
 */
import { createHmac, createSecretKey, type KeyObject, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { ErrorCode, type PowChallenge } from '../../protocol/messages.ts';
import type { Config } from '../config/config.ts';
import type { PlaceResult } from '../placement/service.ts';

/** PBKDF2 keeps a browser's native loop close to an attacker's native code, unlike one SHA-256 per try. */
export const POW_ALGORITHM = 'PBKDF2/SHA-256';

/** Bytes of a derived key; the solver matches its first half (`keyPrefix`), as altcha-lib's default. */
const KEY_LENGTH = 32;

/** PBKDF2 iterations up to which the issuer derives on the event loop (64: about 30 µs). */
const INLINE_COST = 64;

export interface ChallengeSettings {
  /** Largest counter (derivations a solver may need); the counter is drawn from [difficulty/2, difficulty]. */
  difficulty: number;
  /** PBKDF2 iterations per derivation. */
  cost: number;
  /** How long an issued challenge may be solved and used (ms). */
  lifetimeMs: number;
}

/** Refusals that carry a challenge to solve. */
function needsChallenge(code: ErrorCode): boolean {
  return code === ErrorCode.CHALLENGE_REQUIRED || code === ErrorCode.CHALLENGE_INVALID;
}

/** Long enough to solve on a slow phone and place, short enough that remembered solutions stay few. */
export const CHALLENGE_LIFETIME_MS = 10 * 60_000;

/** The issuer the options describe (every front builds one from the writer's secret). */
export function challengeIssuer(
  config: Pick<Config, 'challengeDifficulty' | 'challengeCost'>,
  secret: Buffer,
): ChallengeIssuer {
  return new ChallengeIssuer(secret, {
    difficulty: config.challengeDifficulty,
    cost: config.challengeCost,
    lifetimeMs: CHALLENGE_LIFETIME_MS,
  });
}

/**
 * Each secret for its own purpose, derived from the server secret, never the secret itself. The key
 * is the hex string's bytes, as altcha-lib uses a secret; held as a KeyObject, so each HMAC skips
 * importing it (a third of an HMAC's cost with a string key).
 */
function subkey(secret: Buffer, purpose: string): KeyObject {
  return createSecretKey(Buffer.from(createHmac('sha256', secret).update(`altcha:${purpose}`).digest('hex')));
}

/**
 * Random bytes drawn 4 KiB at a time: a challenge needs 36, and one call to the system's generator
 * per challenge cost more than the HMACs that sign it.
 */
class RandomPool {
  private pool = Buffer.alloc(0);
  private at = 0;

  take(n: number): Buffer {
    if (this.at + n > this.pool.length) {
      this.pool = randomBytes(4096);
      this.at = 0;
    }
    const out = this.pool.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

export class ChallengeIssuer {
  private readonly signKey: KeyObject;
  private readonly keySignKey: KeyObject;
  private readonly random = new RandomPool();
  /**
   * One open challenge per identity, handed out again by `GET /api/challenge` until half its life is
   * gone or a solution passes through this front (asking again then costs no derivation). A refusal
   * always gets a fresh one: the open one may have been used through another front.
   */
  private readonly open = new Map<string, { challenge: PowChallenge; freshUntil: number }>();

  constructor(
    secret: Buffer,
    private readonly settings: ChallengeSettings,
    /** Bound on `open`; the oldest entries go first. */
    private readonly maxOpen = 100_000,
  ) {
    this.signKey = subkey(secret, 'challenge');
    this.keySignKey = subkey(secret, 'key');
  }

  /** A challenge only `identityId` can use: the open one, or with `fresh` (or none open) a new one. */
  async issue(identityId: string, options: { fresh?: boolean; now?: number } = {}): Promise<PowChallenge> {
    const now = options.now ?? Date.now();
    const open = this.open.get(identityId);
    if (open && open.freshUntil > now && !options.fresh) return open.challenge;
    const { difficulty, cost, lifetimeMs } = this.settings;
    // The parameters are built here in altcha-lib's format (its createChallenge spent ~45-80 µs of
    // the event loop per challenge on hex by array map, canonical sorting and checks of its options:
    // perf/challenge-cost.ts); its PBKDF2 `deriveKey` derives the key, in libuv's pool, unless the
    // cost is small.
    const random = this.random.take(36);
    const nonce = random.subarray(0, 16);
    const counter =
      Math.ceil(difficulty / 2) + (random.readUInt32BE(32) % (difficulty - Math.ceil(difficulty / 2) + 1));
    const password = Buffer.alloc(20);
    nonce.copy(password);
    password.writeUInt32BE(counter, 16);
    const salt = random.subarray(16, 32);
    const hex = { nonce: nonce.toString('hex'), salt: salt.toString('hex') };
    const asked = { algorithm: POW_ALGORITHM, cost, keyLength: KEY_LENGTH, keyPrefix: '', ...hex };
    // A short derivation costs less than its trip through the pool (the job, a thread's wake-up
    // and the callback: perf/challenge-cost.ts), so it runs here; a long one would hold the loop.
    const key =
      cost <= INLINE_COST
        ? pbkdf2Sync(password, salt, cost, KEY_LENGTH, 'sha256')
        : Buffer.from((await deriveKey(asked, salt, password)).derivedKey);
    // Keys in sorted order: the canonical form the signature covers (sortKeys).
    const parameters: PowChallenge['parameters'] = {
      algorithm: POW_ALGORITHM,
      cost,
      data: { id: identityId },
      expiresAt: Math.floor((now + lifetimeMs) / 1000),
      keyLength: KEY_LENGTH,
      keyPrefix: key.toString('hex', 0, KEY_LENGTH / 2),
      keySignature: hmacHex(this.keySignKey, key),
      nonce: hex.nonce,
      salt: hex.salt,
    };
    const challenge: PowChallenge = { parameters, signature: hmacHex(this.signKey, JSON.stringify(parameters)) };
    this.open.delete(identityId);
    this.open.set(identityId, { challenge, freshUntil: now + lifetimeMs / 2 });
    if (this.open.size > this.maxOpen) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    return challenge;
  }

  /** A placement with a solution passed through: that identity's open challenge is likely used. */
  spent(identityId: string): void {
    this.open.delete(identityId);
  }

  /**
   * A front's side of one placement, whatever the transport: a solution passing through (`pow`)
   * drops the identity's open challenge; a refusal that asks for one, and an ack whose placement
   * spent the identity's credit (`challengeDue`), get a fresh challenge attached before `done` sees
   * them (issued here, on any role). The ack's lets the client solve while its cooldown runs, so the
   * next placement carries its solution instead of being refused first.
   */
  answering(identityId: string, pow: string | undefined, done: (r: PlaceResult) => void): (r: PlaceResult) => void {
    if (pow !== undefined) this.spent(identityId);
    return (r) => {
      if (r.ok) {
        if (!r.challengeDue) return done(r);
        const { challengeDue: _, ...ack } = r;
        return this.attach(identityId, ack, done);
      }
      if (!needsChallenge(r.code)) return done(r);
      this.attach(identityId, r, done);
    };
  }

  /** `r` with a fresh challenge, or as it is when issuing fails (not expected: it derives one key). */
  private attach(identityId: string, r: PlaceResult, done: (r: PlaceResult) => void): void {
    this.issue(identityId, { fresh: true }).then(
      (challenge) => done({ ...r, challenge }),
      () => done(r),
    );
  }

  /** The keys a verifier needs (the writer's; edges issue with the same). */
  verifier(): ChallengeVerifier {
    return new ChallengeVerifier(this.signKey, this.keySignKey);
  }
}

export type Verdict = { ok: true } | { ok: false; why: string };

interface Solved {
  challenge: PowChallenge;
  solution: { counter: number; derivedKey: string };
}

/**
 * Checks solutions: signed by us, not expired, issued to this identity, solved, and not used before.
 * Used signatures are remembered until their challenge expires, so each solution counts once.
 */
export class ChallengeVerifier {
  private readonly used = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    private readonly signKey: KeyObject,
    private readonly keySignKey: KeyObject,
  ) {}

  /**
   * Never throws: whatever a client sent, the answer is a verdict. Synchronous (two HMACs, about
   * 10 µs), so the placement path checks and claims the cooldown in the same step.
   */
  verify(pow: string, identityId: string, now = Date.now()): Verdict {
    try {
      return this.check(pow, identityId, now);
    } catch {
      return { ok: false, why: 'malformed' };
    }
  }

  /** altcha-lib's verifySolution, key-signature path, in its order: expiry, signature, key. */
  private check(pow: string, identityId: string, now: number): Verdict {
    const solved = parsePow(pow);
    if (!solved) return { ok: false, why: 'not a solved challenge' };
    const { parameters, signature } = solved.challenge;
    if (parameters.data?.id !== identityId) return { ok: false, why: 'issued to another identity' };
    if (parameters.expiresAt === undefined) return { ok: false, why: 'no expiry' };
    if (parameters.expiresAt < now / 1000) return { ok: false, why: 'expired' };
    // Signed in canonical form (keys sorted), which is how they are issued and come back when kept
    // as received; only parameters whose keys a client reordered need sorting first.
    if (
      !sameHex(signature, hmacHex(this.signKey, JSON.stringify(parameters))) &&
      !sameHex(signature, hmacHex(this.signKey, JSON.stringify(sortKeys(parameters))))
    )
      return { ok: false, why: 'not signed by this server' };
    // Without a key signature the key would have to be derived again here, on the writer: we only
    // issue signed keys, so a challenge without one is not ours. Lower-case hex and an exact
    // counter, as altcha-lib requires of every solution.
    const { counter, derivedKey } = solved.solution;
    if (!parameters.keySignature || !/^(?:[0-9a-f]{2})+$/.test(derivedKey) || !validCounter(counter))
      return { ok: false, why: 'not solved' };
    if (!sameHex(parameters.keySignature, hmacHex(this.keySignKey, Buffer.from(derivedKey, 'hex'))))
      return { ok: false, why: 'not solved' };
    // Set at once after the check: two copies of one solution cannot both pass.
    this.sweep(now);
    if (this.used.has(signature)) return { ok: false, why: 'already used' };
    this.used.set(signature, parameters.expiresAt * 1000);
    return { ok: true };
  }

  /** Forgets used signatures whose challenges expired (they would be refused as expired anyway). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [sig, until] of this.used) if (until <= now) this.used.delete(sig);
  }

  /** Solutions remembered as used (metrics, tests). */
  get remembered(): number {
    return this.used.size;
  }
}

/** HMAC-SHA-256 as lower-case hex. */
function hmacHex(key: KeyObject, data: string | Uint8Array): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** Constant-time comparison of two hex strings (different lengths are unequal at once). */
function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** altcha-lib's uint32 counter mode. */
function validCounter(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/**
 * Keys sorted at every level and undefined values dropped: altcha-lib's canonical form of the
 * parameters, which its signature covers (its `sortKeys` is not exported).
 */
function sortKeys<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.keys(value)
    .sort()
    .flatMap((k) => {
      const v = (value as Record<string, unknown>)[k];
      return v === undefined ? [] : [[k, sortKeys(v)]];
    });
  return Object.fromEntries(entries) as T;
}

const HEX = /^[0-9a-f]{1,256}$/;

/** The one parser of a client's `pow`: base64 JSON `{challenge: {parameters, signature}, solution}`. */
export function parsePow(pow: string): Solved | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(pow, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const root = record(value);
  const challenge = record(root?.challenge);
  const parameters = record(challenge?.parameters);
  const solution = record(root?.solution);
  if (!parameters || !solution || typeof challenge?.signature !== 'string' || !HEX.test(challenge.signature))
    return undefined;
  const { counter, derivedKey } = solution;
  if (typeof counter !== 'number' || typeof derivedKey !== 'string') return undefined;
  const p = parameters;
  const strings = ['algorithm', 'nonce', 'salt', 'keyPrefix'] as const;
  if (!strings.every((k) => typeof p[k] === 'string')) return undefined;
  if (typeof p.cost !== 'number' || typeof p.keyLength !== 'number') return undefined;
  if (p.keySignature !== undefined && typeof p.keySignature !== 'string') return undefined;
  if (p.expiresAt !== undefined && typeof p.expiresAt !== 'number') return undefined;
  const data = p.data === undefined ? undefined : record(p.data);
  if (p.data !== undefined && !data) return undefined;
  if (data && !Object.values(data).every(isScalar)) return undefined;
  return {
    challenge: { parameters: p as unknown as PowChallenge['parameters'], signature: challenge.signature },
    solution: { counter, derivedKey },
  };
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}
