/**
 * The projects' progress of one tick, as the writer hands it to its own streams and, over the bus, to
 * every edge: one Buffer of little-endian records, packed in the tick's synchronous step. Each process
 * writes a project's client `progress` message (MessagePack) from its record only when one of its own
 * sockets watches that project (`message`, called by streams/watched-progress.ts). Encoding every
 * touched project's message on the writer, watched or not, cost 2.2-4.3 ms of its event loop a tick
 * with 1,000 touched projects, over the 2 ms budget; packing them costs ~0.4 ms (perf/RESULTS.md
 * "projects", `npm run bench:progress`).
 *
 * Layout (a hand-packed block rather than MessagePack: packing is a straight loop of fixed writes):
 *   header, 12 bytes:      seq float64 (the tick's last seq), count uint32 (projects)
 *   `count` projects, each 13 bytes then its griefs:
 *                          id uint32, total uint32, done uint32, griefs uint8 (<= GRIEFS_PER_TICK)
 *   a grief, 26 bytes + who:
 *                          x uint32, y uint32, color uint8, at float64, seq float64, who length uint8,
 *                          who (printable ASCII: an identity id or `mod:<action>`)
 * float64 holds every safe integer exactly (seqs and Unix ms times). A project appears at most once.
 *
 * `ProgressBlock.read` is the edges' checking decoder (the bus is a trust boundary, bus-messages.ts):
 * it refuses a block that is not exactly this layout; nothing is read from one it refused.
 */
import { MsgType, type Grief, type ProgressMsg } from '../../protocol/messages.ts';

/** Griefs per `progress` message: a tick with more says so through `done` and the detail route. */
export const GRIEFS_PER_TICK = 100;

const HEADER_BYTES = 12;
const PROJECT_BYTES = 13;
const GRIEF_BYTES = 26;
/** Longest `who` a block carries (identity ids are 16 characters, `mod:rollback` 12). */
const MAX_WHO_CHARS = 64;
// The MessagePack of `progress` (protocol/codec.ts writes a map of 6 as map16; keys as fixstr).
const key = (k: string): number[] => [0xa0 | k.length, ...Buffer.from(k, 'latin1')];
const MAP6 = [0xde, 0x00, 0x06];
const PROGRESS_HEAD = Buffer.from([...MAP6, ...key('t'), ...key(MsgType.PROGRESS), ...key('project')]);
const SEQ_KEY = Buffer.from(key('seq'));
const TOTAL_KEY = Buffer.from(key('total'));
const DONE_KEY = Buffer.from(key('done'));
const GRIEFS_KEY = Buffer.from(key('griefs'));
const GRIEF_X_KEY = Buffer.from([...MAP6, ...key('x')]);
const Y_KEY = Buffer.from(key('y'));
const COLOR_KEY = Buffer.from(key('color'));
const WHO_KEY = Buffer.from(key('who'));
const AT_KEY = Buffer.from(key('at'));
/** A `progress` message's bytes but its griefs, at most: keys, 4 integers of <= 9 bytes, an array16 head. */
const PROGRESS_MSG_BYTES =
  PROGRESS_HEAD.length + SEQ_KEY.length + TOTAL_KEY.length + DONE_KEY.length + GRIEFS_KEY.length + 4 * 9 + 3;
/** A grief's message bytes but its `who` characters, at most: keys, 5 integers of <= 9 bytes, a str8 head. */
const GRIEF_MSG_BYTES =
  GRIEF_X_KEY.length + Y_KEY.length + COLOR_KEY.length + WHO_KEY.length + AT_KEY.length + SEQ_KEY.length + 5 * 9 + 2;

/** Copies a key's few bytes (a loop: `Buffer.copy` costs more per call than these bytes). */
function put(out: Buffer, o: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[o + i] = bytes[i] as number;
  return o + bytes.length;
}

/**
 * An integer as msgpackr writes it for `encodeMessage`: the smallest fixint/uint/int form up to 32
 * bits, and int64 beyond (codec.ts sends such integers, Unix ms times, as int64).
 */
function writeInt(b: Buffer, o: number, v: number): number {
  if (v >= 0) {
    if (v < 0x80) {
      b[o] = v;
      return o + 1;
    }
    if (v < 0x100) {
      b[o] = 0xcc;
      b[o + 1] = v;
      return o + 2;
    }
    if (v < 0x10000) {
      b[o] = 0xcd;
      b.writeUInt16BE(v, o + 1);
      return o + 3;
    }
    if (v <= 0xffffffff) {
      b[o] = 0xce;
      b.writeUInt32BE(v, o + 1);
      return o + 5;
    }
  } else {
    if (v >= -0x20) {
      b[o] = v & 0xff;
      return o + 1;
    }
    if (v >= -0x80) {
      b[o] = 0xd0;
      b.writeInt8(v, o + 1);
      return o + 2;
    }
    if (v >= -0x8000) {
      b[o] = 0xd1;
      b.writeInt16BE(v, o + 1);
      return o + 3;
    }
    if (v >= -0x80000000) {
      b[o] = 0xd2;
      b.writeInt32BE(v, o + 1);
      return o + 5;
    }
  }
  // int64 big-endian, two's complement: the high word floored, so the low one is 0..2^32-1.
  const high = Math.floor(v / 0x100000000);
  b[o] = 0xd3;
  b.writeInt32BE(high, o + 1);
  b.writeUInt32BE(v - high * 0x100000000, o + 5);
  return o + 9;
}

/** Stands in for a character of `who` outside printable ASCII (never written by this server). */
const QUESTION_MARK = 0x3f;

/** What the block needs of a touched project (projects.ts `Project` has these fields). */
export interface TickProject {
  readonly id: number;
  readonly total: number;
  readonly done: number;
  readonly tickGriefs: readonly Grief[];
}

/** One tick's progress records, and where each project's record starts (built on first look-up). */
export class ProgressBlock {
  private index: Map<number, number> | undefined;

  private constructor(
    readonly bytes: Buffer,
    /** The tick's last seq: every `progress` message of the block carries it. */
    readonly seq: number,
    /** Projects in the block. */
    readonly count: number,
    index?: Map<number, number>,
  ) {
    this.index = index;
  }

  /** Packs the touched projects of the tick ending at `seq` (at most GRIEFS_PER_TICK griefs each). */
  static pack(seq: number, projects: readonly TickProject[]): ProgressBlock {
    let size = HEADER_BYTES + PROJECT_BYTES * projects.length;
    for (const p of projects) {
      const griefs = p.tickGriefs;
      const n = Math.min(griefs.length, GRIEFS_PER_TICK);
      for (let i = 0; i < n; i++) size += GRIEF_BYTES + Math.min((griefs[i] as Grief).who.length, MAX_WHO_CHARS);
    }
    const b = Buffer.allocUnsafe(size);
    b.writeDoubleLE(seq, 0);
    b.writeUInt32LE(projects.length, 8);
    let o = HEADER_BYTES;
    for (const p of projects) {
      const griefs = p.tickGriefs;
      const n = Math.min(griefs.length, GRIEFS_PER_TICK);
      b.writeUInt32LE(p.id, o);
      b.writeUInt32LE(p.total, o + 4);
      // Within 0..total as the edges' check wants: a counting slip must not cost the tick.
      b.writeUInt32LE(Math.max(0, Math.min(p.done, p.total)), o + 8);
      b[o + 12] = n;
      o += PROJECT_BYTES;
      for (let i = 0; i < n; i++) {
        const g = griefs[i] as Grief;
        b.writeUInt32LE(g.x, o);
        b.writeUInt32LE(g.y, o + 4);
        b[o + 8] = g.color;
        b.writeDoubleLE(g.at, o + 9);
        b.writeDoubleLE(g.seq, o + 17);
        const who = g.who;
        const chars = Math.min(who.length, MAX_WHO_CHARS);
        b[o + 25] = chars;
        o += GRIEF_BYTES;
        for (let c = 0; c < chars; c++) {
          const code = who.charCodeAt(c);
          b[o + c] = code > 0x20 && code < 0x7f ? code : QUESTION_MARK;
        }
        o += chars;
      }
    }
    return new ProgressBlock(b, seq, projects.length);
  }

  /**
   * A block from the bus, checked: undefined unless `bytes` is exactly the layout above with integer
   * seqs and times, `done` <= `total`, griefs no later than the tick, a printable `who`, each project
   * once.
   */
  static read(bytes: Uint8Array): ProgressBlock | undefined {
    if (bytes.length < HEADER_BYTES) return undefined;
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const seq = b.readDoubleLE(0);
    const count = b.readUInt32LE(8);
    if (!Number.isSafeInteger(seq) || seq < 0 || count > (b.length - HEADER_BYTES) / PROJECT_BYTES) return undefined;
    const index = walk(b, count, seq);
    return index ? new ProgressBlock(b, seq, count, index) : undefined;
  }

  /**
   * The project's `progress` message of this tick as the client wire has it (MessagePack, the very
   * bytes protocol/codec.ts `encodeMessage` makes of `progress(id)`), written straight from the
   * record; undefined when the tick did not touch the project. By hand because this is the per
   * watched project cost of every process: ~1 us for a project with 2 griefs against ~4 us through
   * `encodeMessage` (whose int64 `at` goes through BigInt). server/test/progress-block.test.ts holds
   * the two to the same bytes.
   */
  message(id: number): Uint8Array | undefined {
    this.index ??= walk(this.bytes, this.count);
    const at = this.index?.get(id);
    if (at === undefined) return undefined;
    const b = this.bytes;
    const n = b[at + 12] as number;
    let size = PROGRESS_MSG_BYTES;
    let o = at + PROJECT_BYTES;
    for (let i = 0; i < n; i++) {
      const chars = b[o + 25] as number;
      size += GRIEF_MSG_BYTES + chars;
      o += GRIEF_BYTES + chars;
    }
    const out = Buffer.allocUnsafe(size);
    let w = put(out, 0, PROGRESS_HEAD);
    w = writeInt(out, w, id);
    w = put(out, w, SEQ_KEY);
    w = writeInt(out, w, this.seq);
    w = put(out, w, TOTAL_KEY);
    w = writeInt(out, w, b.readUInt32LE(at + 4));
    w = put(out, w, DONE_KEY);
    w = writeInt(out, w, b.readUInt32LE(at + 8));
    w = put(out, w, GRIEFS_KEY);
    if (n < 16) out[w++] = 0x90 | n;
    else {
      out[w] = 0xdc;
      out.writeUInt16BE(n, w + 1);
      w += 3;
    }
    o = at + PROJECT_BYTES;
    for (let i = 0; i < n; i++) {
      const chars = b[o + 25] as number;
      w = put(out, w, GRIEF_X_KEY);
      w = writeInt(out, w, b.readUInt32LE(o));
      w = put(out, w, Y_KEY);
      w = writeInt(out, w, b.readUInt32LE(o + 4));
      w = put(out, w, COLOR_KEY);
      w = writeInt(out, w, b[o + 8] as number);
      w = put(out, w, WHO_KEY);
      if (chars < 32) out[w++] = 0xa0 | chars;
      else {
        out[w++] = 0xd9;
        out[w++] = chars;
      }
      for (let c = o + GRIEF_BYTES; c < o + GRIEF_BYTES + chars; c++) out[w++] = b[c] as number;
      w = put(out, w, AT_KEY);
      w = writeInt(out, w, b.readDoubleLE(o + 9));
      w = put(out, w, SEQ_KEY);
      w = writeInt(out, w, b.readDoubleLE(o + 17));
      o += GRIEF_BYTES + chars;
    }
    return out.subarray(0, w);
  }

  /** The project's `progress` message of this tick, or undefined when the tick did not touch it. */
  progress(id: number): ProgressMsg | undefined {
    this.index ??= walk(this.bytes, this.count);
    const at = this.index?.get(id);
    if (at === undefined) return undefined;
    const b = this.bytes;
    const n = b[at + 12] as number;
    const griefs: Grief[] = new Array(n);
    let o = at + PROJECT_BYTES;
    for (let i = 0; i < n; i++) {
      const chars = b[o + 25] as number;
      griefs[i] = {
        x: b.readUInt32LE(o),
        y: b.readUInt32LE(o + 4),
        color: b[o + 8] as number,
        who: b.toString('latin1', o + GRIEF_BYTES, o + GRIEF_BYTES + chars),
        at: b.readDoubleLE(o + 9),
        seq: b.readDoubleLE(o + 17),
      };
      o += GRIEF_BYTES + chars;
    }
    return {
      t: MsgType.PROGRESS,
      project: id,
      seq: this.seq,
      total: b.readUInt32LE(at + 4),
      done: b.readUInt32LE(at + 8),
      griefs,
    };
  }
}

/**
 * Each project's record offset by id. With `seq` (a block from the bus) every field is checked and a
 * malformed block gives undefined; without (one this process packed) nothing is.
 */
function walk(b: Buffer, count: number, seq?: number): Map<number, number> | undefined {
  const index = new Map<number, number>();
  let o = HEADER_BYTES;
  for (let p = 0; p < count; p++) {
    if (o + PROJECT_BYTES > b.length) return undefined;
    const id = b.readUInt32LE(o);
    const n = b[o + 12] as number;
    if (seq !== undefined && (index.has(id) || b.readUInt32LE(o + 8) > b.readUInt32LE(o + 4) || n > GRIEFS_PER_TICK)) {
      return undefined;
    }
    index.set(id, o);
    o += PROJECT_BYTES;
    for (let i = 0; i < n; i++) {
      if (o + GRIEF_BYTES > b.length) return undefined;
      const chars = b[o + 25] as number;
      if (seq !== undefined) {
        const at = b.readDoubleLE(o + 9);
        const gseq = b.readDoubleLE(o + 17);
        if (!Number.isSafeInteger(at) || !Number.isSafeInteger(gseq) || gseq < 0 || gseq > seq) return undefined;
        if (chars > MAX_WHO_CHARS || o + GRIEF_BYTES + chars > b.length) return undefined;
        for (let c = o + GRIEF_BYTES; c < o + GRIEF_BYTES + chars; c++) {
          const code = b[c] as number;
          if (code <= 0x20 || code >= 0x7f) return undefined;
        }
      }
      o += GRIEF_BYTES + chars;
    }
  }
  return o === b.length ? index : undefined;
}
