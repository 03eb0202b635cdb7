/**
 * The projects API on the process that owns the canvas: registration (limits, the image check, the
 * row, the index), the list, one project, its image, and the moderators' hide and delete (audited).
 * Requests are plain data (`ProjectRequest`) and answers whole HTTP answers, so an edge forwards a
 * request over the bus and writes the writer's answer as it is (http/project-routes.ts parses the
 * HTTP side on every role).
 */
import type { ProjectSummary } from '../../protocol/http-api.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import type { Canvas } from '../canvas/canvas.ts';
import { errorAnswer, type HttpAnswer, jsonAnswer } from '../http/answer.ts';
import { IMMUTABLE } from '../http/cache.ts';
import { HttpCode } from '../http/status.ts';
import { type ActionResult, audited } from '../moderation/moderation.ts';
import type { ModerationStore } from '../store/moderation-store.ts';
import type { ProjectStore } from '../store/project-store.ts';
import { decodeTarget } from './project-image.ts';
import type { Project, Projects } from './projects.ts';

/** Longest project name, in characters. */
export const MAX_NAME_CHARS = 64;
/** Projects per page of the list, most and default. */
export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 20;
/** Contributors shown by GET /api/projects/{id}. */
const TOP_CONTRIBUTORS = 10;

export type ProjectSort = 'new' | 'active';

export type ProjectRequest =
  | { op: 'list'; sort: ProjectSort; page: number; limit: number }
  | { op: 'get'; id: number }
  | { op: 'image'; id: number }
  | { op: 'register'; owner: string; name: string; x: number; y: number; png: Uint8Array };

export interface ProjectLimits {
  /** Largest image, width x height. */
  maxPixels: number;
  perIdentity: number;
  everyMs: number;
}

function summary(p: Project): ProjectSummary {
  return {
    id: p.id,
    name: p.name,
    x: p.x,
    y: p.y,
    width: p.width,
    height: p.height,
    total: p.total,
    done: p.done,
    percent: Math.floor((p.done / p.total) * 10_000) / 100,
    owner: p.owner,
    createdAt: p.createdAt,
    lastActivity: p.lastActivity,
  };
}

const notFound = (id: number): HttpAnswer => errorAnswer(HttpCode.NOT_FOUND, `no project ${id}`);

export class ProjectService {
  /** Per identity, when it last registered (a restart forgets: the count per identity is stored). */
  private readonly lastRegistered = new Map<string, number>();

  constructor(
    private readonly projects: Projects,
    private readonly store: ProjectStore,
    private readonly canvas: Canvas,
    private readonly palette: readonly number[],
    private readonly limits: ProjectLimits,
    private readonly audit: ModerationStore,
    private readonly now: () => number = Date.now,
  ) {}

  answer(req: ProjectRequest): HttpAnswer {
    switch (req.op) {
      case 'list':
        return this.list(req.sort, req.page, req.limit);
      case 'get': {
        const p = this.visible(req.id);
        if (!p) return notFound(req.id);
        return jsonAnswer('200 OK', {
          ...summary(p),
          left: p.total - p.done,
          griefs: [...p.griefs].reverse(),
          contributors: p.topContributors(TOP_CONTRIBUTORS),
        });
      }
      case 'image': {
        const png = this.visible(req.id) && this.store.png(req.id);
        if (!png) return notFound(req.id);
        return { status: '200 OK', headers: { 'Content-Type': 'image/png', 'Cache-Control': IMMUTABLE }, body: png };
      }
      case 'register':
        return this.register(req);
    }
  }

  private visible(id: number): Project | undefined {
    const p = this.projects.get(id);
    return p && !p.hidden ? p : undefined;
  }

  private list(sort: ProjectSort, page: number, limit: number): HttpAnswer {
    if (limit < 1 || limit > MAX_PAGE || page < 0)
      return errorAnswer(ErrorCode.INVALID_FIELD, `limit must be 1..${MAX_PAGE} and page >= 0`);
    const shown = [...this.projects.all()].filter((p) => !p.hidden);
    if (sort === 'new') shown.reverse();
    else shown.sort((a, b) => b.lastActivity - a.lastActivity || b.id - a.id);
    return jsonAnswer('200 OK', {
      sort,
      page,
      limit,
      count: shown.length,
      projects: shown.slice(page * limit, (page + 1) * limit).map(summary),
    });
  }

  private register(req: Extract<ProjectRequest, { op: 'register' }>): HttpAnswer {
    const { limits, canvas } = this;
    const name = req.name.trim();
    if (name.length < 1 || name.length > MAX_NAME_CHARS)
      return errorAnswer(ErrorCode.INVALID_FIELD, `name must be 1..${MAX_NAME_CHARS} characters`);
    const now = this.now();
    const owned = [...this.projects.all()].filter((p) => p.owner === req.owner).length;
    if (owned >= limits.perIdentity)
      return errorAnswer(HttpCode.PROJECT_LIMIT, `an identity may register ${limits.perIdentity} projects`);
    const last = this.lastRegistered.get(req.owner);
    if (last !== undefined && now - last < limits.everyMs) {
      const wait = limits.everyMs - (now - last);
      return errorAnswer(
        HttpCode.PROJECT_RATE,
        `one registration per ${limits.everyMs} ms`,
        { 'Retry-After': String(Math.ceil(wait / 1000)) },
        { wait },
      );
    }
    const decoded = decodeTarget(req.png, this.palette, limits.maxPixels);
    if (!decoded.ok) return errorAnswer(decoded.code as HttpCode, decoded.message);
    const { target } = decoded;
    if (req.x < 0 || req.y < 0 || req.x + target.width > canvas.width || req.y + target.height > canvas.height) {
      return errorAnswer(
        ErrorCode.OUT_OF_BOUNDS,
        `a ${target.width} x ${target.height} image at (${req.x}, ${req.y}) does not fit the ${canvas.width} x ${canvas.height} canvas`,
      );
    }
    const record = {
      name,
      x: req.x,
      y: req.y,
      width: target.width,
      height: target.height,
      owner: req.owner,
      createdAt: now,
      createdSeq: canvas.seq,
      target: target.pixels,
    };
    const id = this.store.insert(record, req.png);
    const p = this.projects.add({ ...record, id, hidden: false }, canvas);
    this.lastRegistered.set(req.owner, now);
    return jsonAnswer('201 Created', summary(p));
  }

  /** Moderators: hide a project from the list and its routes (`hidden: false` shows it again). */
  hide(actor: string, id: number, hidden: boolean): ActionResult {
    const p = this.projects.get(id);
    if (!p) return { ok: false, code: HttpCode.NOT_FOUND, message: `no project ${id}` };
    this.store.setHidden(id, hidden);
    p.hidden = hidden;
    return this.record(actor, hidden ? 'project-hide' : 'project-show', { id }, { id, name: p.name, hidden });
  }

  /** Moderators: delete a project for good (its pixels on the canvas stay as they are). */
  remove(actor: string, id: number): ActionResult {
    const p = this.projects.get(id);
    if (!p) return { ok: false, code: HttpCode.NOT_FOUND, message: `no project ${id}` };
    this.store.remove(id);
    this.projects.remove(id);
    return this.record(actor, 'project-delete', { id }, { id, name: p.name, owner: p.owner });
  }

  private record(
    actor: string,
    action: string,
    params: Record<string, unknown>,
    result: Record<string, unknown>,
  ): ActionResult {
    return audited(this.audit, actor, action, params, result);
  }
}
