/**
 * Undo: the selected rectangle back to how it was at the window's start (optionally only the ticked
 * identities' placements). A preview first (the rectangle now and after, side by side); the rollback
 * sends exactly the body that was previewed, and its progress is read back from GET
 * /api/admin/rollback until done or failed. Changing the rectangle, window or ticks drops the preview.
 */
import { byId } from '../dom.ts';
import { failureText } from './admin-api.ts';
import type { Rect } from './answers.ts';
import type { ConsoleContext } from './console-context.ts';
import { previewFits, type RollbackBody, rollbackBody, type TimeWindow } from './queries.ts';
import { rectText } from './rect.ts';
import { count, progressText } from './tables.ts';
import { clockText } from './time-window.ts';

/** Progress is asked this often while a rollback runs: a readout that moves, a cheap request. */
const PROGRESS_MS = 500;

export class UndoPanel {
  private readonly what = byId('undo-what', HTMLElement);
  private readonly previewButton = byId('preview', HTMLButtonElement);
  private readonly rollbackButton = byId('rollback', HTMLButtonElement);
  private readonly status = byId('undo-status', HTMLElement);
  private readonly images = byId('undo-images', HTMLElement);
  private readonly before = byId('img-before', HTMLImageElement);
  private readonly after = byId('img-after', HTMLImageElement);
  private readonly progress = byId('undo-progress', HTMLProgressElement);
  private target: { rect: Rect; window: TimeWindow; ids: string[] } | null = null;
  /** The body previewed, which the rollback will send; null: preview first. */
  private previewed: RollbackBody | null = null;
  /** A rectangle too large to preview: the rollback asks for a second click instead. */
  private armed = false;
  private running = false;

  constructor(private readonly c: ConsoleContext) {
    this.previewButton.addEventListener('click', () => void this.preview());
    this.rollbackButton.addEventListener('click', () => void this.rollback());
  }

  set(rect: Rect | null, window: TimeWindow, ids: string[]): void {
    this.target = rect ? { rect, window, ids } : null;
    this.previewed = null;
    this.armed = false;
    this.images.hidden = true;
    if (!this.running) {
      this.status.textContent = '';
      this.progress.hidden = true;
    }
    this.refresh();
  }

  private refresh(): void {
    const t = this.target;
    this.previewButton.disabled = !t || this.running || !previewFits(t.rect);
    this.rollbackButton.disabled = !t || this.running || (previewFits(t.rect) && this.previewed === null);
    this.rollbackButton.textContent = this.armed ? 'Confirm: roll back without preview' : 'Roll back';
    if (!t) {
      this.what.textContent = 'Select a rectangle: it returns to how it was at the window’s start.';
      return;
    }
    const who =
      t.ids.length === 0
        ? 'every identity'
        : `only ${t.ids.length} ticked ${t.ids.length === 1 ? 'identity' : 'identities'}`;
    const big = previewFits(t.rect) ? '' : ' Too large to preview (1024 px a side at most).';
    this.what.textContent = `${rectText(t.rect)} back to ${clockText(t.window.since, this.c.now())}, undoing ${who}.${big}`;
  }

  private async preview(): Promise<void> {
    const t = this.target;
    if (!t) return;
    const body = rollbackBody(t.rect, t.window, t.ids);
    this.status.textContent = 'Previewing…';
    const r = await this.c.api.preview(body);
    if (this.target !== t) return; // the selection changed meanwhile
    if (!r.ok) {
      this.status.textContent = failureText(r, 'Preview');
      return;
    }
    this.before.src = `data:image/png;base64,${r.value.before}`;
    this.after.src = `data:image/png;base64,${r.value.after}`;
    this.images.hidden = false;
    this.previewed = body;
    this.status.textContent = `${count(r.value.pixels, 'pixel')} change (${count(r.value.placements, 'placement')} undone).`;
    this.refresh();
    this.rollbackButton.textContent = `Roll back ${count(r.value.pixels, 'pixel')}`;
  }

  private async rollback(): Promise<void> {
    const t = this.target;
    if (!t || this.running) return;
    let body = this.previewed;
    if (!body) {
      if (previewFits(t.rect)) return; // preview first
      if (!this.armed) {
        this.armed = true;
        return this.refresh();
      }
      body = rollbackBody(t.rect, t.window, t.ids);
    }
    this.running = true;
    this.refresh();
    this.status.textContent = 'Starting the rollback…';
    const r = await this.c.api.rollback(body);
    if (!r.ok) {
      this.running = false;
      this.status.textContent = failureText(r, 'Rollback');
      return this.refresh();
    }
    this.progress.hidden = false;
    this.progress.max = Math.max(1, r.value.pixels);
    this.progress.value = 0;
    await this.follow(r.value.job);
    this.running = false;
    this.previewed = null;
    this.armed = false;
    this.refresh();
    this.c.acted();
  }

  /** Reads the job's progress until it ends (or the status can no longer be read). */
  private async follow(job: string): Promise<void> {
    for (;;) {
      const s = await this.c.api.rollbackStatus();
      if (!s.ok) {
        this.status.textContent = failureText(s, 'Rollback progress');
        return;
      }
      if (s.value.job === job) {
        this.progress.max = Math.max(1, s.value.total);
        this.progress.value = s.value.done;
        this.status.textContent = progressText(s.value);
        if (s.value.state !== 'running') {
          this.c.notify(progressText(s.value), s.value.state === 'done' ? 'ok' : 'error');
          return;
        }
      }
      await new Promise((r) => setTimeout(r, PROGRESS_MS));
    }
  }
}
