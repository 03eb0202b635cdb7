/**
 * Anonymous identities: a random id signed with the server secret (HMAC-SHA256), handed out as an
 * HttpOnly cookie or a token the client keeps. A missing, malformed or forged token never maps to
 * an existing identity: the holder simply gets a fresh one.
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
}

export class IdentityIssuer {
  constructor(private readonly secret: Buffer) {}

  private sign(id: string): Buffer {
    return createHmac('sha256', this.secret).update(id).digest();
  }

  mint(): Identity {
    const id = randomBytes(8).toString('hex');
    return { id, token: `${id}.${this.sign(id).toString('base64url')}`, fresh: true };
  }

  /** The identity a token proves, or undefined. Signature compared in constant time. */
  verify(token: string): string | undefined {
    const dot = token.indexOf('.');
    if (dot < 0 || token.length > 128) return undefined;
    const id = token.slice(0, dot);
    if (!ID_PATTERN.test(id)) return undefined;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.sign(id);
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  /** Identity from the first valid token among the candidates, or undefined. */
  known(...candidates: Array<string | undefined>): Identity | undefined {
    for (const token of candidates) {
      if (!token) continue;
      const id = this.verify(token);
      if (id) return { id, token, fresh: false };
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
