/**
 * What the bare baselines share: the native uWS check (a baseline on the fallback measures nothing),
 * listening on `--host`/`--port`, and exiting 0 on SIGTERM/SIGINT. They are started by the harness,
 * pinned to the server CPU like our server.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { FALLBACK_MESSAGE, uws, uwsBackend } from '../../server/ops/uws-backend.ts';

const fail = (name: string, why: string) => {
  process.stderr.write(`${name}: ${why}\n`);
  process.exit(1);
};

export function serve(name: string, app: TemplatedApp, flags: { host: string; port?: string }, onStop = () => {}) {
  if (uwsBackend !== 'native') fail(name, FALLBACK_MESSAGE);
  app.listen(flags.host, Number(flags.port), (socket) => {
    if (!socket) return fail(name, `cannot listen on ${flags.host}:${flags.port}`);
    process.stdout.write(`${name}: listening on ${flags.host}:${flags.port}\n`);
    const stop = () => {
      onStop();
      uws.us_listen_socket_close(socket);
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
