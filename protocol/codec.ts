/**
 * Encoding and parsing of protocol frames: plain MessagePack maps (msgpackr with records off, so any
 * MessagePack library reads them). Untrusted client frames are parsed only here.
 */
import { C1, Packr } from 'msgpackr';
import {
  CLIENT_INT_MAX,
  CLIENT_INT_MIN,
  ErrorCode,
  MAX_POW_CHARS,
  MAX_REGION_TILES,
  MsgType,
  Stream,
  type ClientMessage,
  type PlaceMsg,
  type ServerMessage,
  type SubscribeMsg,
  type TileRegion,
} from './messages.ts';
import { scanFrame } from './msgpack-scan.ts';

// useRecords:false keeps frames plain MessagePack (no msgpackr record extension); mapsAsObjects gives
// plain objects; int64AsType 'number' would silently lose precision, so 64-bit ints stay BigInt and
// are rejected by the field checks below.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
// Server frames are trusted and their 64-bit integers (Unix ms timestamps) fit a double exactly.
const serverUnpackr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

/**
 * msgpackr writes integers beyond 32 bits as float64; PROTOCOL.md promises integers, so such fields
 * (Unix ms timestamps like `ack.next`) go out as BigInt, which msgpackr writes as int64. Only
 * top-level fields hold such numbers, and a message has a handful of them.
 */
function wideIntsAsInt64<T extends object>(msg: T): T {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(msg)) {
    if (isWide(value)) {
      out ??= { ...msg } as Record<string, unknown>;
      out[key] = BigInt(value);
    } else if (Array.isArray(value) && value.some((v) => isRecord(v) && Object.values(v).some(isWide))) {
      // A list of records (progress `griefs`, each with a Unix ms `at`): one level down, the same rule.
      out ??= { ...msg } as Record<string, unknown>;
      out[key] = value.map((v: unknown) => (isRecord(v) ? wideIntsAsInt64(v) : v));
    }
  }
  return (out as T | undefined) ?? msg;
}

function isWide(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x80000000);
}

/** Encodes any protocol message as one MessagePack value. */
export function encodeMessage(msg: ServerMessage | ClientMessage): Uint8Array {
  return packr.pack(wideIntsAsInt64(msg));
}

export type ParseResult<T> = { ok: true; msg: T } | { ok: false; code: ErrorCode; message: string; id?: number };

class FieldError extends Error {}

function fail<T>(code: ErrorCode, message: string, id?: number): ParseResult<T> {
  return id === undefined ? { ok: false, code, message } : { ok: false, code, message, id };
}

/**
 * Decodes exactly one MessagePack value; trailing bytes or truncation make the frame invalid. The
 * structural scan runs first so msgpackr never sees a length header the frame cannot back (it would
 * allocate the announced array before failing); it also reports float-encoded top-level fields.
 */
function decodeSingle(bytes: Uint8Array): { ok: true; value: unknown; floats: Set<string> } | { ok: false } {
  const scan = scanFrame(bytes);
  if (!scan.ok) return { ok: false };
  try {
    const values = packr.unpackMultiple(bytes) as unknown[] | undefined;
    // msgpackr returns its C1 marker for the never-used byte 0xc1 instead of throwing.
    if (values?.length !== 1 || values[0] === C1) return { ok: false };
    return { ok: true, value: values[0], floats: scan.floatKeys };
  } catch {
    return { ok: false };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null; // a map, not an array, Date or byte string
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** The top-level fields of one frame, with the keys whose values were float-encoded on the wire. */
interface Fields {
  obj: Record<string, unknown>;
  /** msgpackr turns a float 1.0 into the number 1; this remembers it was a float (msgpack-scan.ts). */
  floats: ReadonlySet<string>;
}

/**
 * An integer a client may send: what an int32 or uint32 decodes to. On the WebSocket msgpackr already
 * yields nothing else for a non-float (64-bit ints stay BigInt); HTTP placement (JSON) calls this so
 * both transports accept exactly the same numbers.
 */
export function isClientInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= CLIENT_INT_MIN && value <= CLIENT_INT_MAX;
}

function assertInt(f: Fields, value: unknown, name: string): asserts value is number {
  if (!isClientInt(value) || f.floats.has(name)) {
    throw new FieldError(`${name} must be an integer`);
  }
}

/** Ids are echoed back, so only accept ones every client language can represent exactly. */
function readId(f: Fields): number | undefined {
  const id = field(f.obj, 'id');
  return isClientInt(id) && id >= 0 && !f.floats.has('id') ? id : undefined;
}

/**
 * Parses one untrusted binary frame from a client. Never throws: every malformed input maps to an
 * error code. Range checks that need the canvas (bounds, palette) are the rules' job, not the codec's.
 */
export function parseClientMessage(bytes: Uint8Array): ParseResult<ClientMessage> {
  const decoded = decodeSingle(bytes);
  if (!decoded.ok) return fail(ErrorCode.NOT_MSGPACK, 'frame is not one complete MessagePack value');
  const obj = decoded.value;
  if (!isRecord(obj)) return fail(ErrorCode.BAD_MESSAGE, 'message must be a map');
  const t = field(obj, 't');
  if (typeof t !== 'string') return fail(ErrorCode.BAD_MESSAGE, 'message needs a string field "t"');
  const f: Fields = { obj, floats: decoded.floats };
  const id = readId(f);
  try {
    switch (t) {
      case MsgType.PLACE:
        return { ok: true, msg: parsePlace(f) };
      case MsgType.SUBSCRIBE: {
        const stream = field(obj, 'stream');
        if (typeof stream !== 'string') throw new FieldError('stream must be a string');
        if (!isStream(stream))
          return fail(ErrorCode.UNKNOWN_STREAM, `unknown stream ${JSON.stringify(stream.slice(0, 32))}`, id);
        const msg: SubscribeMsg = { t: MsgType.SUBSCRIBE, stream };
        const since = field(obj, 'since');
        if (since !== undefined && since !== null) msg.since = readSeq(f, since, 'since');
        const region = readRegion(f);
        if (region) {
          if (stream !== Stream.DELTA) throw new FieldError('a region (tx, ty, tw, th) is for the delta stream');
          if (msg.since !== undefined) throw new FieldError('a region subscription takes no since (it loads tiles)');
          Object.assign(msg, region);
        }
        return { ok: true, msg };
      }
      case MsgType.RESYNC:
        return { ok: true, msg: { t: MsgType.RESYNC } };
      case MsgType.WATCH: {
        const project = field(obj, 'project');
        return { ok: true, msg: { t: MsgType.WATCH, project: readSeq(f, project, 'project') } };
      }
      default:
        return fail(ErrorCode.UNKNOWN_TYPE, `unknown message type ${JSON.stringify(t.slice(0, 32))}`, id);
    }
  } catch (err) {
    if (err instanceof FieldError) return fail(ErrorCode.INVALID_FIELD, err.message, id);
    throw err;
  }
}

export function isStream(s: string): s is Stream {
  return s === Stream.PNG || s === Stream.DELTA;
}

/**
 * `tx`, `ty`, `tw`, `th` all present (a region) or none; tile numbers are 0..65535, the region at
 * least one tile and at most MAX_REGION_TILES. Whether it lies on the canvas is the server's check.
 */
function readRegion(f: Fields): TileRegion | undefined {
  const keys = ['tx', 'ty', 'tw', 'th'] as const;
  const given = keys.filter((k) => field(f.obj, k) !== undefined);
  if (given.length === 0) return undefined;
  if (given.length !== keys.length) throw new FieldError('a region needs all of tx, ty, tw, th');
  const [tx, ty, tw, th] = keys.map((k) => {
    const v = field(f.obj, k);
    assertInt(f, v, k);
    if (v < 0 || v > 0xffff) throw new FieldError(`${k} must be 0..65535`);
    return v;
  }) as [number, number, number, number];
  if (tw < 1 || th < 1) throw new FieldError('a region is at least one tile (tw, th >= 1)');
  if (tw * th > MAX_REGION_TILES) throw new FieldError(`a region is at most ${MAX_REGION_TILES} tiles`);
  return { tx, ty, tw, th };
}

function readSeq(f: Fields, value: unknown, name: string): number {
  assertInt(f, value, name);
  if (value < 0) throw new FieldError(`${name} must be >= 0`);
  return value;
}

export type StreamRequest =
  | { ok: true; stream: Stream; since?: number; online: boolean; resize: boolean }
  | { ok: false; message: string };

/**
 * Parses the upgrade query of /ws: `stream=png|delta`, for delta `since=<seq>`, `online=1` for
 * `online` messages and `resize=1` for `resize` messages (opt-in, so clients written before those
 * messages never receive them).
 */
export function parseStreamQuery(query: string): StreamRequest {
  const params = new URLSearchParams(query);
  const stream = params.get('stream') ?? Stream.PNG;
  if (!isStream(stream))
    return { ok: false, message: `unknown stream ${JSON.stringify(stream.slice(0, 32))}; use png or delta` };
  const onlineText = params.get('online') ?? '0';
  if (onlineText !== '0' && onlineText !== '1') return { ok: false, message: 'online must be 0 or 1' };
  const online = onlineText === '1';
  const resizeText = params.get('resize') ?? '0';
  if (resizeText !== '0' && resizeText !== '1') return { ok: false, message: 'resize must be 0 or 1' };
  const resize = resizeText === '1';
  const sinceText = params.get('since');
  if (sinceText === null) return { ok: true, stream, online, resize };
  if (!/^\d{1,15}$/.test(sinceText)) return { ok: false, message: 'since must be a non-negative integer seq' };
  return { ok: true, stream, since: Number(sinceText), online, resize };
}

function parsePlace(f: Fields): PlaceMsg {
  const id = field(f.obj, 'id');
  const x = field(f.obj, 'x');
  const y = field(f.obj, 'y');
  const c = field(f.obj, 'c');
  assertInt(f, id, 'id');
  if (id < 0) throw new FieldError('id must be >= 0');
  assertInt(f, x, 'x');
  assertInt(f, y, 'y');
  assertInt(f, c, 'c');
  const msg: PlaceMsg = { t: MsgType.PLACE, id, x, y, c };
  const pow = field(f.obj, 'pow');
  if (pow !== undefined && pow !== null) {
    if (!isPow(pow)) throw new FieldError(POW_RULE);
    msg.pow = pow;
  }
  return msg;
}

export const POW_RULE = `pow must be a string of 1 to ${MAX_POW_CHARS} characters`;

/**
 * A solved challenge as a client sends it (WebSocket `pow`, HTTP body `pow`): a bounded string. What
 * is inside is checked by the server's verifier, which treats every malformed one as invalid.
 */
export function isPow(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_POW_CHARS;
}

/**
 * Decodes a server frame (for clients and tests). Trusts the server's shape; throws on
 * non-MessagePack input.
 */
export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  const value: unknown = serverUnpackr.unpack(bytes);
  if (!isRecord(value)) throw new Error('server frame is not a MessagePack map');
  return value as unknown as ServerMessage;
}
