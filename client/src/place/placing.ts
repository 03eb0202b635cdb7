/**
 * Placing a colour: the selected colour (palette bar, keys), the cooldown deadline, and a placement's
 * life from the optimistic pixel through `place` to the server's `ack` or `error`. A pixel chosen with
 * no colour in hand opens the pixel info panel instead. Which pixel is chosen (a click, the reticle)
 * is the aim controller's business (aiming.ts); what is on screen is the page's.
 */
import {
  ErrorCode,
  MsgType,
  type AckMsg,
  type ErrorMsg,
  type HelloMsg,
  type PlaceMsg,
} from '../../../protocol/messages.ts';
import type { Board } from '../board/board.ts';
import { cycleColour } from '../input/key-map.ts';
import {
  CONNECTION_LOST_TEXT,
  HISTORY_TEXT,
  NETWORK_LIMIT_TEXT,
  NOT_CONNECTED_TEXT,
  POLLING_TEXT,
  SIGN_IN_TEXT,
  refusalText,
} from '../ui/error-text.ts';
import type { Ui } from '../ui/ui.ts';
import type { Point } from '../view/view.ts';
import { type ChargeClock, chargesAt, chargesFromServer, deadlineFromAck, deadlineFromWait } from './cooldown.ts';
import type { ProofOfWork } from './proof-of-work.ts';

/** Solves per refused placement before it is given up (a second refusal means something is off). */
const MAX_SOLVES_PER_PLACEMENT = 2;

export interface PixelInfoView {
  show(x: number, y: number, scale: number, palette: readonly number[]): void;
  hide(): void;
}

export interface PlacingDeps {
  board(): Board | null;
  /** Connected, the board loaded and not in History: the palette is on. */
  enabled(): boolean;
  /** The History view is open (placing is off, and says so). */
  history(): boolean;
  /** The WebSocket is blocked and the page polls /image (placing is off, and says why). */
  polling(): boolean;
  /** The view's zoom, for the pixel info panel's link. */
  scale(): number;
  send(msg: PlaceMsg): boolean;
  now(): number;
  ui: Pick<Ui, 'setPalette' | 'setSelected' | 'showMessage' | 'hideMessage' | 'nudgeCooldown'>;
  info: PixelInfoView;
  /** Draws what the board shows at (x, y) now. */
  paintPixel(board: Board, x: number, y: number): void;
  /** The cursor readout: show this pixel, or read the hovered one again after a change. */
  cursor: { show(pixel: Point): void; refresh(): void };
  /** The selected colour changed (the confirm button and the position link follow it). */
  selectionChanged(): void;
  /** The cooldown deadline changed (the countdown follows it). */
  timersChanged(): void;
  /** The persistent ban notice: set by hello or a `banned` refusal, cleared by hello or an accepted placement. */
  ban?: { set(reason: string | null): void };
  /** Solves the server's proof-of-work challenges; absent: a challenge refusal reverts the pixel. */
  pow?: ProofOfWork;
}

export class Placing {
  private colour: number | null = null;
  private cooldown = 0;
  private allowedAt = 0;
  /** Pixel charges, when the server runs them (hello.charges); null: the fixed cooldown. */
  private charges: ChargeClock | null = null;
  private nextId = 1;
  /** Placements sent and not answered yet, for sending again with a solved challenge. */
  private readonly inFlight = new Map<number, { x: number; y: number; c: number; solves: number }>();
  /** hello said only accounts place (--login required) and this identity is anonymous. */
  private signInNeeded = false;

  constructor(private readonly d: PlacingDeps) {}

  /** The palette index in hand, or null (a click then shows pixel info). */
  get selected(): number | null {
    return this.colour;
  }

  /** The selected colour as 0xRRGGBB, or null. */
  get selectedRgb(): number | null {
    return this.colour === null ? null : (this.d.board()?.palette[this.colour] ?? null);
  }

  /**
   * Local time from which the next placement is allowed, the server's cooldown (with charges: ms per
   * charge), and the charges as of now when the server runs them. With charges the deadline is the
   * server's `next`: now while any are left, so placing goes on while a refill runs.
   */
  get cooldownState(): { nextAllowedAt: number; cooldownMs: number; charges?: ChargeClock } {
    const state = { nextAllowedAt: this.allowedAt, cooldownMs: this.cooldown };
    return this.charges ? { ...state, charges: chargesAt(this.charges, this.d.now(), this.cooldown) } : state;
  }

  /**
   * A board of a new shape or palette: a colour it lacks is dropped, `linkColour` (the position link's,
   * given for the first board only) is taken, and the palette bar shows the new palette.
   */
  boardReplaced(board: Board, linkColour: number | null): void {
    if (this.colour !== null && this.colour >= board.palette.length) this.colour = null;
    if (linkColour !== null) this.colour = linkColour;
    this.d.ui.setPalette(board.palette, this.colour);
  }

  pick(index: number): void {
    const board = this.d.board();
    if (board && index >= board.palette.length) return;
    this.colour = index;
    this.d.ui.setSelected(index);
    this.d.info.hide(); // a colour in hand: clicks place again
    this.d.selectionChanged();
  }

  /** A swatch clicked: picks its colour, or puts it down when it is the one in hand. */
  toggle(index: number): void {
    if (index === this.colour) this.unpick();
    else this.pick(index);
  }

  /** No colour in hand (the look tool, Esc, the selected swatch again): clicks show pixel info. */
  unpick(): void {
    if (this.colour === null) return;
    this.colour = null;
    this.d.ui.setSelected(null);
    this.d.selectionChanged();
  }

  /** Shows who placed a pixel whatever is in hand (right click or a modifier click). */
  inspect(pixel: Point): void {
    const board = this.d.board();
    if (!board) return;
    if (this.d.history()) return this.d.ui.showMessage(HISTORY_TEXT, 'info');
    this.d.cursor.show(pixel);
    this.d.info.show(pixel.x, pixel.y, this.d.scale(), board.palette);
  }

  /** The next or previous colour of the palette (keyboard `]` and `[`). */
  cycle(step: 1 | -1): void {
    const next = cycleColour(this.colour, step, this.d.board()?.palette.length ?? 0);
    if (next !== null) this.pick(next);
  }

  /** Places the selected colour at a pixel, or with none selected shows who placed it. */
  placeAt(pixel: Point): void {
    const board = this.d.board();
    if (!board) return;
    const ui = this.d.ui;
    if (this.d.history()) return ui.showMessage(HISTORY_TEXT, 'info');
    this.d.cursor.show(pixel);
    const offline = this.d.polling() ? POLLING_TEXT : NOT_CONNECTED_TEXT;
    if (this.colour === null) {
      this.d.info.show(pixel.x, pixel.y, this.d.scale(), board.palette);
      if (!this.d.enabled()) ui.showMessage(offline, 'error'); // say why the palette is off
      return;
    }
    if (!this.d.enabled()) return ui.showMessage(offline, 'error');
    if (this.allowedAt - this.d.now() > 0) return this.pointAtCooldown();
    if (this.signInNeeded) return ui.showMessage(SIGN_IN_TEXT, 'info');
    const id = this.nextId++;
    board.placeOptimistic(id, pixel.x, pixel.y, this.colour);
    this.d.paintPixel(board, pixel.x, pixel.y);
    this.d.cursor.show(pixel);
    const msg: PlaceMsg = { t: MsgType.PLACE, id, x: pixel.x, y: pixel.y, c: this.colour };
    const pow = this.d.pow?.take();
    if (pow !== undefined) msg.pow = pow;
    this.inFlight.set(id, { x: msg.x, y: msg.y, c: msg.c, solves: 0 });
    if (!this.d.send(msg)) this.revert(id, NOT_CONNECTED_TEXT);
  }

  /**
   * A refusal that carries a challenge: solve it in the background and send the same placement again
   * with the solution, the optimistic pixel staying on screen meanwhile. False when it cannot.
   */
  private retryWithChallenge(err: ErrorMsg): boolean {
    const pending = err.id === undefined ? undefined : this.inFlight.get(err.id);
    const pow = this.d.pow;
    if (!pending || !pow || !err.challenge || pending.solves >= MAX_SOLVES_PER_PLACEMENT) return false;
    pending.solves += 1;
    const id = err.id as number;
    void pow.solveFor(err.challenge).then((solution) => {
      if (!this.inFlight.has(id)) return; // the connection dropped meanwhile: already reverted
      if (solution === null) return this.revert(id, refusalText(err.code, err.message, undefined));
      const sent = this.d.send({ t: MsgType.PLACE, id, x: pending.x, y: pending.y, c: pending.c, pow: solution });
      if (!sent) this.revert(id, NOT_CONNECTED_TEXT);
    });
    return true;
  }

  /** A connection's hello: its cooldown, and how long this identity must still wait. */
  hello(
    h: Pick<HelloMsg, 'cooldownMs' | 'wait' | 'banned' | 'locked' | 'challenge' | 'login' | 'account' | 'charges'>,
  ): void {
    this.cooldown = h.cooldownMs;
    this.charges = h.charges ? chargesFromServer(h.charges, this.d.now(), h.cooldownMs) : null;
    this.signInNeeded = h.login === 'required' && h.account !== true;
    // After a reload the page knows nothing of its last placement; a server without the field
    // leaves our own estimate in place.
    if (h.wait !== undefined) this.allowedAt = deadlineFromWait(h.wait, this.d.now());
    // A server that says `wait` also says `banned` whenever a ban is in force, so its absence means
    // none (a lifted or ended ban clears the notice before the player tries a pixel).
    if (h.wait !== undefined) this.d.ban?.set(h.banned ? banText(h.banned) : null);
    // A lock is said when the page connects, not only once a pixel is refused.
    if (h.locked) this.d.ui.showMessage(lockText(h.locked), 'info');
    // The first placement will need a proof of work: solve it now, while the player looks around.
    if (h.challenge) this.d.pow?.prepare();
  }

  ack(ack: AckMsg): void {
    this.inFlight.delete(ack.id);
    const board = this.d.board();
    if (!board?.confirm(ack.id, ack.seq)) return;
    this.d.ban?.set(null); // placing works: any ban was lifted
    this.allowedAt = deadlineFromAck(ack.next, this.d.now(), this.cooldown);
    if (ack.charges) this.charges = chargesFromServer(ack.charges, this.d.now(), this.cooldown);
    // The next placement needs a proof of work: solve it while the cooldown runs.
    if (ack.challenge) this.d.pow?.prepare(ack.challenge);
    this.d.timersChanged();
  }

  error(err: ErrorMsg): void {
    if (
      (err.code === ErrorCode.CHALLENGE_REQUIRED || err.code === ErrorCode.CHALLENGE_INVALID) &&
      this.retryWithChallenge(err)
    )
      return;
    if (err.id !== undefined) this.inFlight.delete(err.id);
    if (err.code === ErrorCode.COOLDOWN && err.wait !== undefined) {
      this.allowedAt = deadlineFromWait(err.wait, this.d.now());
      // Our own charges ran out (not the network's): none left until the wait ends.
      if (this.charges && err.limit !== 'network')
        this.charges = { left: 0, max: this.charges.max, nextAt: this.allowedAt };
      // One cooldown message: the countdown in the top bar, not a second one that goes stale.
      if (err.id !== undefined) this.revert(err.id, null);
      // The network's limit, not the player's own: say why, or a player behind a shared address
      // (a school, an office, a venue) waits without knowing it is not their doing.
      if (err.limit === 'network') this.d.ui.showMessage(NETWORK_LIMIT_TEXT, 'info');
      return this.pointAtCooldown();
    }
    if (err.code === ErrorCode.BANNED && this.d.ban) {
      // Said once and for good by the ban notice, not by a toast per click.
      this.d.ban.set(err.message);
      if (err.id !== undefined) this.revert(err.id, null);
      return;
    }
    const text = refusalText(err.code, err.message, err.wait);
    if (err.id === undefined) {
      console.warn('server error', err.code, err.message);
      this.d.ui.showMessage(text, 'error');
      return;
    }
    this.revert(err.id, text);
    this.d.timersChanged();
  }

  /** The connection closed: placements it never answered are dropped, and the page says so. */
  connectionLost(): void {
    const board = this.d.board();
    if (!board) return;
    this.inFlight.clear();
    const dropped = board.revertUnacked();
    for (const p of dropped) this.d.paintPixel(board, p.x, p.y);
    if (dropped.length > 0) this.d.ui.showMessage(CONNECTION_LOST_TEXT, 'error');
  }

  private revert(id: number, text: string | null): void {
    this.inFlight.delete(id);
    const board = this.d.board();
    const p = board?.revert(id);
    if (board && p) this.d.paintPixel(board, p.x, p.y);
    this.d.cursor.refresh();
    if (text !== null) this.d.ui.showMessage(text, 'error');
  }

  /** A placement during the cooldown: draw the eye to the countdown (which says how long is left). */
  private pointAtCooldown(): void {
    this.d.ui.hideMessage();
    this.d.timersChanged();
    this.d.ui.nudgeCooldown();
  }
}

/** What the ban notice says of a ban hello reported: whose, why, and until when. */
export function banText(ban: NonNullable<HelloMsg['banned']>): string {
  const whose = ban.scope === 'network' ? 'this network is banned' : 'this identity is banned';
  const until = ban.until === undefined ? '' : ` until ${new Date(ban.until).toLocaleString()}`;
  return `${whose}${ban.reason === '' ? '' : ` (${ban.reason})`}${until}`;
}

/** What the page says of a moderator's lock hello reported. */
export function lockText(lock: NonNullable<HelloMsg['locked']>): string {
  const until = lock.until === undefined ? '' : ` until ${new Date(lock.until).toLocaleTimeString()}`;
  return `The moderators locked the canvas${until}${lock.reason === '' ? '' : ` (${lock.reason})`}: nobody can place meanwhile.`;
}
