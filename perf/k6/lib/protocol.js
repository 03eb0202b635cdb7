/**
 * The canvas WebSocket protocol for the k6 scripts (protocol/PROTOCOL.md): building client frames and
 * checking the shape of server frames. The MessagePack is msgpackr, bundled for k6 (./codec.ts); the
 * few messages the scripts use are restated here, and checked against protocol/ by
 * perf/k6/protocol-check.ts before every `npm run k6:smoke`.
 */
import { decode, encode } from './codec.bundle.js';

/**
 * @typedef {{ t: 'hello', v: number, width: number, height: number, palette: number[], seq: number,
 *   tickMs: number, cooldownMs: number, stream: string }} HelloMsg
 * @typedef {{ t: 'png', seq: number, png: Uint8Array }} PngMsg
 * @typedef {{ t: 'delta', fromSeq: number, toSeq: number, n: number, px: Uint8Array }} DeltaMsg
 * @typedef {{ t: 'ack', id: number, seq: number, next: number }} AckMsg
 * @typedef {{ t: 'error', id?: number, code: string, message: string, wait?: number }} ErrorMsg
 * @typedef {{ t: 'online', n: number }} OnlineMsg
 * @typedef {HelloMsg | PngMsg | DeltaMsg | AckMsg | ErrorMsg | OnlineMsg} ServerMsg
 * @typedef {{ [key: string]: unknown }} MsgMap
 */

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** @param {MsgMap} m @param {string} key */
function int(m, key) {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${String(m.t)}.${key} is not an integer`);
  return v;
}

/** @param {MsgMap} m @param {string[]} keys */
function ints(m, keys) {
  for (const k of keys) int(m, k);
}

/** @param {MsgMap} m @param {string} key */
function bin(m, key) {
  const v = m[key];
  if (!(v instanceof Uint8Array)) throw new Error(`${String(m.t)}.${key} is not bin`);
  return v;
}

/**
 * Decodes a binary frame into a server message, checking the fields the scripts rely on. Throws on
 * anything else, so a protocol change shows up as a failed check instead of silently wrong figures.
 * @param {ArrayBuffer | Uint8Array} data @returns {ServerMsg}
 */
export function parseServerFrame(data) {
  const decoded = decode(data);
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded) || decoded instanceof Uint8Array)
    throw new Error('frame is not a map');
  const m = /** @type {MsgMap} */ (decoded);
  switch (m.t) {
    case 'hello':
      ints(m, ['width', 'height', 'seq', 'tickMs', 'cooldownMs']);
      if (!Array.isArray(m.palette)) throw new Error('hello.palette is not an array');
      return /** @type {HelloMsg} */ (/** @type {unknown} */ (m));
    case 'png':
      int(m, 'seq');
      bin(m, 'png');
      return /** @type {PngMsg} */ (/** @type {unknown} */ (m));
    case 'delta':
      ints(m, ['fromSeq', 'toSeq']);
      if (bin(m, 'px').length !== int(m, 'n') * 5) throw new Error('delta.px is not n records of 5 bytes');
      return /** @type {DeltaMsg} */ (/** @type {unknown} */ (m));
    case 'ack':
      // `next` is Unix ms, beyond 32 bits: msgpackr sends it as a float64, so only its type is checked.
      ints(m, ['id', 'seq']);
      if (typeof m.next !== 'number') throw new Error('ack.next is not a number');
      return /** @type {AckMsg} */ (/** @type {unknown} */ (m));
    case 'error':
      if (typeof m.code !== 'string') throw new Error('error.code is not a string');
      return /** @type {ErrorMsg} */ (/** @type {unknown} */ (m));
    case 'online':
      int(m, 'n');
      return /** @type {OnlineMsg} */ (/** @type {unknown} */ (m));
    default:
      throw new Error(`unknown message type ${JSON.stringify(m.t)}`);
  }
}

/** True when `bytes` starts with the PNG signature. @param {Uint8Array} bytes */
export function isPng(bytes) {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** A `place` frame, as an ArrayBuffer for WebSocket.send.
 * @param {number} id @param {number} x @param {number} y @param {number} c */
export function placeFrame(id, x, y, c) {
  return toArrayBuffer(encode({ t: 'place', id, x, y, c }));
}

/** A `resync` frame: asks for a PNG snapshot after a gap in the delta stream. */
export function resyncFrame() {
  return toArrayBuffer(encode({ t: 'resync' }));
}

/**
 * The bytes as an ArrayBuffer of their own: older k6 versions send only strings and ArrayBuffers.
 * @param {Uint8Array} bytes @returns {ArrayBuffer}
 */
function toArrayBuffer(bytes) {
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}
