/**
 * "N watching": once per tick interval the count is taken (this process's sockets, plus the edges'
 * on a writer, or the writer's total on an edge) and, when it changed, one `online` message goes to
 * every subscriber that asked for it (`?online=1`) through its outbox, a slice of sockets per loop
 * turn like a tick.
 */
import { encodeMessage } from '../../protocol/codec.ts';
import { MsgType } from '../../protocol/messages.ts';
import type { Subscribers } from './fanout.ts';

export class OnlineCount {
  private sent = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly subscribers: Subscribers,
    /** The count of the whole deployment as this process knows it. */
    readonly count: () => number,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.update(), intervalMs);
  }

  /** Broadcasts the count if it changed since the last broadcast. */
  update(): Promise<void> {
    const n = this.count();
    if (n === this.sent) return Promise.resolve();
    this.sent = n;
    const message = encodeMessage({ t: MsgType.ONLINE, n });
    return this.subscribers.fanOut((ws, conn) => {
      if (conn.online) conn.outbox.push(ws, message, 'other', performance.now());
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
