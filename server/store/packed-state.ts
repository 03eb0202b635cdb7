/**
 * State kept in one SQLite column as a MessagePack map (the stats checkpoint, each project's griefs
 * and contributors): written with `packState`, read back with `unpackState`, which never throws: bytes
 * that are not one map (another version's, or damaged) read as undefined, and the caller rebuilds
 * from the history, which is always right.
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false });

export function packState(state: object): Buffer {
  return packr.pack(state);
}

/** The stored map, or undefined when `bytes` hold anything else. */
export function unpackState(bytes: Uint8Array): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A non-negative safe integer (a seq, a count, a Unix ms time). */
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
