/**
 * Closes WebSockets whose reader stopped: a socket with bytes to send (queued in its outbox or held by
 * uWS) that took none for --stall-ms. Progress is a send or a `drain` (outbox.ts updates
 * `progressAt`); a socket with nothing to send is never stalled. The close is forceful (no close
 * frame: it would queue behind the bytes the client does not read), so uWS frees the socket's
 * buffers at once. What the kernel still holds for the peer stays until the peer reads or the
 * kernel gives up on it (README "Production", the tcp_* settings that bound it).
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Conn } from './conn.ts';

/** Checks this often relative to the stall time: a stalled socket is closed within 1.25 x --stall-ms. */
const CHECKS_PER_STALL = 4;

export function watchStalls(
  sockets: ReadonlySet<WebSocket<Conn>>,
  stallMs: number,
  closed: (count: number) => void,
): () => void {
  const timer = setInterval(
    () => {
      const now = performance.now();
      let count = 0;
      for (const ws of [...sockets]) {
        const conn = ws.getUserData();
        if (conn.closed) continue;
        if (conn.outbox.idle && ws.getBufferedAmount() === 0) {
          conn.outbox.progressAt = now;
        } else if (now - conn.outbox.progressAt > stallMs) {
          count++;
          ws.close(); // the close handler runs now: conn.closed, out of `sockets` and the subscribers
        }
      }
      if (count > 0) closed(count);
    },
    Math.max(25, stallMs / CHECKS_PER_STALL),
  );
  timer.unref();
  return () => clearInterval(timer);
}
