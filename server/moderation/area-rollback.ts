/**
 * Area rollback: every pixel of a rectangle whose placements in [since, until) (optionally only by
 * some identities) are undone returns to the colour of its last surviving placement, or to the blank
 * colour 0. It equals a replay of the history without the undone placements, computed per pixel by
 * walking its history list (`prev_seq`) back from its head past the undone rows.
 *
 * It runs in the background on the owner's event loop: a plan (which pixels change, to what) in time
 * slices, then commits of CHUNK pixels, each one transaction through the committer as `mod:rollback`
 * rows, so clients, deltas and history see them like any placement. A chunk first commits what is
 * queued, then skips each pixel whose head moved since the plan (a newer placement survives by
 * definition), so every chunk is consistent on its own. One job at a time; its progress is stored
 * per chunk (moderation-store.ts), so a restart reports how far an interrupted one got.
 */
import type { Canvas } from '../canvas/canvas.ts';
import { PngEncoder } from '../canvas/png-encoder.ts';
import { HttpCode } from '../http/status.ts';
import type { PlacementCommitter, PlacementRequest } from '../placement/committer.ts';
import type { ModerationStore } from '../store/moderation-store.ts';
import type { Area } from '../../protocol/http-api.ts';
import type { PlacementLog } from '../store/placement-log.ts';
import type { ActionResult } from './moderation.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import { inSlices } from './slices.ts';

export interface AreaRollbackRequest {
  rect: Area;
  /** Unix ms, inclusive. */
  since: number;
  /** Unix ms, exclusive; absent: now (taken by the owner, whose clock stamps placements). */
  until?: number;
  /** Undo only these identities' placements. */
  ids?: string[];
}

/** Largest preview side: two PNGs of it travel as base64 JSON (and over the bus from an edge). */
export const PREVIEW_MAX_SIDE = 1024;
/**
 * Pixels per commit: one transaction per loop turn. 125 rows take ~0.2 ms CPU (p99 2.3-2.6 ms) to
 * insert and apply (perf/moderation.ts; 250 gave p99 2.6-3.6 ms, 500 gave 3.7-4.8 ms), so placements
 * and ticks run between chunks without waiting long; the whole rollback takes ~5% longer than at 250.
 */
export const ROLLBACK_CHUNK = 125;
/** Seqs counted per step when counting the undone placements (~0.7 ms a step; half of look.ts LOOK_SLICE). */
const COUNT_SLICE = 4_096;

interface Plan {
  /** The window as a seq range [lo, hi]. */
  lo: number;
  hi: number;
  until: number;
  /** Undone placements in the area (informative: a pixel may have several). */
  placements: number;
  /** Per pixel to change: its cell, its head when planned, the colour it returns to. */
  cells: number[];
  heads: number[];
  colors: number[];
}

type Refusal = Extract<ActionResult, { ok: false }>;

/** A pixel being walked down its history list: `at` is the seq it looks at, `color` -1 until found. */
interface Walker {
  cell: number;
  head: number;
  at: number;
  color: number;
}

/**
 * Pixels walked together (one query per level of their history lists, one level per step). 64:
 * planning turns p99 3.6-5.4 ms of CPU when a step walked a batch to its end (128 gave 5.7 ms;
 * perf/moderation.ts at 1 M placements).
 */
const WALK_BATCH = 64;

export class AreaRollbacks {
  /** Set from the request until the job ends: one plan or job at a time. */
  private active = false;

  /** A job is planned or running (a resize waits: the plan's coordinates would move under it). */
  get running(): boolean {
    return this.active;
  }
  private stopped = false;

  constructor(
    private readonly canvas: Canvas,
    private readonly committer: PlacementCommitter,
    private readonly log: PlacementLog,
    private readonly store: ModerationStore,
    private readonly palette: readonly number[],
  ) {
    store.failInterruptedRollbacks();
  }

  /** Stops a running job after its current chunk (shutdown); it is then reported as interrupted. */
  stop(): void {
    this.stopped = true;
  }

  /** Before/after images of the rectangle and what would change, without changing anything. */
  async preview(req: AreaRollbackRequest): Promise<ActionResult> {
    const { x, y, width, height } = req.rect;
    if (width > PREVIEW_MAX_SIDE || height > PREVIEW_MAX_SIDE)
      return {
        ok: false,
        code: HttpCode.TOO_LARGE,
        message: `a preview is limited to ${PREVIEW_MAX_SIDE} x ${PREVIEW_MAX_SIDE} pixels, got ${width} x ${height}: preview a part, or roll back without one`,
      };
    const refusal = this.check(req);
    if (refusal) return refusal;
    const plan = await this.plan(req);
    const before = new Uint8Array(width * height);
    for (let j = 0; j < height; j++) this.canvas.copyRow(x, y + j, width, 1, before, j * width);
    const after = before.slice();
    let pixels = 0;
    plan.cells.forEach((cell, i) => {
      if (this.canvas.lastSeqOf(cell) !== plan.heads[i]) return; // placed over since the plan: stays
      const cx = (cell % this.canvas.width) - x;
      const cy = Math.floor(cell / this.canvas.width) - y;
      after[cy * width + cx] = plan.colors[i] as number;
      pixels++;
    });
    // Deflate in the thread pool, both at once; the packing is a copy of at most 1 MB each.
    const encoder = new PngEncoder(width, height, this.palette);
    const [b, a] = await Promise.all([encoder.encode(before), encoder.encode(after)]);
    return {
      ok: true,
      result: { pixels, placements: plan.placements, before: b.toString('base64'), after: a.toString('base64') },
    };
  }

  /**
   * Plans, then answers (202: the job id and the pixels to change) while the chunks commit in the
   * background. `audit` records the start and the end like any moderation action.
   */
  async start(
    actor: string,
    req: AreaRollbackRequest,
    audit: (action: string, params: Record<string, unknown>, result: Record<string, unknown>) => void,
  ): Promise<ActionResult> {
    if (this.active)
      return {
        ok: false,
        code: HttpCode.ROLLBACK_RUNNING,
        message: 'an area rollback is running: GET /api/admin/rollback says how far it got; try again once it is done',
      };
    const refusal = this.check(req);
    if (refusal) return refusal;
    this.active = true;
    let plan: Plan;
    try {
      plan = await this.plan(req);
    } catch (err) {
      this.active = false;
      throw err;
    }
    const params = { ...req, until: plan.until };
    const total = plan.cells.length;
    const job = this.store.startRollbackJob(actor, params, total);
    const started = { job, pixels: total, placements: plan.placements };
    audit('rollback-area', params, started);
    void this.run(job, plan).then((end) => {
      this.active = false;
      audit('rollback-area-end', { job }, end);
    });
    return { ok: true, result: started };
  }

  /** The running job, or the last one (job null: none ever ran). */
  status(): ActionResult {
    const j = this.store.lastRollbackJob();
    if (!j) return { ok: true, result: { job: null } };
    return {
      ok: true,
      result: {
        job: j.id,
        state: j.state,
        done: j.done,
        total: j.total,
        changed: j.changed,
        started: j.started,
        finished: j.finished,
        params: j.params,
        ...(j.error === null ? {} : { error: j.error }),
      },
    };
  }

  private check(req: AreaRollbackRequest): Refusal | undefined {
    const { x, y, width, height } = req.rect;
    const c = this.canvas;
    if (width < 1 || height < 1 || x < 0 || y < 0 || x + width > c.width || y + height > c.height)
      return {
        ok: false,
        code: ErrorCode.OUT_OF_BOUNDS,
        message: `rectangle ${x},${y} ${width} x ${height} is not inside the ${c.width} x ${c.height} canvas`,
      };
    const now = Date.now();
    if (req.until !== undefined && req.until > now)
      return { ok: false, code: ErrorCode.INVALID_FIELD, message: `until ${req.until} is in the future (now ${now})` };
    if (req.since < 0 || req.since >= (req.until ?? now))
      return {
        ok: false,
        code: ErrorCode.INVALID_FIELD,
        message: 'the window is empty: since must be >= 0 and < until',
      };
    return undefined;
  }

  /** Which pixels change and to what; in time slices, so a large area never blocks the loop. */
  private async plan(req: AreaRollbackRequest): Promise<Plan> {
    const until = req.until ?? Date.now();
    const lo = this.log.firstSeqAtOrAfter(req.since);
    const hi = this.log.firstSeqAtOrAfter(until) - 1;
    const plan: Plan = { lo, hi, until, placements: 0, cells: [], heads: [], colors: [] };
    if (hi < lo) return plan;
    const { rect } = req;
    const ids = req.ids && new Set(req.ids);
    let from = lo;
    await inSlices(() => {
      const to = Math.min(hi, from + COUNT_SLICE - 1);
      plan.placements += this.log.countInArea(rect, from, to, req.ids);
      from = to + 1;
      return from > hi;
    });
    const { canvas } = this;
    const cw = canvas.width;
    let k = 0;
    const cellsInRect = rect.width * rect.height;
    let batch: Walker[] = [];
    let open: Walker[] = [];
    await inSlices(() => {
      // A step is one level of the batch's history lists (one query), so a pixel painted over many
      // times in the window costs several steps, never one long one.
      if (open.length > 0) {
        open = this.walkLevel(open, lo, hi, ids);
        return false;
      }
      for (const w of batch) {
        if (w.color === canvas.colourOf(w.cell)) continue;
        plan.cells.push(w.cell);
        plan.heads.push(w.head);
        plan.colors.push(w.color);
      }
      if (k >= cellsInRect) return true;
      // The next pixels whose head is in the window (the others keep their colour), up to WALK_BATCH.
      batch = [];
      for (const end = Math.min(cellsInRect, k + 65_536); k < end && batch.length < WALK_BATCH; k++) {
        const cell = (rect.y + Math.floor(k / rect.width)) * cw + rect.x + (k % rect.width);
        const head = canvas.lastSeqOf(cell);
        if (head >= lo && head <= hi) batch.push({ cell, head, at: head, color: -1 });
      }
      open = batch;
      return false;
    });
    return plan;
  }

  /**
   * One level of the walkers' history lists: each walker at an undone placement moves to the one
   * before it (returned, still walking); the others take the colour of the placement they are at (the
   * newest one that is not undone; 0 past the start of the pixel's history).
   */
  private walkLevel(open: readonly Walker[], lo: number, hi: number, ids: Set<string> | undefined): Walker[] {
    const bySeq = new Map<number, Walker[]>();
    for (const w of open) {
      if (w.at === 0)
        w.color = 0; // past the start of the pixel's history: the blank colour
      else {
        const same = bySeq.get(w.at);
        if (same) same.push(w);
        else bySeq.set(w.at, [w]);
      }
    }
    const next: Walker[] = [];
    for (const [seq, color, who, prev] of this.log.links([...bySeq.keys()])) {
      const undone = seq >= lo && seq <= hi && (ids === undefined || ids.has(who));
      for (const w of bySeq.get(seq) ?? []) {
        if (undone) {
          w.at = prev;
          next.push(w);
        } else w.color = color;
      }
      bySeq.delete(seq);
    }
    // A seq the table does not hold (cannot happen with linked rows) ends its walk at the blank colour.
    for (const ws of bySeq.values()) for (const w of ws) w.color = 0;
    return next;
  }

  /** Commits the plan in chunks; resolves with how it ended (never rejects). */
  private async run(job: number, plan: Plan): Promise<Record<string, unknown>> {
    let done = 0;
    let changed = 0;
    const end = (state: 'done' | 'failed', error: string | null): Record<string, unknown> => {
      try {
        this.store.updateRollbackJob(job, state, done, changed, error);
      } catch {
        // The database refused even this: the start row stays `running` and is failed at the next start.
      }
      return { state, done, changed, ...(error === null ? {} : { error }) };
    };
    try {
      await inSlices(() => {
        if (this.stopped) throw new Error(`stopped by a shutdown after ${done} of ${plan.cells.length} pixels`);
        this.commitChunk(plan, done, Math.min(plan.cells.length, done + ROLLBACK_CHUNK), (n) => {
          changed += n;
        });
        done = Math.min(plan.cells.length, done + ROLLBACK_CHUNK);
        this.store.updateRollbackJob(job, 'running', done, changed);
        return done >= plan.cells.length;
      }, 0); // one chunk per turn: placements and ticks run between chunks
      return end('done', null);
    } catch (err) {
      return end('failed', (err as Error).message);
    }
  }

  /** Commits plan entries [from, to) as one transaction; throws if the store refused it. */
  private commitChunk(plan: Plan, from: number, to: number, changed: (n: number) => void): void {
    // Queued placements first, so the check below sees every head this commit follows.
    this.committer.flush();
    const { canvas } = this;
    const { width } = canvas;
    const reqs: PlacementRequest[] = [];
    for (let i = from; i < to; i++) {
      const cell = plan.cells[i] as number;
      const color = plan.colors[i] as number;
      if (canvas.lastSeqOf(cell) !== plan.heads[i] || canvas.colourOf(cell) === color) continue;
      reqs.push({ x: cell % width, y: Math.floor(cell / width), color, who: 'mod:rollback', addr: '', nextAt: 0 });
    }
    const outcome = this.committer.commitNow(reqs);
    if (!outcome.ok) throw new Error(outcome.message);
    changed(reqs.length);
  }
}
