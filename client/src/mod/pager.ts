/**
 * Paging through placements newest first with the server's cursor: page 1 has no cursor, each answer
 * gives the cursor of the next (older) page. Going back re-asks an earlier cursor, so the stack of
 * cursors is kept. Pure, unit tested.
 */
export class CursorPager {
  /** Cursor of each page shown so far; the last is the current page's. */
  private cursors: Array<number | null> = [null];
  private nextCursor: number | null = null;

  /** Back to page 1 (a new rectangle or window). */
  reset(): void {
    this.cursors = [null];
    this.nextCursor = null;
  }

  /** The cursor to ask the current page with. */
  get current(): number | null {
    return this.cursors[this.cursors.length - 1] ?? null;
  }

  get page(): number {
    return this.cursors.length;
  }

  get hasNext(): boolean {
    return this.nextCursor !== null;
  }

  get hasPrevious(): boolean {
    return this.cursors.length > 1;
  }

  /** The current page's answer arrived with this `next`. */
  answered(next: number | null): void {
    this.nextCursor = next;
  }

  /** Moves to the next page; false at the end. */
  forward(): boolean {
    if (this.nextCursor === null) return false;
    this.cursors.push(this.nextCursor);
    this.nextCursor = null;
    return true;
  }

  back(): boolean {
    if (this.cursors.length <= 1) return false;
    this.cursors.pop();
    this.nextCursor = null;
    return true;
  }
}
