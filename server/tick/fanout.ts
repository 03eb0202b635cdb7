/**
 * Who receives each stream, and the fan-out of one tick to them through each socket's outbox
 * (ws/outbox.ts). uWS's `app.publish` cannot be used: it hands every subscriber the whole 100+ KB
 * PNG as one frame (see outbox.ts for why that is unsafe with uWS.js v20.30.0), and it would slip
 * a frame into a socket's fragmented message in flight.
 *
 * Sockets are visited SLICE at a time, one slice per turn of the event loop, so placements, acks
 * and HTTP keep being served during the fan-out: one `app.publish` to 1,000 PNG subscribers blocked
 * the loop for about 30-37 ms (perf/RESULTS.md), against a 5 ms budget.
 */
import type { WebSocket } from 'uWebSockets.js';
import { Stream } from '../../protocol/messages.ts';
import type { Conn } from '../ws/conn.ts';

/**
 * Sockets per loop turn. A PNG subscriber whose kernel buffer has room takes its whole PNG now, one
 * send per 15 KiB fragment (about 6 for a 1000 x 1000 canvas): 256 sockets a turn blocked the loop
 * 27-34 ms per tick with 1,000 PNG subscribers (perf/RESULTS.md); 32 keeps a turn to a few ms.
 */
export const SLICE = 32;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Subscribers {
  private readonly byStream: Record<Stream, Set<WebSocket<Conn>>> = {
    [Stream.PNG]: new Set(),
    [Stream.DELTA]: new Set(),
  };

  add(ws: WebSocket<Conn>, stream: Stream): void {
    this.byStream[stream].add(ws);
  }

  remove(ws: WebSocket<Conn>): void {
    this.byStream[Stream.PNG].delete(ws);
    this.byStream[Stream.DELTA].delete(ws);
  }

  count(stream: Stream): number {
    return this.byStream[stream].size;
  }

  /**
   * Calls `deliver` for every subscriber of both streams that is still open, a slice per loop turn.
   * Resolves once every subscriber had its turn.
   */
  async fanOut(deliver: (ws: WebSocket<Conn>, conn: Conn) => void): Promise<void> {
    const all = [...this.byStream[Stream.PNG], ...this.byStream[Stream.DELTA]];
    for (let start = 0; start < all.length; start += SLICE) {
      if (start > 0) await nextTurn();
      for (const ws of all.slice(start, start + SLICE)) {
        const conn = ws.getUserData();
        if (!conn.closed) deliver(ws, conn);
      }
    }
  }
}
