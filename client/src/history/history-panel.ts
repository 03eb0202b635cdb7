/**
 * The History panel: a timeline slider over seq 0..the live seq (its end follows the live board while
 * open) that shows the canvas right after that placement (GET /api/history/image, decoded to palette
 * indices like every snapshot) in place of the live board, labelled "History: seq N", with placing off;
 * and a "Download timelapse" link (an APNG of the whole history, or from the slider to now). DOM and
 * fetch only: the addresses, limits and texts are pure, in history-urls.ts; the debounce in latest-only.ts.
 */
import { child } from '../dom.ts';
import type { Board } from '../board/board.ts';
import {
  historyErrorText,
  historyImageAtUrl,
  historyImageUrl,
  historyLabel,
  localInputValue,
  parseLocalInput,
  sliderStep,
  stepTime,
  timelapseFileName,
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
  /** Shows the canvas at a past seq in place of the live board. */
  showPast(past: { seq: number; indices: Uint8Array }): void;
  /** The canvas's resizes (GET /api/canvas): a canvas from before one is smaller, and moved since. */
  resizes(): Promise<CanvasResize[]>;
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
    this.images.request({ seq, at });
    this.renderLink();
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
    this.images.request({ seq: null, at });
  }

  private setLabel(text: string): void {
    this.label.textContent = text;
    this.label.hidden = false;
  }

  private async load(point: Point, opening: number): Promise<void> {
    let seq = point.seq ?? Number(this.range.value);
    const board = this.host.board();
    if (!board) return this.fail(seq, 'The canvas has not loaded yet: try again in a moment.');
    const stale = (): boolean => opening !== this.opening;
    let res: Response;
    try {
      res = await fetch(point.seq !== null ? historyImageUrl(point.seq) : historyImageAtUrl(point.at));
    } catch {
      if (!stale()) this.fail(seq, 'The server cannot be reached: history is not available offline.');
      return;
    }
    if (stale()) return;
    if (!res.ok) {
      const r = await refusal(res);
      if (stale()) return;
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
      return;
    }
    if (point.seq === null) {
      // The seq the server found for that time: the slider and seq field follow it.
      seq = Number(res.headers.get('x-history-seq') ?? seq);
      this.range.value = String(seq);
      if (document.activeElement !== this.number) this.number.value = String(seq);
      this.renderLink();
    }
    const decoded = await tryDecodeIndexedPng(new Uint8Array(await res.arrayBuffer()));
    if (stale()) return;
    let indices = decoded ? remapToPalette(decoded, board.palette) : null;
    if (decoded && indices && (decoded.width !== board.width || decoded.height !== board.height)) {
      // From before a resize: drawn where its pixels are today (what was not canvas yet is blank).
      const shift = shiftSince(await this.host.resizes(), seq);
      if (stale()) return;
      indices = onLiveGrid(indices, decoded.width, decoded.height, board, shift);
    }
    if (!indices) return this.fail(seq, 'The server sent an image that does not fit this canvas.');
    this.host.showPast({ seq, indices });
    this.shownAt = point.at;
    if (point.at !== null && document.activeElement !== this.time) this.time.value = localInputValue(point.at);
    this.setLabel(historyLabel(seq, point.at, localTime));
    this.status.textContent = `Showing the canvas right after placement ${seq}. Placing is off until you close History.`;
    this.root.dataset['state'] = this.images.waiting ? 'loading' : 'shown';
    this.root.dataset['seq'] = String(seq);
  }

  private fail(seq: number, text: string): void {
    this.setLabel(`History: seq ${seq} not available`);
    this.status.textContent = text;
    this.root.dataset['state'] = 'error';
  }

  /** The timelapse link: the whole history, or from the slider's position, to the live seq now. */
  private renderLink(): void {
    const board = this.host.board();
    const to = Number(this.range.max);
    const from = this.fromSlider.checked ? Number(this.range.value) : 0;
    const plan = board ? timelapsePlan(board.width, board.height, from, to) : null;
    if (!plan) {
      this.link.setAttribute('aria-disabled', 'true');
      this.link.title = 'Nothing to animate yet: a timelapse needs at least two placements.';
      return;
    }
    this.link.href = timelapseUrl(plan);
    this.link.download = timelapseFileName(plan);
    this.link.setAttribute('aria-disabled', String(this.downloading));
    this.link.title = `${plan.frames} frames from seq ${plan.from} to ${plan.to}, ${plan.scale} px per pixel (APNG)`;
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
