/**
 * Long moderation work (a look over a long window, an area rollback's plan and commit) runs on the
 * event loop of the process that owns the canvas, between placements: in steps, yielding to the loop
 * (setImmediate) whenever a step ran past its budget, so no turn blocks placements and ticks for long.
 */

/**
 * Time one turn may take before yielding (a step that starts within it may overrun it): with 3 ms the
 * turns of a look or a rollback measured p99 6-7 ms of CPU, with 2 ms the event-loop delay during a
 * rollback p99 6.7 ms, with 1 ms 5.2-5.6 ms (perf/moderation.ts; the goal is 5). A look costs the same
 * CPU either way (p50 54 ms for 500 x 500 over an hour).
 */
export const SLICE_BUDGET_MS = 1;

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
