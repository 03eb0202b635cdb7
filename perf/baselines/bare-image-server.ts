/**
 * The baseline of the GET /image budget: a bare uWebSockets.js app whose only route writes the same
 * PNG bytes with the same response headers as our server (status, Content-Type, ETag, Cache-Control),
 * with no conditional-request logic, no frame lookup, nothing else.
 *
 *   node --import tsx perf/baselines/bare-image-server.ts --port 9001 --png /tmp/x.png --etag '"id-42"'
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { uws } from '../../server/ops/uws-backend.ts';
import { serve } from './serve.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    png: { type: 'string', default: '' },
    etag: { type: 'string', default: '"bare"' },
    'cache-control': { type: 'string', default: 'public, max-age=1' },
  },
});
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

serve('bare-image-server', app, values);
