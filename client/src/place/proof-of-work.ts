/**
 * Proof of work for placing, the DOM-free part: when the server says the next placement needs a
 * solved challenge (hello's `challenge`, an ack's, or a `challenge_required` / `challenge_invalid` refusal), the
 * page solves it in the background (the ALTCHA widget's workers, pow-widget.ts) and the solution rides
 * on the next placement, once. One solve at a time; a solution is single use on the server, so it is
 * handed out once and forgotten.
 */
import type { PowChallenge } from '../../../protocol/messages.ts';

export interface ProofOfWorkDeps {
  /** `GET /api/challenge` as this page's identity; null when it could not be fetched. */
  fetchChallenge(): Promise<PowChallenge | null>;
  /** Solves with the widget; null when it failed. */
  solve(challenge: PowChallenge): Promise<string | null>;
  /** A solve started (true) or ended (false): the page says it is working. */
  working(on: boolean): void;
}

export class ProofOfWork {
  private ready: string | null = null;
  private solving: Promise<string | null> | null = null;

  constructor(private readonly d: ProofOfWorkDeps) {}

  /**
   * Solves ahead of the player's click: `challenge` (an ack carried it), or one fetched (hello said a
   * challenge is due). Does nothing if a solution is ready (unused, so still good) or one is running.
   */
  prepare(challenge?: PowChallenge): void {
    if (this.ready !== null || this.solving) return;
    void this.run(challenge ? async () => challenge : () => this.d.fetchChallenge()).then((pow) => {
      if (pow !== null) this.ready = pow;
    });
  }

  /**
   * The solution for `challenge` (a refusal carried it), for the placement that was refused. A solve
   * already running for another challenge is waited for first: its result is kept for later.
   */
  async solveFor(challenge: PowChallenge): Promise<string | null> {
    if (this.solving) {
      const earlier = await this.solving;
      if (earlier !== null) this.ready = earlier;
    }
    return this.run(async () => challenge);
  }

  /** The ready solution, once: the server accepts each solution one time only. */
  take(): string | undefined {
    const pow = this.ready;
    this.ready = null;
    return pow ?? undefined;
  }

  /** A solve is running (the status says "checking"). */
  get busy(): boolean {
    return this.solving !== null;
  }

  private run(challenge: () => Promise<PowChallenge | null>): Promise<string | null> {
    this.d.working(true);
    const solving = (async () => {
      try {
        const c = await challenge();
        return c === null ? null : await this.d.solve(c);
      } catch {
        return null;
      } finally {
        this.solving = null;
        this.d.working(false);
      }
    })();
    this.solving = solving;
    return solving;
  }
}
