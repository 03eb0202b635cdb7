/**
 * Identities: a random id signed with the server secret (HMAC-SHA256), handed out as an HttpOnly
 * cookie or a token the client keeps. A missing, malformed or forged token never maps to an existing
 * identity: the holder simply gets a fresh one.
 *
 * An account (OpenID Connect login, http/login-routes.ts) is an identity too, so bans, cooldowns and
 * pixel lookup key on it unchanged. Its id is derived from the provider's issuer and subject, not
 * random, so the same person signing in on another device is the same identity. Its token is
 * `acct.<id>.<signature of "acct.<id>">`: the mark is under the signature, so an anonymous token
 * cannot be turned into an account token (nor the reverse) without the secret.
 *
 * A sanctioned bot (a moderator mints it, moderation/bot-admin.ts) holds `bot.<id>.<signature of
 * "bot.<id>">`, its identity id being its bot id. The token only says "this is bot <id>"; whether the
 * bot is still allowed to place (revoked, expired, its quota and region) is the writer's to decide
 * (placement/bots.ts). A token that carries the bot mark but does not verify never becomes a fresh
 * identity (request-identity.ts refuses it): a bot whose token went wrong must fail loudly, not
 * place as an anonymous player under the canvas's rules.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE_NAME = 'canvas_token';
/** One year: identities are anonymous and cheap; the cooldown keys on the address too. */
const COOKIE_MAX_AGE_S = 365 * 24 * 3600;
const ID_PATTERN = /^[0-9a-f]{16}$/;

/** An identity id as minted: 16 lower-case hex digits. */
export function isIdentityId(text: string): boolean {
  return ID_PATTERN.test(text);
}

export interface Identity {
  id: string;
  token: string;
  /** True when minted for this request (the client had no valid token). */
  fresh: boolean;
  /** True when the token is an account's (signed in with the OpenID Connect provider). */
  account?: boolean;
  /** The bot id when the token is a sanctioned bot's (equal to `id`). */
  bot?: string;
}

/** What a token proves. */
export interface TokenClaim {
  id: string;
  account: boolean;
  /** Present on a bot's token only. */
  bot?: true;
}

/** The mark of an account token; the signature covers it (see the module comment). */
const ACCOUNT_MARK = 'acct.';
/** The mark of a bot token; the signature covers it too. */
export const BOT_MARK = 'bot.';

/** True when `token` claims to be a bot's (before any check of its signature). */
export function isBotTokenShaped(token: string): boolean {
  return token.startsWith(BOT_MARK);
}

export class IdentityIssuer {
  constructor(private readonly secret: Buffer) {}

  private sign(text: string): Buffer {
    return createHmac('sha256', this.secret).update(text).digest();
  }

  mint(): Identity {
    const id = randomBytes(8).toString('hex');
    return { id, token: `${id}.${this.sign(id).toString('base64url')}`, fresh: true };
  }

  /**
   * The account identity of a provider's user: the id is the first 16 hex digits of
   * HMAC(secret, issuer + "\n" + subject), the same on every device and every process that shares
   * the secret. Subjects are unique per issuer only (OIDC Core 2), hence the issuer in the key.
   */
  account(issuer: string, subject: string): Identity {
    const id = this.sign(`${issuer}\n${subject}`).subarray(0, 8).toString('hex');
    const signed = `${ACCOUNT_MARK}${id}`;
    return { id, token: `${signed}.${this.sign(signed).toString('base64url')}`, fresh: false, account: true };
  }

  /** The token of bot `id` (a fresh random identity id the writer chose when a moderator minted it). */
  bot(id: string): Identity {
    const signed = `${BOT_MARK}${id}`;
    return { id, token: `${signed}.${this.sign(signed).toString('base64url')}`, fresh: false, bot: id };
  }

  /** What a token proves, or undefined. Signature compared in constant time. */
  verify(token: string): TokenClaim | undefined {
    const dot = token.lastIndexOf('.');
    if (dot < 0 || token.length > 128) return undefined;
    const signed = token.slice(0, dot);
    const account = signed.startsWith(ACCOUNT_MARK);
    const bot = signed.startsWith(BOT_MARK);
    const id = account ? signed.slice(ACCOUNT_MARK.length) : bot ? signed.slice(BOT_MARK.length) : signed;
    if (!ID_PATTERN.test(id)) return undefined;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.sign(signed);
    return given.length === expected.length && timingSafeEqual(given, expected)
      ? { id, account, ...(bot ? { bot: true as const } : {}) }
      : undefined;
  }

  /** Identity from the first valid token among the candidates, or undefined. */
  known(...candidates: Array<string | undefined>): Identity | undefined {
    for (const token of candidates) {
      if (!token) continue;
      const claim = this.verify(token);
      if (!claim) continue;
      if (claim.account) return { id: claim.id, token, fresh: false, account: true };
      if (claim.bot) return { id: claim.id, token, fresh: false, bot: claim.id };
      return { id: claim.id, token, fresh: false };
    }
    return undefined;
  }

  /** Identity from the first valid token among the candidates, else a fresh one. */
  resolve(...candidates: Array<string | undefined>): Identity {
    return this.known(...candidates) ?? this.mint();
  }
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(token: string): string {
  return `${COOKIE_NAME}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COOKIE_MAX_AGE_S}`;
}

/** Removes the identity cookie (sign out): the next request gets a fresh anonymous identity. */
export function clearSessionCookie(): string {
  return `${COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}
