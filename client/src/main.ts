/**
 * Entry point of the browser bundle: finds the page's elements, builds the app and starts it.
 * `window.canvasClient` is a small read-only handle for tests and for poking at the client from the
 * devtools console (where is pixel (x, y) on screen, what colour is shown there, which seq).
 */
import './style.css';
import { ConfirmButton } from './aim.ts';
import { CanvasApp } from './app.ts';
import { browserSocket, Connection, streamUrl, webSocketUrl } from './connection.ts';
import { browserFetchImage, ImagePoller } from './image-poller.ts';
import { HistoryPanel } from './history-panel.ts';
import { InfoPanel } from './info-panel.ts';
import { Minimap } from './minimap.ts';
import { attachInput } from './input.ts';
import { attachKeyboard } from './keyboard.ts';
import { Renderer } from './renderer.ts';
import { TemplatePanel } from './template-panel.ts';
import { Templates } from './templates.ts';
import { findUiElements, Ui } from './ui.ts';
import type { Point } from './view.ts';

export interface CanvasClientHandle {
  /** Status shown to the user, e.g. "connected", "reconnecting", "polling". */
  status(): string;
  seq(): number | null;
  size(): { width: number; height: number } | null;
  scale(): number | null;
  /** Viewport (client) coordinates of the centre of board pixel (x, y). */
  pixelToClient(x: number, y: number): Point | null;
  /** Board pixel under a viewport (client) point. */
  pixelAtClient(x: number, y: number): Point | null;
  /** Palette index shown at (x, y), pending placements included. */
  colourAt(x: number, y: number): number | null;
  /** The board pixel the reticle (touch and keyboard aiming) is on, or null. */
  reticle(): Point | null;
  /** The past seq the History view shows in place of the live board, or null. */
  historySeq(): number | null;
}

declare global {
  interface Window {
    canvasClient?: CanvasClientHandle;
  }
}

const timer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

const display = document.getElementById('view');
if (!(display instanceof HTMLCanvasElement)) throw new Error('index.html lacks <canvas id="view">');
const elements = findUiElements();
const ui = new Ui(elements);
const wsBase = webSocketUrl(location);
const infoRoot = document.getElementById('pixel-info');
if (!infoRoot) throw new Error('index.html lacks #pixel-info');
const info = new InfoPanel(infoRoot);
const renderer = new Renderer(display);
const minimapCanvas = document.getElementById('minimap');
if (!(minimapCanvas instanceof HTMLCanvasElement)) throw new Error('index.html lacks <canvas id="minimap">');
const minimap = new Minimap(minimapCanvas);
renderer.afterDraw = (board, view) => minimap.draw(board, view);
const confirmButton = document.getElementById('confirm');
if (!(confirmButton instanceof HTMLButtonElement)) throw new Error('index.html lacks <button id="confirm">');
const part = (selector: string): HTMLElement => {
  const found = confirmButton.querySelector(selector);
  if (!(found instanceof HTMLElement)) throw new Error(`index.html lacks ${selector} in #confirm`);
  return found;
};
const confirm = new ConfirmButton({
  button: confirmButton,
  swatch: part('.confirm-swatch'),
  text: part('.confirm-text'),
});
/** The page's hash, and how to replace it: shared by the position link and the template. */
const link = {
  read: () => location.hash,
  // replaceState: following the view must not fill the back button's history.
  write: (hash: string) =>
    history.replaceState(history.state, '', hash === '' ? location.pathname + location.search : `#${hash}`),
};
const app: CanvasApp = new CanvasApp({
  ui,
  info: {
    show: (x, y, scale, palette) => void info.show(x, y, scale, palette),
    hide: () => info.hide(),
  },
  renderer,
  confirm,
  connection: new Connection({
    // Called at each attempt, after `app` exists: resume from the seq the board has.
    url: () => streamUrl(wsBase, app.nextSince(), app.token),
    openSocket: browserSocket,
    setTimer: timer,
    now: () => Date.now(),
    random: () => Math.random(),
  }),
  poller: new ImagePoller({ fetchImage: browserFetchImage, setTimer: timer }),
  viewportSize: () => ({ w: display.clientWidth, h: display.clientHeight }),
  now: () => Date.now(),
  link,
});

const templates = new Templates(link, () => ({ href: location.href, origin: location.origin }));
const templateRoot = document.getElementById('template-panel');
const templateToggle = document.getElementById('template-toggle');
if (!templateRoot || !(templateToggle instanceof HTMLButtonElement))
  throw new Error('index.html lacks the template panel');
const templatePanel = new TemplatePanel(templateRoot, templateToggle, templates);
templates.onChange = () => {
  renderer.setTemplate(templates.overlay());
  templatePanel.render();
};
templates.fromHash();
// A link pasted into the address bar of an open page changes only the hash: apply its template.
window.addEventListener('hashchange', () => templates.fromHash());

const historyRoot = document.getElementById('history-panel');
const historyToggle = document.getElementById('history-toggle');
const historyLabel = document.getElementById('history-label');
if (!historyRoot || !historyLabel || !(historyToggle instanceof HTMLButtonElement))
  throw new Error('index.html lacks the history panel');
const historyPanel = new HistoryPanel(historyRoot, historyToggle, historyLabel, {
  board: () => app.board,
  viewHistory: (on) => app.viewHistory(on),
  showPast: (past) => app.showPast(past),
});
app.onSeq = (seq) => historyPanel.liveSeq(seq);
// One panel at a time in the top-left corner; the reticle would place nothing while History is open.
historyPanel.onOpen = () => {
  templatePanel.setOpen(false);
  app.clearAim();
};
templateToggle.addEventListener('click', () => historyPanel.setOpen(false));

const redraw = (): void => app.redraw();

attachInput(display, {
  view: () => app.view,
  changed: redraw,
  tap: (p, touch) => app.tap(p, touch),
  hover: (p) => app.hover(p),
});

attachKeyboard(display, {
  view: () => app.view,
  changed: redraw,
  pick: (i) => app.pick(i),
  cycle: (step) => app.cycle(step),
  moveAim: (dx, dy) => app.moveAim(dx, dy),
  placeAtAim: () => app.placeAtAim(),
  clearAim: () => app.clearAim(),
  toggleTemplate: () => {
    historyPanel.setOpen(false);
    templatePanel.setOpen(templateRoot.hidden);
  },
  toggleHistory: () => historyPanel.setOpen(!historyPanel.open),
});

new ResizeObserver(() => {
  app.view?.resize(display.clientWidth, display.clientHeight);
  redraw();
}).observe(display);

const zoomButton = (id: string, action: () => void): void => {
  document.getElementById(id)?.addEventListener('click', () => {
    action();
    redraw();
  });
};
const centre = (): Point => ({ x: display.clientWidth / 2, y: display.clientHeight / 2 });
zoomButton('zoom-in', () => app.view?.zoomAt(centre(), 1.5));
zoomButton('zoom-out', () => app.view?.zoomAt(centre(), 1 / 1.5));
zoomButton('zoom-fit', () => app.view?.fit());

// The browser knows when the network is back before our backoff does.
window.addEventListener('online', () => app.retryNow());

const rect = (): DOMRect => display.getBoundingClientRect();
window.canvasClient = {
  status: () => elements.status.dataset['state'] ?? '',
  seq: () => app.board?.seq ?? null,
  size: () => (app.board ? { width: app.board.width, height: app.board.height } : null),
  scale: () => app.view?.scale ?? null,
  pixelToClient: (x, y) => {
    const p = app.view?.pixelCentre(x, y);
    return p ? { x: p.x + rect().left, y: p.y + rect().top } : null;
  },
  pixelAtClient: (x, y) => app.view?.pixelAt({ x: x - rect().left, y: y - rect().top }) ?? null,
  colourAt: (x, y) => app.shownColourAt(x, y),
  reticle: () => app.reticle,
  historySeq: () => app.past?.seq ?? null,
};

app.start();
