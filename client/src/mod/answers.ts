/**
 * The admin API's answers as types, and the checks that turn a parsed JSON body into them. The page
 * trusts nothing it did not check: a field of the wrong type makes the whole answer unreadable (null),
 * which the page says, rather than drawing `undefined` into a table. DOM-free, unit tested. The
 * shapes the server builds are protocol/http-api.ts's; those only the page uses are here.
 */
import type { Area, AuditEntry, IdentitySignals, IdentitySummary, LookRow } from '../../../protocol/http-api.ts';

export type { AuditEntry, IdentitySummary };
export type Rect = Area;
export type Placement = LookRow;

/** Bot-like signals as the server names them; shown as they come (the set may grow). */
export type Signals = IdentitySignals;

export interface PlacementsPage {
  placements: Placement[];
  /** The cursor of the next (older) page, or null at the end. */
  next: number | null;
  /** The identities of this page's placements. */
  identities: IdentitySummary[];
  /** The server is still building its identity totals after a start: totals may be short. */
  indexing: boolean;
}

export interface RollbackStarted {
  job: string;
  pixels: number;
}

export type JobState = 'running' | 'done' | 'failed';

export interface RollbackStatus {
  job: string;
  state: JobState;
  done: number;
  total: number;
  error: string | null;
}

export interface RollbackPreview {
  pixels: number;
  placements: number;
  /** Base64 PNGs of the rectangle now and after the rollback. */
  before: string;
  after: string;
}

export interface HotArea extends Rect {
  n: number;
}

export interface Activity {
  placementsPerSecond: number;
  newIdentitiesPerSecond: number;
  topPlacers: Array<{ id: string; n: number }>;
  hotAreas: HotArea[];
  /** The lock as the server describes it (e.g. until, reason), or null when unlocked. */
  locked: Readonly<Record<string, unknown>> | null;
  surge: Readonly<Record<string, unknown>> | null;
}

/** A sanctioned bot of GET /api/admin/bots (README "Sanctioned bots"). */
export interface BotInfo {
  id: string;
  name: string;
  /** Its quota: one pixel per everyMs. */
  everyMs: number;
  /** Where it may place; null: anywhere. */
  region: Rect | null;
  created: number;
  /** When it stops placing; null: until revoked. */
  expires: number | null;
  revoked: number | null;
  /** `active`, `revoked` or `expired` (shown as it comes). */
  state: string;
  /** Its pixels, all time; null when the server does not say. */
  placed: number | null;
}

/** The mint's answer: the bot and its token, shown this once. */
export interface MintedBot extends BotInfo {
  token: string;
}

type Obj = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Each element through `item`, or null if any element does not pass. */
function listOf<T>(v: unknown, item: (e: unknown) => T | null): T[] | null {
  if (!Array.isArray(v)) return null;
  const out: T[] = [];
  for (const e of v) {
    const parsed = item(e);
    if (parsed === null) return null;
    out.push(parsed);
  }
  return out;
}

function rectOf(o: Obj): Rect | null {
  const { x, y, width, height } = o;
  return isNum(x) && isNum(y) && isNum(width) && isNum(height) ? { x, y, width, height } : null;
}

export function parsePlacement(v: unknown): Placement | null {
  if (!isObj(v)) return null;
  const { seq, x, y, color, who, at } = v;
  return isNum(seq) && isNum(x) && isNum(y) && isNum(color) && isStr(who) && isNum(at)
    ? { seq, x, y, color, who, at }
    : null;
}

function parseSignals(v: unknown): Signals | null {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) return null;
  const out: Record<string, number | string | boolean | null> = {};
  for (const [k, s] of Object.entries(v)) {
    if (s === null || isNum(s) || isStr(s) || typeof s === 'boolean') out[k] = s;
    else out[k] = JSON.stringify(s); // nested: still shown, as text
  }
  return out;
}

export function parseIdentity(v: unknown): IdentitySummary | null {
  if (!isObj(v)) return null;
  const { id, here, total, firstSeen, prefix, sharedPrefix } = v;
  const signals = parseSignals(v['signals']);
  if (!isStr(id) || !isNum(here) || !isNum(total) || signals === null) return null;
  return {
    id,
    here,
    total,
    firstSeen: isNum(firstSeen) ? firstSeen : null,
    prefix: isStr(prefix) ? prefix : null,
    sharedPrefix: isNum(sharedPrefix) ? sharedPrefix : 0,
    signals,
    ...(isStr(v['name']) ? { name: v['name'] } : {}),
    ...parseBanned(v['banned']),
  };
}

function parseBanned(v: unknown): Pick<IdentitySummary, 'banned'> {
  if (!isObj(v) || !isStr(v['reason']) || (v['scope'] !== 'identity' && v['scope'] !== 'network')) return {};
  const until = isNum(v['until']) ? v['until'] : null;
  return { banned: { reason: v['reason'], until, scope: v['scope'] } };
}

export function parsePlacementsPage(v: unknown): PlacementsPage | null {
  if (!isObj(v)) return null;
  const placements = listOf(v['placements'], parsePlacement);
  const identities = listOf(v['identities'] ?? [], parseIdentity);
  const next = v['next'];
  if (!placements || !identities || !(next === null || next === undefined || isNum(next))) return null;
  return { placements, next: next ?? null, identities, indexing: v['indexing'] === true };
}

export function parseRollbackStarted(v: unknown): RollbackStarted | null {
  if (!isObj(v)) return null;
  const { job, pixels } = v;
  // A job id may come as a number or a string; the page only shows it and compares it.
  return (isStr(job) || isNum(job)) && isNum(pixels) ? { job: String(job), pixels } : null;
}

export function parseRollbackStatus(v: unknown): RollbackStatus | null {
  if (!isObj(v)) return null;
  const { job, state, done, total, error } = v;
  if (!(isStr(job) || isNum(job)) || !isNum(done) || !isNum(total)) return null;
  if (state !== 'running' && state !== 'done' && state !== 'failed') return null;
  return { job: String(job), state, done, total, error: isStr(error) ? error : null };
}

export function parseRollbackPreview(v: unknown): RollbackPreview | null {
  if (!isObj(v)) return null;
  const { pixels, placements, before, after } = v;
  return isNum(pixels) && isNum(placements) && isStr(before) && isStr(after)
    ? { pixels, placements, before, after }
    : null;
}

function parseHotArea(v: unknown): HotArea | null {
  if (!isObj(v)) return null;
  const r = rectOf(v);
  return r && isNum(v['n']) ? { ...r, n: v['n'] } : null;
}

function parsePlacer(v: unknown): { id: string; n: number } | null {
  return isObj(v) && isStr(v['id']) && isNum(v['n']) ? { id: v['id'], n: v['n'] } : null;
}

export function parseActivity(v: unknown): Activity | null {
  if (!isObj(v)) return null;
  const { placementsPerSecond, newIdentitiesPerSecond, locked, surge } = v;
  const topPlacers = listOf(v['topPlacers'] ?? [], parsePlacer);
  const hotAreas = listOf(v['hotAreas'] ?? [], parseHotArea);
  if (!isNum(placementsPerSecond) || !isNum(newIdentitiesPerSecond) || !topPlacers || !hotAreas) return null;
  return {
    placementsPerSecond,
    newIdentitiesPerSecond,
    topPlacers,
    hotAreas,
    locked: isObj(locked) ? locked : null,
    surge: isObj(surge) ? surge : null,
  };
}

function parseAuditEntry(v: unknown): AuditEntry | null {
  if (!isObj(v)) return null;
  const { id, at, actor, action } = v;
  return isNum(id) && isNum(at) && isStr(actor) && isStr(action)
    ? { id, at, actor, action, params: v['params'] ?? null, result: v['result'] ?? null }
    : null;
}

export function parseAudit(v: unknown): AuditEntry[] | null {
  return isObj(v) ? listOf(v['entries'], parseAuditEntry) : null;
}

/** Any JSON object (the answers of ban, lock and the like, shown only as a confirmation). */
export function parseObject(v: unknown): Obj | null {
  return isObj(v) ? v : null;
}

const numOrNull = (v: unknown): number | null | undefined =>
  v === null || v === undefined ? null : isNum(v) ? v : undefined;

export function parseBot(v: unknown): BotInfo | null {
  if (!isObj(v)) return null;
  const { id, name, everyMs, created, state } = v;
  const region =
    v['region'] === null || v['region'] === undefined ? null : isObj(v['region']) ? rectOf(v['region']) : null;
  const expires = numOrNull(v['expires']);
  const revoked = numOrNull(v['revoked']);
  const placed = numOrNull(v['placed']);
  if (!isStr(id) || !isStr(name) || !isNum(everyMs) || !isNum(created) || !isStr(state)) return null;
  if (expires === undefined || revoked === undefined || placed === undefined) return null;
  if (region === null && v['region'] !== null && v['region'] !== undefined) return null;
  return { id, name, everyMs, region, created, expires, revoked, state, placed };
}

export function parseBots(v: unknown): BotInfo[] | null {
  return isObj(v) ? listOf(v['bots'], parseBot) : null;
}

export function parseMintedBot(v: unknown): MintedBot | null {
  const bot = parseBot(v);
  return bot && isObj(v) && isStr(v['token']) ? { ...bot, token: v['token'] } : null;
}
