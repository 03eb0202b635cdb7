/**
 * What travels over Redis between the writer and the edges: the types, the encoder and, for every
 * message, a decoder that checks it. Redis is a trust boundary: whoever can publish on it (a
 * misconfigured client, a stale process, an attacker on an open port) can send anything, so the
 * writer and the edges act only on what a `decode*` function returned, never on a raw payload. A
 * decoder returns undefined for a payload that is not exactly the message (missing, extra-typed or
 * wrong-typed fields); a request batch keeps its well-formed requests and reports the others one by
 * one, so one bad request fails alone.
 *
 * Encoding is MessagePack (plain maps, the same library as the client protocol). Writer and edges run
 * the same code version, so the format has no negotiation; clients never see it.
 *
 * Keys and channels (P = --redis-prefix):
 * - `P:meta` (key): the canvas an edge serves (id, size, palette, timings) and the identity secret,
 *   so a token minted by any process is valid on all.
 * - `P:frame` (key): the latest tick message (the same bytes as published), so a starting or
 *   resyncing edge needs no writer round trip.
 * - `P:ticks` (channel): one `tick` per changed tick (size, PNG, delta, each resize since the last
 *   tick) and one `beat` per tick interval (liveness, and the seq, so an edge that missed a tick
 *   notices).
 * - `P:requests` (channel): batches of forwarded requests from every edge.
 * - `P:presence` (channel): each edge's number of WebSocket clients, once per tick interval; the
 *   writer adds them up (with its own) and sends the total in its beats.
 * - `P:answers:EDGE` (channel): batches of answers for one edge. An answer too large for a pub/sub
 *   message (a timelapse: Redis disconnects a subscriber whose output buffer passes its pub/sub
 *   limit, 32 MB by default, losing the answer and every other one in flight) is stored under
 *   `P:answer:EDGE:I` for STORED_ANSWER_TTL_S instead, and the batch names the key.
 * - `P:lease`, `P:epoch`, `P:standby` (keys): the writer lease (bus/lease.ts).
 * - `P:log` (stream) and `P:log:seq` (key): the replicated log, one `LogEntry` per committed batch,
 *   and the last seq in it (bus/replication-log.ts).
 */
import { Packr } from 'msgpackr';
import { isClientInt, isPow } from '../../protocol/codec.ts';
import type { PixelInfo } from '../../protocol/http-api.ts';
import { type Charges, ErrorCode } from '../../protocol/messages.ts';
import { HISTORY_PATHS, type HistoryRequest } from '../history/history-answers.ts';
import type { HttpAnswer } from '../http/answer.ts';
import { formatIpRanges, parseIpRanges } from '../identity/client-address.ts';
import type { OidcSettings } from '../identity/oidc-client.ts';
import { isIdentityId } from '../identity/tokens.ts';
import { NAME_LIMITS, type NameResult } from '../identity/display-names.ts';
import type { AdminAction } from '../moderation/admin-action.ts';
import { BOT_LIMITS } from '../moderation/bot-admin.ts';
import type { AreaRollbackRequest } from '../moderation/area-rollback.ts';
import type { ActionResult, Rect } from '../moderation/moderation.ts';
import { HttpCode } from '../http/status.ts';
import type { IdentityStatsResult, PixelResult, Standing, StatsResult } from '../placement/authority.ts';
import type { PlaceResult } from '../placement/service.ts';
import type { StatsSummary, TopEntry } from '../stats/stats.ts';
import { MAX_NAME_CHARS, type ProjectRequest } from '../projects/project-service.ts';
import { ProgressBlock } from '../projects/progress-block.ts';
import { isReplicatedTable, type TableChange } from '../store/change-log.ts';
import type { PlacementRow } from '../store/store.ts';
import type { SizeRow } from '../store/size-store.ts';
import type { SizeEvent } from '../canvas/canvas-size.ts';

export interface BusKeys {
  meta: string;
  frame: string;
  ticks: string;
  requests: string;
  presence: string;
  answers(edge: string): string;
  /** Where one large answer waits for its edge. */
  storedAnswer(edge: string, i: number): string;
}

/** How long a stored answer waits for its edge to take it (the edge deletes it on reading). */
export const STORED_ANSWER_TTL_S = 120;

export function busKeys(prefix: string): BusKeys {
  return {
    meta: `${prefix}:meta`,
    frame: `${prefix}:frame`,
    ticks: `${prefix}:ticks`,
    requests: `${prefix}:requests`,
    presence: `${prefix}:presence`,
    answers: (edge) => `${prefix}:answers:${edge}`,
    storedAnswer: (edge, i) => `${prefix}:answer:${edge}:${i}`,
  };
}

export interface CanvasMeta {
  canvasId: string;
  width: number;
  height: number;
  palette: number[];
  tickMs: number;
  cooldownMs: number;
  /** HMAC key of identity tokens (hex). */
  secret: string;
  /** The canvas's resizes, oldest first (GET /api/canvas lists them; absent: none). */
  resizes?: SizeEvent[];
  /** Accounts (--login), decided by the writer; absent: off. */
  login?: 'optional' | 'required';
  /**
   * The provider every process signs players in with (the writer's flags, so all edges behind one
   * public URL agree); present when `login` is. The client secret travels like the identity secret
   * above: whoever can write P:meta could already forge every identity.
   */
  oidc?: OidcSettings;
}

/** The change since `fromSeq`, as the encoded client `delta` message. */
export interface BusDelta {
  fromSeq: number;
  toSeq: number;
  count: number;
  message: Uint8Array;
}

/** A frame as the writer encoded it; `at` is the writer's wall clock when it published the tick. */
export interface FrameMsg {
  k: 'tick';
  /** The writer's lease epoch (bus/lease.ts): edges drop messages of an older one. */
  epoch: number;
  canvasId: string;
  seq: number;
  etag: string;
  /** The canvas's size at `seq`. */
  width: number;
  height: number;
  /** The whole-canvas PNG; absent on a canvas over 4096 a side (tiles and region deltas only). */
  png?: Uint8Array;
  at: number;
  /** Absent: the change was too large for a delta (use the PNG). */
  delta?: BusDelta;
  /** The projects the tick touched: their packed progress records (projects/progress-block.ts). */
  progress?: Uint8Array;
  /**
   * The resizes since the writer's previous tick, oldest first, each at its own seq: an edge tells its
   * clients each (`resize` message) before the frame. Absent: none.
   */
  resizes?: SizeEvent[];
  /**
   * How many resizes the canvas has had, these included: an edge that knows fewer than
   * `resizeCount - resizes.length` missed a tick that carried one, and takes the list from `P:meta`.
   */
  resizeCount: number;
}

/** A tick as an edge receives it: the progress block checked (`ProgressBlock.read`). */
export type TickMsg = Omit<FrameMsg, 'progress'> & { progress?: ProgressBlock };

export interface BeatMsg {
  k: 'beat';
  epoch: number;
  canvasId: string;
  seq: number;
  at: number;
  /** WebSocket clients of the whole deployment. */
  online: number;
}

export interface PresenceMsg {
  edge: string;
  n: number;
}

export type Request =
  | {
      i: number;
      k: 'place';
      identityId: string;
      addressKey: string;
      account?: true;
      bot?: string;
      x: number;
      y: number;
      c: number;
      pow?: string;
    }
  | { i: number; k: 'standing'; identityId: string; addressKey: string; account?: true; bot?: string }
  | { i: number; k: 'pixel'; x: number; y: number }
  | { i: number; k: 'admin'; a: AdminAction }
  | { i: number; k: 'history'; r: HistoryRequest }
  | { i: number; k: 'stats' }
  | { i: number; k: 'statsOf'; id: string }
  | { i: number; k: 'tile'; level: number; tx: number; ty: number }
  | {
      i: number;
      k: 'name';
      identityId: string;
      addressKey: string;
      account?: true;
      bot?: string;
      /** As the client sent it (at most NAME_LIMITS.wireChars): the writer checks it (display-names.ts). */
      name: string;
    }
  | { i: number; k: 'projects'; r: ProjectRequest };

export type RequestKind = Request['k'];

/** The answer to each kind of request. */
export interface AnswerOf {
  place: PlaceResult;
  standing: Standing;
  pixel: PixelResult;
  admin: ActionResult;
  history: HttpAnswer;
  stats: StatsResult;
  statsOf: IdentityStatsResult;
  tile: HttpAnswer;
  name: NameResult;
  projects: HttpAnswer;
}

export type Answer = AnswerOf[RequestKind];

export interface RequestBatch {
  edge: string;
  reqs: Request[];
}

/** A decoded request batch: the requests to run, and the numbered ones that were malformed. */
export interface DecodedRequests {
  edge: string;
  /**
   * The writer epoch the edge followed when it sent the batch (absent from an older edge): a writer
   * with a newer epoch runs none of it, because the edge gives such requests up as soon as it hears
   * the newer writer (edge-bus.ts), and a request it gave up must not take effect later.
   */
  epoch?: number;
  reqs: Request[];
  /** Malformed requests that carried a usable number: each is answered with `invalid_field`. */
  bad: Array<{ i: number; reason: string }>;
  /** Malformed requests without a usable number: only counted. */
  unnumbered: number;
}

/** One answer in a batch: inline, or stored under a key (too large for pub/sub). */
export type AnswerEntry = { i: number; r: Answer } | { i: number; stored: string };

export interface AnswerBatch {
  epoch: number;
  ans: AnswerEntry[];
}

/**
 * One entry of the replicated log: a committed batch (placements with their seqs, `from`..`to`; none
 * when `to` is `from - 1`) and the small-table changes stored with or since it (store/change-log.ts).
 */
export interface LogEntry {
  epoch: number;
  from: number;
  to: number;
  rows: PlacementRow[];
  changes: TableChange[];
  /** A resize (the entry's one seq, no rows): standbys grow their grid there, in log order. */
  resize?: SizeRow;
}

/** A log entry as packed: rows as arrays (a batch of 1,000 is ~40 KB instead of ~90 KB as maps). */
interface PackedLogEntry {
  e: number;
  f: number;
  t: number;
  r: Array<[number, number, number, number, string, string, number, number, number]>;
  c: Array<[string, string, TableChange['row']]>;
  /** seq, width, height, left, top, at, who */
  z?: [number, number, number, number, number, number, string];
}

export function encodeLogEntry(entry: LogEntry): Buffer {
  const packed: PackedLogEntry = {
    e: entry.epoch,
    f: entry.from,
    t: entry.to,
    r: entry.rows.map((r) => [r.seq, r.x, r.y, r.color, r.who, r.addr, r.at, r.nextAt, r.prevSeq]),
    c: entry.changes.map((c) => [c.table, c.op, c.row]),
  };
  const z = entry.resize;
  if (z) packed.z = [z.seq, z.width, z.height, z.left, z.top, z.at, z.who];
  return packr.pack(packed);
}

export function decodeLogEntry(payload: Uint8Array): LogEntry | undefined {
  return decodeWith(payload, (f) => {
    const entry: LogEntry = { epoch: count(f, 'e'), from: count(f, 'f'), to: count(f, 't'), rows: [], changes: [] };
    if (!Array.isArray(f.r) || !Array.isArray(f.c)) throw new Malformed('rows or changes');
    if (f.z !== undefined) {
      if (!Array.isArray(f.z) || f.z.length !== 7) throw new Malformed('resize');
      const [seq, width, height, left, top, at, who] = f.z as unknown[];
      const z = { seq, width, height, left, top, at, who } as Fields;
      entry.resize = {
        seq: count(z, 'seq'),
        width: count(z, 'width'),
        height: count(z, 'height'),
        left: count(z, 'left'),
        top: count(z, 'top'),
        at: int(z, 'at'),
        who: str(z, 'who', 256),
      };
      // A resize is an entry of its own: its seq and nothing else.
      if (entry.from !== entry.resize.seq || entry.to !== entry.from || f.r.length !== 0)
        throw new Malformed('resize seq');
    } else if (entry.to + 1 < entry.from || entry.to + 1 - entry.from !== f.r.length) throw new Malformed('seq range');
    f.r.forEach((raw: unknown, i) => {
      if (!Array.isArray(raw) || raw.length !== 9) throw new Malformed('row');
      const [seq, x, y, color, who, addr, at, nextAt, prevSeq] = raw as unknown[];
      const row = { seq, x, y, color, who, addr, at, nextAt, prevSeq } as Fields;
      const r: PlacementRow = {
        seq: count(row, 'seq'),
        x: count(row, 'x'),
        y: count(row, 'y'),
        color: count(row, 'color'),
        who: str(row, 'who', 256),
        addr: str(row, 'addr', 256),
        at: int(row, 'at'),
        nextAt: int(row, 'nextAt'),
        prevSeq: count(row, 'prevSeq'),
      };
      if (r.seq !== entry.from + i) throw new Malformed('row seq');
      entry.rows.push(r);
    });
    for (const raw of f.c as unknown[]) {
      if (!Array.isArray(raw) || raw.length !== 3) throw new Malformed('change');
      const [table, op, row] = raw as [unknown, unknown, unknown];
      if (typeof table !== 'string' || !isReplicatedTable(table)) throw new Malformed('change table');
      if (op !== 'upsert' && op !== 'delete') throw new Malformed('change op');
      const fields = record(row, 'change row');
      for (const v of Object.values(fields)) {
        if (v !== null && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v)))
          throw new Malformed('change value');
      }
      entry.changes.push({ table, op, row: fields as TableChange['row'] });
    }
    return entry;
  });
}

export type BusMessage = FrameMsg | BeatMsg | CanvasMeta | RequestBatch | AnswerBatch | PresenceMsg | Answer;

// Plain maps (no msgpackr records), so a Redis MONITOR shows readable structures.
const packr = new Packr({ useRecords: false });

export const encodeBus = (value: BusMessage): Buffer => packr.pack(value);

// --- decoding -----------------------------------------------------------------------------------

/** Thrown by the field readers below; caught by each decoder, never leaves this module. */
class Malformed extends Error {}

type Fields = Record<string, unknown>;

const MAX_ID_CHARS = 128;
/** PNG files start with these 8 bytes (RFC 2083 3.1). */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
/** Moderation refusals may carry HTTP-only codes too (too_large, rollback_running). */
const ADMIN_CODES = new Set<string>([...ERROR_CODES, ...Object.values(HttpCode)]);

function unpack(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch {
    return undefined;
  }
}

function record(v: unknown, what: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new Malformed(`${what} is not a map`);
  }
  return v as Fields;
}

/** A solved challenge as the client sent it: the client wire's rule (its content is the verifier's). */
function powOf(f: Fields): string {
  if (!isPow(f.pow)) throw new Malformed('pow');
  return f.pow;
}

function str(f: Fields, key: string, max = MAX_ID_CHARS): string {
  const v = f[key];
  if (typeof v !== 'string' || v.length > max) throw new Malformed(`${key} is not a string of at most ${max}`);
  return v;
}

/** A non-negative safe integer (seqs, counts, times). */
function count(f: Fields, key: string): number {
  const v = f[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Malformed(`${key} is not a count`);
  return v;
}

/** Any safe integer (a Unix ms time that may be 0 or before 1970). */
function int(f: Fields, key: string): number {
  const v = f[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Malformed(`${key} is not an integer`);
  return v;
}

function clientInt(f: Fields, key: string): number {
  const v = f[key];
  if (!isClientInt(v)) throw new Malformed(`${key} is not an integer`);
  return v;
}

function bytes(f: Fields, key: string): Uint8Array {
  const v = f[key];
  if (!(v instanceof Uint8Array)) throw new Malformed(`${key} is not binary`);
  return v;
}

function identity(f: Fields, key: string): string {
  const v = str(f, key);
  if (!isIdentityId(v)) throw new Malformed(`${key} is not an identity id`);
  return v;
}

/** The optional `account: true` of a place or standing request, as an object to spread. */
function account(f: Fields): { account?: true } {
  if (f.account === undefined) return {};
  if (f.account !== true) throw new Malformed('account is not true');
  return { account: true };
}

/**
 * The optional `bot` of a place or standing request (the bot id its front verified in the token),
 * as an object to spread. Whether that bot may place is the writer's to decide (placement/bots.ts).
 */
function bot(f: Fields): { bot?: string } {
  return f.bot === undefined ? {} : { bot: identity(f, 'bot') };
}

function decodeWith<T>(payload: Uint8Array, read: (f: Fields) => T): T | undefined {
  try {
    return read(record(unpack(payload), 'message'));
  } catch (err) {
    if (err instanceof Malformed) return undefined;
    throw err;
  }
}

/** Most resizes a meta or tick lists (an event has a handful; each is ~40 bytes). */
const MAX_RESIZES = 10_000;

/**
 * A list of resizes, oldest first: seqs rising, each size at least the one before and within
 * what it grew by (an edge lays out tiles and shifts its clients' coordinates with these).
 */
function sizeEvents(v: unknown): SizeEvent[] {
  if (!Array.isArray(v) || v.length > MAX_RESIZES) throw new Malformed('resizes');
  let before: SizeEvent | undefined;
  return v.map((raw: unknown) => {
    const r = record(raw, 'resize');
    const e: SizeEvent = {
      seq: count(r, 'seq'),
      width: count(r, 'width'),
      height: count(r, 'height'),
      left: count(r, 'left'),
      top: count(r, 'top'),
    };
    if (e.width < 1 || e.height < 1 || e.left > e.width || e.top > e.height) throw new Malformed('resize size');
    if (before && (e.seq <= before.seq || e.width < before.width || e.height < before.height))
      throw new Malformed('resizes out of order');
    before = e;
    return e;
  });
}

export function decodeMeta(payload: Uint8Array): CanvasMeta | undefined {
  return decodeWith(payload, (f) => {
    const palette = f.palette;
    if (!Array.isArray(palette) || palette.length < 2 || palette.length > 256) throw new Malformed('palette');
    for (const c of palette) {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 0xffffff) throw new Malformed('palette colour');
    }
    const secret = str(f, 'secret', 256);
    if (!/^(?:[0-9a-f]{2})+$/.test(secret)) throw new Malformed('secret is not hex');
    const meta: CanvasMeta = {
      canvasId: str(f, 'canvasId'),
      width: count(f, 'width'),
      height: count(f, 'height'),
      palette: palette as number[],
      tickMs: count(f, 'tickMs'),
      cooldownMs: count(f, 'cooldownMs'),
      secret,
    };
    if (meta.width < 1 || meta.height < 1 || meta.tickMs < 1) throw new Malformed('size or tick');
    if (f.resizes !== undefined) meta.resizes = sizeEvents(f.resizes);
    if (f.login !== undefined) {
      if (f.login !== 'optional' && f.login !== 'required') throw new Malformed('login');
      const o = record(f.oidc, 'oidc');
      meta.login = f.login;
      meta.oidc = {
        issuer: str(o, 'issuer', 2048),
        clientId: str(o, 'clientId', 1024),
        clientSecret: str(o, 'clientSecret', 1024),
        scopes: str(o, 'scopes', 1024),
        publicUrl: str(o, 'publicUrl', 2048),
      };
    } else if (f.oidc !== undefined) throw new Malformed('oidc without login');
    return meta;
  });
}

/** A message of the ticks channel (or the frame key): a tick, or a beat. */
export function decodeTicks(payload: Uint8Array): TickMsg | BeatMsg | undefined {
  return decodeWith(payload, (f): TickMsg | BeatMsg => {
    const common = {
      epoch: count(f, 'epoch'),
      canvasId: str(f, 'canvasId'),
      seq: count(f, 'seq'),
      at: count(f, 'at'),
    };
    if (f.k === 'beat') return { k: 'beat', ...common, online: count(f, 'online') };
    if (f.k !== 'tick') throw new Malformed('k');
    const msg: TickMsg = {
      k: 'tick',
      ...common,
      etag: str(f, 'etag'),
      width: count(f, 'width'),
      height: count(f, 'height'),
      resizeCount: count(f, 'resizeCount'),
    };
    if (msg.width < 1 || msg.height < 1) throw new Malformed('size');
    if (f.png !== undefined) {
      const png = bytes(f, 'png');
      if (!PNG_SIGNATURE.equals(png.subarray(0, PNG_SIGNATURE.length))) throw new Malformed('png is not a PNG');
      msg.png = png;
    }
    if (f.delta !== undefined) {
      const d = record(f.delta, 'delta');
      const delta = {
        fromSeq: count(d, 'fromSeq'),
        toSeq: count(d, 'toSeq'),
        count: count(d, 'count'),
        message: bytes(d, 'message'),
      };
      if (delta.toSeq !== msg.seq || delta.fromSeq > delta.toSeq) throw new Malformed('delta range');
      msg.delta = delta;
    }
    if (f.resizes !== undefined) {
      const resizes = sizeEvents(f.resizes);
      // Oldest first, each growing the last, ending at the tick's size, and no more than it counts.
      if (resizes.length === 0 || resizes.length > msg.resizeCount) throw new Malformed('resizes');
      const last = resizes[resizes.length - 1] as SizeEvent;
      if (last.width !== msg.width || last.height !== msg.height || last.seq > msg.seq)
        throw new Malformed('resizes end');
      msg.resizes = resizes;
    }
    if (f.progress !== undefined) {
      const progress = ProgressBlock.read(bytes(f, 'progress'));
      if (!progress || progress.seq !== msg.seq) throw new Malformed('progress');
      msg.progress = progress;
    }
    return msg;
  });
}

export function decodePresence(payload: Uint8Array): PresenceMsg | undefined {
  return decodeWith(payload, (f) => ({ edge: str(f, 'edge'), n: count(f, 'n') }));
}

/** An optional positive `seconds` (a timed ban), as an object to spread. */
function seconds(f: Fields): { seconds?: number } {
  return f.seconds === undefined ? {} : { seconds: count(f, 'seconds') };
}

/** One canonical CIDR range, as the admin route writes it. */
function cidr(f: Fields, key: string): string {
  const text = str(f, key, 64);
  try {
    const ranges = parseIpRanges(text);
    if (ranges.length === 1 && formatIpRanges(ranges) === text) return text;
  } catch {
    // refused below
  }
  throw new Malformed(`${key} is not a canonical CIDR range`);
}

function rectOf(f: Fields): Rect {
  const r = record(f.rect, 'rect');
  return { x: clientInt(r, 'x'), y: clientInt(r, 'y'), width: clientInt(r, 'width'), height: clientInt(r, 'height') };
}

/** An optional count (a time, a seq cursor) as an object to spread. */
function optionalCount<K extends string>(f: Fields, key: K): { [k in K]?: number } {
  return (f[key] === undefined ? {} : { [key]: count(f, key) }) as { [k in K]?: number };
}

/** Most identities one area rollback may name (the route allows 500). */
const MAX_ROLLBACK_IDS = 1000;

function areaRollbackOf(f: Fields): AreaRollbackRequest {
  const req: AreaRollbackRequest = { rect: rectOf(f), since: count(f, 'since'), ...optionalCount(f, 'until') };
  if (f.ids !== undefined) {
    if (!Array.isArray(f.ids) || f.ids.length > MAX_ROLLBACK_IDS) throw new Malformed('ids');
    req.ids = f.ids.map((id: unknown) => {
      if (typeof id !== 'string' || !isIdentityId(id)) throw new Malformed('ids: not an identity id');
      return id;
    });
  }
  return req;
}

function decodeAdminAction(f: Fields): AdminAction {
  const op = f.op;
  switch (op) {
    case 'ban':
      return { op, actor: str(f, 'actor'), id: identity(f, 'id'), reason: str(f, 'reason', 500), ...seconds(f) };
    case 'unban':
      return { op, actor: str(f, 'actor'), id: identity(f, 'id') };
    case 'ban-prefix':
      return { op, actor: str(f, 'actor'), prefix: cidr(f, 'prefix'), reason: str(f, 'reason', 500), ...seconds(f) };
    case 'unban-prefix':
      return { op, actor: str(f, 'actor'), prefix: cidr(f, 'prefix') };
    case 'rollback':
      return { op, actor: str(f, 'actor'), id: identity(f, 'id'), since: int(f, 'since') };
    case 'wipe': {
      const r = record(f.rect, 'rect');
      const rect = {
        x: clientInt(r, 'x'),
        y: clientInt(r, 'y'),
        width: clientInt(r, 'width'),
        height: clientInt(r, 'height'),
      };
      return { op, actor: str(f, 'actor'), rect, color: clientInt(f, 'color') };
    }
    case 'lock':
      return { op, actor: str(f, 'actor'), seconds: count(f, 'seconds'), reason: str(f, 'reason', 500) };
    case 'resize':
      return {
        op,
        actor: str(f, 'actor'),
        width: clientInt(f, 'width'),
        height: clientInt(f, 'height'),
        left: clientInt(f, 'left'),
        top: clientInt(f, 'top'),
      };
    case 'unlock':
      return { op, actor: str(f, 'actor') };
    case 'surge': {
      const mode = f.mode;
      if (mode !== 'auto' && mode !== 'off' && mode !== 'challenge') throw new Malformed('mode');
      return { op, actor: str(f, 'actor'), mode };
    }
    case 'audit':
    case 'signals':
      return { op, limit: count(f, 'limit') };
    case 'look':
      return {
        op,
        rect: rectOf(f),
        since: count(f, 'since'),
        limit: count(f, 'limit'),
        ...optionalCount(f, 'until'),
        ...optionalCount(f, 'before'),
      };
    case 'rollback-area':
      return { op, actor: str(f, 'actor'), ...areaRollbackOf(f) };
    case 'rollback-preview':
      return { op, ...areaRollbackOf(f) };
    case 'rollback-status':
    case 'activity':
    case 'bot-list':
      return { op };
    case 'bot-mint': {
      const mint: AdminAction = {
        op,
        actor: str(f, 'actor'),
        name: str(f, 'name', BOT_LIMITS.nameChars),
        everyMs: count(f, 'everyMs'),
        ...seconds(f),
      };
      if (f.region !== undefined) mint.region = rectOf({ rect: f.region });
      return mint;
    }
    case 'bot-revoke':
    case 'name-clear':
      return { op, actor: str(f, 'actor'), id: identity(f, 'id') };
    case 'project-hide':
      if (typeof f.hidden !== 'boolean') throw new Malformed('hidden');
      return { op, actor: str(f, 'actor'), id: count(f, 'id'), hidden: f.hidden };
    case 'project-delete':
      return { op, actor: str(f, 'actor'), id: count(f, 'id') };
    default:
      throw new Malformed('unknown admin op');
  }
}

/** Bounds of a forwarded tile request (tiles/tile-layout.ts refuses larger ones at the route). */
const MAX_TILE_LEVEL = 24;
const MAX_TILE_INDEX = 1 << 24;

function decodeRequest(f: Fields, i: number): Request {
  switch (f.k) {
    case 'place':
      return {
        i,
        k: 'place',
        identityId: identity(f, 'identityId'),
        addressKey: str(f, 'addressKey'),
        ...account(f),
        ...bot(f),
        x: clientInt(f, 'x'),
        y: clientInt(f, 'y'),
        c: clientInt(f, 'c'),
        ...(f.pow === undefined ? {} : { pow: powOf(f) }),
      };
    case 'standing':
      return {
        i,
        k: 'standing',
        identityId: identity(f, 'identityId'),
        addressKey: str(f, 'addressKey'),
        ...account(f),
        ...bot(f),
      };
    case 'pixel':
      return { i, k: 'pixel', x: clientInt(f, 'x'), y: clientInt(f, 'y') };
    case 'admin':
      return { i, k: 'admin', a: decodeAdminAction(record(f.a, 'a')) };
    case 'history': {
      const r = record(f.r, 'r');
      const path = str(r, 'path');
      if (!(HISTORY_PATHS as readonly string[]).includes(path)) throw new Malformed('history path');
      const query = str(r, 'query', 4096);
      return {
        i,
        k: 'history',
        r: { path, query, ifNoneMatch: str(r, 'ifNoneMatch', 4096), addressKey: str(r, 'addressKey') },
      };
    }
    case 'stats':
      return { i, k: 'stats' };
    case 'statsOf':
      return { i, k: 'statsOf', id: identity(f, 'id') };
    case 'name':
      return {
        i,
        k: 'name',
        identityId: identity(f, 'identityId'),
        addressKey: str(f, 'addressKey'),
        ...account(f),
        ...bot(f),
        name: str(f, 'name', NAME_LIMITS.wireChars),
      };
    case 'tile': {
      const tile = { i, k: 'tile' as const, level: count(f, 'level'), tx: count(f, 'tx'), ty: count(f, 'ty') };
      // The writer checks the range against its canvas; this only keeps the numbers small.
      if (tile.level > MAX_TILE_LEVEL || tile.tx > MAX_TILE_INDEX || tile.ty > MAX_TILE_INDEX) {
        throw new Malformed('tile coordinates');
      }
      return tile;
    }
    case 'projects':
      return { i, k: 'projects', r: projectRequest(record(f.r, 'r')) };
    default:
      throw new Malformed('unknown request kind');
  }
}

/** Largest project PNG a forwarded registration may carry (the route's body limit is below it). */
const MAX_PROJECT_PNG_BYTES = 8 << 20;

function projectRequest(f: Fields): ProjectRequest {
  switch (f.op) {
    case 'list': {
      if (f.sort !== 'new' && f.sort !== 'active') throw new Malformed('sort');
      return { op: 'list', sort: f.sort, page: count(f, 'page'), limit: count(f, 'limit') };
    }
    case 'get':
    case 'image':
      return { op: f.op, id: count(f, 'id') };
    case 'register': {
      const png = bytes(f, 'png');
      if (png.length > MAX_PROJECT_PNG_BYTES) throw new Malformed('png too large');
      return {
        op: 'register',
        owner: identity(f, 'owner'),
        name: str(f, 'name', MAX_NAME_CHARS * 4),
        x: clientInt(f, 'x'),
        y: clientInt(f, 'y'),
        png,
      };
    }
    default:
      throw new Malformed('project op');
  }
}

export function decodeRequests(payload: Uint8Array): DecodedRequests | undefined {
  return decodeWith(payload, (f) => {
    const edge = str(f, 'edge');
    if (!Array.isArray(f.reqs)) throw new Malformed('reqs');
    const out: DecodedRequests = { edge, reqs: [], bad: [], unnumbered: 0 };
    if (f.epoch !== undefined) out.epoch = count(f, 'epoch');
    for (const raw of f.reqs) {
      let i: number | undefined;
      try {
        const r = record(raw, 'request');
        i = count(r, 'i');
        out.reqs.push(decodeRequest(r, i));
      } catch (err) {
        if (!(err instanceof Malformed)) throw err;
        if (i === undefined) out.unnumbered++;
        else out.bad.push({ i, reason: err.message });
      }
    }
    return out;
  });
}

/** An answer batch, each answer still unchecked: only the edge knows which kind each `i` asked. */
export function decodeAnswers(
  payload: Uint8Array,
): { epoch: number; ans: Array<{ i: number; r: unknown } | { i: number; stored: string }> } | undefined {
  return decodeWith(payload, (f) => {
    if (!Array.isArray(f.ans)) throw new Malformed('ans');
    const ans = f.ans.map((raw) => {
      const a = record(raw, 'answer');
      const i = count(a, 'i');
      return a.stored === undefined ? { i, r: a.r } : { i, stored: str(a, 'stored', 512) };
    });
    return { epoch: count(f, 'epoch'), ans };
  });
}

/** A stored answer as read from its key, still unchecked (see decodeAnswer); undefined if not MessagePack. */
export function decodeStoredAnswer(payload: Uint8Array): unknown {
  return unpack(payload);
}

/** An optional `until` (Unix ms), as an object to spread. */
function until(f: Fields): { until?: number } {
  return f.until === undefined ? {} : { until: count(f, 'until') };
}

/** Pixel charges (--cooldown-model charges): `left` of `max`, the next one at `next` unless full. */
function charges(v: unknown): Charges {
  const f = record(v, 'charges');
  const c: Charges = { left: count(f, 'left'), max: count(f, 'max') };
  if (c.max === 0 || c.left > c.max) throw new Malformed('charges');
  if (f.next !== undefined) c.next = count(f, 'next');
  // A full bucket has no next charge to wait for, and one short of full has one.
  if ((c.next === undefined) !== (c.left === c.max)) throw new Malformed('charges.next');
  return c;
}

function failure(f: Fields): { ok: false; code: ErrorCode; message: string } {
  const code = str(f, 'code');
  if (!ERROR_CODES.has(code)) throw new Malformed('code');
  return { ok: false, code: code as ErrorCode, message: str(f, 'message', 4096) };
}

function nullable<T>(f: Fields, key: string, read: (f: Fields, key: string) => T): T | null {
  return f[key] === null ? null : read(f, key);
}

/** Longest top list and palette a stats answer may carry (the server keeps 10 and at most 256). */
const MAX_TOP = 100;
const MAX_COLOURS = 256;

function topList(f: Fields, key: string): TopEntry[] {
  const list = f[key];
  if (!Array.isArray(list) || list.length > MAX_TOP) throw new Malformed(key);
  return list.map((raw) => {
    const e = record(raw, key);
    // Field order is the JSON order, as in stats.ts: the edge's ETag is computed from its bytes.
    return { id: identity(e, 'id'), placed: count(e, 'placed'), ...labelOf(e) };
  });
}

/** The optional display name and bot name of a stats entry, as an object to spread. */
function labelOf(f: Fields): { name?: string; bot?: string } {
  return {
    ...(f.name === undefined ? {} : { name: str(f, 'name', NAME_LIMITS.wireChars) }),
    ...(f.bot === undefined ? {} : { bot: str(f, 'bot', BOT_LIMITS.nameChars) }),
  };
}

function statsSummary(f: Fields): StatsSummary {
  const perColor = f.perColor;
  if (!Array.isArray(perColor) || perColor.length > MAX_COLOURS) throw new Malformed('perColor');
  // Field order is the JSON order (http/stats-routes.ts serialises this object as it is).
  return {
    placements: count(f, 'placements'),
    lastHour: count(f, 'lastHour'),
    perColor: perColor.map((n: unknown) => {
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Malformed('perColor');
      return n;
    }),
    active5m: count(f, 'active5m'),
    top: topList(f, 'top'),
    topHour: topList(f, 'topHour'),
    modChanges: count(f, 'modChanges'),
    at: count(f, 'at'),
  };
}

/** A whole HTTP answer built by the writer (history, tiles), written out as it is by the edge. */
function httpAnswer(r: unknown): HttpAnswer {
  const f = record(r, 'answer');
  const headers = record(f.headers, 'headers');
  for (const v of Object.values(headers)) if (typeof v !== 'string') throw new Malformed('header');
  return { status: str(f, 'status'), headers: headers as Record<string, string>, body: bytes(f, 'body') };
}

const answerReaders: { [K in RequestKind]: (r: unknown) => AnswerOf[K] } = {
  place: (r) => {
    const f = record(r, 'answer');
    if (f.ok === true) {
      const ok: PlaceResult = { ok: true, seq: count(f, 'seq'), next: count(f, 'next') };
      if (f.charges !== undefined) ok.charges = charges(f.charges);
      if (f.challengeDue === true) ok.challengeDue = true;
      else if (f.challengeDue !== undefined) throw new Malformed('challengeDue');
      return ok;
    }
    const fail: PlaceResult = failure(f);
    if (f.wait !== undefined) fail.wait = count(f, 'wait');
    if (f.limit === 'network') fail.limit = 'network';
    else if (f.limit !== undefined) throw new Malformed('limit');
    return fail;
  },
  standing: (r) => {
    const f = record(r, 'standing');
    const standing: Standing = { wait: count(f, 'wait') };
    if (f.banned !== undefined) {
      const b = record(f.banned, 'banned');
      if (b.scope !== 'identity' && b.scope !== 'network') throw new Malformed('ban scope');
      standing.banned = { scope: b.scope, reason: str(b, 'reason', 500), ...until(b) };
    }
    if (f.locked !== undefined) {
      const l = record(f.locked, 'locked');
      standing.locked = { reason: str(l, 'reason', 500), ...until(l) };
    }
    if (f.challenge === true) standing.challenge = true;
    else if (f.challenge !== undefined) throw new Malformed('challenge');
    if (f.charges !== undefined) standing.charges = charges(f.charges);
    return standing;
  },
  pixel: (r) => {
    const f = record(r, 'answer');
    if (f.ok !== true) return failure(f);
    const p = record(f.pixel, 'pixel');
    const pixel: PixelInfo = {
      x: clientInt(p, 'x'),
      y: clientInt(p, 'y'),
      color: clientInt(p, 'color'),
      who: nullable(p, 'who', str),
      at: nullable(p, 'at', count),
      seq: nullable(p, 'seq', count),
    };
    if (p.bot !== undefined) pixel.bot = str(p, 'bot', BOT_LIMITS.nameChars);
    return { ok: true, pixel };
  },
  admin: (r) => {
    const f = record(r, 'answer');
    if (f.ok === true) return { ok: true, result: record(f.result, 'result') };
    const code = str(f, 'code');
    if (!ADMIN_CODES.has(code)) throw new Malformed('code');
    return { ok: false, code: code as ErrorCode | HttpCode, message: str(f, 'message', 4096) };
  },
  history: (r) => httpAnswer(r),
  tile: (r) => httpAnswer(r),
  projects: (r) => httpAnswer(r),
  stats: (r) => {
    const f = record(r, 'answer');
    return f.ok === true ? { ok: true, stats: statsSummary(record(f.stats, 'stats')) } : failure(f);
  },
  statsOf: (r) => {
    const f = record(r, 'answer');
    if (f.ok !== true) return failure(f);
    const s = record(f.stats, 'stats');
    const stats = {
      id: identity(s, 'id'),
      placed: count(s, 'placed'),
      first: nullable(s, 'first', count),
      last: nullable(s, 'last', count),
      rank: nullable(s, 'rank', count),
      ...labelOf(s),
    };
    return { ok: true, stats };
  },
  name: (r) => {
    const f = record(r, 'answer');
    if (f.ok === true) return { ok: true, id: identity(f, 'id'), name: nullable(f, 'name', nameText) };
    // A refusal may carry an HTTP-only code (name_taken).
    const code = str(f, 'code');
    if (!ADMIN_CODES.has(code)) throw new Malformed('code');
    return {
      ok: false,
      code: code as ErrorCode | HttpCode,
      message: str(f, 'message', 4096),
      ...(f.wait === undefined ? {} : { wait: count(f, 'wait') }),
    };
  },
};

const nameText = (f: Fields, key: string): string => str(f, key, NAME_LIMITS.wireChars);

/** Checks one answer against the kind of request it answers; undefined when it is not one. */
export function decodeAnswer<K extends RequestKind>(kind: K, r: unknown): AnswerOf[K] | undefined {
  try {
    return answerReaders[kind](r);
  } catch (err) {
    if (err instanceof Malformed) return undefined;
    throw err;
  }
}
