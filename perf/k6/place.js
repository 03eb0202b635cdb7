/**
 * k6: WebSocket clients placing pixels (./lib/placer.js) and checking every answer; send-to-ack time
 * is the `canvas_place_ack_ms` trend (an ack leaves the server only after the SQLite commit holding
 * the placement). Run the server with `--cooldown-ms 0` to measure throughput. Settings and
 * thresholds: perf/README.md, "k6 scenarios".
 *
 *   k6 run -e VUS=16 -e WINDOW=8 -e DURATION=30s perf/k6/place.js
 */
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { durationSeconds, envNumber, envString, wsUrl } from './lib/env.js';
import { Placer } from './lib/placer.js';
import { parseServerFrame } from './lib/protocol.js';

const VUS = envNumber('VUS', 16);
const DURATION = envString('DURATION', '30s');
const WINDOW = envNumber('WINDOW', 8);
const RATE = envNumber('RATE', 0);
const ACK_P99_MS = envNumber('ACK_P99_MS', 100);
/** How long a socket waits for the answers in flight when DURATION is over. */
const DRAIN_MS = 5000;

const unanswered = new Counter('canvas_place_unanswered');

export const options = {
  scenarios: {
    place: {
      executor: 'per-vu-iterations',
      vus: VUS,
      iterations: 1,
      maxDuration: `${Math.ceil(durationSeconds(DURATION)) + 30}s`,
    },
  },
  thresholds: {
    // Answers match placements and are acks (no bad_color, store_failed, ...).
    checks: ['rate>0.99'],
    canvas_place_acked: ['rate>0.99'],
    // Durable acks stay fast under this load (group commit every few ms).
    canvas_place_ack_ms: [`p(99)<${ACK_P99_MS}`],
    canvas_place_acks: ['count>0'],
    canvas_place_unanswered: ['count==0'],
  },
};

export default function () {
  // The delta stream: small frames per tick, since this socket is here to place, not to watch.
  const ws = new WebSocket(wsUrl('stream=delta'));
  ws.binaryType = 'arraybuffer';
  /** @type {Placer | undefined} */
  let placer;

  const drain = (/** @type {number} */ deadline) => {
    if (placer && placer.pending.size > 0 && Date.now() < deadline) return void setTimeout(() => drain(deadline), 50);
    unanswered.add(placer ? placer.pending.size : 0);
    ws.close();
  };

  ws.onmessage = (event) => {
    const data = event?.data;
    if (!check(data, { 'binary frames only': (d) => d instanceof ArrayBuffer })) return;
    let msg;
    try {
      msg = parseServerFrame(/** @type {ArrayBuffer} */ (data));
    } catch (err) {
      check(err, { 'server frame parses': () => false });
      return;
    }
    if (msg.t === 'hello') {
      placer = new Placer(ws, msg, { window: WINDOW, ratePerSec: RATE, maxInFlight: Math.max(WINDOW, 1000) });
      placer.start();
      setTimeout(() => {
        placer?.stop();
        drain(Date.now() + DRAIN_MS);
      }, durationSeconds(DURATION) * 1000);
    } else {
      placer?.onMessage(msg);
    }
  };
  ws.onerror = (event) => {
    check(event, { 'no WebSocket error': () => false });
  };
}
