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
 *
 * Started by perf/bench.ts, pinned to the server CPU like our server. Exits 0 on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import { FALLBACK_MESSAGE, uws, uwsBackend } from '../../server/ops/uws-backend.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    png: { type: 'string' },
    'tick-ms': { type: 'string', default: '1000' },
    'max-backpressure': { type: 'string', default: String(4 * 1024 * 1024) },
    'first-seq': { type: 'string', default: '1' },
  },
});
if (!values.port || !values.png) {
  process.stderr.write(
    'usage: bare-publish-server.ts --port N --png FILE [--tick-ms MS] [--max-backpressure BYTES] [--first-seq N]\n',
  );
  process.exit(2);
}
if (uwsBackend !== 'native') {
  process.stderr.write(`bare-publish-server: ${FALLBACK_MESSAGE}\n`);
  process.exit(1);
}

const png = readFileSync(values.png);
let seq = Number(values['first-seq']);
/** Like server/tick/ticker.ts: the message is encoded once per tick and shared by every subscriber. */
let message = encodeMessage({ t: MsgType.PNG, seq, png });

const app = uws
  .App()
  .ws('/ws', {
    maxPayloadLength: 64 * 1024,
    maxBackpressure: Number(values['max-backpressure']),
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

app.listen(values.host, Number(values.port), (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write(`bare-publish-server: cannot listen on ${values.host}:${values.port}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `listening ${values.host}:${values.port}, publishing ${png.length} PNG bytes every ${values['tick-ms']} ms\n`,
  );
  const stop = () => {
    clearInterval(timer);
    uws.us_listen_socket_close(listenSocket);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
});
