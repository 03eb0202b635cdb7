/** What the user reads when the server refuses a placement. Keyed by the protocol's stable codes. */
import { PROTOCOL_VERSION } from '../../../protocol/messages.ts';
import { ErrorCode } from '../../../protocol/messages.ts';
import { formatWait } from '../place/cooldown.ts';

export function refusalText(code: string, serverMessage: string, waitMs: number | undefined): string {
  switch (code) {
    case ErrorCode.COOLDOWN:
      return waitMs === undefined
        ? 'Cooldown: wait a moment before placing again.'
        : `Cooldown: you can place again in ${formatWait(waitMs)}.`;
    case ErrorCode.BAD_COLOR:
      return 'That colour is not in the palette (the palette may have changed): pixel reverted.';
    case ErrorCode.OUT_OF_BOUNDS:
      return 'That pixel is outside the canvas: pixel reverted.';
    case ErrorCode.BANNED:
      return 'A moderator has banned this identity from placing pixels.';
    case ErrorCode.STORE_FAILED:
      return 'The server could not save your pixel. Try again in a moment.';
    case ErrorCode.SHUTTING_DOWN:
      return 'The server is restarting: pixel reverted. Try again once reconnected.';
    case ErrorCode.LOCKED:
      return `The moderators locked the canvas: ${serverMessage}`;
    case ErrorCode.UNAVAILABLE:
      return 'The canvas cannot take pixels right now: pixel reverted. Try again in a moment.';
    case ErrorCode.CHALLENGE_REQUIRED:
    case ErrorCode.CHALLENGE_INVALID:
      return 'This browser could not finish the anti-bot check (a short computation): pixel reverted. Try again.';
    case ErrorCode.LOGIN_REQUIRED:
      return 'Sign in to place (Sign in, top right): pixel reverted.';
    case ErrorCode.OUTCOME_UNKNOWN:
      return 'The server did not confirm your pixel in time: it may still appear. Check before placing again.';
    default:
      // Codes added later still reach the user, with the server's own wording.
      return `The server refused the pixel (${code}): ${serverMessage}`;
  }
}

/** Says what to do, not the version numbers (those go to the console, for whoever debugs it). */
export function versionMismatchText(serverVersion: number): string {
  console.warn(`protocol version: server ${serverVersion}, page ${PROTOCOL_VERSION}`);
  return 'This page is out of date: reload it.';
}

/** Shown while the anti-bot check runs (a few hundred ms to a couple of seconds, no click needed). */
export const CHECKING_TEXT = 'Checking this browser is not a bot (a short computation, no click needed)…';
export const NOT_CONNECTED_TEXT = 'Not connected: placing is disabled until the connection is back.';
export const POLLING_TEXT = 'The server cannot be reached (the WebSocket is blocked and polls fail): placing is off.';
export const HISTORY_TEXT = 'Viewing history: placing is off. Close the History panel to place again.';
export const CONNECTION_LOST_TEXT = 'Connection lost before the server confirmed your pixel: reverted.';
/** --login required and this page's identity is anonymous (hello): said instead of trying the pixel. */
export const SIGN_IN_TEXT = 'Sign in to place: use Sign in, top right. Watching needs no account.';

export const NETWORK_LIMIT_TEXT =
  'Your network shares one limit with everyone on it (a school, an office, a venue): others placed just before you. Your pixel was not placed; the countdown shows when the network may place again.';
