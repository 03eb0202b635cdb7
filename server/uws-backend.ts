/**
 * Loads uWebSockets.js and tells whether it is the native addon or the package's silent pure-JS
 * fallback (taken when the binary does not match this Node ABI, or UWS_USE_FALLBACK is set), which is
 * far slower. The server refuses the fallback unless explicitly allowed.
 */
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

export type UwsBackend = 'native' | 'fallback';

const require = createRequire(import.meta.url);
export const uws = require('uWebSockets.js') as typeof UWS;

/** The native addon's `App` is a C++ function, whose source text reads "[native code]". */
export const uwsBackend: UwsBackend = /\[native code\]/.test(Function.prototype.toString.call(uws.App))
  ? 'native'
  : 'fallback';

export const FALLBACK_MESSAGE =
  'uWebSockets.js loaded its slow pure-JavaScript fallback instead of the native addon ' +
  `(Node ${process.version}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}); ` +
  'use Node 16/18/20 on glibc Linux, or pass --allow-uws-fallback (ALLOW_UWS_FALLBACK=1) to run slowly anyway';
