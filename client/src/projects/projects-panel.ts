/**
 * The projects panel: the list (`GET /api/projects`, most active first), registering the current
 * template as a project (its pixels as the template maps them onto the palette, at its place), and
 * one open project: drawn as the template overlay, "N left" kept live by the `progress` messages of
 * the WebSocket (`watch`), its recent griefs listed and highlighted on the board, and "Next wrong
 * pixel". DOM and fetch only; parsing and texts are in projects-text.ts.
 */
import type { Grief, ProgressMsg } from '../../../protocol/messages.ts';
import { child } from '../dom.ts';
import type { TemplateGrid } from '../templates/template-diff.ts';
import {
  applyProgress,
  griefText,
  leftText,
  type OpenProject,
  parseDetail,
  parseList,
  type ProjectView,
  rowText,
} from './projects-text.ts';

export interface ProjectsPanelDeps {
  /** The page's identity token when the server minted one in hello (no cookie), else null. */
  token(): string | null;
  /** Receive `progress` for this project from the next tick on (0: none). */
  watch(id: number): void;
  /** Draw the project's image as the template overlay (at its place), or none. */
  showOverlay(p: ProjectView | null): void;
  /** The current template on the canvas grid, with the palette (registering it); null: none loaded. */
  template(): { grid: TemplateGrid; palette: readonly number[] } | null;
  /** Highlight these pixels on the board (the open project's griefs). */
  mark(points: ReadonlyArray<{ x: number; y: number }>): void;
  /** Aim at a pixel (a grief clicked). */
  aimAt(p: { x: number; y: number }): void;
  message(text: string, kind: 'info' | 'error'): void;
}

export class ProjectsPanel {
  /** The panel opened (main.ts closes the other top-left panels). */
  onOpen: () => void = () => {};
  /** "Next wrong pixel" was pressed (main.ts reuses the template's search). */
  onNext: () => void = () => {};
  private readonly list: HTMLOListElement;
  private readonly status: HTMLElement;
  private readonly open: HTMLElement;
  private readonly name: HTMLElement;
  private readonly left: HTMLElement;
  private readonly griefs: HTMLOListElement;
  private readonly registerName: HTMLInputElement;
  private current: OpenProject | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly toggle: HTMLButtonElement,
    private readonly deps: ProjectsPanelDeps,
  ) {
    this.list = child(root, '.projects-list', HTMLOListElement);
    this.status = child(root, '.projects-status', HTMLElement);
    this.open = child(root, '.project-open', HTMLElement);
    this.name = child(root, '.project-name', HTMLElement);
    this.left = child(root, '.project-left', HTMLElement);
    this.griefs = child(root, '.project-griefs', HTMLOListElement);
    this.registerName = child(root, 'input[name="project-name"]', HTMLInputElement);
    toggle.addEventListener('click', () => this.setOpen(root.hidden));
    child(root, '.panel-close', HTMLButtonElement).addEventListener('click', () => this.setOpen(false));
    child(root, '.project-next', HTMLButtonElement).addEventListener('click', () => this.onNext());
    child(root, '.project-close', HTMLButtonElement).addEventListener('click', () => this.close());
    child(root, '.projects-register', HTMLFormElement).addEventListener('submit', (e) => {
      e.preventDefault();
      void this.register();
    });
    window.addEventListener('keydown', (e) => {
      if (e.defaultPrevented || !(e.key === 'Escape' && !root.hidden)) return;
      e.preventDefault();
      this.setOpen(false);
    });
  }

  setOpen(open: boolean): void {
    if (open === !this.root.hidden) return;
    this.root.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    if (!open) return;
    this.onOpen();
    void this.refresh();
  }

  /** The open project, if any (main.ts: "Next wrong pixel" and the reconnect's `watch`). */
  get project(): OpenProject | null {
    return this.current;
  }

  /** A `progress` message from the WebSocket. */
  progress(m: ProgressMsg): void {
    if (!this.current) return;
    const next = applyProgress(this.current, m);
    if (next === this.current) return;
    this.current = next;
    this.renderOpen();
  }

  async refresh(): Promise<void> {
    const body = await this.get('/api/projects?sort=active&limit=50');
    const projects = parseList(body);
    if (!projects) {
      this.status.textContent = 'Could not load the projects.';
      return;
    }
    this.status.textContent = projects.length === 0 ? 'No project yet: register the current template.' : '';
    this.list.replaceChildren(
      ...projects.map((p) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'project-row';
        button.dataset['id'] = String(p.id);
        button.textContent = rowText(p);
        button.addEventListener('click', () => void this.show(p.id));
        li.append(button);
        return li;
      }),
    );
    this.root.dataset['state'] = 'loaded';
  }

  /** Opens project `id`: its overlay, its figures, its griefs, and its progress from now on. */
  async show(id: number): Promise<void> {
    this.deps.watch(id); // first, so no tick between the answer and the watch is missed
    const p = parseDetail(await this.get(`/api/projects/${id}`));
    if (!p) {
      this.deps.watch(0);
      this.deps.message('That project could not be loaded (deleted or hidden?).', 'error');
      return;
    }
    // A progress message may have come while the answer travelled: keep whichever is newer.
    this.current = this.current?.id === id && this.current.seq > p.seq ? this.current : p;
    this.deps.showOverlay(p);
    this.renderOpen();
  }

  close(): void {
    this.current = null;
    this.deps.watch(0);
    this.deps.showOverlay(null);
    this.deps.mark([]);
    this.open.hidden = true;
    delete this.root.dataset['project'];
  }

  private renderOpen(): void {
    const p = this.current;
    if (!p) return;
    this.open.hidden = false;
    this.root.dataset['project'] = String(p.id);
    this.name.textContent = p.name;
    this.left.textContent = leftText(p);
    const now = Date.now();
    this.griefs.replaceChildren(
      ...p.griefs.map((g: Grief) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'project-grief';
        b.textContent = griefText(g, now);
        b.addEventListener('click', () => this.deps.aimAt(g));
        li.append(b);
        return li;
      }),
    );
    this.deps.mark(p.griefs);
  }

  /** Registers the current template as a project: its palette indices as a PNG, at its place. */
  private async register(): Promise<void> {
    const t = this.deps.template();
    const name = this.registerName.value.trim();
    if (!t) return this.deps.message('Load a template first: the project is its image at its place.', 'error');
    if (name === '') return this.deps.message('Give the project a name.', 'error');
    const image = pngOf(t.grid, t.palette);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const token = this.deps.token();
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    try {
      const res = await fetch('/api/projects', {
        method: 'POST',
        headers,
        body: JSON.stringify({ name, x: t.grid.x, y: t.grid.y, image }),
      });
      const body = (await res.json().catch(() => null)) as { id?: unknown; message?: unknown } | null;
      if (res.status !== 201 || typeof body?.id !== 'number') {
        const why = typeof body?.message === 'string' ? body.message : `the server answered ${res.status}`;
        return this.deps.message(`Not registered: ${why}`, 'error');
      }
      this.registerName.value = '';
      this.deps.message('Project registered.', 'info');
      await this.refresh();
      await this.show(body.id);
    } catch {
      this.deps.message('Not registered: the server could not be reached.', 'error');
    }
  }

  private async get(url: string): Promise<unknown> {
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' } });
      return res.ok ? await res.json() : null;
    } catch {
      return null;
    }
  }
}

/** The template's palette indices as a PNG (data URL): exactly palette colours, holes transparent. */
function pngOf(g: TemplateGrid, palette: readonly number[]): string {
  const canvas = document.createElement('canvas');
  canvas.width = g.w;
  canvas.height = g.h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return '';
  const img = ctx.createImageData(g.w, g.h);
  for (let i = 0; i < g.want.length; i++) {
    const c = g.want[i] as number;
    if (c < 0) continue;
    const rgb = palette[c] ?? 0;
    img.data[i * 4] = rgb >> 16;
    img.data[i * 4 + 1] = (rgb >> 8) & 0xff;
    img.data[i * 4 + 2] = rgb & 0xff;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL('image/png');
}
