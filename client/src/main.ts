/**
 * Entry point of the browser bundle: finds the page's elements, builds the app and starts it.
 * `window.canvasClient` is a small read-only handle for tests and for poking at the client from the
 * devtools console (where is pixel (x, y) on screen, what colour is shown there, which seq).
 */
import './style.css';
import { byId, child } from './dom.ts';
import type { PowChallenge } from '../../protocol/messages.ts';
import { ConfirmButton } from './place/aim.ts';
import { ProofOfWork } from './place/proof-of-work.ts';
import { CHECKING_TEXT } from './ui/error-text.ts';
import { CanvasApp, type TileSource } from './app.ts';
import {
  browserCanvasInfo,
  browserFetchTile,
  browserPollCanvasInfo,
  type CanvasInfo,
  wantsTiles,
} from './tiles/tile-fetch.ts';
import { browserPngDecoder, type PngDecoder } from './board/png-decoder.ts';
import { browserSocket, Connection, streamUrl, webSocketUrl } from './connection/connection.ts';
import { browserFetchImage, ImagePoller } from './connection/image-poller.ts';
import { HistoryPanel } from './history/history-panel.ts';
import { StatsPanel } from './stats/stats-panel.ts';
import { ProjectsPanel } from './projects/projects-panel.ts';
import { DEFAULT_OPACITY, formatTemplate } from './templates/template-link.ts';
import { InfoPanel } from './pixel-info/info-panel.ts';
import { Minimap } from './view/minimap.ts';
import { attachInput } from './input/pointer.ts';
import { attachKeyboard } from './input/keyboard.ts';
import { Renderer } from './view/renderer.ts';
import { TemplatePanel } from './templates/template-panel.ts';
import { countLeft, nextWrong, wantAt } from './templates/template-diff.ts';
import { Templates } from './templates/templates.ts';
import { BanNotice } from './ui/ban-notice.ts';
import { showFirstHint } from './ui/first-hint.ts';
import { ReadySignal } from './ui/ready-signal.ts';
import { findUiElements, Ui } from './ui/ui.ts';
import type { Point } from './view/view.ts';

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

let decoder: PngDecoder | null = null;
/** The page loads from tiles (decided once GET /api/canvas answers, below). */
let tileMode = false;
const pngDecoder = (): PngDecoder => {
  decoder ??= browserPngDecoder();
  return decoder;
};

const display = byId('view', HTMLCanvasElement);
const elements = findUiElements();
const ui = new Ui(elements);
const wsBase = webSocketUrl(location);
const info = new InfoPanel(byId('pixel-info', HTMLElement));
const renderer = new Renderer(display);
const minimap = new Minimap(byId('minimap', HTMLCanvasElement));
renderer.afterDraw = (board, view, version) => minimap.draw(board, view, version);
minimap.redraw = () => renderer.requestDraw();
const confirmButton = byId('confirm', HTMLButtonElement);
const confirm = new ConfirmButton({
  button: confirmButton,
  swatch: child(confirmButton, '.confirm-swatch', HTMLElement),
  text: child(confirmButton, '.confirm-text', HTMLElement),
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
  // Whole-canvas PNGs only: started below unless the page is in tile mode, which never needs its
  // worker (66 KB that a phone's first paint on a large canvas would download for nothing).
  decoder: { decode: (png) => pngDecoder().decode(png) },
  confirm,
  connection: new Connection({
    // Called at each attempt, after `app` exists: resume from the seq the board has.
    url: () => streamUrl(wsBase, app.sync.nextSince(), app.token),
    openSocket: browserSocket,
    setTimer: timer,
    now: () => Date.now(),
    random: () => Math.random(),
  }),
  // Tile mode polls GET /api/canvas and reloads its tiles, never the whole /image.
  poller: new ImagePoller({
    fetchImage: (etag) => (tileMode ? browserPollCanvasInfo(etag) : browserFetchImage(etag)),
    setTimer: timer,
  }),
  viewportSize: () => ({ w: display.clientWidth, h: display.clientHeight }),
  now: () => Date.now(),
  link,
  ready: new ReadySignal({ bell: byId('notify', HTMLButtonElement), announce: byId('announce', HTMLElement) }),
  ban: new BanNotice(byId('ban', HTMLElement)),
  pow: new ProofOfWork({
    fetchChallenge: async () => {
      try {
        const headers: Record<string, string> = { accept: 'application/json' };
        if (app.token !== null) headers['authorization'] = `Bearer ${app.token}`;
        const res = await fetch('/api/challenge', { headers });
        return res.ok ? ((await res.json()) as PowChallenge) : null;
      } catch {
        return null;
      }
    },
    solve: async (challenge) => {
      // A separate bundle, fetched the first time this page is asked for a proof of work.
      const url = '/assets/pow.js';
      const widget = (await import(url)) as { solve(c: PowChallenge): Promise<string | null> };
      return widget.solve(challenge);
    },
    working: (on) => (on ? ui.showMessage(CHECKING_TEXT, 'info') : ui.hideMessage()),
  }),
  tileSource: async () => {
    const info = await browserCanvasInfo();
    return info && tileSourceOf(info);
  },
  tileModeStarted: () => {
    tileMode = true;
  },
  postPixel: async (body, token) => {
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      const res = await fetch('/api/pixel', { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json().catch(() => null) };
    } catch {
      return null;
    }
  },
});

const templates = new Templates(
  link,
  () => ({ href: location.href, origin: location.origin }),
  () => app.sync.board?.palette ?? null,
);
const templateRoot = byId('template-panel', HTMLElement);
const templateToggle = byId('template-toggle', HTMLButtonElement);
const templatePanel = new TemplatePanel(templateRoot, templateToggle, templates);
let templateStatus = templates.state.status;
templates.onChange = () => {
  renderer.setTemplate(templates.overlay());
  templatePanel.render();
  // A template that fails says so at once, not only inside a closed panel: the message, and the panel
  // open on its explanation and the device-file picker.
  const { status, error } = templates.state;
  if (status === 'error' && templateStatus !== 'error') {
    ui.showMessage(error, 'error');
    historyPanel.setOpen(false);
    templatePanel.setOpen(true);
  }
  templateStatus = status;
};

const historyPanel = new HistoryPanel(
  byId('history-panel', HTMLElement),
  byId('history-toggle', HTMLButtonElement),
  byId('history-label', HTMLElement),
  {
    board: () => app.sync.board,
    viewHistory: (on) => app.viewHistory(on),
    showPast: (past) => app.showPast(past),
    resizes: async () => (await browserCanvasInfo())?.resizes ?? null,
    viewArea: () => app.viewArea(),
  },
);
// A canvas over 4096 a side shows the past of the region in view: a new view asks again.
app.onViewMoved = () => historyPanel.viewMoved();
// The canvas grew on the left or top: the template stays on the art it was placed over.
app.onResized = (left, top) => {
  const t = templates.state.link;
  if (t && (left > 0 || top > 0)) templates.update({ ox: t.ox + left, oy: t.oy + top });
};
app.onSeq = (seq) => historyPanel.liveSeq(seq);
// One panel at a time in the top-left corner; the reticle would place nothing while History is open.
historyPanel.onOpen = () => {
  templatePanel.setOpen(false);
  app.aiming.clear();
};
templateToggle.addEventListener('click', () => historyPanel.setOpen(false));
// The stats panel shares the top-left corner: opening it closes the others, and theirs close it.
const statsPanel = new StatsPanel(
  byId('stats-panel', HTMLElement),
  [byId('stats-toggle', HTMLButtonElement), byId('stats-open', HTMLButtonElement)],
  { token: () => app.token },
);
statsPanel.onOpen = () => {
  templatePanel.setOpen(false);
  historyPanel.setOpen(false);
};
templateToggle.addEventListener('click', () => statsPanel.setOpen(false));
byId('history-toggle', HTMLButtonElement).addEventListener('click', () => statsPanel.setOpen(false));

// Projects: the list, registering the template, one open project drawn as the template overlay with
// its live "N left", its griefs marked, and the template's "Next wrong pixel".
const projectsPanel = new ProjectsPanel(
  byId('projects-panel', HTMLElement),
  byId('projects-toggle', HTMLButtonElement),
  {
    token: () => app.token,
    watch: (id) => app.watchProject(id),
    showOverlay: (p) => {
      const t = p && {
        url: `/api/projects/${p.id}/image`,
        ox: p.x,
        oy: p.y,
        width: null,
        opacity: DEFAULT_OPACITY,
        title: p.name,
      };
      link.write(formatTemplate(link.read().replace(/^#/, ''), t));
      templates.fromHash();
    },
    template: () => {
      const grid = templates.grid();
      const palette = app.sync.board?.palette;
      return grid && palette ? { grid, palette } : null;
    },
    mark: (points) => renderer.setMarks(points),
    aimAt: (p) => app.aiming.aimAt(p),
    message: (text, kind) => ui.showMessage(text, kind),
  },
);
app.onProgress = (m) => projectsPanel.progress(m);
projectsPanel.onOpen = () => {
  templatePanel.setOpen(false);
  historyPanel.setOpen(false);
  statsPanel.setOpen(false);
};
for (const id of ['template-toggle', 'history-toggle', 'stats-toggle'])
  byId(id, HTMLButtonElement).addEventListener('click', () => projectsPanel.setOpen(false));
projectsPanel.onNext = () => templatePanel.onNext();

// What the template still wants: the count in its panel (every TEMPLATE_MS, only when the board or
// the template changed), the wanted colour in the cursor readout, and "Next wrong pixel".
const TEMPLATE_MS = 500;
let counted: { seq: number; grid: unknown; x: number; y: number } | null = null;
setInterval(() => {
  const board = app.sync.board;
  const grid = templates.grid();
  if (!board || !grid) {
    counted = null;
    return templatePanel.showProgress(null);
  }
  if (counted?.seq === board.seq && counted.grid === grid.want && counted.x === grid.x && counted.y === grid.y) return;
  counted = { seq: board.seq, grid: grid.want, x: grid.x, y: grid.y };
  templatePanel.showProgress(countLeft(grid, board));
  // The palette may have come after the image: the dotted style can be drawn now.
  if (templates.state.style === 'dots') renderer.setTemplate(templates.overlay());
}, TEMPLATE_MS);
app.templateWant = (x, y) => {
  const grid = templates.grid();
  return grid ? wantAt(grid, x, y) : null;
};
templatePanel.onNext = () => {
  const board = app.sync.board;
  const grid = templates.grid();
  if (!board || !grid) return;
  const next = nextWrong(grid, board, app.aiming.reticle);
  if (!next) return ui.showMessage('The template is done: every pixel matches.', 'info');
  const want = wantAt(grid, next.x, next.y);
  if (want !== null) app.placing.pick(want); // the template's colour in hand, ready to place
  app.aiming.aimAt(next);
};
templates.fromHash();
// A link pasted into the address bar of an open page changes only the hash: the view goes where it
// says and its template is applied.
window.addEventListener('hashchange', () => {
  app.followLink();
  templates.fromHash();
});

const redraw = (): void => app.redraw();

attachInput(display, {
  view: () => app.view,
  changed: redraw,
  tap: (p, touch) => app.aiming.tap(p, touch),
  inspect: (p) => app.aiming.inspect(p),
  hover: (p) => app.hover(p),
});

attachKeyboard(display, {
  view: () => app.view,
  changed: redraw,
  pick: (i) => app.placing.pick(i),
  cycle: (step) => app.placing.cycle(step),
  moveAim: (dx, dy) => app.aiming.move(dx, dy),
  placeAtAim: () => app.aiming.placeAtAim(),
  clearAim: () => app.aiming.clear(),
  aiming: () => app.aiming.reticle !== null,
  deselect: () => app.placing.unpick(),
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
  byId(id, HTMLButtonElement).addEventListener('click', () => {
    action();
    redraw();
  });
};
const centre = (): Point => ({ x: display.clientWidth / 2, y: display.clientHeight / 2 });
zoomButton('zoom-in', () => app.view?.zoomAt(centre(), 1.5));
zoomButton('zoom-out', () => app.view?.zoomAt(centre(), 1 / 1.5));
zoomButton('zoom-fit', () => app.view?.fit());

// Safari's own pinch gesture ignores touch-action on the page (style.css): the page never zooms.
document.addEventListener('gesturestart', (e) => e.preventDefault());

const hintRoot = byId('hint', HTMLElement);
showFirstHint(
  {
    root: hintRoot,
    text: child(hintRoot, '.hint-text', HTMLElement),
    dismiss: child(hintRoot, '.hint-dismiss', HTMLButtonElement),
  },
  matchMedia('(pointer: coarse)').matches || navigator.maxTouchPoints > 0,
);

// The browser knows when the network is back before our backoff does.
window.addEventListener('online', () => app.retryNow());

const rect = (): DOMRect => display.getBoundingClientRect();
window.canvasClient = {
  status: () => elements.status.dataset['state'] ?? '',
  seq: () => app.sync.board?.seq ?? null,
  size: () => {
    const board = app.sync.board;
    return board ? { width: board.width, height: board.height } : null;
  },
  scale: () => app.view?.scale ?? null,
  pixelToClient: (x, y) => {
    const p = app.view?.pixelCentre(x, y);
    return p ? { x: p.x + rect().left, y: p.y + rect().top } : null;
  },
  pixelAtClient: (x, y) => app.view?.pixelAt({ x: x - rect().left, y: y - rect().top }) ?? null,
  colourAt: (x, y) => app.shownColourAt(x, y),
  reticle: () => app.aiming.reticle,
  historySeq: () => app.past?.seq ?? null,
};

// A large canvas (or ?tiles=1) loads from tiles and region deltas (tiles/tile-sync.ts); asking
// GET /api/canvas first costs one round trip, and saves a whole-canvas PNG the view would not show.
void browserCanvasInfo().then((info) => {
  if (!info || !wantsTiles(info, location.search)) {
    pngDecoder(); // its worker loads while the WebSocket connects
    return app.start();
  }
  app.start(tileSourceOf(info));
});

/** What tile mode needs, from GET /api/canvas's answer. */
function tileSourceOf(info: CanvasInfo): TileSource {
  return {
    layout: info,
    palette: info.palette,
    seq: info.seq,
    fetchTile: browserFetchTile,
    setTimer: timer,
    // The renderer draws in an animation frame; the task after it runs once that frame is painted.
    afterPaint: (fn) => requestAnimationFrame(() => setTimeout(fn, 0)),
    devicePixelRatio: () => window.devicePixelRatio || 1,
    canvasSeq: async () => (await browserCanvasInfo())?.seq ?? null,
  };
}
