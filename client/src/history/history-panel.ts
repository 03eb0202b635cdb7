/**
 * The History panel: a timeline slider over seq 0..the live seq (its end follows the live board while
 * open) that shows the canvas right after that placement (GET /api/history/image, decoded to palette
 * indices like every snapshot) in place of the live board, labelled "History: seq N", with placing off;
 * and a "Download timelapse" link (an APNG of the whole history, or from the slider to now). On a
 * canvas over 4096 a side, whose past the server draws by region only, both are of the region in view,
 * asked again as the view moves. DOM and fetch only: the addresses, limits and texts are pure, in
 * history-urls.ts and history-region.ts; the debounce in latest-only.ts.
 */
import { child } from '../dom.ts';
import type { Board } from '../board/board.ts';
import {
  asksByRegion,
  covers,
  onTodayRect,
  type PastCanvas,
  pastRegion,
  type Rect,
  viewRegion,
} from './history-region.ts';
import {
  historyErrorText,
  historyImageAtUrl,
  historyImageUrl,
  historyLabel,
  localInputValue,
  parseLocalInput,
  regionTimelapsePlan,
  sliderStep,
  stepTime,
  timelapseFileName,
  type TimelapsePlan,
  timelapsePlan,
  timelapseUrl,
} from './history-urls.ts';
import { LatestOnly } from './latest-only.ts';
import { remapToPalette, tryDecodeIndexedPng } from '../board/png-indices.ts';
import { type CanvasResize, onLiveGrid, shiftSince } from '../board/resizes.ts';

/**
 * Slider rest before an image is asked for. 0: a drag previews as it goes, one image at a time (the
 * latest position asked for next, those passed over meanwhile never), rather than only once it rests.
 */
const SLIDER_DEBOUNCE_MS = 0;

/**
 * A moment of the history: a seq (slider, seq field; `at` its time when known: the live seq is now), or
 * a time alone (time field, time steps), whose seq the server finds.
 */
type Point = { seq: number; at: number | null } | { seq: null; at: number };

/**
 * The latest time asked for: a second before now, as the server refuses a time in its future and its
 * clock may be a little behind ours.
 */
const latest = (): number => Date.now() - 1000;

const localTime = (ms: number): string =>
  new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export interface HistoryHost {
  /** The live board: size, palette and seq (null before the first hello). */
  board(): Board | null;
  /** History view on (placing off) or off (back to live). */
  viewHistory(on: boolean): void;
  /** Shows the canvas at a past seq (the whole board, or a rectangle of it) in place of the live board. */
  showPast(past: PastCanvas): void;
  /**
   * The canvas's resizes (GET /api/canvas; null: no answer): a canvas from before one is smaller, and
   * moved since.
   */
  resizes(): Promise<CanvasResize[] | null>;
  /**
   * The board pixels in view, clamped to the board, and the board point at the screen's centre
   * (null: no view yet).
   */
  viewArea(): { visible: Rect; centre: { x: number; y: number } } | null;
}

async function refusal(res: Response): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const body: unknown = await res.json().catch(() => null);
  return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
}

export class HistoryPanel {
  /** Opening the panel (the page closes the template panel, drops the reticle). */
  onOpen: () => void = () => {};
  private readonly range: HTMLInputElement;
  private readonly number: HTMLInputElement;
  private readonly end: HTMLElement;
  private readonly status: HTMLElement;
  private readonly link: HTMLAnchorElement;
  private readonly fromSlider: HTMLInputElement;
  private readonly linkStatus: HTMLElement;
  private readonly images: LatestOnly<Point>;
  private readonly time: HTMLInputElement;
  /** The time of the moment shown, when known (a time was asked for, or the live canvas: now). */
  private shownAt: number | null = null;
  /** Bumped on close: answers to requests of an earlier opening are dropped. */
  private opening = 0;
  private downloading = false;
  /** The moment asked for last (a time, once the server found its seq: that seq too). */
  private lastPoint: Point | null = null;
  /** By region (a canvas over 4096 a side): the rectangle of today's board shown, and being asked for. */
  private shownRegion: { board: Board; rect: Rect } | null = null;
  private askedRegion: { board: Board; rect: Rect } | null = null;
  /** The resizes of a board, asked once per board (every region of a seq needs them). */
  private resizeList: { board: Board; list: CanvasResize[] } | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly toggle: HTMLButtonElement,
    private readonly label: HTMLElement,
    private readonly host: HistoryHost,
  ) {
    this.range = child(root, 'input[name="seq"]', HTMLInputElement);
    this.number = child(root, 'input[name="seq-number"]', HTMLInputElement);
    this.end = child(root, '.hist-end', HTMLElement);
    this.status = child(root, '.hist-status', HTMLElement);
    this.link = child(root, 'a.hist-timelapse', HTMLAnchorElement);
    this.fromSlider = child(root, 'input[name="from-slider"]', HTMLInputElement);
    this.linkStatus = child(root, '.hist-link-status', HTMLElement);
    this.images = new LatestOnly({
      delayMs: SLIDER_DEBOUNCE_MS,
      setTimer: (fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      },
      run: (point) => this.load(point, this.opening),
    });
    this.time = child(root, 'input[name="at"]', HTMLInputElement);
    child(root, 'form.hist-time', HTMLFormElement).addEventListener('submit', (e) => {
      e.preventDefault();
      const at = parseLocalInput(this.time.value);
      // A time in the future means "now" (a time just past is taken as it is).
      if (at !== null) this.chooseTimeOrNow(at, Date.now());
    });
    for (const b of root.querySelectorAll<HTMLButtonElement>('.hist-steps button')) {
      b.addEventListener('click', () => {
        // A step that reaches the last second is held at now: the live canvas, newest placement included.
        const step = Number(b.dataset['step']);
        const from = this.shownAt ?? Date.now();
        this.chooseTimeOrNow(stepTime(from, step, Number.POSITIVE_INFINITY), latest());
      });
    }
    this.range.addEventListener('keydown', (e) => {
      const step = sliderStep(e.key, e.shiftKey, Number(this.range.max));
      if (step === null) return;
      e.preventDefault(); // the browser's step is one placement
      this.choose(Number(this.range.value) + step);
    });

    toggle.addEventListener('click', () => this.setOpen(root.hidden));
    child(root, '.panel-close', HTMLButtonElement).addEventListener('click', () => this.setOpen(false));
    this.range.addEventListener('input', () => this.choose(Number(this.range.value)));
    this.number.addEventListener('change', () => {
      const seq = Math.round(Number(this.number.value));
      if (this.number.value !== '' && Number.isFinite(seq)) this.choose(seq);
    });
    child(root, '.hist-latest', HTMLButtonElement).addEventListener('click', () => this.choose(Number(this.range.max)));
    this.fromSlider.addEventListener('change', () => this.renderLink());
    this.link.addEventListener('click', (e) => {
      e.preventDefault(); // fetched here, so a refusal (429 busy) is said on the page, not saved as a file
      if (this.downloading) return;
      if (this.link.getAttribute('aria-disabled') !== 'true') return void this.download();
      this.linkStatus.dataset['kind'] = 'info';
      this.linkStatus.textContent = this.link.title;
    });
    window.addEventListener('keydown', (e) => {
      if (e.defaultPrevented || !(e.key === 'Escape' && !root.hidden)) return;
      e.preventDefault(); // this Escape closed a panel: it does not also put the colour down
      this.setOpen(false);
    });
  }

  get open(): boolean {
    return !this.root.hidden;
  }

  setOpen(open: boolean): void {
    if (open === this.open) return;
    const hadFocus = this.root.contains(document.activeElement);
    this.root.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    this.toggle.dataset['active'] = String(open);
    document.body.dataset['history'] = open ? 'on' : 'off';
    this.images.cancel();
    this.opening++;
    this.lastPoint = null;
    this.shownRegion = null;
    this.askedRegion = null;
    this.host.viewHistory(open);
    if (!open) {
      this.label.hidden = true;
      this.root.dataset['state'] = 'closed';
      if (hadFocus) this.toggle.focus({ preventScroll: true });
      return;
    }
    this.onOpen();
    const seq = this.host.board()?.seq ?? 0;
    this.range.max = String(seq);
    this.end.textContent = String(seq);
    this.choose(seq, Date.now()); // the live canvas: now
    this.range.focus({ preventScroll: true });
  }

  /** The live board reached `seq`: the slider's end follows it (the position stays where it was). */
  liveSeq(seq: number): void {
    if (!this.open || seq <= Number(this.range.max)) return;
    this.range.max = String(seq);
    this.number.max = String(seq);
    this.end.textContent = String(seq);
    this.renderLink();
  }

  /**
   * Moves the slider (and the number field) to `seq` and asks for that canvas; `at` is its time when
   * known (the live seq is now), else the time of a seq is not known to the page.
   */
  private choose(wanted: number, at: number | null = null): void {
    const seq = Math.max(0, Math.min(Number(this.range.max), wanted));
    this.range.value = String(seq);
    if (document.activeElement !== this.number) this.number.value = String(seq);
    this.number.max = this.range.max;
    this.setLabel(`History: loading seq ${seq}…`);
    this.root.dataset['state'] = 'loading';
    this.ask({ seq, at });
    this.renderLink();
  }

  private ask(point: Point): void {
    this.lastPoint = point;
    this.images.request(point);
  }

  /**
   * The view moved (pan, zoom, a new board). On a canvas over 4096 a side, the past of the new view is
   * asked for unless the region shown (or being asked for) holds it: the old picture stays until the
   * new one comes, one request at a time, the latest view next. The timelapse link follows the view.
   */
  viewMoved(): void {
    if (!this.open) return;
    this.renderLink();
    const board = this.host.board();
    const wanted = board && this.regionInView(board);
    if (!board || !wanted || !this.lastPoint || this.images.waiting) return; // one waiting reads the view when it runs
    const holds = (r: { board: Board; rect: Rect } | null): boolean => r?.board === board && covers(r.rect, wanted);
    if (holds(this.shownRegion) || holds(this.askedRegion)) return;
    this.root.dataset['state'] = 'loading';
    this.images.request(this.lastPoint);
  }

  /** The region of today's board to show the past of (a canvas over 4096 a side), or null. */
  private regionInView(board: Board): Rect | null {
    const area = asksByRegion(board) ? this.host.viewArea() : null;
    return area && viewRegion(area.visible, board, area.centre);
  }

  /**
   * The resizes of `board` that it already has (a resize the page has not followed yet would move the
   * past by more than the board did); asked once per board.
   */
  private async resizesOf(board: Board): Promise<CanvasResize[]> {
    let list = this.resizeList?.board === board ? this.resizeList.list : null;
    if (!list) {
      const got = await this.host.resizes();
      if (got) this.resizeList = { board, list: got };
      list = got ?? [];
    }
    return list.filter((r) => r.seq <= board.seq);
  }

  /** Asks for the canvas as it was at Unix ms `at` (the server finds the seq). */
  /**
   * A time, or the live canvas (by seq, newest placement included) for a time past `now`: asking the
   * server for "now" as a time would show the canvas of a moment ago.
   */
  private chooseTimeOrNow(at: number, now: number): void {
    if (at > now) this.choose(Number(this.range.max), Date.now());
    else this.chooseTime(at);
  }

  private chooseTime(at: number): void {
    if (document.activeElement !== this.time) this.time.value = localInputValue(at);
    this.setLabel(`History: loading ${localTime(at)}…`);
    this.root.dataset['state'] = 'loading';
    this.ask({ seq: null, at });
  }

  private setLabel(text: string): void {
    this.label.textContent = text;
    this.label.hidden = false;
  }

  private async load(point: Point, opening: number): Promise<void> {
    let seq = point.seq ?? Number(this.range.value);
    const board = this.host.board();
    if (!board) return this.fail(seq, 'The canvas has not loaded yet: try again in a moment.');
    if (asksByRegion(board)) return this.loadRegion(point, board, opening);
    const stale = (): boolean => opening !== this.opening;
    const res = await this.fetchImage(
      point,
      seq,
      opening,
      point.seq !== null ? historyImageUrl(point.seq) : historyImageAtUrl(point.at),
    );
    if (!res || stale()) return;
    if (point.seq === null) seq = this.followFoundSeq(res, seq);
    const decoded = await tryDecodeIndexedPng(new Uint8Array(await res.arrayBuffer()));
    if (stale()) return;
    let indices = decoded ? remapToPalette(decoded, board.palette) : null;
    if (decoded && indices && (decoded.width !== board.width || decoded.height !== board.height)) {
      // From before a resize: drawn where its pixels are today (what was not canvas yet is blank).
      const shift = shiftSince((await this.host.resizes()) ?? [], seq);
      if (stale()) return;
      indices = onLiveGrid(indices, decoded.width, decoded.height, board, shift);
    }
    if (!indices) return this.fail(seq, 'The server sent an image that does not fit this canvas.');
    this.host.showPast({ seq, x: 0, y: 0, width: board.width, height: board.height, indices });
    this.shown(seq, point.at);
  }

  /**
   * A canvas over 4096 a side: the past of the region in view (history-region.ts), drawn at its place
   * on today's board. A time's seq is not known before the answer, so its region is asked as if the
   * canvas had not moved since (true unless it grew on the left or top after that moment), and asked
   * again by the seq found when it had.
   */
  private async loadRegion(point: Point, board: Board, opening: number): Promise<void> {
    let seq = point.seq ?? Number(this.range.value);
    const stale = (): boolean => opening !== this.opening || this.host.board() !== board;
    const today = this.regionInView(board);
    if (!today) return; // nothing of the board in view: asked again when the view moves onto it
    let shift = { left: 0, top: 0 };
    if (point.seq !== null) {
      shift = shiftSince(await this.resizesOf(board), point.seq);
      if (stale()) return;
    }
    const asked = pastRegion(today, shift);
    let indices: Uint8Array | null = null;
    if (asked) {
      this.askedRegion = { board, rect: today };
      try {
        const url = point.seq !== null ? historyImageUrl(point.seq, asked) : historyImageAtUrl(point.at, asked);
        const res = await this.fetchImage(point, seq, opening, url);
        if (!res || stale()) return;
        if (point.seq === null) {
          seq = this.followFoundSeq(res, seq);
          const moved = shiftSince(await this.resizesOf(board), seq);
          if (stale()) return;
          if (moved.left !== 0 || moved.top !== 0) return this.ask({ seq, at: point.at });
        }
        const decoded = await tryDecodeIndexedPng(new Uint8Array(await res.arrayBuffer()));
        if (stale()) return;
        if (decoded?.width === asked.w && decoded.height === asked.h) indices = remapToPalette(decoded, board.palette);
        if (!indices) return this.fail(seq, 'The server sent an image that does not fit this canvas.');
      } finally {
        this.askedRegion = null;
      }
    }
    // No region asked: none of the view was canvas yet at that seq (it grew there since): all blank.
    const rect = onTodayRect(indices, asked, today, shift);
    this.host.showPast({ seq, x: today.x, y: today.y, width: today.w, height: today.h, indices: rect });
    this.shownRegion = { board, rect: today };
    this.lastPoint = { seq, at: point.at };
    this.shown(seq, point.at, true);
  }

  /**
   * GET of a past canvas; null when it failed (said on the page; a busy server is asked again once
   * its Retry-After passed, unless the slider moved on).
   */
  private async fetchImage(point: Point, seq: number, opening: number, url: string): Promise<Response | null> {
    const stale = (): boolean => opening !== this.opening;
    let res: Response;
    try {
      res = await fetch(url);
    } catch {
      if (!stale()) this.fail(seq, 'The server cannot be reached: history is not available offline.');
      return null;
    }
    if (stale() || res.ok) return res;
    const r = await refusal(res);
    if (stale()) return null;
    this.fail(seq, historyErrorText(r, 'image'));
    const wait = Number(r.retryAfter);
    // An image build queue that is full (429 busy) clears in seconds: ask again unless moved on.
    if (res.status === 429)
      setTimeout(
        () => {
          if (!stale() && !this.images.waiting && this.range.value === String(seq)) this.images.request(point);
        },
        wait * 1000 || 5000,
      );
    return null;
  }

  /** The seq the server found for a time (`X-History-Seq`): the slider and seq field follow it. */
  private followFoundSeq(res: Response, seq: number): number {
    const found = Number(res.headers.get('x-history-seq') ?? seq);
    this.range.value = String(found);
    if (document.activeElement !== this.number) this.number.value = String(found);
    this.renderLink();
    return found;
  }

  /**
   * A past canvas is on screen (`part`: the region in view only): the label, the status line and
   * the time field say which.
   */
  private shown(seq: number, at: number | null, part = false): void {
    this.shownAt = at;
    if (at !== null && document.activeElement !== this.time) this.time.value = localInputValue(at);
    this.setLabel(historyLabel(seq, at, localTime));
    const what = part ? 'the part of the canvas in view (move the view to see more)' : 'the canvas';
    this.status.textContent = `Showing ${what} right after placement ${seq}. Placing is off until you close History.`;
    this.root.dataset['state'] = this.images.waiting ? 'loading' : 'shown';
    this.root.dataset['seq'] = String(seq);
  }

  private fail(seq: number, text: string): void {
    this.setLabel(`History: seq ${seq} not available`);
    this.status.textContent = text;
    this.root.dataset['state'] = 'error';
  }

  /**
   * The timelapse link: the whole history, or from the slider's position, to the live seq now; on a
   * canvas over 4096 a side, of the region in view (today's coordinates: those of the canvas at `to`).
   */
  private renderLink(): void {
    const board = this.host.board();
    const to = Number(this.range.max);
    const from = this.fromSlider.checked ? Number(this.range.value) : 0;
    const byRegion = board !== null && asksByRegion(board);
    const region = board && byRegion ? this.regionInView(board) : null;
    let plan: TimelapsePlan | null = null;
    if (region) plan = regionTimelapsePlan(region, from, to);
    else if (board && !byRegion) plan = timelapsePlan(board.width, board.height, from, to);
    if (!plan) {
      this.link.setAttribute('aria-disabled', 'true');
      this.link.title =
        byRegion && !region
          ? 'Move the view onto the canvas: the timelapse is of the part in view.'
          : 'Nothing to animate yet: a timelapse needs at least two placements.';
      return;
    }
    this.link.href = timelapseUrl(plan);
    this.link.download = timelapseFileName(plan);
    this.link.setAttribute('aria-disabled', String(this.downloading));
    const area = plan.region ? `, the ${plan.region.w} x ${plan.region.h} px in view` : '';
    this.link.title = `${plan.frames} frames from seq ${plan.from} to ${plan.to}${area}, ${plan.scale} px per pixel (APNG)`;
  }

  private async download(): Promise<void> {
    const url = this.link.href;
    const name = this.link.download;
    this.downloading = true;
    this.link.setAttribute('aria-disabled', 'true');
    this.linkStatus.dataset['kind'] = 'info';
    this.linkStatus.textContent = 'Building the timelapse… (a long history takes a few seconds)';
    try {
      const res = await fetch(url);
      if (!res.ok) {
        this.linkStatus.dataset['kind'] = 'error';
        this.linkStatus.textContent = historyErrorText(await refusal(res), 'timelapse');
        return;
      }
      const blob = await res.blob();
      const object = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = object;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(object), 60_000);
      this.linkStatus.textContent = `Saved ${name} (${Math.ceil(blob.size / 1024)} KiB).`;
    } catch {
      this.linkStatus.dataset['kind'] = 'error';
      this.linkStatus.textContent = 'The server cannot be reached: try again once connected.';
    } finally {
      this.downloading = false;
      this.renderLink();
    }
  }
}
