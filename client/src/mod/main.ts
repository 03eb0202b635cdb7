/**
 * Entry point of the moderation console (`GET /mod`, client/mod.html; README "Console"). Asks for the
 * admin token, keeps it in this tab's sessionStorage (token-store.ts) and wires the panels: the canvas
 * with its rectangle and time window (Look, Undo), Act, Watch, Bots and the audit log. Every privileged
 * request goes through AdminApi to the existing admin routes; this page adds no path of its own.
 * `window.modConsole` is a small read-only handle for tests (no token in it).
 */
import './mod.css';
import { byId } from '../dom.ts';
import { ActPanel } from './act-panel.ts';
import { AdminApi, failureText } from './admin-api.ts';
import type { Rect } from './answers.ts';
import { AuditPanel } from './audit-panel.ts';
import { BotsPanel } from './bots-panel.ts';
import type { ConsoleContext } from './console-context.ts';
import { LookPanel } from './look-panel.ts';
import { ModCanvas } from './mod-canvas.ts';
import { heatmapBySelection, heatmapPath, heatmapRegion, type TimeWindow } from './queries.ts';
import { rectFromFields, wholeCanvas } from './rect.ts';
import { count } from './tables.ts';
import { SLIDER_STEPS, SPANS, windowFromSlider, windowText } from './time-window.ts';
import { TokenStore } from './token-store.ts';
import { UndoPanel } from './undo-panel.ts';
import { WatchPanel } from './watch-panel.ts';

export interface ModConsoleHandle {
  seq(): number | null;
  colourAt(x: number, y: number): number | null;
  pixelToClient(x: number, y: number): { x: number; y: number } | null;
  selection(): Rect | null;
}

declare global {
  interface Window {
    modConsole?: ModConsoleHandle;
  }
}

const tokens = new TokenStore(sessionStorage);
const gate = byId('gate', HTMLElement);
const gateToken = byId('gate-token', HTMLInputElement);
const gateError = byId('gate-error', HTMLElement);
const consoleRoot = byId('console', HTMLElement);
const notice = byId('notice', HTMLElement);

const api = new AdminApi({
  fetch: (url, init) => fetch(url, init),
  token: () => tokens.get(),
  unauthorized: () => askToken('The admin token was refused: enter it again.'),
});

let noticeTimer: ReturnType<typeof setTimeout> | undefined;
const ctx: ConsoleContext = {
  api,
  now: () => Date.now(),
  notify: (text, kind) => {
    notice.textContent = text;
    notice.dataset['kind'] = kind;
    clearTimeout(noticeTimer);
    // Errors stay until the next notice: under pressure a vanished error is a missed one.
    if (kind === 'ok') noticeTimer = setTimeout(() => (notice.textContent = ''), 8000);
  },
  acted: () => {
    void audit.refresh();
    watch.now();
  },
};

const canvas = new ModCanvas(byId('mod-view', HTMLCanvasElement));
const act = new ActPanel(ctx);
const audit = new AuditPanel(ctx);
const bots = new BotsPanel(ctx);
const undo = new UndoPanel(ctx);
let tickedIds: string[] = [];
const look = new LookPanel(ctx, {
  palette: () => canvas.board?.palette ?? [],
  ban: (id, reason, seconds) => act.ban(id, reason, seconds),
  unban: (id) => act.unban(id),
  idsChanged: (ids) => {
    tickedIds = ids;
    undo.set(canvas.selection, timeWindow(), ids);
  },
  pick: (id) => act.pick(id),
});

const barLock = byId('bar-lock', HTMLElement);
const barSurge = byId('bar-surge', HTMLElement);
const showLock = (text: string, locked: boolean): void => {
  barLock.textContent = text;
  barLock.dataset['state'] = locked ? 'locked' : 'open';
};
act.onLock = (until) => showLock(until === null ? 'open' : 'LOCKED', until !== null);
const watch = new WatchPanel(ctx, {
  look: ({ x, y, width, height }) => {
    const area = { x, y, width, height }; // the rectangle, without the hot area's count
    canvas.select(area, true);
    canvas.show(area);
    selected(area);
  },
  pick: (id) => act.pick(id),
  state: (a, lockText, surgeText) => {
    showLock(lockText, a.locked !== null);
    barSurge.textContent = `surge: ${surgeText}`;
    act.showSurge(surgeText);
  },
});

// The time window: a span ending now and two thumbs over it.
const span = byId('win-span', HTMLSelectElement);
const from = byId('win-from', HTMLInputElement);
const to = byId('win-to', HTMLInputElement);
const winText = byId('win-text', HTMLElement);
span.replaceChildren(
  ...SPANS.map((s) => {
    const o = document.createElement('option');
    o.value = String(s.ms);
    o.textContent = `last ${s.label}`;
    o.selected = s.ms === 3_600_000; // an hour: a raid and what came before it
    return o;
  }),
);
for (const r of [from, to]) r.max = String(SLIDER_STEPS);
const timeWindow = (): TimeWindow =>
  windowFromSlider(Number(span.value), Date.now(), Number(from.value), Number(to.value));
const showWindow = (): void => {
  winText.textContent = windowText(timeWindow(), Date.now());
};
/** The window changed (span chosen, a thumb let go): look again, with the heatmap of the new window. */
const windowChanged = (): void => {
  showWindow();
  if (canvas.selection) lookAt(canvas.selection);
  else undo.set(null, timeWindow(), tickedIds);
  void loadHeatmap();
};
for (const r of [from, to]) {
  r.addEventListener('input', showWindow);
  r.addEventListener('change', windowChanged);
}
span.addEventListener('change', windowChanged);
setInterval(showWindow, 1000); // the ends move with the clock

const heatOn = byId('heat-on', HTMLInputElement);
const heatStatus = byId('heat-status', HTMLElement);
let heatAsked = 0;
async function loadHeatmap(): Promise<void> {
  const ask = ++heatAsked;
  if (!heatOn.checked) {
    heatStatus.textContent = '';
    return canvas.setHeatmap(null);
  }
  const board = canvas.board;
  if (!board) return;
  const which = heatmapRegion(board, canvas.selection);
  if ('why' in which) {
    heatStatus.textContent = `heatmap: ${which.why}`;
    return canvas.setHeatmap(null);
  }
  heatStatus.textContent = 'heatmap: loading…';
  try {
    // Public history data: no token on this request.
    const res = await fetch(heatmapPath(timeWindow(), Date.now(), which.region), { credentials: 'omit' });
    if (ask !== heatAsked) return;
    if (!res.ok) {
      const retry = res.headers.get('retry-after');
      heatStatus.textContent =
        res.status === 429
          ? `heatmap: the server is busy, try again in ${retry ?? 'a few'} s`
          : `heatmap: HTTP ${res.status}`;
      return;
    }
    const max = res.headers.get('x-heatmap-max');
    await canvas.setHeatmap(await res.blob(), which.region);
    heatStatus.textContent = `heatmap: up to ${max === null ? '?' : count(Number(max), 'placement')} on one pixel`;
  } catch {
    heatStatus.textContent = 'heatmap: the server could not be reached';
  }
}
heatOn.addEventListener('change', () => void loadHeatmap());

// The rectangle by numbers: follows every selection, and selects what is typed (a reported pixel).
const rectForm = byId('rect-form', HTMLFormElement);
const rectInput = (name: string): HTMLInputElement => {
  const input = rectForm.elements.namedItem(name);
  if (!(input instanceof HTMLInputElement)) throw new Error(`mod.html lacks <input name="${name}"> in #rect-form`);
  return input;
};
const rectFields = { x: rectInput('x'), y: rectInput('y'), width: rectInput('width'), height: rectInput('height') };
rectForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const b = canvas.board;
  if (!b) return;
  const f = rectFields;
  const rect = rectFromFields(
    { x: f.x.value, y: f.y.value, width: f.width.value, height: f.height.value },
    b.width,
    b.height,
  );
  if (!rect) return ctx.notify(`Rectangle: whole numbers inside the ${b.width} × ${b.height} canvas.`, 'error');
  canvas.select(rect);
  canvas.show(rect);
  selected(rect);
});

function lookAt(rect: Rect): void {
  for (const k of ['x', 'y', 'width', 'height'] as const) rectFields[k].value = String(rect[k]);
  const w = timeWindow();
  look.look(rect, w);
  undo.set(rect, w, []);
}
/** A new selection (or none): looked at, and on a canvas over 4096 a side its heatmap (no whole one). */
function selected(rect: Rect | null): void {
  if (rect) lookAt(rect);
  else undo.set(null, timeWindow(), []);
  const board = canvas.board;
  if (heatOn.checked && board && heatmapBySelection(board)) void loadHeatmap();
}
canvas.onSelect = selected;
byId('whole', HTMLButtonElement).addEventListener('click', () => {
  const b = canvas.board;
  if (!b) return;
  const rect = wholeCanvas(b.width, b.height);
  canvas.select(rect);
  selected(rect);
});
byId('fit', HTMLButtonElement).addEventListener('click', () => canvas.fit());

// The token: asked for until the server accepts it.
function askToken(why: string): void {
  tokens.clear();
  watch.stop();
  audit.stop();
  bots.stop();
  consoleRoot.hidden = true;
  gate.hidden = false;
  gateError.textContent = why;
  gateToken.focus();
}

async function enter(): Promise<void> {
  const r = await api.check();
  if (!r.ok) {
    // 401 already asked again (unauthorized). A server out of reach keeps the token for the next try;
    // any other answer (the API off, a bad answer) drops it: it was not shown to work.
    if (r.status !== 401) gateError.textContent = failureText(r, 'Sign in');
    if (r.status !== 0) tokens.clear();
    return;
  }
  gate.hidden = true;
  consoleRoot.hidden = false;
  gateError.textContent = '';
  canvas.start();
  watch.start();
  void audit.refresh();
  void bots.refresh();
}

byId('gate-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  const ok = tokens.set(gateToken.value);
  gateToken.value = ''; // not left in the DOM once kept
  if (ok) void enter();
});
byId('forget', HTMLButtonElement).addEventListener('click', () => askToken('Signed out: the token is forgotten.'));

window.modConsole = {
  seq: () => canvas.board?.seq ?? null,
  colourAt: (x, y) => (canvas.board?.inBounds(x, y) ? canvas.board.colourAt(x, y) : null),
  pixelToClient: (x, y) => canvas.pixelToClient(x, y),
  selection: () => canvas.selection,
};

showWindow();
if (tokens.get() === null) askToken('');
else void enter();
