/**
 * Long moderation work (a look over a long window, an area rollback's plan and commit) runs on the
 * event loop of the process that owns the canvas, between placements: in steps, yielding to the loop
 * (setImmediate) whenever a step ran past its budget, so no turn blocks placements and ticks for long.
 */

/** Time one turn may take before yielding; the budget keeps event-loop delay p99 under 5 ms. */
export const SLICE_BUDGET_MS = 3;

/**
 * Calls `step` until it returns true, yielding whenever SLICE_BUDGET_MS passed. Each step must be
 * short (a bounded query, a few dozen pixels) and may throw, which rejects the promise.
 */
export function inSlices(step: () => boolean, budgetMs = SLICE_BUDGET_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const turn = () => {
      try {
        const until = performance.now() + budgetMs;
        do {
          if (step()) return resolve();
        } while (performance.now() < until);
        setImmediate(turn);
      } catch (err) {
        reject(err);
      }
    };
    turn();
  });
}
