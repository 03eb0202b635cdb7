/**
 * A cap on the bytes the server holds for WebSocket clients that read slower than it sends, all
 * sockets together (`--max-buffered-total`). uWS bounds each socket's buffer (`--max-backpressure`)
 * but not their sum: in the reliability suite 1,000 clients that never read drove the server
 * to 5.3 GB RSS, each holding its 4 MiB plus a PNG. When the sum would pass the cap, the sockets
 * holding the most are dropped (no close frame: a close frame would queue behind the very bytes the
 * client does not read, and the memory must come back now); their clients see 1006 and reconnect.
 * Clients that keep up hold nothing in user space, so they are never the ones dropped.
 * (uWS.js v20.30.0 also keeps every socket's send buffer at the largest size it ever reached until the
 * socket closes: uWebSockets #1792, fixed upstream by commit 42b368e, after that release.)
 *
 * Costs: one native `getBufferedAmount` per socket per tick (about 50 ns, against a send syscall per
 * socket for the publish itself), and between ticks a counter per send; an exact count runs only when
 * that counter passes the cap.
 */
import type { WebSocket } from 'uWebSockets.js';

export interface BudgetEvents {
  /** `count` sockets holding `bytes` were dropped to stay under the cap. */
  evicted(count: number, bytes: number): void;
}

/** After dropping, stay this far under the cap so a flood does not trigger a count per send. */
const HYSTERESIS = 0.9;

export class SendBudget<T> {
  /** Upper bound of the bytes buffered now: the last exact count plus everything sent since. */
  private estimate = 0;

  constructor(
    private readonly sockets: ReadonlySet<WebSocket<T>>,
    /** The cap in bytes; 0 disables it. */
    private readonly limit: number,
    private readonly events: BudgetEvents,
  ) {}

  /**
   * Accounts for `bytes` about to be sent to `ws` outside the tick (hello, answers, resync). False
   * when `ws` is closed, e.g. dropped just now to make room: do not send (uWS throws on closed sockets).
   */
  willSend(ws: WebSocket<T>, bytes: number): boolean {
    if (this.limit > 0) {
      this.estimate += bytes;
      if (this.estimate > this.limit) this.enforce();
    }
    return this.sockets.has(ws);
  }

  /**
   * Before a tick's fan-out: counts what uWS holds for every socket and drops the largest holders
   * until the total fits. The fan-out itself adds at most a fragment per socket to that (outboxes
   * queue references to the tick's shared bytes, and hand uWS the next fragment only when it holds
   * nothing for the socket), so what is held now is what the cap is about.
   */
  beforePublish(): void {
    if (this.limit === 0) return;
    this.enforce();
  }

  private enforce(): void {
    let total = 0;
    const holders: Array<{ held: number; ws: WebSocket<T> }> = [];
    for (const ws of this.sockets) {
      const held = ws.getBufferedAmount();
      if (held === 0) continue;
      total += held;
      holders.push({ held, ws });
    }
    if (total > this.limit) {
      holders.sort((a, b) => b.held - a.held);
      const target = this.limit * HYSTERESIS;
      let count = 0;
      let freed = 0;
      for (const h of holders) {
        if (total <= target) break;
        total -= h.held;
        freed += h.held;
        count++;
        h.ws.close(); // forceful: frees the socket's buffer now (the close handler runs synchronously)
      }
      this.events.evicted(count, freed);
    }
    this.estimate = total;
  }
}
