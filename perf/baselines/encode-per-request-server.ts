/**
 * The slow side of the origin experiment: a bare uWebSockets.js app that encodes the PNG on every
 * GET /image instead of serving the tick's cached bytes, the naive handler our server replaced.
 * - `--source grid`: the canvas is read from the SQLite file once at start, then every request
 *   encodes that in-memory grid;
 * - `--source db`: every request reads the canvas from the SQLite file (latest snapshot + replay,
 *   server/store/store.ts `load`) and encodes it.
 * Both encode synchronously on the event loop (`PngEncoder.encodeSync`), with the server's default
 * canvas, palette and PNG level, so they serve the same bytes as our server on the same database.
 *
 *   node --import tsx perf/baselines/encode-per-request-server.ts --port 9003 --db /tmp/c.db --source db
 */
import { parseArgs } from 'node:util';
import { PngEncoder } from '../../server/canvas/png-encoder.ts';
import { configWith } from '../../server/config/config.ts';
import { uws } from '../../server/ops/uws-backend.ts';
import { serve } from './serve.ts';
import { Store } from '../../server/store/store.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    db: { type: 'string', default: '' },
    source: { type: 'string', default: 'grid' },
  },
});
const { width, height, palette, pngLevel, synchronous, busyTimeoutMs } = configWith({});
const store = Store.open({ path: values.db, width, height, paletteSize: palette.length, synchronous, busyTimeoutMs });
const encoder = new PngEncoder(width, height, palette, pngLevel);
const readGrid = () => store.load(palette.length).canvas.toGrid();
const grid = values.source === 'grid' ? readGrid() : undefined;

const app = uws.App().get('/image', (res) => {
  const png = encoder.encodeSync(grid ?? readGrid());
  res.writeStatus('200 OK');
  res.writeHeader('Content-Type', 'image/png');
  res.writeHeader('Cache-Control', 'public, max-age=1');
  res.end(png);
});

serve('encode-per-request-server', app, values, () => store.close());
