/**
 * The page's position link kept in step with the app: read once per new board (where to look, which
 * colour), written back as the view moves, at most every LINK_MS through history.replaceState (no
 * history entries). The parsing and formatting are pure, in position-link.ts.
 */
import type { Board } from '../board/board.ts';
import { clampLink, formatLink, type PositionLink, parseLink } from './position-link.ts';
import { MAX_SCALE, type View } from '../view/view.ts';

/** The hash follows the view at most this often (browsers throttle replaceState too). */
const LINK_MS = 250;

export interface LinkStore {
  /** The page's hash, with or without `#`. */
  read(): string;
  write(hash: string): void;
}

function limitsOf(board: Board) {
  return {
    width: board.width,
    height: board.height,
    paletteSize: board.palette.length,
    minScale: 0,
    maxScale: MAX_SCALE,
  };
}

export class LinkSync {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly store: LinkStore) {}

  /** The link as it applies to `board`: coordinates, scale and colour clamped to it. */
  fittedTo(board: Board): PositionLink {
    return clampLink(parseLink(this.store.read()), limitsOf(board));
  }

  /** Points a new view where the link says (centre and scale, or only scale about the middle). */
  apply(view: View, link: PositionLink, viewport: { w: number; h: number }): void {
    if (link.x !== null && link.y !== null) view.centreOn(link.x, link.y, link.scale ?? undefined);
    else if (link.scale !== null) view.zoomAt({ x: viewport.w / 2, y: viewport.h / 2 }, link.scale / view.scale);
  }

  /** Writes the current view and colour soon (a burst of moves ends with one final write). */
  schedule(current: () => { view: View | null; board: Board | null; colour: number | null }): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const { view, board, colour } = current();
      if (!view || !board) return;
      const centre = view.centrePixel();
      const link = clampLink({ x: centre.x, y: centre.y, scale: view.scale, colour }, limitsOf(board));
      const hash = formatLink(this.store.read(), link);
      if (hash !== this.store.read().replace(/^#/, '')) this.store.write(hash);
    }, LINK_MS);
  }
}
