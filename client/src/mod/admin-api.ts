/**
 * The console's one way to the server: every privileged request goes through `AdminApi`, to the
 * existing admin routes, with the token in the Authorization header (never a URL, never a cookie).
 * A 401 drops the token and asks for it again (`unauthorized`). Answers are checked (answers.ts) and
 * failures come back as values with the server's stable `error` code, never thrown. `fetch` is
 * injected, so this is unit tested in Node.
 */
import {
  type Activity,
  type AuditEntry,
  type BotInfo,
  type MintedBot,
  parseActivity,
  parseBots,
  parseMintedBot,
  parseAudit,
  parseObject,
  parsePlacementsPage,
  parseRollbackPreview,
  parseRollbackStarted,
  parseRollbackStatus,
  type PlacementsPage,
  type Rect,
  type RollbackPreview,
  type RollbackStarted,
  type RollbackStatus,
} from './answers.ts';
import {
  banBody,
  type BanTarget,
  type BotMintBody,
  placementsPath,
  type RollbackBody,
  type TimeWindow,
} from './queries.ts';

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** A failed request: HTTP status (0: the server was not reached) and the server's `error` code. */
export interface ApiFailure {
  ok: false;
  status: number;
  code: string;
  message: string;
}

export type ApiResult<T> = { ok: true; value: T } | ApiFailure;

export interface AdminApiDeps {
  fetch: Fetch;
  /** The admin token, or null when none was entered (the request is then not sent). */
  token(): string | null;
  /** The server refused the token (401): the page forgets it and asks again. */
  unauthorized(): void;
}

export class AdminApi {
  constructor(private readonly d: AdminApiDeps) {}

  /** A cheap authorised request, to check a token entered by hand. */
  check(): Promise<ApiResult<AuditEntry[]>> {
    return this.get('/api/admin/audit?limit=1', parseAudit);
  }

  placements(rect: Rect, window: TimeWindow, before: number | null): Promise<ApiResult<PlacementsPage>> {
    return this.get(placementsPath(rect, window, before), parsePlacementsPage);
  }

  preview(body: RollbackBody): Promise<ApiResult<RollbackPreview>> {
    return this.send('POST', '/api/admin/rollback/preview', body, parseRollbackPreview);
  }

  rollback(body: RollbackBody): Promise<ApiResult<RollbackStarted>> {
    return this.send('POST', '/api/admin/rollback', body, parseRollbackStarted);
  }

  rollbackStatus(): Promise<ApiResult<RollbackStatus>> {
    return this.get('/api/admin/rollback', parseRollbackStatus);
  }

  activity(): Promise<ApiResult<Activity>> {
    return this.get('/api/admin/activity', parseActivity);
  }

  audit(limit: number): Promise<ApiResult<AuditEntry[]>> {
    return this.get(`/api/admin/audit?limit=${Math.floor(limit)}`, parseAudit);
  }

  ban(target: BanTarget, reason: string, seconds: number | null) {
    return this.send('POST', '/api/admin/ban', banBody(target, reason, seconds), parseObject);
  }

  unban(target: BanTarget) {
    return this.send('POST', '/api/admin/unban', target, parseObject);
  }

  lock(seconds: number, reason: string) {
    return this.send('POST', '/api/admin/lock', { seconds: Math.floor(seconds), reason: reason.trim() }, parseObject);
  }

  unlock() {
    return this.send('POST', '/api/admin/unlock', {}, parseObject);
  }

  /** Removes the display name an identity chose (README "Display names"). */
  clearName(id: string) {
    return this.send('POST', '/api/admin/names/clear', { id }, parseObject);
  }

  bots(): Promise<ApiResult<BotInfo[]>> {
    return this.get('/api/admin/bots', parseBots);
  }

  mintBot(body: BotMintBody): Promise<ApiResult<MintedBot>> {
    return this.send('POST', '/api/admin/bots', body, parseMintedBot);
  }

  revokeBot(id: string) {
    return this.send('POST', '/api/admin/bots/revoke', { id }, parseObject);
  }

  /** Surge mode; a 404 means this server has no switch (the page then says so and hides it). */
  surge(mode: 'auto' | 'off') {
    return this.send('POST', '/api/admin/surge', { mode }, parseObject);
  }

  private get<T>(path: string, parse: (v: unknown) => T | null): Promise<ApiResult<T>> {
    return this.send('GET', path, undefined, parse);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    parse: (v: unknown) => T | null,
  ): Promise<ApiResult<T>> {
    const token = this.d.token();
    if (token === null) return { ok: false, status: 401, code: 'unauthorized', message: 'no admin token entered' };
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.d.fetch(path, {
        method,
        headers,
        // No cookies: the console authenticates by its token alone, not as the player of this browser.
        credentials: 'omit',
        cache: 'no-store',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      return { ok: false, status: 0, code: 'unreachable', message: 'the server could not be reached' };
    }
    const json: unknown = await res.json().catch(() => null);
    if (res.status === 401) this.d.unauthorized();
    if (!res.ok) return failure(res.status, json);
    const value = parse(json);
    return value === null
      ? { ok: false, status: res.status, code: 'bad_answer', message: `unexpected answer from ${path.split('?')[0]}` }
      : { ok: true, value };
  }
}

function failure(status: number, json: unknown): ApiFailure {
  const o = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const code = typeof o['error'] === 'string' ? o['error'] : `http_${status}`;
  const message = typeof o['message'] === 'string' ? o['message'] : `HTTP ${status}`;
  return { ok: false, status, code, message };
}

/** What to tell the moderator about a failed request (keyed on status and code, the message added). */
export function failureText(f: ApiFailure, what: string): string {
  if (f.status === 0) return `${what}: the server could not be reached.`;
  if (f.status === 401) return `${what}: the admin token was refused; enter it again.`;
  if (f.status === 404 && f.code === 'not_found' && /disabled/.test(f.message))
    return `${what}: the moderation API is off on this server (no --admin-token).`;
  if (f.status === 404) return `${what}: this server does not offer it yet.`;
  if (f.status === 409) return `${what}: another rollback is running; wait for it to finish.`;
  if (f.status === 413) return `${what}: the area is too large (${f.message}).`;
  if (f.code === 'bad_answer') return `${what}: ${f.message}.`;
  return `${what} failed (${f.code}): ${f.message}`;
}
