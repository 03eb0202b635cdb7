/**
 * The baseline of the GET /image budget: a bare uWebSockets.js app whose only route writes the same
 * PNG bytes with the same response headers as our server (status, Content-Type, ETag, Cache-Control),
 * with no conditional-request logic, no frame lookup, nothing else.
 *
 *   node --import tsx perf/baselines/bare-image-server.ts --port 9001 --png /tmp/x.png --etag '"id-42"'
 *
 * Started by perf/bench.ts, pinned to the server CPU like our server. Exits 0 on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FALLBACK_MESSAGE, uws, uwsBackend } from '../../server/ops/uws-backend.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    png: { type: 'string' },
    etag: { type: 'string', default: '"bare"' },
    'cache-control': { type: 'string', default: 'public, max-age=1' },
  },
});
if (!values.port || !values.png) {
  process.stderr.write('usage: bare-image-server.ts --port N --png FILE [--etag TAG] [--cache-control VALUE]\n');
  process.exit(2);
}
if (uwsBackend !== 'native') {
  process.stderr.write(`bare-image-server: ${FALLBACK_MESSAGE}\n`);
  process.exit(1);
}

const png = readFileSync(values.png);
const etag = values.etag;
const cacheControl = values['cache-control'];

const app = uws.App().get('/image', (res) => {
  res.writeStatus('200 OK');
  res.writeHeader('Content-Type', 'image/png');
  res.writeHeader('ETag', etag);
  res.writeHeader('Cache-Control', cacheControl);
  res.end(png);
});

app.listen(values.host, Number(values.port), (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write(`bare-image-server: cannot listen on ${values.host}:${values.port}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening ${values.host}:${values.port} ${png.length} bytes\n`);
  const stop = () => {
    uws.us_listen_socket_close(listenSocket);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
});
