/**
 * k6: N WebSocket subscribers that hold their socket for HOLD and check they receive one frame per
 * changed tick (a `png` whose seq advances, or a `delta` whose `fromSeq` is the seq they have; a gap
 * is counted and answered with `resync`), while the `placer` scenario places PLACE_RATE px/s so
 * every tick changes. Settings and thresholds: perf/README.md, "k6 scenarios".
 *
 *   k6 run -e SUBSCRIBERS=1000 -e STREAM=delta -e HOLD=60s perf/k6/ws-subscribers.js
 */
import { check, sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { durationSeconds, envNumber, envString, wsUrl } from './lib/env.js';
import { Placer } from './lib/placer.js';
import { isPng, parseServerFrame, resyncFrame } from './lib/protocol.js';

const SUBSCRIBERS = envNumber('SUBSCRIBERS', envNumber('VUS', 100));
const STREAM = envString('STREAM', 'png');
const HOLD_S = durationSeconds(envString('HOLD', '60s'));
const CONNECT_SPREAD_S = envNumber('CONNECT_SPREAD', 10);
const PLACE_RATE = envNumber('PLACE_RATE', 20);
const TICK_MS = envNumber('TICK_MS', 1000);
const LATE_FACTOR = envNumber('LATE_FACTOR', 1.5);
if (STREAM !== 'png' && STREAM !== 'delta') throw new Error(`STREAM="${STREAM}" is not png or delta`);

/** Stream frames after the snapshot, tagged with their type (a delta stream may carry png). */
const frames = new Counter('canvas_stream_frames');
const frameBytes = new Trend('canvas_stream_frame_bytes');
const frameInterval = new Trend('canvas_frame_interval_ms', true);
/** Share of frames within TICK_MS x LATE_FACTOR of the previous one (no tick missed). */
const onTime = new Rate('canvas_tick_on_time');
const deltaGaps = new Counter('canvas_delta_gaps');

const maxDuration = `${Math.ceil(HOLD_S + CONNECT_SPREAD_S) + 30}s`;
/** @type {Record<string, import('k6/options').Scenario>} */
const scenarios = {
  subscribers: { executor: 'per-vu-iterations', exec: 'subscribe', vus: SUBSCRIBERS, iterations: 1, maxDuration },
};
// The placer starts with the first subscribers and stops after the last ones left.
if (PLACE_RATE > 0)
  scenarios.placer = { executor: 'per-vu-iterations', exec: 'place', vus: 1, iterations: 1, maxDuration };

export const options = {
  scenarios,
  thresholds: {
    checks: ['rate>0.99'],
    canvas_tick_on_time: ['rate>0.95'],
    canvas_frame_interval_ms: [`p(95)<${Math.round(TICK_MS * LATE_FACTOR)}`],
    canvas_delta_gaps: ['count==0'],
    canvas_stream_frames: ['count>0'],
  },
};

export function subscribe() {
  // Spread the connects so the server sees arrivals, not one burst of SUBSCRIBERS upgrades.
  sleep(Math.random() * CONNECT_SPREAD_S);
  const ws = new WebSocket(wsUrl(`stream=${STREAM}`));
  ws.binaryType = 'arraybuffer';
  let tickMs = TICK_MS;
  let seq = -1;
  let lastFrameAt = 0;
  let openedAt = 0;
  let received = 0;
  let resyncing = false;

  ws.onopen = () => {
    openedAt = Date.now();
    setTimeout(() => {
      // Allow the first tick and one late tick: a subscriber holding for N ticks gets N - 2 or more.
      const expected = Math.floor((Date.now() - openedAt) / tickMs) - 2;
      check(received, { 'a frame every changed tick while subscribed': (n) => n >= expected });
      ws.close();
    }, HOLD_S * 1000);
  };
  ws.onmessage = (event) => {
    const data = event?.data;
    if (!check(data, { 'binary frames only': (d) => d instanceof ArrayBuffer })) return;
    const bytes = /** @type {ArrayBuffer} */ (data);
    let msg;
    try {
      msg = parseServerFrame(bytes);
    } catch (err) {
      check(err, { 'server frame parses': () => false });
      return;
    }
    const now = Date.now();
    if (msg.t === 'hello') {
      tickMs = msg.tickMs;
      check(msg, {
        'hello: protocol v1 on the requested stream': (m) => m.v === 1 && m.stream === STREAM,
        'hello: TICK_MS matches the server': (m) => m.tickMs === TICK_MS,
      });
      return;
    }
    if (msg.t !== 'png' && msg.t !== 'delta') return; // acks/errors: this socket does not place
    // Deltas already on their way when we asked for a resync: ignored until the snapshot (PROTOCOL.md).
    if (resyncing && msg.t === 'delta') return;
    if (seq < 0 || resyncing) {
      // The snapshot on connect (or the answer to a resync): not a tick, the baseline for the next.
      check(msg, { 'snapshot is a PNG': (m) => m.t === 'png' && isPng(m.png) });
      if (msg.t === 'png') seq = msg.seq;
      resyncing = false;
      lastFrameAt = now;
      return;
    }
    received++;
    frames.add(1, { type: msg.t });
    frameBytes.add(bytes.byteLength, { type: msg.t });
    frameInterval.add(now - lastFrameAt);
    onTime.add(now - lastFrameAt <= tickMs * LATE_FACTOR);
    lastFrameAt = now;
    if (msg.t === 'png') {
      check(msg, { 'png: seq advances': (m) => m.seq > seq, 'png: bytes are a PNG': (m) => isPng(m.png) });
      seq = msg.seq;
    } else if (msg.fromSeq === seq) {
      seq = msg.toSeq;
    } else if (msg.fromSeq > seq) {
      // A tick is missing: ask for a snapshot and ignore deltas until it comes (PROTOCOL.md).
      deltaGaps.add(1);
      resyncing = true;
      ws.send(resyncFrame());
    }
  };
  ws.onerror = (event) => {
    check(event, { 'no WebSocket error': () => false });
  };
}

export function place() {
  const ws = new WebSocket(wsUrl('stream=delta'));
  ws.binaryType = 'arraybuffer';
  /** @type {Placer | undefined} */
  let placer;
  ws.onmessage = (event) => {
    if (!(event?.data instanceof ArrayBuffer)) return;
    const msg = parseServerFrame(event.data);
    if (msg.t === 'hello') {
      check(msg, { 'placer: server cooldown is off (--cooldown-ms 0)': (m) => m.cooldownMs === 0 });
      placer = new Placer(ws, msg, { window: 0, ratePerSec: PLACE_RATE, maxInFlight: 1000 });
      placer.start();
      setTimeout(
        () => {
          placer?.stop();
          setTimeout(() => ws.close(), 2000); // let the last answers arrive
        },
        (HOLD_S + CONNECT_SPREAD_S + 2) * 1000,
      );
    } else {
      placer?.onMessage(msg);
    }
  };
}
