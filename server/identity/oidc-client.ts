/**
 * This server as an OpenID Connect relying party, through openid-client (v6): the provider's
 * metadata by discovery, the authorization URL (code flow with PKCE S256, state and nonce), and the
 * code exchange, which checks the state, the ID token's signature, issuer, audience, expiry and
 * nonce. What it yields is who signed in: the issuer and the subject.
 *
 * Discovery runs at start and again with backoff until it succeeds, without holding up the canvas:
 * a provider that is down only delays sign-in (`reason` says why meanwhile).
 */
import * as oidc from 'openid-client';
import { isLoopbackHost } from '../config/config.ts';
import type { Logger } from '../ops/log.ts';
import type { LoginFlow } from './login-flow.ts';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Empty: a public client (PKCE only, no client authentication). */
  clientSecret: string;
  /** Space-separated, with `openid`. */
  scopes: string;
  /** The URL players reach this server at, no trailing slash. */
  publicUrl: string;
}

/** Who signed in, as the provider's ID token says (both checked by openid-client). */
export interface SignedIn {
  issuer: string;
  subject: string;
}

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
/** A provider that does not answer discovery or the token request within this is treated as down. */
const REQUEST_TIMEOUT_S = 10;

export class OidcClient {
  private config: oidc.Configuration | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Why sign-in is not available yet (undefined once discovered). */
  reason: string | undefined = 'the identity provider has not been reached yet';
  readonly redirectUri: string;

  constructor(
    private readonly settings: OidcSettings,
    private readonly log: Logger,
  ) {
    this.redirectUri = `${settings.publicUrl}/auth/callback`;
  }

  /** Starts discovery (and its retries); resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    return this.discover(FIRST_RETRY_MS);
  }

  private async discover(nextDelayMs: number): Promise<void> {
    const { issuer, clientId, clientSecret } = this.settings;
    const url = new URL(issuer);
    try {
      const config = await oidc.discovery(
        url,
        clientId,
        clientSecret === '' ? undefined : clientSecret,
        clientSecret === '' ? oidc.None() : undefined,
        {
          timeout: REQUEST_TIMEOUT_S,
          // Plain http is allowed by config.ts for loopback issuers only (a provider on this host, tests).
          ...(url.protocol === 'http:' && isLoopbackHost(url.hostname)
            ? { execute: [oidc.allowInsecureRequests] }
            : {}),
        },
      );
      if (this.closed) return;
      this.config = config;
      this.reason = undefined;
      this.log.info({ issuer }, 'identity provider discovered: sign-in available');
    } catch (err) {
      if (this.closed) return;
      this.reason = `the identity provider cannot be reached (${(err as Error).message}); retrying`;
      this.log.warn(
        { issuer, err: (err as Error).message, retryMs: nextDelayMs },
        'identity provider discovery failed',
      );
      this.timer = setTimeout(() => void this.discover(Math.min(nextDelayMs * 2, MAX_RETRY_MS)), nextDelayMs);
      this.timer.unref();
    }
  }

  get ready(): boolean {
    return this.config !== undefined;
  }

  /** A new flow (state, nonce, verifier) and the provider URL that starts it; undefined until discovered. */
  async begin(maxAgeS: number, now = Date.now()): Promise<{ flow: LoginFlow; url: string } | undefined> {
    const { config } = this;
    if (!config) return undefined;
    const flow: LoginFlow = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      expires: now + maxAgeS * 1000,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { flow, url: url.href };
  }

  /**
   * Finishes a flow: `query` is the callback's query string. Throws when the provider answered with
   * an error, the state or nonce does not match, or the exchange failed; the message says which
   * (openid-client's text: it names the check, never the code or a token).
   */
  async finish(query: string, flow: LoginFlow): Promise<SignedIn> {
    const { config } = this;
    if (!config) throw new Error(this.reason ?? 'sign-in is not available');
    const callback = new URL(this.redirectUri);
    callback.search = query;
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('the provider sent no ID token');
    return { issuer: claims.iss, subject: claims.sub };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
