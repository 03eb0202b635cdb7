/**
 * Placing pixels over an open canvas WebSocket from k6: closed loop (`window` in flight) or paced
 * (`ratePerSec`, at most `maxInFlight` unanswered); answers matched by `id`; a `cooldown` refusal is
 * retried after the server's `wait`, other refusals fail the `placement acked` check.
 */
import { check } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { placeFrame } from './protocol.js';

// k6 creates custom metrics only in the init context; this module is imported there.
export const ackTime = new Trend('canvas_place_ack_ms', true);
export const acks = new Counter('canvas_place_acks');
export const refusals = new Counter('canvas_place_refused');
export const cooldowns = new Counter('canvas_place_cooldowns');
/** Share of answers that are acks, cooldowns excluded (they are retried). */
export const acked = new Rate('canvas_place_acked');

const PACE_TICK_MS = 10;

/**
 * @typedef {{ window: number, ratePerSec: number, maxInFlight: number }} PlacerOptions
 * @typedef {import('./protocol.js').HelloMsg} HelloMsg
 * @typedef {import('./protocol.js').ServerMsg} ServerMsg
 */

export class Placer {
  /**
   * @param {import('k6/websockets').WebSocket} ws an open socket whose `hello` has arrived
   * @param {HelloMsg} hello canvas size and palette, so placements are valid
   * @param {PlacerOptions} opts
   */
  constructor(ws, hello, opts) {
    this.ws = ws;
    this.hello = hello;
    this.opts = opts;
    this.nextId = 1;
    /** Send time by id. @type {Map<number, number>} */
    this.pending = new Map();
    /** Placements waiting out a cooldown before being sent again. */
    this.waiting = 0;
    this.sent = 0;
    this.running = false;
    this.startedAt = 0;
    /** @type {number | undefined} */
    this.timer = undefined;
  }

  inFlight() {
    return this.pending.size + this.waiting;
  }

  start() {
    this.running = true;
    this.startedAt = Date.now();
    if (this.opts.ratePerSec > 0) this.timer = setInterval(() => this.sendDue(), PACE_TICK_MS);
    else for (let i = 0; i < this.opts.window; i++) this.sendOne();
  }

  stop() {
    this.running = false;
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  sendDue() {
    const due = Math.floor((this.opts.ratePerSec * (Date.now() - this.startedAt)) / 1000);
    while (this.running && this.sent < due && this.inFlight() < this.opts.maxInFlight) this.sendOne();
  }

  sendOne() {
    if (!this.running || this.ws.readyState !== 1) return;
    const { width, height, palette } = this.hello;
    const id = this.nextId++;
    const r = (/** @type {number} */ n) => Math.floor(Math.random() * n);
    this.pending.set(id, Date.now());
    this.sent++;
    this.ws.send(placeFrame(id, r(width), r(height), r(palette.length)));
  }

  /** Handles `ack` and `error` answers; false for other messages. @param {ServerMsg} msg */
  onMessage(msg) {
    if (msg.t !== 'ack' && msg.t !== 'error') return false;
    if (msg.id === undefined) {
      // An error about a frame without a valid id: ours are always valid, so this is a bug.
      check(msg, { 'error frames carry our placement id': () => false });
      return true;
    }
    const sentAt = this.pending.get(msg.id);
    check(msg, { 'answer matches a placement in flight': () => sentAt !== undefined });
    if (sentAt === undefined) return true;
    this.pending.delete(msg.id);
    if (msg.t === 'ack') {
      ackTime.add(Date.now() - sentAt);
      acks.add(1);
      acked.add(true);
    } else if (msg.code === 'cooldown') {
      cooldowns.add(1);
      this.waiting++;
      setTimeout(() => {
        this.waiting--;
        this.sendOne();
      }, Math.max(1, msg.wait ?? 1000));
      return true;
    } else {
      refusals.add(1, { code: msg.code });
      acked.add(false);
    }
    check(msg, { 'placement acked': (m) => m.t === 'ack' });
    if (this.opts.ratePerSec === 0) this.sendOne(); // closed loop: one answer in, one placement out
    return true;
  }
}
