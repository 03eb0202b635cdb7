/**
 * The projects panel's logic without the DOM: checking what `GET /api/projects` and
 * `/api/projects/{id}` sent (a server of another version, or a proxy's error page, must not break the
 * panel), folding `progress` messages into the open project, and the texts shown. projects-panel.ts
 * puts them on the page.
 */
import type { ProjectSummary } from '../../../protocol/http-api.ts';
import type { Grief, ProgressMsg } from '../../../protocol/messages.ts';

/** What the panel reads of a project (the answer's shape: protocol/http-api.ts). */
export type ProjectView = Pick<ProjectSummary, 'id' | 'name' | 'x' | 'y' | 'width' | 'height' | 'total' | 'done'>;

/** The open project: its figures and its recent griefs, newest first. */
export interface OpenProject extends ProjectView {
  griefs: Grief[];
  /** The seq its figures are as of (a `progress` for an older tick changes nothing). */
  seq: number;
}

/** Griefs kept (and highlighted) for the open project. */
export const GRIEFS_SHOWN = 50;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}

export function parseProject(v: unknown): ProjectView | null {
  const name = field(v, 'name');
  const nums = ['id', 'x', 'y', 'width', 'height', 'total', 'done'].map((k) => field(v, k));
  if (typeof name !== 'string' || !nums.every(isCount)) return null;
  const [id, x, y, width, height, total, done] = nums as number[];
  return { id, name, x, y, width, height, total, done } as ProjectView;
}

/** The projects of a `GET /api/projects` body; null if it is not one. */
export function parseList(v: unknown): ProjectView[] | null {
  const list = field(v, 'projects');
  if (!Array.isArray(list)) return null;
  const out = list.map(parseProject);
  return out.every((p): p is ProjectView => p !== null) ? out : null;
}

function parseGrief(v: unknown): Grief | null {
  const who = field(v, 'who');
  const nums = ['x', 'y', 'color', 'at', 'seq'].map((k) => field(v, k));
  if (typeof who !== 'string' || !nums.every(isCount)) return null;
  const [x, y, color, at, seq] = nums as number[];
  return { x, y, color, at, seq, who } as Grief;
}

/** A `GET /api/projects/{id}` body as the open project; null if it is not one. */
export function parseDetail(v: unknown): OpenProject | null {
  const p = parseProject(v);
  const griefs = field(v, 'griefs');
  if (!p || !Array.isArray(griefs)) return null;
  const parsed = griefs.map(parseGrief);
  if (!parsed.every((g): g is Grief => g !== null)) return null;
  const seq = parsed.reduce((s, g) => Math.max(s, g.seq), 0);
  return { ...p, griefs: parsed.slice(0, GRIEFS_SHOWN), seq };
}

/** The open project after a `progress` message (ignored when it is about another project or older). */
export function applyProgress(p: OpenProject, m: ProgressMsg): OpenProject {
  if (m.project !== p.id || m.seq < p.seq) return p;
  const known = new Set(p.griefs.map((g) => g.seq));
  const fresh = m.griefs.filter((g) => !known.has(g.seq)).reverse();
  return {
    ...p,
    total: m.total,
    done: m.done,
    seq: m.seq,
    griefs: [...fresh, ...p.griefs].slice(0, GRIEFS_SHOWN),
  };
}

export function leftText(p: ProjectView): string {
  const left = p.total - p.done;
  return left === 0 ? 'Done: every pixel matches' : `${left.toLocaleString('en-US')} left`;
}

export function rowText(p: ProjectView): string {
  const percent = Math.floor((p.done / p.total) * 1000) / 10;
  return `${p.name} (${p.x}, ${p.y}): ${percent}%`;
}

export function griefText(g: Grief, now: number): string {
  const s = Math.max(0, Math.round((now - g.at) / 1000));
  const ago = s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  return `(${g.x}, ${g.y}) by ${g.who.startsWith('mod:') ? 'a moderator' : g.who.slice(0, 8)}, ${ago} ago`;
}
