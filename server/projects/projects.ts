/**
 * Projects in the writer's memory: each registered project's target, how many of its pixels are
 * right (`done`), its recent griefs (a right pixel turned wrong) and its contributors (identity ->
 * placements that matched the target). Fed from committed batches only (the committer's `stored`
 * event, after the SQLite transaction, with each row's previous colour), so every path that changes
 * the canvas, moderation's rollbacks and wipes included, moves progress exactly as it moves the grid.
 *
 * Per placement: one chunk lookup in the index (project-index.ts) and a test per project there; no
 * scan of any project's area except at startup (`restore`, a recount from the loaded grid) and at
 * registration (the new project's own area). What changed since the last tick is kept per project
 * and taken by the ticker in the same synchronous step as the tick's delta (`takeTick`, packed into
 * one binary block: progress-block.ts), so a grief reaches the project's watchers in the fan-out of
 * the delta that holds it.
 */
import type { Grief } from '../../protocol/messages.ts';
import type { ProjectRecord, ProjectState } from '../store/project-store.ts';
import { NONE } from './project-image.ts';
import { ProjectIndex } from './project-index.ts';
import { GRIEFS_PER_TICK, ProgressBlock } from './progress-block.ts';

/** Recent griefs kept per project (GET /api/projects/{id}); older ones are dropped. */
export const GRIEFS_KEPT = 50;

/** Where a recount reads pixel colours: the canvas (canvas/canvas.ts). */
export interface ColourReader {
  get(x: number, y: number): number;
}

/** What a committed row tells the projects (store.ts PlacementRow has these fields). */
export interface ProjectRow {
  seq: number;
  x: number;
  y: number;
  color: number;
  who: string;
  at: number;
}

export class Project {
  readonly id: number;
  /** Moved only by a resize that adds columns or rows on the left or top (Projects.resized). */
  x: number;
  y: number;
  readonly width: number;
  readonly height: number;
  readonly target: Uint8Array;
  readonly total: number;
  name: string;
  owner: string;
  createdAt: number;
  createdSeq: number;
  hidden: boolean;
  done = 0;
  /** Newest last, at most GRIEFS_KEPT. */
  griefs: Grief[] = [];
  readonly contributors = new Map<string, number>();
  /** Unix ms of the last committed row on one of its pixels (the "most active" order). */
  lastActivity: number;
  /** Touched since the last tick; `tickGriefs` are that tick's griefs. */
  touched = false;
  tickGriefs: Grief[] = [];

  constructor(r: ProjectRecord) {
    this.id = r.id;
    this.x = r.x;
    this.y = r.y;
    this.width = r.width;
    this.height = r.height;
    this.target = r.target;
    this.name = r.name;
    this.owner = r.owner;
    this.createdAt = r.createdAt;
    this.createdSeq = r.createdSeq;
    this.hidden = r.hidden;
    this.lastActivity = r.createdAt;
    let total = 0;
    for (const t of r.target) if (t !== NONE) total++;
    this.total = total;
  }

  /** Sets `done` from the grid (startup, registration): the one scan of the project's area. */
  recount(grid: ColourReader): void {
    let done = 0;
    for (let ly = 0; ly < this.height; ly++) {
      for (let lx = 0; lx < this.width; lx++) {
        const want = this.target[ly * this.width + lx];
        if (want !== NONE && grid.get(this.x + lx, this.y + ly) === want) done++;
      }
    }
    this.done = done;
  }

  /** One row on one of this project's pixels, which wants `want` and was `previous` before the row. */
  count(r: ProjectRow, previous: number, want: number): void {
    if (r.seq <= this.createdSeq) return;
    const was = previous === want;
    const is = r.color === want;
    if (was !== is) this.done += is ? 1 : -1;
    if (is && !r.who.startsWith('mod:')) this.contributors.set(r.who, (this.contributors.get(r.who) ?? 0) + 1);
    if (was && !is) {
      const g: Grief = { x: r.x, y: r.y, color: r.color, who: r.who, at: r.at, seq: r.seq };
      this.griefs.push(g);
      if (this.griefs.length > GRIEFS_KEPT) this.griefs.shift();
      if (this.tickGriefs.length < GRIEFS_PER_TICK) this.tickGriefs.push(g);
    }
    this.lastActivity = Math.max(this.lastActivity, r.at);
    this.touched = true;
  }

  state(seq: number): ProjectState {
    return { seq, griefs: [...this.griefs], contributors: [...this.contributors] };
  }

  /** Contributors with the most matching placements first, then by id. */
  topContributors(limit: number): Array<{ id: string; placed: number }> {
    return [...this.contributors]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([id, placed]) => ({ id, placed }));
  }
}

export class Projects {
  private readonly byId = new Map<number, Project>();
  private index: ProjectIndex<Project>;
  private readonly touched: Project[] = [];
  /** The row being counted: the index's callback reads these (no closure per row on the hot path). */
  private row: ProjectRow | undefined;
  private previous = 0;
  private readonly countOne = (p: Project, want: number): void => {
    if (!p.touched) this.touched.push(p);
    p.count(this.row as ProjectRow, this.previous, want);
  };

  constructor(
    public canvasWidth: number,
    public canvasHeight: number,
  ) {
    this.index = new ProjectIndex<Project>(canvasWidth, canvasHeight);
  }

  /**
   * The canvas grew (`grid` reads the grown one): every project moves with the art by the columns and
   * rows added on the left and top (ProjectStore.shift stores the same), indexed for the new size.
   */
  resized(width: number, height: number, left: number, top: number, grid: ColourReader): void {
    this.canvasWidth = width;
    this.canvasHeight = height;
    this.index = new ProjectIndex<Project>(width, height);
    for (const p of this.byId.values()) {
      p.x += left;
      p.y += top;
      p.recount(grid);
      this.index.add(p);
    }
  }

  /**
   * Startup: every stored project, `done` recounted from `grid`, griefs and contributors from each
   * stored state; then `replay` (the placements after those states) brings them up to the grid.
   */
  restore(records: readonly ProjectRecord[], grid: ColourReader, states: ReadonlyMap<number, ProjectState>): void {
    for (const r of records) {
      const p = this.add(r, grid);
      const s = states.get(r.id);
      if (!s) continue;
      p.griefs = s.griefs.slice(-GRIEFS_KEPT);
      for (const [who, n] of s.contributors) p.contributors.set(who, n);
      // Rows up to the state's seq are in it already: replay counts from there.
      p.createdSeq = Math.max(p.createdSeq, s.seq);
    }
  }

  /** A row after the stored states (startup): griefs and contributors only, `done` is the recount's. */
  replay(r: ProjectRow, previous: number): void {
    this.index.at(r.x, r.y, (p, want) => {
      const done = p.done;
      p.count(r, previous, want);
      p.done = done;
      p.tickGriefs = [];
      p.touched = false;
    });
  }

  /** Whether any project has a pixel at (x, y) (startup replay skips the rest). */
  covers(x: number, y: number): boolean {
    return this.index.covers(x, y);
  }

  /** A project registered now (or loaded): indexed, counted from the grid. */
  add(r: ProjectRecord, grid: ColourReader): Project {
    const p = new Project(r);
    p.recount(grid);
    this.byId.set(p.id, p);
    this.index.add(p);
    return p;
  }

  remove(id: number): boolean {
    const p = this.byId.get(id);
    if (!p) return false;
    this.byId.delete(id);
    this.index.remove(p);
    const at = this.touched.indexOf(p);
    if (at >= 0) this.touched.splice(at, 1);
    return true;
  }

  get(id: number): Project | undefined {
    return this.byId.get(id);
  }

  /** Every project, in registration order. */
  all(): IterableIterator<Project> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Counts a committed batch (the committer's `stored` event): `previous[i]` is the colour the pixel
   * of `rows[i]` had just before it.
   */
  stored(rows: readonly ProjectRow[], previous: Uint8Array): void {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as ProjectRow;
      this.row = r;
      this.previous = previous[i] as number;
      this.index.at(r.x, r.y, this.countOne);
    }
    this.row = undefined;
  }

  /**
   * The progress of the tick ending at `seq`: one record per project touched since the last call
   * (hidden ones included: their watchers are few, and moderators watch them too), packed into one
   * block; undefined when none was touched. No `progress` message is encoded here: each process
   * encodes those its own sockets watch (streams/watched-progress.ts). Called by the ticker in the
   * synchronous step that takes the tick's delta.
   */
  takeTick(seq: number): ProgressBlock | undefined {
    if (this.touched.length === 0) return undefined;
    const block = ProgressBlock.pack(seq, this.touched);
    for (const p of this.touched) {
      p.touched = false;
      p.tickGriefs = [];
    }
    this.touched.length = 0;
    return block;
  }

  /** Every project's griefs and contributors as of `seq`, to store. */
  states(seq: number): Array<[number, ProjectState]> {
    return [...this.byId.values()].map((p) => [p.id, p.state(seq)]);
  }
}
