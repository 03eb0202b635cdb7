/**
 * Wire vocabulary of the canvas WebSocket protocol. Single source of truth for server and client;
 * imports nothing from server/ or client/. PROTOCOL.md specifies the bytes.
 */

/** Protocol version carried in `hello`; bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** Largest client frame the server reads; larger frames close the socket (CloseCode.TOO_BIG). */
export const MAX_CLIENT_FRAME_BYTES = 4096;

/**
 * Client integers are MessagePack integers of at most 32 bits (int32 or uint32; 64-bit ones are
 * refused), so every value a client can send lies in this range. HTTP placement accepts the same.
 */
export const CLIENT_INT_MIN = -0x8000_0000;
export const CLIENT_INT_MAX = 0xffff_ffff;

export const MsgType = {
  HELLO: 'hello',
  PNG: 'png',
  DELTA: 'delta',
  PLACE: 'place',
  SUBSCRIBE: 'subscribe',
  RESYNC: 'resync',
  ACK: 'ack',
  ERROR: 'error',
  ONLINE: 'online',
  WATCH: 'watch',
  PROGRESS: 'progress',
  TILES: 'tiles',
  RESIZE: 'resize',
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

/** What a socket receives after hello: whole PNGs each changed tick, or snapshot + deltas. */
export const Stream = {
  PNG: 'png',
  DELTA: 'delta',
} as const;
export type Stream = (typeof Stream)[keyof typeof Stream];

/** Stable error codes of `error` frames; clients switch on these, never on `message`. */
export const ErrorCode = {
  /** The binary frame is not a single complete MessagePack value. */
  NOT_MSGPACK: 'not_msgpack',
  /** Valid MessagePack, but not a map with a string `t`. */
  BAD_MESSAGE: 'bad_message',
  /** `t` names no message a client may send. */
  UNKNOWN_TYPE: 'unknown_type',
  /** A field is missing or has the wrong type (e.g. x not an integer). */
  INVALID_FIELD: 'invalid_field',
  /** `stream` names no stream (subscribe). */
  UNKNOWN_STREAM: 'unknown_stream',
  /** x or y is outside the canvas. */
  OUT_OF_BOUNDS: 'out_of_bounds',
  /** The colour index is not in the palette. */
  BAD_COLOR: 'bad_color',
  /** Placed before the cooldown ended; `wait` says how many ms remain. */
  COOLDOWN: 'cooldown',
  /** The identity is banned from placing. */
  BANNED: 'banned',
  /** The placement could not be stored durably (disk full, database locked, read-only); not applied. */
  STORE_FAILED: 'store_failed',
  /** The server is shutting down and accepts no more placements. */
  SHUTTING_DOWN: 'shutting_down',
  /**
   * Edge deployments only: the writer (the one process that stores placements) or the bus to it
   * cannot be reached, and the request was not handed to it: nothing was placed, a retry is safe.
   */
  UNAVAILABLE: 'unavailable',
  /**
   * Edge deployments only: the request was handed to the writer, but no answer came back in time
   * (the writer or Redis failed or froze meanwhile). It may have been placed, even seconds later,
   * exactly as when a socket drops before its ack: the next frames show whether the pixel changed.
   */
  OUTCOME_UNKNOWN: 'outcome_unknown',
  /**
   * A moderator, or the server's surge defence, locked the canvas (a raid, an incident): nobody places
   * until it unlocks by itself or by hand. `wait` says how many ms are left; the message carries the
   * reason (a surge's starts with `surge: `).
   */
  LOCKED: 'locked',
  /**
   * This placement needs a solved proof-of-work challenge first (the server runs `--challenge new` or
   * `always`, or a surge turned challenges on for everyone). The error carries `challenge`: solve it
   * and send the placement again with the solution in `pow`.
   */
  CHALLENGE_REQUIRED: 'challenge_required',
  /**
   * The `pow` sent with a placement is not a valid solution: forged, already used, expired, or issued
   * to another identity. Nothing was placed; the error carries a fresh `challenge`.
   */
  CHALLENGE_INVALID: 'challenge_invalid',
  /**
   * The server runs with `--login required` and this identity is anonymous: sign in (`GET
   * /auth/login`) and place with the account's identity. hello's `login` says so in advance.
   */
  LOGIN_REQUIRED: 'login_required',
  /**
   * A sanctioned bot placed outside the region its moderator allowed it (README "Sanctioned bots").
   * Nothing was placed; its quota was not spent.
   */
  OUTSIDE_REGION: 'outside_region',
  /**
   * The bot token's bot was revoked by a moderator, expired, or is unknown to this canvas: it places
   * nothing any more (a moderator mints a new one).
   */
  BOT_REVOKED: 'bot_revoked',
  /**
   * The canvas is over 4096 a side: it has no whole-canvas PNG (`GET /image`, the `png` stream) and
   * no whole-canvas deltas. Read it as tiles (`GET /api/canvas`, `GET /tiles/...`) and subscribe to
   * the deltas of a region of tiles (`subscribe` with `tx`, `ty`, `tw`, `th`).
   */
  USE_TILES: 'use_tiles',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes the server uses. */
export const CloseCode = {
  /** Server shutting down (RFC 6455 "going away"). */
  GOING_AWAY: 1001,
  /** A text frame was received; the protocol is binary only (RFC 6455 "unsupported data"). */
  UNSUPPORTED_DATA: 1003,
  /** A frame exceeded MAX_CLIENT_FRAME_BYTES (RFC 6455 "message too big"). */
  TOO_BIG: 1009,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * An identity's pixel charges (a server run with `--cooldown-model charges`): it may place while
 * `left` > 0; one charge comes back at `next` (Unix ms), then one every `cooldownMs` of hello, up
 * to `max`. Absent on a server with the fixed cooldown.
 */
export interface Charges {
  left: number;
  max: number;
  /** When the next charge comes back (Unix ms); absent while all `max` are there. */
  next?: number;
}

/** Server -> client, first frame on every connection. */
export interface HelloMsg {
  t: typeof MsgType.HELLO;
  /** PROTOCOL_VERSION */
  v: number;
  width: number;
  height: number;
  /** Palette as 0xRRGGBB integers; a colour index is a position in this array. */
  palette: number[];
  /** Sequence number of the last accepted placement. */
  seq: number;
  /** Interval between ticks in ms. */
  tickMs: number;
  /** Minimum ms between two placements of one client (0: no cooldown); with charges, ms per charge. */
  cooldownMs: number;
  /** Stream this socket is subscribed to. */
  stream: Stream;
  /** Streams this server offers; a client may switch with `subscribe`. */
  streams: Stream[];
  /** This client's identity id (public: shown by pixel lookup). */
  you: string;
  /**
   * Present when the server minted a new identity for this connection (no valid cookie or `token`):
   * keep it and pass it back as `?token=` to stay the same identity. Secret: do not share.
   */
  token?: string;
  /**
   * ms this connection's identity must still wait before its next placement (0: it may place now);
   * the longer of the identity's and the client address's cooldown. This server always sends it;
   * optional because a server from before the field omits it (a client then knows nothing).
   */
  wait?: number;
  /** How many WebSocket clients are watching now (all edges together in a writer/edge deployment). */
  online?: number;
  /** Present while this identity, or the network it connects from, is banned: placements are refused. */
  banned?: Restriction & { scope: 'identity' | 'network' };
  /** Present while the canvas is locked for everyone: by a moderator, or by the surge defence (reason `surge: ...`). */
  locked?: Restriction;
  /**
   * Present when this identity's next placement needs a solved proof-of-work challenge: a client may
   * fetch one (`GET /api/challenge`) and solve it before the player clicks.
   */
  challenge?: true;
  /**
   * Present when the server offers accounts (OpenID Connect, `GET /auth/login`): `optional`, anyone
   * may place; `required`, only accounts may (anonymous placements get `login_required`).
   */
  login?: 'optional' | 'required';
  /** Present when this connection's identity is an account (signed in), not an anonymous one. */
  account?: true;
  /** This identity's charges, on a server with `--cooldown-model charges`. */
  charges?: Charges;
}

/** Longest `pow` (a solved challenge, as the ALTCHA widget encodes it) a placement may carry. */
export const MAX_POW_CHARS = 2048;

/**
 * A proof-of-work challenge (ALTCHA's v2 format, signed by the server): find the counter whose key,
 * derived from `nonce` + counter with `algorithm` and `cost`, starts with `keyPrefix`. Clients hand it
 * to an ALTCHA solver; the solution goes back base64-encoded as `pow`.
 */
export interface PowChallenge {
  parameters: {
    algorithm: string;
    nonce: string;
    salt: string;
    cost: number;
    keyLength: number;
    keyPrefix: string;
    keySignature?: string;
    expiresAt?: number;
    data?: Record<string, string | number | boolean | null>;
  };
  signature: string;
}

/** Why placing is refused, and until when (Unix ms; absent: until a moderator lifts it). */
export interface Restriction {
  reason: string;
  until?: number;
}

/**
 * Server -> every client: the number watching changed (sent at most once per tick interval, only on
 * a change). Counts WebSocket clients of the whole deployment, this one included.
 */
export interface OnlineMsg {
  t: typeof MsgType.ONLINE;
  n: number;
}

/** Server -> client: the whole canvas as an indexed PNG, current as of `seq`. */
export interface PngMsg {
  t: typeof MsgType.PNG;
  seq: number;
  png: Uint8Array;
}

/**
 * Server -> delta subscribers: the pixels that changed from `fromSeq` (exclusive) to `toSeq`
 * (inclusive), each with its last colour. Apply only when your seq equals `fromSeq`; else resync.
 */
export interface DeltaMsg {
  t: typeof MsgType.DELTA;
  fromSeq: number;
  toSeq: number;
  /** Number of records in `px`. */
  n: number;
  /** n records of 5 bytes: x uint16 LE, y uint16 LE, colour uint8 (protocol/delta.ts). */
  px: Uint8Array;
  /**
   * Region subscribers only: the level-0 tile these records are all in (one `delta` per changed
   * tile of the region per tick, each with the tick's `fromSeq`/`toSeq`).
   */
  tx?: number;
  ty?: number;
}

/** Most level-0 tiles one region subscription may cover (16 x 16: a 4K screen at full zoom and more). */
export const MAX_REGION_TILES = 256;

/**
 * A region of level-0 tiles (GET /tiles/0/{tx}/{ty}.png): tiles tx..tx+tw-1 by ty..ty+th-1, at most
 * MAX_REGION_TILES of them.
 */
export interface TileRegion {
  tx: number;
  ty: number;
  tw: number;
  th: number;
}

/**
 * Client -> server: switch streams. For `delta`, `since` (the client's seq) asks for the missing
 * deltas when the server still holds them; otherwise a PNG snapshot comes first. With a region
 * (`tx`, `ty`, `tw`, `th`, delta only): no snapshot and no `since`; a `tiles` message, then the
 * region's changes only, tile by tile.
 */
export interface SubscribeMsg extends Partial<TileRegion> {
  t: typeof MsgType.SUBSCRIBE;
  stream: Stream;
  since?: number;
}

/**
 * Server -> a region subscriber: load (or load again) the region's tiles over HTTP; each answer's
 * `X-Seq` header is the seq it shows. Sent when the subscription starts, on `resync`, and after a
 * tick whose changes could not be sent as deltas (too large, or the socket fell behind).
 */
export interface TilesMsg {
  t: typeof MsgType.TILES;
  /** The canvas's seq now: the tiles loaded from here show this seq or later. */
  seq: number;
}

/**
 * Server -> every socket, before the first frame of the new size: the canvas grew at `seq` (an
 * operator's resize) to `width` x `height`, with `left` columns added on the left and `top` rows on
 * top, so a pixel that was at (x, y) is now at (x + left, y + top). A `png` (whole-canvas streams)
 * or a `tiles` (region subscribers) of the new size follows; until then apply nothing else.
 */
export interface ResizeMsg {
  t: typeof MsgType.RESIZE;
  seq: number;
  width: number;
  height: number;
  left: number;
  top: number;
}

/** Client -> server: send me a PNG snapshot with its seq (after a gap in the delta stream). */
export interface ResyncMsg {
  t: typeof MsgType.RESYNC;
}

/** Client -> server: place colour `c` at (x, y). `id` is chosen by the client and echoed back. */
export interface PlaceMsg {
  t: typeof MsgType.PLACE;
  id: number;
  x: number;
  y: number;
  c: number;
  /** A solved challenge (see `challenge_required`): the ALTCHA payload, base64 JSON. */
  pow?: string;
}

/** Server -> client: placement `id` is durably stored as `seq`; the next is allowed at `next` (Unix ms). */
export interface AckMsg {
  t: typeof MsgType.ACK;
  id: number;
  seq: number;
  next: number;
  /** The charges left after this placement, on a server with `--cooldown-model charges`. */
  charges?: Charges;
  /**
   * Present when this placement used up the identity's proof of work: the challenge the next
   * placement needs, to solve while the cooldown runs and send with it as `pow`.
   */
  challenge?: PowChallenge;
}

/** Server -> client: a request failed. `id` is present when the failing frame carried one. */
export interface ErrorMsg {
  t: typeof MsgType.ERROR;
  id?: number;
  code: ErrorCode;
  message: string;
  /** For `cooldown`: ms until a placement is allowed. */
  wait?: number;
  /** For `cooldown`: `network` when the limit reached is the client address's (shared by a NAT), not its own. */
  limit?: 'network';
  /** For `challenge_required` and `challenge_invalid`: the challenge to solve. */
  challenge?: PowChallenge;
}

/**
 * Client -> server: send me `progress` for project `project` (an id from `GET /api/projects`) from the
 * next tick on; `project: 0` stops. One project per socket: a new `watch` replaces the previous one.
 * Nothing is answered: the current state is `GET /api/projects/{id}`, and an unknown id never ticks.
 */
export interface WatchMsg {
  t: typeof MsgType.WATCH;
  project: number;
}

/** A project pixel that was right and was turned wrong (a grief). */
export interface Grief {
  x: number;
  y: number;
  /** The colour it was turned to (the project wants another). */
  color: number;
  /** Identity id of the placer, or `mod:<action>` for a moderation change. */
  who: string;
  /** Unix ms of the placement. */
  at: number;
  seq: number;
}

/**
 * Server -> the sockets watching `project`: its progress after the tick that ended at `seq`, sent in
 * that tick's fan-out, right after the tick's `delta` or `png`. Only in ticks that touched the project.
 */
export interface ProgressMsg {
  t: typeof MsgType.PROGRESS;
  project: number;
  seq: number;
  /** Pixels of the project (its opaque pixels). */
  total: number;
  /** Of those, pixels whose colour on the canvas is the project's. */
  done: number;
  /** Griefs of this tick, oldest first (at most 100: the rest are in `GET /api/projects/{id}`). */
  griefs: Grief[];
}

export type ServerMessage =
  | HelloMsg
  | PngMsg
  | DeltaMsg
  | AckMsg
  | ErrorMsg
  | OnlineMsg
  | ProgressMsg
  | TilesMsg
  | ResizeMsg;
export type ClientMessage = PlaceMsg | SubscribeMsg | ResyncMsg | WatchMsg;
