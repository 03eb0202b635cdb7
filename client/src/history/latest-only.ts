/**
 * Runs an async job for the latest value asked for: `delayMs` after the last request (a debounce, so
 * dragging a slider asks for one image when it rests, not one per pixel moved), never two at once,
 * and a value asked for while one runs replaces any older one still waiting. Pure (timer injected).
 */
export interface LatestOnlyDeps<T> {
  delayMs: number;
  setTimer(fn: () => void, ms: number): () => void;
  /** The job; its errors are its own to handle (a rejection is only logged). */
  run(value: T): Promise<void>;
}

export class LatestOnly<T> {
  private pending: { value: T } | null = null;
  private running = false;
  private cancelTimer: (() => void) | null = null;

  constructor(private readonly d: LatestOnlyDeps<T>) {}

  /** Asks for `value`, replacing any request not started yet. */
  request(value: T): void {
    this.pending = { value };
    this.cancelTimer?.();
    this.cancelTimer = this.d.setTimer(() => {
      this.cancelTimer = null;
      this.pump();
    }, this.d.delayMs);
  }

  /** Drops the waiting request (one already running finishes, its result is the caller's to ignore). */
  cancel(): void {
    this.pending = null;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** A request is waiting (its timer, or for the running one to finish). */
  get waiting(): boolean {
    return this.pending !== null;
  }

  private pump(): void {
    if (this.running || this.cancelTimer || !this.pending) return;
    const { value } = this.pending;
    this.pending = null;
    this.running = true;
    this.d
      .run(value)
      .catch((err: unknown) => console.warn('history request failed', err))
      .finally(() => {
        this.running = false;
        this.pump();
      });
  }
}
