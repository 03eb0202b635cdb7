/**
 * The state of one sign-in between `GET /auth/login` and `GET /auth/callback`: the OAuth `state`,
 * the OIDC `nonce` and the PKCE code verifier, kept in a short-lived cookie signed with the identity
 * secret rather than in server memory. Every process holding the secret (a standalone server, the
 * writer, any edge) can then finish a sign-in that another one started, with nothing shared.
 *
 * The cookie is HttpOnly (page scripts never see the verifier), SameSite=Lax (the provider's redirect
 * back is a top-level GET navigation, which Lax cookies accompany), scoped to /auth, and lives
 * FLOW_MAX_AGE_S. Signing (HMAC-SHA256, its own label so it never verifies as an identity token)
 * means a tampered state, nonce or verifier is refused here, before the provider is asked.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readCookie } from './tokens.ts';

export const FLOW_COOKIE = 'canvas_login';
/** Long enough to type a password and pass a second factor, short enough to be useless when stolen later. */
export const FLOW_MAX_AGE_S = 600;
const LABEL = 'canvas login flow\n';
const MAX_COOKIE_CHARS = 1024;

export interface LoginFlow {
  state: string;
  nonce: string;
  verifier: string;
  /** Unix ms after which the flow is refused, whatever the browser kept. */
  expires: number;
}

export type OpenedFlow = { ok: true; flow: LoginFlow } | { ok: false; reason: string };

export class LoginFlowCookie {
  constructor(
    private readonly secret: Buffer,
    /** Adds `Secure` (the public URL is https). */
    private readonly secure: boolean,
  ) {}

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.secret).update(LABEL).update(payload).digest();
  }

  /** The Set-Cookie value that carries `flow`. */
  seal(flow: LoginFlow): string {
    const payload = Buffer.from(JSON.stringify(flow)).toString('base64url');
    const value = `${payload}.${this.mac(payload).toString('base64url')}`;
    return `${FLOW_COOKIE}=${value}; ${this.attributes(FLOW_MAX_AGE_S)}`;
  }

  /** The Set-Cookie value that removes the flow cookie (after a callback, whatever its outcome). */
  clear(): string {
    return `${FLOW_COOKIE}=; ${this.attributes(0)}`;
  }

  private attributes(maxAge: number): string {
    return `Path=/auth; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${this.secure ? '; Secure' : ''}`;
  }

  /** The flow in a Cookie header, checked: present, signed by us, not expired, well-formed. */
  open(cookieHeader: string, now = Date.now()): OpenedFlow {
    const value = readCookie(cookieHeader, FLOW_COOKIE);
    if (!value) return { ok: false, reason: 'no sign-in in progress (the login cookie is missing or expired)' };
    const dot = value.indexOf('.');
    if (dot < 0 || value.length > MAX_COOKIE_CHARS) return { ok: false, reason: 'the login cookie is malformed' };
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = this.mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'the login cookie is not signed by this server' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString());
    } catch {
      return { ok: false, reason: 'the login cookie is malformed' };
    }
    const f = parsed as Partial<Record<keyof LoginFlow, unknown>>;
    if (
      typeof f.state !== 'string' ||
      typeof f.nonce !== 'string' ||
      typeof f.verifier !== 'string' ||
      typeof f.expires !== 'number'
    )
      return { ok: false, reason: 'the login cookie is malformed' };
    if (f.expires <= now) return { ok: false, reason: 'the sign-in took too long: start again' };
    return { ok: true, flow: { state: f.state, nonce: f.nonce, verifier: f.verifier, expires: f.expires } };
  }
}
