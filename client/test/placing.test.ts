import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, MsgType, type PlaceMsg } from '../../protocol/messages.ts';
import { Board } from '../src/board/board.ts';
import { confirmText } from '../src/place/aim.ts';
import { Aiming, TOUCH_AIM_SCALE } from '../src/place/aiming.ts';
import { Placing } from '../src/place/placing.ts';
import {
  CONNECTION_LOST_TEXT,
  HISTORY_TEXT,
  NOT_CONNECTED_TEXT,
  POLLING_TEXT,
  SIGN_IN_TEXT,
} from '../src/ui/error-text.ts';
import { PLACE_ZOOM_SCALE, type Point, View } from '../src/view/view.ts';

const palette = [0xffffff, 0x000000, 0xff0000, 0x00ff00];
const RED = 2;

/** Placing and aiming on a 10 x 10 board, with the page around them recorded. */
function page(opts: { scale?: number; connected?: boolean } = {}) {
  const board = new Board(10, 10, palette, undefined, 3);
  const view = new View(10, 10, 100, 100); // fits at 10 px per pixel
  if (opts.scale !== undefined) view.zoomAt({ x: 50, y: 50 }, opts.scale / view.scale);
  const sent: PlaceMsg[] = [];
  const messages: string[] = [];
  const shownInfo: string[] = [];
  const confirmShown: Array<{ pixel: Point | null; colour: number | null; enabled: boolean; waitMs: number }> = [];
  let reticle: Point | null = null;
  let nudges = 0;
  const bans: Array<string | null> = [];
  const state = { connected: opts.connected ?? true, history: false, polling: false, now: 1_000 };
  const enabled = (): boolean => state.connected && !state.history;
  const placing: Placing = new Placing({
    board: () => board,
    enabled,
    history: () => state.history,
    polling: () => state.polling,
    scale: () => view.scale,
    send: (msg) => {
      if (!state.connected) return false;
      sent.push(msg);
      return true;
    },
    now: () => state.now,
    ui: {
      setPalette: () => {},
      setSelected: () => {},
      showMessage: (text) => messages.push(text),
      hideMessage: () => {},
      nudgeCooldown: () => nudges++,
    },
    info: { show: (x, y) => shownInfo.push(`${x},${y}`), hide: () => {} },
    paintPixel: () => {},
    cursor: { show: () => {}, refresh: () => {} },
    selectionChanged: () => aiming.refresh(),
    timersChanged: () => {},
    ban: { set: (reason) => bans.push(reason) },
  });
  const aiming: Aiming = new Aiming({
    board: () => board,
    view: () => view,
    placing,
    enabled,
    waitMs: () => placing.cooldownState.nextAllowedAt - state.now,
    redraw: () => {},
    showMessage: (text) => messages.push(text),
    setReticle: (p) => {
      reticle = p;
    },
    showCursor: () => {},
    confirm: {
      show: (pixel, colour, on, waitMs = 0) => confirmShown.push({ pixel, colour, enabled: on, waitMs }),
      onConfirm: () => {},
    },
  });
  return {
    board,
    view,
    placing,
    aiming,
    sent,
    messages,
    shownInfo,
    confirmShown,
    state,
    reticle: () => reticle,
    nudges: () => nudges,
    bans,
  };
}

/** The screen point at the centre of board pixel (x, y). */
const at = (view: View, x: number, y: number): Point => view.pixelCentre(x, y);

test('a click with a colour in hand shows the pixel at once and sends place; the ack starts the cooldown', () => {
  const p = page();
  p.placing.hello({ cooldownMs: 5_000, wait: 0 });
  p.placing.pick(RED);
  p.aiming.tap(at(p.view, 4, 5));
  assert.deepEqual(p.sent, [{ t: MsgType.PLACE, id: 1, x: 4, y: 5, c: RED }]);
  assert.equal(p.board.colourAt(4, 5), RED, 'optimistic');
  p.placing.ack({ t: MsgType.ACK, id: 1, seq: 4, next: p.state.now + 5_000 });
  assert.equal(p.placing.cooldownState.nextAllowedAt, p.state.now + 5_000);
  p.aiming.tap(at(p.view, 1, 1));
  assert.equal(p.sent.length, 1, 'nothing sent during the cooldown');
  assert.equal(p.nudges(), 1, 'the countdown is pointed at instead');
  p.state.now += 5_000;
  p.aiming.tap(at(p.view, 1, 1));
  assert.equal(p.sent.length, 2);
});

test('a refusal reverts the pixel and says why; a cooldown refusal only points at the countdown', () => {
  const p = page();
  p.placing.pick(RED);
  p.aiming.tap(at(p.view, 2, 2));
  p.placing.error({ t: MsgType.ERROR, id: 1, code: ErrorCode.BAD_COLOR, message: 'bad colour' });
  assert.equal(p.board.colourAt(2, 2), 0);
  assert.equal(p.messages.length, 1);
  p.aiming.tap(at(p.view, 3, 3));
  p.placing.error({ t: MsgType.ERROR, id: 2, code: ErrorCode.COOLDOWN, message: 'wait', wait: 2_500 });
  assert.equal(p.board.colourAt(3, 3), 0);
  assert.equal(p.messages.length, 1, 'no second message beside the countdown');
  assert.equal(p.nudges(), 1);
  assert.equal(p.placing.cooldownState.nextAllowedAt, p.state.now + 2_500);
});

test('without a colour a click shows pixel info; offline or in History it says why nothing is placed', () => {
  const p = page({ connected: false });
  p.aiming.tap(at(p.view, 6, 7));
  assert.deepEqual(p.shownInfo, ['6,7']);
  assert.deepEqual(p.messages, [NOT_CONNECTED_TEXT], 'says why the palette is off');
  p.placing.pick(RED);
  p.state.polling = true;
  p.aiming.tap(at(p.view, 6, 7));
  assert.equal(p.messages.at(-1), POLLING_TEXT);
  p.state.connected = true;
  p.state.history = true;
  p.aiming.tap(at(p.view, 6, 7));
  assert.equal(p.messages.at(-1), HISTORY_TEXT);
  assert.deepEqual(p.sent, []);
  assert.equal(p.board.pendingCount, 0);
});

test('losing the connection drops unanswered placements and says so; acked ones stay', () => {
  const p = page();
  p.placing.pick(RED);
  p.aiming.tap(at(p.view, 1, 0));
  p.aiming.tap(at(p.view, 2, 0));
  p.placing.ack({ t: MsgType.ACK, id: 1, seq: 9, next: 0 });
  p.placing.connectionLost();
  assert.equal(p.board.colourAt(1, 0), RED);
  assert.equal(p.board.colourAt(2, 0), 0);
  assert.deepEqual(p.messages, [CONNECTION_LOST_TEXT]);
});

test('a touch tap moves the reticle and only the confirm button places; too far out, a tap zooms in', () => {
  const far = page({ scale: 1 });
  far.placing.pick(RED);
  far.aiming.tap({ x: 50, y: 50 }, true);
  assert.equal(far.view.scale, PLACE_ZOOM_SCALE);
  assert.equal(far.aiming.reticle, null);
  assert.deepEqual(far.sent, []);

  const p = page();
  p.placing.hello({ cooldownMs: 5_000, wait: 0 });
  p.placing.pick(RED);
  const finger = at(p.view, 8, 1);
  p.aiming.tap(finger, true);
  assert.deepEqual(p.aiming.reticle, { x: 8, y: 1 });
  assert.deepEqual(p.reticle(), { x: 8, y: 1 });
  assert.ok(Math.abs(p.view.scale - TOUCH_AIM_SCALE) < 1e-9, 'a tap below the aiming zoom zooms in to aim');
  assert.deepEqual(p.view.pixelAt(finger), { x: 8, y: 1 }, 'the aimed pixel stays under the finger');
  assert.deepEqual(p.sent, []);
  assert.deepEqual(p.confirmShown.at(-1), { pixel: { x: 8, y: 1 }, colour: palette[RED], enabled: true, waitMs: 0 });
  p.aiming.placeAtAim();
  assert.deepEqual(p.sent, [{ t: MsgType.PLACE, id: 1, x: 8, y: 1, c: RED }]);
  p.placing.ack({ t: MsgType.ACK, id: 1, seq: 4, next: p.state.now + 5_000 });
  p.state.now += 1_000;
  p.aiming.refresh();
  assert.equal(p.confirmShown.at(-1)?.waitMs, 4_000, 'the confirm button counts down the cooldown');
});

test('the confirm text names the pixel, and the wait during a cooldown', () => {
  assert.equal(confirmText({ x: 12, y: 3 }, 0), 'Place at (12, 3)');
  assert.equal(confirmText({ x: 12, y: 3 }, 41_200), 'Place at (12, 3) in 42 s');
  assert.equal(confirmText({ x: 12, y: 3 }, 65_000), 'Place at (12, 3) in 1:05');
});

test('arrow keys start the reticle at the centre and keep it on the board', () => {
  const p = page();
  p.aiming.move(1, 0);
  assert.deepEqual(p.aiming.reticle, p.view.centrePixel(), 'the first key only shows the reticle');
  for (let i = 0; i < 20; i++) p.aiming.move(1, -1);
  assert.deepEqual(p.aiming.reticle, { x: 9, y: 0 });
  p.aiming.clear();
  assert.equal(p.reticle(), null);
});

test('the selected swatch again puts the colour down; inspect shows info with a colour in hand', () => {
  const p = page();
  p.placing.toggle(RED);
  assert.equal(p.placing.selected, RED);
  p.placing.toggle(RED);
  assert.equal(p.placing.selected, null, 'the same swatch again: no colour');
  p.aiming.tap(at(p.view, 4, 5));
  assert.deepEqual(p.shownInfo, ['4,5'], 'with no colour a click shows pixel info');
  p.placing.toggle(RED);
  p.aiming.inspect(at(p.view, 6, 7));
  assert.deepEqual(p.shownInfo, ['4,5', '6,7'], 'a right click shows info with a colour in hand');
  assert.equal(p.sent.length, 0, 'and places nothing');
  p.placing.unpick();
  assert.equal(p.placing.selected, null);
  assert.equal(p.confirmShown.at(-1)?.colour, null, 'the confirm button goes with the colour');
});

test('a banned refusal sets the lasting ban notice instead of a toast; an accepted placement clears it', () => {
  const p = page();
  p.placing.pick(RED);
  p.aiming.tap(at(p.view, 2, 2));
  p.placing.error({ t: MsgType.ERROR, id: 1, code: ErrorCode.BANNED, message: 'this identity is banned' });
  assert.deepEqual(p.bans, ['this identity is banned']);
  assert.deepEqual(p.messages, [], 'no toast: the notice stays instead');
  assert.equal(p.board.colourAt(2, 2), 0, 'reverted');
  p.aiming.tap(at(p.view, 3, 3));
  p.placing.ack({ t: MsgType.ACK, id: 2, seq: 4, next: p.state.now });
  assert.deepEqual(p.bans, ['this identity is banned', null], 'placing works again: the ban was lifted');
});

test('hello sets the ban notice with whose ban, why and until when, and a hello without one clears it', () => {
  const p = page();
  p.placing.hello({
    cooldownMs: 5000,
    wait: 0,
    banned: { scope: 'network', reason: 'raid', until: Date.UTC(2030, 0, 1) },
  });
  assert.equal(p.bans.length, 1);
  assert.match(p.bans[0] ?? '', /^this network is banned \(raid\) until /);
  p.placing.hello({ cooldownMs: 5000, wait: 0 });
  assert.equal(p.bans[1], null, 'no ban in hello: lifted');
  p.placing.hello({ cooldownMs: 5000 });
  assert.equal(p.bans.length, 2, 'a server that says nothing of standing leaves the notice alone');
});

test('a cooldown refusal by the network limit says it is the network, not the player', () => {
  const p = page();
  p.placing.pick(RED);
  p.aiming.tap(at(p.view, 2, 2));
  p.placing.error({
    t: MsgType.ERROR,
    id: 1,
    code: ErrorCode.COOLDOWN,
    message: 'cooldown',
    wait: 4000,
    limit: 'network',
  });
  assert.match(p.messages.at(-1) ?? '', /network/);
  const said = p.messages.length;
  p.placing.error({ t: MsgType.ERROR, id: 2, code: ErrorCode.COOLDOWN, message: 'cooldown', wait: 4000 });
  assert.equal(p.messages.length, said, 'its own cooldown: the countdown says it, no message');
});

test('hello says a moderator lock with its reason when the page connects', () => {
  const p = page();
  p.placing.hello({ cooldownMs: 5000, wait: 0, locked: { reason: 'raid', until: Date.UTC(2030, 0, 1, 12) } });
  assert.match(p.messages.at(-1) ?? '', /^The moderators locked the canvas until .*\(raid\)/);
});

test('with --login required an anonymous page says "sign in" instead of placing; an account places', () => {
  const p = page();
  p.placing.hello({ cooldownMs: 0, wait: 0, login: 'required' });
  p.placing.pick(RED);
  p.aiming.tap(at(p.view, 4, 5));
  assert.deepEqual(p.sent, [], 'nothing sent');
  assert.equal(p.messages.at(-1), SIGN_IN_TEXT);
  assert.notEqual(p.board.colourAt(4, 5), RED, 'no optimistic pixel');
  p.placing.hello({ cooldownMs: 0, wait: 0, login: 'required', account: true });
  p.aiming.tap(at(p.view, 4, 5));
  assert.equal(p.sent.length, 1);
  p.placing.hello({ cooldownMs: 0, wait: 0, login: 'optional' });
  p.aiming.tap(at(p.view, 5, 5));
  assert.equal(p.sent.length, 2, 'optional: anonymous pages place');
});

test('charges: places while any are left even as a refill runs, counts them down, then waits for the next', () => {
  const p = page();
  const T = 10_000;
  p.placing.hello({ cooldownMs: T, wait: 0, charges: { left: 2, max: 3, next: p.state.now + 4_000 } });
  assert.deepEqual(p.placing.cooldownState.charges, { left: 2, max: 3, nextAt: p.state.now + 4_000 });
  p.placing.pick(RED);
  p.aiming.tap(at(p.view, 1, 1));
  assert.equal(p.sent.length, 1, 'a refill is running, but a charge is there: it places');
  p.placing.ack({
    t: MsgType.ACK,
    id: 1,
    seq: 1,
    next: p.state.now,
    charges: { left: 1, max: 3, next: p.state.now + 4_000 },
  });
  p.aiming.tap(at(p.view, 2, 1));
  assert.equal(p.sent.length, 2, 'one left: it places again at once');
  const refill = p.state.now + 4_000;
  p.placing.ack({ t: MsgType.ACK, id: 2, seq: 2, next: refill, charges: { left: 0, max: 3, next: refill } });
  p.aiming.tap(at(p.view, 3, 1));
  assert.equal(p.sent.length, 2, 'none left: it waits');
  assert.equal(p.nudges(), 1, 'and points at the countdown');
  p.state.now = refill + T + 1;
  assert.deepEqual(p.placing.cooldownState.charges, { left: 2, max: 3, nextAt: refill + 2 * T }, 'refilled locally');
  p.aiming.tap(at(p.view, 3, 1));
  assert.equal(p.sent.length, 3, 'a charge came back: it places');
  p.placing.error({ t: MsgType.ERROR, id: 3, code: ErrorCode.COOLDOWN, message: 'wait', wait: 2_000 });
  assert.deepEqual(
    p.placing.cooldownState.charges,
    { left: 0, max: 3, nextAt: p.state.now + 2_000 },
    'a refusal of our own means none left until the wait ends',
  );
});

test('no charges in hello (the fixed cooldown): cooldownState has none', () => {
  const p = page();
  p.placing.hello({ cooldownMs: 5_000, wait: 0 });
  assert.equal(p.placing.cooldownState.charges, undefined);
});
