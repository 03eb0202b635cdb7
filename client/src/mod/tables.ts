/**
 * What the console's tables show, as rows of text: placements, identity summaries, audit entries,
 * the watch panel. Pure (the page's clock and the palette are passed in), so what a moderator reads
 * is unit tested; the DOM code only writes these strings with textContent.
 */
import type { Activity, AuditEntry, BotInfo, IdentitySummary, Placement, RollbackStatus, Signals } from './answers.ts';
import { cssColour, colourName } from '../ui/colours.ts';
import { agoText, clockText, durationText } from './time-window.ts';

export interface PlacementRow {
  seq: number;
  where: string;
  /** CSS colour of the swatch, or null for an index outside the palette. */
  css: string | null;
  colour: string;
  who: string;
  when: string;
  ago: string;
}

export function placementRow(p: Placement, palette: readonly number[], now: number): PlacementRow {
  const rgb = palette[p.color];
  return {
    seq: p.seq,
    where: `(${p.x}, ${p.y})`,
    css: rgb === undefined ? null : cssColour(rgb),
    colour: rgb === undefined ? `#${p.color}` : `${colourName(rgb)} (${p.color})`,
    who: p.who,
    when: clockText(p.at, now),
    ago: agoText(p.at, now),
  };
}

export interface IdentityRow {
  id: string;
  /** The id, with its display name when it chose one. */
  label: string;
  /** Banned by its own ban (the row's button then unbans). */
  bannedIdentity: boolean;
  /** The ban in force, as text ("banned: raid, until 15:30"; "network banned: ..."); empty when none. */
  ban: string;
  here: string;
  total: string;
  firstSeen: string;
  shared: string;
  signals: string;
  /** Worth a look first: shares its prefix with others, or a signal is bot-like. */
  suspicious: boolean;
}

/**
 * A share signal at or above this is bot-like: the server's `atCooldownShare` is the share of an
 * identity's placements made within 250 ms of its cooldown ending, which people rarely manage twice.
 */
export const BOT_SHARE = 0.5;

/**
 * Signals worth showing: not the time fields (firstAt, lastAt: the table has first seen), not the
 * placement count (the table has totals), not zeros.
 */
function shown(s: Signals): Array<[string, number | string | boolean]> {
  const out: Array<[string, number | string | boolean]> = [];
  for (const [k, v] of Object.entries(s)) {
    if (v === null || v === false || v === 0 || v === '' || TIME_FIELD.test(k) || k === 'placements') continue;
    out.push([k, v]);
  }
  return out;
}

/** Bot-like: a raised flag, or a share signal at or above BOT_SHARE (a count of placements is not). */
export function botLike(s: Signals): boolean {
  return Object.entries(s).some(
    ([k, v]) => v === true || (/Share$/.test(k) && typeof v === 'number' && v >= BOT_SHARE),
  );
}

/** Signals as one line: "atCooldownShare 92% · burst" (a flag by its name alone, shares as percent). */
export function signalsText(s: Signals): string {
  const parts = shown(s).map(([k, v]) => {
    if (v === true) return k;
    if (typeof v === 'number' && /Share$/.test(k)) return `${k} ${Math.round(v * 100)}%`;
    if (typeof v === 'number') return `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`;
    return `${k} ${v}`;
  });
  return parts.length === 0 ? '—' : parts.join(' · ');
}

/**
 * The server's sharedPrefix counts the identities whose latest placement came from the prefix, this one
 * included (server/moderation/identity-index.ts `sharing`): 1 is alone, 3 is this one and 2 others.
 */
export function sharedText(shared: number | boolean): string {
  if (shared === true) return 'shared';
  if (shared === false || shared <= 1) return '—';
  return `${shared} identities`;
}

const sharesPrefix = (shared: number | boolean): boolean =>
  shared === true || (typeof shared === 'number' && shared > 1);

/** Identities most active in the rectangle first (ties: the newest identity first, the usual raid account). */
export function identityRows(ids: readonly IdentitySummary[], now: number): IdentityRow[] {
  return [...ids]
    .sort((a, b) => b.here - a.here || (b.firstSeen ?? 0) - (a.firstSeen ?? 0))
    .map((i) => ({
      id: i.id,
      label: i.name === undefined ? i.id : `${i.id} (${i.name})`,
      bannedIdentity: i.banned?.scope === 'identity',
      ban: banText(i.banned, now),
      here: String(i.here),
      total: String(i.total),
      firstSeen: i.firstSeen === null ? 'unknown' : `${clockText(i.firstSeen, now)} (${agoText(i.firstSeen, now)})`,
      shared: sharedText(i.sharedPrefix),
      signals: signalsText(i.signals),
      suspicious: sharesPrefix(i.sharedPrefix) || botLike(i.signals),
    }));
}

function banText(ban: IdentitySummary['banned'], now: number): string {
  if (!ban) return '';
  const who = ban.scope === 'network' ? 'network banned' : 'banned';
  return `${who}: ${ban.reason}${ban.until === null ? '' : `, until ${clockText(ban.until, now)}`}`;
}

export interface AuditRow {
  id: number;
  when: string;
  actor: string;
  action: string;
  detail: string;
}

/** Fields that hold a Unix ms time (since, until, lockedUntil, at): shown as a clock, not 13 digits. */
const TIME_FIELD = /^(since|until|at)$|Until$|At$/;

/**
 * A JSON value as short text: objects as `k=v` pairs, so "id=3f… reason=raid" reads in one line;
 * times as the clock when `now` is given.
 */
function compact(v: unknown, now?: number): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.map((x) => compact(x, now)).join(',');
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => {
      if (now !== undefined && typeof x === 'number' && TIME_FIELD.test(k) && x > 0) return `${k}=${clockText(x, now)}`;
      return `${k}=${typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)}`;
    })
    .join(' ');
}

export function auditRow(e: AuditEntry, now: number): AuditRow {
  const params = compact(e.params, now);
  const result = compact(e.result, now);
  return {
    id: e.id,
    when: clockText(e.at, now),
    actor: e.actor,
    action: e.action,
    detail: result === '' ? params : `${params} → ${result}`,
  };
}

/**
 * The entries whose row text holds every word of `filter` (case-insensitive, any order): "ban raid"
 * finds the bans whose reason says raid.
 */
export function filterAudit(rows: readonly AuditRow[], filter: string): AuditRow[] {
  const words = filter
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return [...rows];
  return rows.filter((r) => {
    const text = `${r.when} ${r.actor} ${r.action} ${r.detail}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

export interface WatchView {
  rate: string;
  newIds: string;
  locked: string;
  surge: string;
  /** Whether the canvas is locked now (the lock button becomes unlock). */
  isLocked: boolean;
}

const rateText = (perSecond: number): string =>
  perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(perSecond === 0 ? 0 : 1);

/** The state texts of the watch panel. */
export function watchView(a: Activity, now: number): WatchView {
  const until = a.locked?.['until'] ?? a.locked?.['lockedUntil'];
  const reason = a.locked?.['reason'];
  let locked = 'open';
  if (a.locked) {
    const left = typeof until === 'number' ? ` for ${durationText((until - now) / 1000)}` : '';
    locked = `LOCKED${left}${typeof reason === 'string' && reason !== '' ? ` (${reason})` : ''}`;
  }
  return {
    rate: `${rateText(a.placementsPerSecond)} placements/s`,
    newIds: `${rateText(a.newIdentitiesPerSecond)} new identities/s`,
    locked,
    surge: surgeText(a.surge, now),
    isLocked: a.locked !== null,
  };
}

/**
 * Surge state as the server gives it: `{since}` while a surge is on (null: none), or a mode and
 * whether it is active; anything else shown as it comes.
 */
export function surgeText(s: Readonly<Record<string, unknown>> | null, now: number): string {
  if (s === null) return 'no surge';
  const mode = typeof s['mode'] === 'string' ? s['mode'] : null;
  const active = s['active'];
  const since = s['since'];
  const state =
    typeof since === 'number'
      ? `SURGE since ${clockText(since, now)}`
      : active === true
        ? 'SURGE'
        : active === false
          ? 'no surge'
          : null;
  const parts = [mode, state].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(', ') : compact(s, now);
}

/** "1 pixel", "2 pixels". */
export const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The rollback's progress readout, and its end. */
export function progressText(s: RollbackStatus): string {
  switch (s.state) {
    case 'running':
      return `Rolling back: ${s.done} of ${count(s.total, 'pixel')}…`;
    case 'done':
      return `Rolled back ${count(s.total, 'pixel')}.`;
    case 'failed':
      return `The rollback failed after ${s.done} of ${count(s.total, 'pixel')}${s.error ? `: ${s.error}` : '.'}`;
  }
}

export interface BotRow {
  id: string;
  name: string;
  quota: string;
  region: string;
  expires: string;
  placed: string;
  /** "active", or when it was revoked or expired. */
  state: string;
  active: boolean;
}

/** "every 10 s", "every 0.5 s", "every 2 min". */
export function quotaText(everyMs: number): string {
  const s = everyMs / 1000;
  if (s < 60 || s % 60 !== 0) return `1 px every ${Number(s.toFixed(1))} s`;
  return s % 3600 === 0 ? `1 px every ${s / 3600} h` : `1 px every ${s / 60} min`;
}

/** A bot as the bots table shows it. */
export function botRow(b: BotInfo, now: number): BotRow {
  const r = b.region;
  let state = b.state;
  if (b.revoked !== null) state = `revoked ${agoText(b.revoked, now)}`;
  else if (b.state === 'expired' && b.expires !== null) state = `expired ${agoText(b.expires, now)}`;
  return {
    id: b.id,
    name: b.name,
    quota: quotaText(b.everyMs),
    region: r === null ? 'anywhere' : `${r.x},${r.y} ${r.width} × ${r.height}`,
    expires: b.expires === null ? 'never' : clockText(b.expires, now),
    placed: b.placed === null ? '—' : String(b.placed),
    state,
    active: b.state === 'active',
  };
}
