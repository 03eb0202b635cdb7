/**
 * The baseline of the "PNG fan-out cost per subscriber" budget: a bare uWebSockets.js app whose /ws
 * route sends each new socket the current `png` message and subscribes it to one topic, and which
 * publishes a `png` message (the same MessagePack shape and PNG bytes our server sends, with a new
 * seq each time) to that topic every tick. No hello, no placements, no encode, no metrics: what
 * remains is `app.publish`. The message on open mirrors our server's snapshot on connect, so both
 * servers' TCP connections have carried the same bytes before the measured ticks. Socket settings
 * match server/ws/handlers.ts (max backpressure, no compression, pings).
 *
 *   node --import tsx perf/baselines/bare-publish-server.ts --port 9002 --png /tmp/x.png --tick-ms 1000
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import { uws } from '../../server/ops/uws-backend.ts';
import { serve } from './serve.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    png: { type: 'string', default: '' },
    'tick-ms': { type: 'string', default: '1000' },
  },
});
const png = readFileSync(values.png);
let seq = 1;
/** Like server/tick/ticker.ts: the message is encoded once per tick and shared by every subscriber. */
let message = encodeMessage({ t: MsgType.PNG, seq, png });

const app = uws
  .App()
  .ws('/ws', {
    maxPayloadLength: 64 * 1024,
    maxBackpressure: 4 * 1024 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    open: (ws) => {
      ws.send(message, true);
      ws.subscribe('png');
    },
  })
  .get('/healthz', (res) => {
    res.end(`{"ok":true,"subscribers":${app.numSubscribers('png')}}`);
  });

const timer = setInterval(() => {
  message = encodeMessage({ t: MsgType.PNG, seq: ++seq, png });
  app.publish('png', message, true);
}, Number(values['tick-ms']));

serve('bare-publish-server', app, values, () => clearInterval(timer));
