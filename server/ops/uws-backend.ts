/**
 * Loads uWebSockets.js and tells whether it is the native addon or the package's silent pure-JS
 * fallback (taken when the binary does not match this Node ABI, or UWS_USE_FALLBACK is set), which is
 * far slower. The server refuses the fallback unless explicitly allowed.
 */
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';
import type { us_listen_socket } from 'uWebSockets.js';
import type { Logger } from './log.ts';
import { OperatorError } from './operator-error.ts';

export type UwsBackend = 'native' | 'fallback';

const require = createRequire(import.meta.url);
export const uws = require('uWebSockets.js') as typeof UWS;

/** The native addon's `App` is a C++ function, whose source text reads "[native code]". */
export const uwsBackend: UwsBackend = /\[native code\]/.test(Function.prototype.toString.call(uws.App))
  ? 'native'
  : 'fallback';

export const FALLBACK_MESSAGE =
  'uWebSockets.js loaded its slow pure-JavaScript fallback instead of the native addon ' +
  `(Node ${process.version}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}). ` +
  'Options: run Node 20 on glibc Linux (the installed v20.30.0 build has binaries for Node 16/18/20); ' +
  'on Node 22/24 with glibc >= 2.38 install upstream: ' +
  "npm install 'uWebSockets.js@github:uNetworking/uWebSockets.js#v20.55.0' " +
  '(README "Node.js and uWebSockets.js"); or pass --allow-uws-fallback (ALLOW_UWS_FALLBACK=1) to run slowly anyway';

/** Refuses the slow pure-JS fallback unless the operator allowed it (--allow-uws-fallback). */
export function checkBackend(allowFallback: boolean, log: Logger): void {
  if (uwsBackend === 'fallback' && !allowFallback) throw new OperatorError(FALLBACK_MESSAGE);
  if (uwsBackend === 'fallback') log.warn('running on the uWebSockets.js pure-JS fallback: expect low throughput');
}

/**
 * The port a listen socket is bound to (port 0 picks one). The typings of uWS.js (v20.30.0, and
 * upstream's since) declare `us_socket_local_port` for `us_socket` only, though a listen socket is one
 * at runtime; this is the one place that bridges the gap.
 */
export function listenPort(socket: us_listen_socket): number {
  return uws.us_socket_local_port(socket as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
}

/** `ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT` of the typings (a type-only enum; 1 at runtime). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

/**
 * Listens on host:port, alone (`shared` false, the default), or sharing the port with other
 * processes that also ask to (`--reuse-port`: several edges on one machine, one per core; the kernel
 * spreads new connections across them). uWS.js (v20.30.0 and upstream) listens with SO_REUSEPORT by
 * default: a second server on the same port starts without error and the kernel splits new
 * connections between them, so two canvases (two databases) would each get half the users unless
 * LIBUS_LISTEN_EXCLUSIVE_PORT turns that off. The (host, port, options, cb) form exists at runtime
 * and upstream, but v20.30.0's typings list it without the host, hence the cast.
 */
export function listen(
  app: UWS.TemplatedApp,
  host: string,
  port: number,
  shared: boolean,
  cb: (socket: us_listen_socket | false) => void,
): void {
  const withOptions = app.listen as unknown as (
    host: string,
    port: number,
    options: number,
    cb: (socket: us_listen_socket | false) => void,
  ) => UWS.TemplatedApp;
  withOptions.call(app, host, port, shared ? 0 : LIBUS_LISTEN_EXCLUSIVE_PORT, cb);
}
