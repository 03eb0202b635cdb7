/**
 * Sign-in with an OpenID Connect provider (--login optional|required):
 * - `GET /auth/login`: 302 to the provider, the flow's state, nonce and PKCE verifier in a signed
 *   cookie (identity/login-flow.ts), so any process can take the callback; 503 `login_unavailable`
 *   while the provider has not been discovered.
 * - `GET /auth/callback`: the provider sends the player back with a code; the flow cookie is checked,
 *   then openid-client exchanges the code and checks state and nonce. Success sets the account's
 *   identity cookie and 302s to `/`; anything else is 400 `login_failed` with the reason, and no
 *   identity cookie.
 * - `GET /auth/logout`: removes the identity cookie, 302 to `/`.
 * Only registered when login is on: otherwise /auth/* is a 404 like any unknown path.
 */
import type { HttpResponse } from 'uWebSockets.js';
import type { Logger } from '../ops/log.ts';
import { LoginFlowCookie, FLOW_MAX_AGE_S } from '../identity/login-flow.ts';
import type { OidcClient, SignedIn } from '../identity/oidc-client.ts';
import { clearSessionCookie, sessionCookie, type IdentityIssuer } from '../identity/tokens.ts';
import { errorAnswer, redirectAnswer, writeAnswer, type HttpAnswer } from './answer.ts';
import type { Router } from './guard.ts';
import { trackAborted } from './send.ts';
import { HttpCode } from './status.ts';

/** Seconds a client waits before asking again while the provider is undiscovered. */
const UNAVAILABLE_RETRY_S = 5;

export interface LoginDeps {
  oidc: OidcClient;
  issuer: IdentityIssuer;
  /** Signs the flow cookie: the identity secret, the same on every process. */
  secret: Buffer;
  log: Logger;
}

/**
 * Why an exchange failed, for the player and the log: the provider's OAuth error code (the player
 * refused, the code expired), or openid-client's check with the claim it names. Never the
 * authorization code or a token: openid-client's messages carry neither.
 */
function failureText(err: unknown): string {
  if (!(err instanceof Error)) return 'the code exchange failed';
  const e = err as Error & { error?: unknown; error_description?: unknown; cause?: unknown };
  if (typeof e.error === 'string') {
    const description = typeof e.error_description === 'string' ? ` (${e.error_description.slice(0, 200)})` : '';
    return `the provider answered ${e.error.slice(0, 100)}${description}`;
  }
  const claim = (e.cause as { claim?: unknown } | undefined)?.claim;
  return typeof claim === 'string' ? `${e.message} (${claim})` : e.message;
}

export function registerLoginRoutes(router: Router, deps: LoginDeps): void {
  const { oidc, issuer, log, guard } = { ...deps, guard: router.guard };
  const flows = new LoginFlowCookie(deps.secret, oidc.redirectUri.startsWith('https:'));

  /** Runs `answer` (async) and writes what it gives, or the guard's 500 when it throws. */
  const later = (res: HttpResponse, url: string, answer: () => Promise<HttpAnswer>): void => {
    const state = trackAborted(res);
    answer().then(
      (a) => writeAnswer(res, a, state),
      (err: unknown) => {
        if (!state.aborted) guard.fail(res, err, url);
      },
    );
  };

  router.route('/auth/login', {
    get: (res) => {
      if (!oidc.ready) {
        const reason = oidc.reason ?? 'sign-in is not available';
        writeAnswer(
          res,
          errorAnswer(HttpCode.LOGIN_UNAVAILABLE, `sign-in is not available now: ${reason}`, {
            'Retry-After': String(UNAVAILABLE_RETRY_S),
          }),
        );
        return;
      }
      later(res, '/auth/login', async () => {
        const begun = await oidc.begin(FLOW_MAX_AGE_S);
        if (!begun) return errorAnswer(HttpCode.LOGIN_UNAVAILABLE, 'sign-in is not available now');
        return redirectAnswer(begun.url, [flows.seal(begun.flow)]);
      });
    },
  });

  router.route('/auth/callback', {
    get: (res, req) => {
      // Everything from req is read now: it is invalid once this callback returns.
      const query = req.getQuery() ?? '';
      const opened = flows.open(req.getHeader('cookie'));
      const refuse = (reason: string): HttpAnswer => {
        const a = errorAnswer(HttpCode.LOGIN_FAILED, `sign-in failed: ${reason}`);
        return { ...a, cookies: [flows.clear()] };
      };
      if (!opened.ok) return writeAnswer(res, refuse(opened.reason));
      const params = new URLSearchParams(query);
      // Checked here too (openid-client checks it again): a wrong state needs no provider round trip.
      if (params.get('state') !== opened.flow.state)
        return writeAnswer(res, refuse('the state does not match the sign-in this browser started'));
      later(res, '/auth/callback', async () => {
        let who: SignedIn;
        try {
          who = await oidc.finish(query, opened.flow);
        } catch (err) {
          const message = failureText(err);
          log.info({ reason: message }, 'sign-in refused');
          return refuse(message);
        }
        const account = issuer.account(who.issuer, who.subject);
        log.info({ identity: account.id }, 'signed in');
        return redirectAnswer('/', [sessionCookie(account.token), flows.clear()]);
      });
    },
  });

  router.route('/auth/logout', {
    get: (res) => writeAnswer(res, redirectAnswer('/', [clearSessionCookie()])),
  });
}
