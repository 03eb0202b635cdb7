/**
 * The project tables beside the placement history: `projects` (one row per registered project: its
 * place, its target as palette indices, the PNG as registered, who registered it, hidden by a
 * moderator) and `project_state` (per project, its griefs and contributors as of one seq, MessagePack,
 * written off the commit path: a timer and shutdown, like the stats checkpoint). Progress (`done`) is
 * never stored: startup recounts it from the restored grid. Created here with IF NOT EXISTS, like
 * stats-store.ts, so store.ts needs no migration.
 */
import type Database from 'better-sqlite3';
import type { Grief } from '../../protocol/messages.ts';
import { isCount, packState, unpackState } from './packed-state.ts';

export interface ProjectRecord {
  id: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Identity id of whoever registered it. */
  owner: string;
  /** Unix ms. */
  createdAt: number;
  /** The canvas seq when it was registered: placements up to it are not its griefs or contributions. */
  createdSeq: number;
  hidden: boolean;
  /** width x height palette indices (255: not part of the project). */
  target: Uint8Array;
}

/** What a project has seen since it was registered, as of `seq` (projects.ts keeps it in memory). */
export interface ProjectState {
  seq: number;
  griefs: Grief[];
  /** Identity id -> placements that matched the target. */
  contributors: Array<[string, number]>;
}

interface Row {
  id: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  owner: string;
  created_at: number;
  created_seq: number;
  hidden: number;
  target: Buffer;
}

/** A stored state if `bytes` hold exactly one; undefined otherwise (its griefs and contributors start empty). */
export function decodeProjectState(bytes: Uint8Array): ProjectState | undefined {
  const s = unpackState(bytes);
  if (!s) return undefined;
  if (!isCount(s.seq) || !Array.isArray(s.griefs) || !Array.isArray(s.contributors)) return undefined;
  const griefs: Grief[] = [];
  for (const g of s.griefs as unknown[]) {
    if (typeof g !== 'object' || g === null) return undefined;
    const { x, y, color, who, at, seq } = g as Record<string, unknown>;
    if (!isCount(x) || !isCount(y) || !isCount(color) || typeof who !== 'string' || !isCount(at) || !isCount(seq))
      return undefined;
    griefs.push({ x, y, color, who, at, seq });
  }
  const contributors: Array<[string, number]> = [];
  for (const c of s.contributors as unknown[]) {
    if (!Array.isArray(c) || typeof c[0] !== 'string' || !isCount(c[1])) return undefined;
    contributors.push([c[0], c[1]]);
  }
  return { seq: s.seq, griefs, contributors };
}

export class ProjectStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS projects (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
        width INTEGER NOT NULL, height INTEGER NOT NULL, owner TEXT NOT NULL, created_at INTEGER NOT NULL,
        created_seq INTEGER NOT NULL, hidden INTEGER NOT NULL DEFAULT 0, target BLOB NOT NULL, png BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS project_state (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL);
    `);
  }

  /** Stores a new project; returns its id. */
  insert(p: Omit<ProjectRecord, 'id' | 'hidden'>, png: Uint8Array): number {
    const r = this.db
      .prepare(
        `INSERT INTO projects (name, x, y, width, height, owner, created_at, created_seq, target, png)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(p.name, p.x, p.y, p.width, p.height, p.owner, p.createdAt, p.createdSeq, bytes(p.target), bytes(png));
    return Number(r.lastInsertRowid);
  }

  /** Moves every project by the columns and rows a resize added on the left and top. */
  shift(left: number, top: number): void {
    if (left !== 0 || top !== 0) this.db.prepare('UPDATE projects SET x = x + ?, y = y + ?').run(left, top);
  }

  /** Every project, oldest first (startup). */
  all(): ProjectRecord[] {
    const rows = this.db
      .prepare(
        'SELECT id, name, x, y, width, height, owner, created_at, created_seq, hidden, target FROM projects ORDER BY id',
      )
      .all() as Row[];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      x: r.x,
      y: r.y,
      width: r.width,
      height: r.height,
      owner: r.owner,
      createdAt: r.created_at,
      createdSeq: r.created_seq,
      hidden: r.hidden !== 0,
      target: new Uint8Array(r.target.buffer, r.target.byteOffset, r.target.byteLength),
    }));
  }

  /** The PNG as registered (the client's overlay), or undefined for an unknown id. */
  png(id: number): Buffer | undefined {
    const row = this.db.prepare('SELECT png FROM projects WHERE id = ?').get(id) as { png: Buffer } | undefined;
    return row?.png;
  }

  setHidden(id: number, hidden: boolean): void {
    this.db.prepare('UPDATE projects SET hidden = ? WHERE id = ?').run(hidden ? 1 : 0, id);
  }

  remove(id: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM projects WHERE id = ?').run(id);
      this.db.prepare('DELETE FROM project_state WHERE id = ?').run(id);
    })();
  }

  /** Writes every project's state in one transaction. */
  saveStates(states: Iterable<[number, ProjectState]>): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO project_state (id, seq, data) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const [id, s] of states) put.run(id, s.seq, packState(s));
    })();
  }

  /** Stored states by project id, those readable and not ahead of the placements (`maxSeq`). */
  states(maxSeq: number): Map<number, ProjectState> {
    const out = new Map<number, ProjectState>();
    for (const row of this.db.prepare('SELECT id, data FROM project_state').all() as Array<{
      id: number;
      data: Buffer;
    }>) {
      const s = decodeProjectState(row.data);
      if (s && s.seq <= maxSeq) out.set(row.id, s);
    }
    return out;
  }

  /**
   * Calls `each` for every placement after `seq`, in order, with the colour its pixel had before it
   * (startup: griefs and contributions the stored states do not hold yet). The previous colour comes
   * from the pixel's history list (`prev_seq`), a primary-key lookup for the first row of each pixel.
   */
  eachPlacementAfter(
    seq: number,
    inProject: (x: number, y: number) => boolean,
    each: (
      row: { seq: number; x: number; y: number; color: number; who: string; at: number },
      previous: number,
    ) => void,
  ): void {
    const colorAt = this.db.prepare('SELECT color FROM placements WHERE seq = ?').pluck();
    const last = new Map<number, number>();
    const rows = this.db
      .prepare('SELECT seq, x, y, color, who, at, prev_seq FROM placements WHERE seq > ? ORDER BY seq')
      .raw();
    for (const [s, x, y, color, who, at, prevSeq] of rows.iterate(seq) as Iterable<
      [number, number, number, number, string, number, number]
    >) {
      if (!inProject(x, y)) continue;
      const key = y * 65_536 + x;
      const previous = last.get(key) ?? (prevSeq === 0 ? 0 : ((colorAt.get(prevSeq) as number | undefined) ?? 0));
      last.set(key, color);
      each({ seq: s, x, y, color, who, at }, previous);
    }
  }
}

const bytes = (a: Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
