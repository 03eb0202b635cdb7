/** What the status pill and the cooldown timer say, from the connection state. Pure, unit tested. */
import type { ConnectionStatus } from '../connection/connection.ts';
import { type ChargeClock, formatWait } from '../place/cooldown.ts';

export type StatusKind = 'connecting' | 'loading' | 'connected' | 'reconnecting' | 'polling' | 'offline';

export interface StatusInput {
  conn: ConnectionStatus;
  /** A snapshot of the canvas has arrived (before it, there is nothing to show or place on). */
  loaded: boolean;
  /** The /image poller runs (the WebSocket looks blocked). */
  polling: boolean;
  /** The last poll reached the server. */
  pollOk: boolean;
  /** ms until the next WebSocket attempt (while waiting). */
  retryInMs: number;
}

export function statusFor(i: StatusInput): { kind: StatusKind; text: string } {
  const { conn } = i;
  if (conn.kind === 'open') {
    return i.loaded ? { kind: 'connected', text: 'Live' } : { kind: 'loading', text: 'Loading the canvas…' };
  }
  if (i.polling) {
    return i.pollOk
      ? { kind: 'polling', text: 'Live via polling (WebSocket blocked on this network)' }
      : { kind: 'offline', text: 'Offline: the server cannot be reached; retrying' };
  }
  switch (conn.kind) {
    case 'connecting':
      return conn.attempt === 1
        ? { kind: 'connecting', text: 'Connecting…' }
        : { kind: 'reconnecting', text: 'Reconnecting…; placing disabled' };
    case 'waiting':
      return { kind: 'reconnecting', text: `Disconnected: retrying in ${formatWait(i.retryInMs)}; placing disabled` };
    case 'stopped':
      return { kind: 'offline', text: 'Offline' };
  }
}

/**
 * The cooldown timer: empty while placing is impossible anyway (the status explains why). With
 * charges (`charges` as of `now`): "2 of 5 pixels", and while a refill runs, when the next comes
 * back; waiting only while none can be placed.
 */
export function cooldownFor(
  waitMs: number,
  cooldownMs: number,
  placingEnabled: boolean,
  charges?: ChargeClock,
  now = 0,
): { text: string; waiting: boolean } {
  if (!placingEnabled) return { text: '', waiting: false };
  if (charges) {
    const count = `${charges.left} of ${charges.max} ${charges.max === 1 ? 'pixel' : 'pixels'}`;
    // The wait may be the network's (a shared address) while this player still holds charges.
    if (waitMs > 0) return { text: `${count} · next in ${formatWait(waitMs)}`, waiting: true };
    if (charges.nextAt === undefined) return { text: count, waiting: false };
    return { text: `${count} · +1 in ${formatWait(charges.nextAt - now)}`, waiting: false };
  }
  if (waitMs > 0) return { text: `Next pixel in ${formatWait(waitMs)}`, waiting: true };
  return { text: cooldownMs > 0 ? 'Ready to place' : 'Ready (no cooldown)', waiting: false };
}

/** The page's name in the tab title. */
export const PAGE_TITLE = 'Canvas';

/**
 * The tab title, so a player in another tab sees the countdown and when it is ready: "0:42 · Canvas",
 * "Ready · Canvas"; the plain name while placing is impossible or the server has no cooldown.
 */
export function titleFor(waitMs: number, cooldownMs: number, placingEnabled: boolean): string {
  if (!placingEnabled) return PAGE_TITLE;
  if (waitMs > 0) return `${formatWait(waitMs)} · ${PAGE_TITLE}`;
  return cooldownMs > 0 ? `Ready · ${PAGE_TITLE}` : PAGE_TITLE;
}
