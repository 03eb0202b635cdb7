/**
 * What the console's tables show, as rows of text: placements, identity summaries, audit entries,
 * the watch panel. Pure (the page's clock and the palette are passed in), so what a moderator reads
 * is unit tested; the DOM code only writes these strings with textContent.
 */
import type { Activity, AuditEntry, IdentitySummary, Placement, RollbackStatus, Signals } from './answers.ts';
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
  here: string;
  total: string;
  firstSeen: string;
  shared: string;
  signals: string;
  /** Worth a look first: shares its prefix with others, or a signal is raised. */
  suspicious: boolean;
}

/** True-ish signals: a true flag, a non-zero number, a non-empty text. */
function raised(s: Signals): Array<[string, number | string | boolean]> {
  const out: Array<[string, number | string | boolean]> = [];
  for (const [k, v] of Object.entries(s)) {
    if (v === null || v === false || v === 0 || v === '') continue;
    out.push([k, v]);
  }
  return out;
}

/** Signals as one line: "atCooldownShare 0.92 · fastClicks" (a flag by its name alone). */
export function signalsText(s: Signals): string {
  const parts = raised(s).map(([k, v]) => {
    if (v === true) return k;
    if (typeof v === 'number') return `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`;
    return `${k} ${v}`;
  });
  return parts.length === 0 ? '—' : parts.join(' · ');
}

export function sharedText(shared: number | boolean): string {
  if (shared === true) return 'shared';
  if (shared === false || shared <= 0) return '—';
  return `${shared} other${shared === 1 ? '' : 's'}`;
}

/** Identities most active in the rectangle first (ties: the newest identity first, the usual raid account). */
export function identityRows(ids: readonly IdentitySummary[], now: number): IdentityRow[] {
  return [...ids]
    .sort((a, b) => b.here - a.here || (b.firstSeen ?? 0) - (a.firstSeen ?? 0))
    .map((i) => ({
      id: i.id,
      here: String(i.here),
      total: String(i.total),
      firstSeen: i.firstSeen === null ? 'unknown' : `${clockText(i.firstSeen, now)} (${agoText(i.firstSeen, now)})`,
      shared: sharedText(i.sharedPrefix),
      signals: signalsText(i.signals),
      suspicious: (i.sharedPrefix !== false && i.sharedPrefix !== 0) || raised(i.signals).length > 0,
    }));
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
    surge: surgeText(a.surge),
    isLocked: a.locked !== null,
  };
}

/** Surge state as the server gives it: its mode and whether it is active, whatever else it says. */
export function surgeText(s: Readonly<Record<string, unknown>> | null): string {
  if (s === null) return 'off';
  const mode = typeof s['mode'] === 'string' ? s['mode'] : null;
  const active = s['active'];
  const state = active === true ? 'ACTIVE' : active === false ? 'inactive' : null;
  const parts = [mode, state].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(', ') : compact(s);
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
