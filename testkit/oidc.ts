/**
 * Sign-in tests against a real OpenID Connect provider: `oidc-provider` listening on loopback with
 * one registered client and its development interactions (a login form that accepts any account id
 * with any password, then a consent form). `Browser` is a small user agent: a cookie jar (by name:
 * every server here is on 127.0.0.1, and browsers do not separate cookies by port), redirects
 * followed by hand, and the two forms submitted, so the whole code flow runs over real HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'canvas-test';
export const CLIENT_SECRET = 'canvas-test-client-secret';

export interface TestProvider {
  issuer: string;
  stop(): Promise<void>;
}

/** A port free now (for a server whose URL must be known before it starts: the redirect URI). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A provider on a free loopback port that accepts `redirectUris` for CLIENT_ID. */
export async function startProvider(redirectUris: string[]): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: redirectUris,
        // openid-client's default client authentication when it has a secret.
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    cookies: { keys: ['canvas-test-provider-cookie-key'] },
    features: { devInteractions: { enabled: true } },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  body: string;
  /** The Set-Cookie values of this response. */
  setCookies: string[];
}

export class Browser {
  readonly cookies = new Map<string, string>();

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One request, no redirect followed; the response's cookies go into the jar. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { Cookie: this.cookieHeader() };
    let body: string | undefined;
    if (init.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    for (const c of setCookies) {
      const [pair = '', ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, url, headers: res.headers, body: await res.text(), setCookies };
  }

  /**
   * Signs in as `account` from `loginUrl` (the canvas's /auth/login): follows redirects, fills the
   * provider's login and consent forms, and stops before the canvas's callback, returning its URL
   * (so a test can change it, or take it with another browser). The canvas is `canvasOrigin`.
   */
  async toCallback(loginUrl: string, account: string): Promise<string> {
    const canvasOrigin = new URL(loginUrl).origin;
    let page = await this.request(loginUrl);
    for (let step = 0; step < 20; step++) {
      if (page.status >= 300 && page.status < 400) {
        const next = new URL(page.headers.get('location') ?? '', page.url).href;
        if (next.startsWith(`${canvasOrigin}/auth/callback`)) return next;
        page = await this.request(next);
        continue;
      }
      if (page.status !== 200) throw new Error(`sign-in stopped at ${page.url}: ${page.status} ${page.body}`);
      const action = new URL(/<form[^>]*action="([^"]+)"/.exec(page.body)?.[1] ?? '', page.url).href;
      const form: Record<string, string> = page.body.includes('name="prompt" value="login"')
        ? { prompt: 'login', login: account, password: 'any' }
        : { prompt: 'consent' };
      page = await this.request(action, { method: 'POST', form });
    }
    throw new Error('sign-in did not reach the callback in 20 steps');
  }

  /** The whole round trip: the callback's answer (302 to / with the identity cookie on success). */
  async signIn(loginUrl: string, account: string): Promise<Page> {
    return this.request(await this.toCallback(loginUrl, account));
  }
}
