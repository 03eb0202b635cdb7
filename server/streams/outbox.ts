/**
 * Everything the server sends on one WebSocket goes through its outbox, in order. Why, for uWS.js
 * v20.30.0 (the build that installs here):
 * - a frame of 16 KiB or more whose header the kernel takes only partly loses its payload, corrupting
 *   the stream (uWebSockets #1662, fixed upstream later);
 * - a socket keeps the largest send buffer it ever needed until it closes (uWebSockets #1792, fixed
 *   upstream by commit 42b368e): every subscriber handed a 110-165 KB snapshot held that much for
 *   good, 1.7 GB for 10,000 delta subscribers.
 * So no frame handed to uWS is over FRAGMENT_BYTES: a larger message goes out as WebSocket fragments
 * (`sendFirstFragment` / `sendFragment` / `sendLastFragment`; the client sees one ordinary message),
 * the next fragment only once uWS holds nothing for the socket (the kernel took the last one), else
 * from the `drain` handler. Nothing else is sent while a fragmented message is in flight: it queues.
 * The queue holds references to the tick's shared message bytes, not copies.
 *
 * Stream messages can be superseded: a newer `png` replaces every stream message that has not
 * started (it is a complete canvas), and a `delta` that would take the queued stream bytes over the
 * limit is replaced by the current `png`, so a slow reader holds at most one tick's worth.
 */

/** The largest frame handed to uWS: below the 16 KiB at which #1662 strikes. */
export const FRAGMENT_BYTES = 15 * 1024;
/**
 * Fragments for sockets that get large messages only now and then (delta subscribers: the snapshot
 * on connect, a resync): uWS keeps the largest buffer a socket ever held (#1792), and that is at most
 * the part of one fragment the kernel did not take, so smaller fragments mean less memory held by
 * every idle socket, for more sends on the rare large message.
 */
export const SMALL_FRAGMENT_BYTES = 4 * 1024;

/**
 * uWS's cork buffer (16 KiB, LoopData::CORK_BUFFER_SIZE). Inside a uWS callback (open, message,
 * drain) the socket is corked: sends are copied into that buffer, and the first frame that does not
 * fit makes uWS move the buffer's contents and the frame into the socket's own send buffer, which
 * then keeps its size until the socket closes (#1792 again). `getBufferedAmount` does not count the
 * cork buffer, so an outbox pumping a snapshot from `open` spilled on every socket: ~16.5 KiB kept per
 * delta subscriber, 10,000 of them at 326 MB RSS. Outside callbacks every send corks into the empty
 * buffer and is written at once, keeping nothing unless the kernel refuses part of it. So inside a
 * callback the outboxes send only what fits the cork buffer, and continue on the next loop turn
 * (10,000 delta subscribers: 310 -> 145 MiB peak RSS on the same probe; perf/RESULTS.md).
 */
const CORK_BUFFER_BYTES = 16 * 1024;
/** Kept free for bytes the outbox does not see (the 101 response before `open`, pongs). */
const CORK_MARGIN_BYTES = 1024;
/** The largest header of a server frame (no mask, 64-bit length). */
const FRAME_HEADER_BYTES = 10;
/** Room left in the cork buffer of the running uWS callback; unbounded outside one. */
let corkRoom = Number.POSITIVE_INFINITY;

/** Runs the body of a uWS WebSocket callback: what the outboxes send meanwhile stays within the cork buffer. */
export function inCorkedCallback<T>(body: () => T): T {
  const outer = corkRoom;
  corkRoom = CORK_BUFFER_BYTES - CORK_MARGIN_BYTES;
  try {
    return body();
  } finally {
    corkRoom = outer;
  }
}

/** Outboxes that stopped for the cork buffer, pumped again on the next loop turn (outside any callback). */
const resumeNextTurn = new Map<Outbox, FrameSink>();

function resumeStopped(): void {
  const now = performance.now();
  const due = [...resumeNextTurn];
  resumeNextTurn.clear();
  for (const [box, sink] of due) box.pump(sink, now);
}

/** `other` (hello, answers, catch-up) is never dropped; stream messages may be superseded. */
export type OutKind = 'png' | 'delta' | 'other';

/** The part of uWS's WebSocket the outbox uses (so tests can see exactly what it hands uWS). */
export interface FrameSink {
  send(message: Uint8Array, isBinary: boolean): unknown;
  sendFirstFragment(message: Uint8Array, isBinary: boolean): unknown;
  sendFragment(message: Uint8Array): unknown;
  sendLastFragment(message: Uint8Array): unknown;
  getBufferedAmount(): number;
}

interface Item {
  bytes: Uint8Array;
  kind: OutKind;
}

export class Outbox {
  private readonly queue: Item[] = [];
  /** Bytes of queue[0] handed to uWS so far (0: not started). */
  private offset = 0;
  /** Bytes of stream messages queued and not started: what the limit bounds. */
  private streamBytes = 0;
  /** When this socket last took bytes (a send, or a drain). */
  progressAt: number;
  /** Frame size for messages over it (FRAGMENT_BYTES, or SMALL_FRAGMENT_BYTES for delta subscribers). */
  fragmentBytes: number;
  /** The socket closed: nothing is sent again (uWS throws on a closed socket). */
  private closed = false;

  constructor(
    /** Most bytes of not-started stream messages a socket may queue (--max-backpressure). */
    private readonly limit: number,
    now: number,
    fragmentBytes = FRAGMENT_BYTES,
  ) {
    this.progressAt = now;
    this.fragmentBytes = fragmentBytes;
  }

  /** Nothing queued: everything was handed to uWS. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Bytes queued and not yet handed to uWS. */
  get queuedBytes(): number {
    let n = -this.offset;
    for (const item of this.queue) n += item.bytes.length;
    return n;
  }

  /**
   * Queues `bytes` and sends what the socket takes now. A `png` supersedes the stream messages not
   * started; a `delta` over the limit is replaced by `fallback` (the current `png`) when given.
   */
  push(sink: FrameSink, bytes: Uint8Array, kind: OutKind, now: number, fallback?: Uint8Array): void {
    if (kind === 'png') this.dropStreamNotStarted();
    else if (kind === 'delta' && this.streamBytes + bytes.length > this.limit) {
      this.dropStreamNotStarted();
      if (fallback) this.push(sink, fallback, 'png', now);
      return;
    }
    this.queue.push({ bytes, kind });
    if (kind !== 'other') this.streamBytes += bytes.length;
    this.pump(sink, now);
  }

  /** The socket closed: drop what is queued and never send again. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.offset = 0;
    this.streamBytes = 0;
    resumeNextTurn.delete(this);
  }

  /** Hands uWS the next frames while it holds nothing for this socket (call from `drain` too). */
  pump(sink: FrameSink, now: number): void {
    for (;;) {
      const head = this.queue[0];
      if (this.closed || !head || sink.getBufferedAmount() > 0) return;
      const { bytes } = head;
      const whole = this.offset === 0 && bytes.length <= FRAGMENT_BYTES;
      const frame =
        FRAME_HEADER_BYTES + (whole ? bytes.length : Math.min(this.fragmentBytes, bytes.length - this.offset));
      if (frame > corkRoom) {
        if (resumeNextTurn.size === 0) setImmediate(resumeStopped);
        resumeNextTurn.set(this, sink);
        return;
      }
      corkRoom -= frame;
      if (this.offset === 0 && head.kind !== 'other') this.streamBytes -= bytes.length;
      // A message that fits one frame goes whole: most deltas, answers, hello (one send each).
      if (whole) {
        sink.send(bytes, true);
        this.queue.shift();
      } else {
        const end = Math.min(this.offset + this.fragmentBytes, bytes.length);
        const chunk = bytes.subarray(this.offset, end);
        if (this.offset === 0) sink.sendFirstFragment(chunk, true);
        else if (end === bytes.length) sink.sendLastFragment(chunk);
        else sink.sendFragment(chunk);
        this.offset = end;
        if (end === bytes.length) {
          this.queue.shift();
          this.offset = 0;
        }
      }
      this.progressAt = now;
    }
  }

  /** Drops every queued stream message that has not started (the one in flight must finish). */
  private dropStreamNotStarted(): void {
    const keep = this.queue.filter((item, i) => item.kind === 'other' || (i === 0 && this.offset > 0));
    this.queue.length = 0;
    this.queue.push(...keep);
    this.streamBytes = 0;
  }
}
