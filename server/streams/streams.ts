/**
 * The fan-out, in one place: which sockets are open and what each receives, the recent deltas kept
 * for resuming clients, the cap on bytes held for slow readers, the "N watching" count, and the rule
 * that one fan-out runs at a time. Every byte the server sends on a WebSocket goes through `send` or
 * `publish` here, into the socket's outbox (outbox.ts: fragments under 16 KiB, order, superseding).
 *
 * One `Streams` serves one canvas and knows nothing of uWS routes, placements or Redis: the WebSocket
 * handlers (ws/handlers.ts) open, greet and close sockets through it; the writer's ticker and the
 * edge's bus hand it ticks. uWS's own `app.publish` is not used: it hands every subscriber the whole
 * 100+ KB PNG as one frame (unsafe with uWS.js v20.30.0, see outbox.ts), and it would slip a frame
 * into a socket's fragmented message in flight.
 */
import type { Registry } from 'prom-client';
import type { WebSocket } from 'uWebSockets.js';
import { encodeMessage } from '../../protocol/codec.ts';
import { ErrorCode, type HelloMsg, MsgType, Stream, type TileRegion } from '../../protocol/messages.ts';
import type { Logger } from '../ops/log.ts';
import type { Conn } from './conn.ts';
import { DeltaLog } from './delta-log.ts';
import type { Frame, TickOutput } from './frame.ts';
import { FRAGMENT_BYTES, inCorkedCallback, Outbox, type OutKind, SMALL_FRAGMENT_BYTES } from './outbox.ts';
import type { ProgressBlock } from '../projects/progress-block.ts';
import { RegionTick, tilesMessage } from './region-tick.ts';
import { SendBudget } from './send-budget.ts';
import { watchStalls } from './stall-watch.ts';
import { StreamMetrics } from './stream-metrics.ts';
import { WatchedProgress } from './watched-progress.ts';

export type { Conn };

/**
 * Sockets per loop turn of a fan-out, so placements, acks and HTTP keep being served meanwhile. A PNG
 * subscriber whose kernel buffer has room takes its whole PNG at once, one send per 15 KiB fragment
 * (about 7 for a 1000 x 1000 canvas): 256 sockets a turn blocked the loop 27-34 ms per tick with 1,000
 * PNG subscribers, and one `app.publish` to all of them 30-37 ms (perf/RESULTS.md), against a 5 ms
 * budget; 32 keeps a turn to a few ms.
 */
export const SLICE = 32;

/** The delta log keeps at most this many bytes of messages, so a burst of huge ticks cannot grow memory. */
const DELTA_LOG_BYTES = 16 << 20;

export interface StreamsOptions {
  /** Bytes of stream messages a socket may queue before its deltas give way to the PNG (--max-backpressure). */
  maxBackpressure: number;
  /** Bytes held for slow readers, all sockets together (--max-buffered-total; 0: no cap). */
  maxBufferedTotal: number;
  /** A socket with bytes to send that takes none for this long is closed (--stall-ms). */
  stallMs: number;
  /** Recent deltas kept for clients resuming with `since` (--delta-ring). */
  deltaRing: number;
  /** How often the "N watching" count is taken. */
  onlineIntervalMs: number;
  /** Watchers of the whole deployment as this process knows it; default: this process's sockets. */
  online?: () => number;
  registry: Registry;
  log: Logger;
}

/**
 * What a socket without a region gets on a canvas over 4096 a side (no whole-canvas PNG or deltas):
 * one error naming the tiles, then nothing but answers until it subscribes to a region.
 */
const USE_TILES = encodeMessage({
  t: MsgType.ERROR,
  code: ErrorCode.USE_TILES,
  message:
    'this canvas is over 4096 pixels a side: no whole-canvas png or delta stream; load GET /tiles/{level}/{tx}/{ty}.png and subscribe to a region (tx, ty, tw, th)',
});

/** What `hello` says that the streams do not know: the canvas and the client's identity. */
export type Greeting = Omit<HelloMsg, 't' | 'seq' | 'stream' | 'online' | 'token'>;

/** Who a new socket is and what it asked for (read from the upgrade request). */
export interface Arrival {
  identityId: string;
  addressKey: string;
  account?: boolean;
  bot?: string;
  freshToken: string | undefined;
  stream: Stream;
  since: number | undefined;
  online: boolean;
  resize: boolean;
}

/** PNG subscribers get a large message every tick; delta subscribers rarely (outbox.ts). */
function fragmentFor(stream: Stream): number {
  return stream === Stream.DELTA ? SMALL_FRAGMENT_BYTES : FRAGMENT_BYTES;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A fan-out waiting for the one in flight: the newest tick, its projects' progress, and whoever awaits it. */
interface Waiting {
  out: TickOutput;
  /** The progress of every tick it replaced and its own, oldest first. */
  progress: ProgressBlock[];
  done: Array<() => void>;
}

export class Streams {
  private readonly sockets = new Set<WebSocket<Conn>>();
  private readonly subscribers: Record<Stream, Set<WebSocket<Conn>>> = {
    [Stream.PNG]: new Set(),
    [Stream.DELTA]: new Set(),
  };
  private readonly deltaLog: DeltaLog;
  private readonly budget: SendBudget<Conn>;
  private readonly metrics: StreamMetrics;
  private current: Frame | undefined;
  private nextId = 1;
  /** A fan-out is in flight; `waiting` and `onlineDue` run after it, in that order. */
  private running = false;
  private waiting: Waiting | undefined;
  private onlineDue = false;
  private onlineSent = -1;
  private onlineTimer: NodeJS.Timeout | undefined;
  /** Delta subscribers of a region: while there are none, a tick is not split by tile. */
  private regionSubscribers = 0;
  private stopStallWatch: (() => void) | undefined;

  constructor(private readonly opts: StreamsOptions) {
    this.deltaLog = new DeltaLog(opts.deltaRing, DELTA_LOG_BYTES);
    const { sockets, subscribers } = this;
    this.metrics = new StreamMetrics(opts.registry, {
      connections: () => sockets.size,
      subscribers: (stream) => subscribers[stream].size,
      bufferedBytes: () => {
        let n = 0;
        for (const ws of sockets) n += ws.getBufferedAmount() + ws.getUserData().outbox.queuedBytes;
        return n;
      },
    });
    this.budget = new SendBudget(sockets, opts.maxBufferedTotal, {
      evicted: (count, bytes) => {
        this.metrics.evicted.inc(count);
        opts.log.warn(
          { count, bytes, cap: opts.maxBufferedTotal },
          'dropped slow WebSocket readers: buffered bytes over --max-buffered-total',
        );
      },
    });
  }

  /** The latest frame: what `/image` serves and what a new socket is sent first. Set by the first `publish`. */
  get frame(): Frame {
    if (!this.current) throw new Error('no frame published yet');
    return this.current;
  }

  /** Open sockets in this process. */
  get size(): number {
    return this.sockets.size;
  }

  /** Watchers of the whole deployment as this process knows it. */
  online(): number {
    return this.opts.online ? this.opts.online() : this.sockets.size;
  }

  /** The user data of a socket about to be upgraded. */
  conn(arrival: Arrival): Conn {
    return {
      id: this.nextId++,
      ...arrival,
      closed: false,
      region: undefined,
      project: 0,
      outbox: new Outbox(this.opts.maxBackpressure, performance.now(), fragmentFor(arrival.stream)),
    };
  }

  /** A socket opened: counted (and closed at shutdown) from now on; it receives ticks once greeted. */
  open(ws: WebSocket<Conn>): void {
    this.sockets.add(ws);
  }

  /** A socket closed (uWS `close`): nothing is sent to it again. */
  closed(ws: WebSocket<Conn>): void {
    const conn = ws.getUserData();
    conn.closed = true;
    conn.outbox.close();
    this.sockets.delete(ws);
    this.unsubscribe(ws);
  }

  /**
   * Sends one message outside the tick (hello, answers, catch-up), counted against
   * --max-buffered-total first. Nothing happens when the socket is closed, or was dropped just now to
   * make room (uWS throws on closed sockets).
   */
  send(ws: WebSocket<Conn>, message: Uint8Array, kind: OutKind = 'other', fallback?: Uint8Array): void {
    const conn = ws.getUserData();
    if (conn.closed || !this.budget.willSend(ws, message.length)) return;
    conn.outbox.push(ws, message, kind, performance.now(), fallback);
  }

  /** hello, then the state of the socket's stream (from its `since` when it gave one), then the ticks. */
  greet(ws: WebSocket<Conn>, greeting: Greeting): void {
    const conn = ws.getUserData();
    const hello: HelloMsg = {
      t: MsgType.HELLO,
      ...greeting,
      seq: this.frame.seq,
      stream: conn.stream,
      online: this.online(),
    };
    if (conn.freshToken !== undefined) hello.token = conn.freshToken;
    this.send(ws, encodeMessage(hello));
    if (!this.frame.image) return this.send(ws, USE_TILES);
    this.sendCurrent(ws, conn.stream, conn.since);
    conn.since = undefined;
    this.subscribe(ws);
  }

  /**
   * Switches a socket to `stream` (the `subscribe` message), or to a region's deltas, and brings it
   * up to date there: a region subscriber is told to load its tiles (`tiles`), not sent a snapshot.
   */
  resubscribe(ws: WebSocket<Conn>, stream: Stream, since: number | undefined, region?: TileRegion): void {
    const conn = ws.getUserData();
    this.unsubscribe(ws);
    conn.stream = stream;
    conn.region = region;
    conn.outbox.fragmentBytes = fragmentFor(stream);
    if (!region && !this.frame.image) return this.send(ws, USE_TILES);
    if (region) this.send(ws, tilesMessage(this.frame.seq), 'png');
    else this.sendCurrent(ws, stream, since);
    this.subscribe(ws);
  }

  /** The project whose `progress` messages this socket receives from the next tick on (0: none). */
  watch(ws: WebSocket<Conn>, project: number): void {
    ws.getUserData().project = project;
  }

  /**
   * The current frame again (the `resync` message), or for a region subscriber the word to load its
   * tiles again: either supersedes whatever stream bytes are queued.
   */
  resync(ws: WebSocket<Conn>): void {
    const region = ws.getUserData().region;
    const image = this.frame.image;
    if (region) this.send(ws, tilesMessage(this.frame.seq), 'png');
    else if (image) this.send(ws, image.message, 'png');
    else this.send(ws, USE_TILES);
  }

  /**
   * Sends one tick to every subscriber: PNG subscribers the PNG; delta subscribers the delta, or the
   * PNG when the change was too large for a delta (which also breaks the chain the delta log can
   * replay). A slice of sockets per loop turn. One fan-out at a time: a tick that arrives meanwhile
   * waits, and a newer one replaces it (losing its delta: that chain skipped a tick, so delta
   * subscribers get the PNG). Resolves when this tick's fan-out is done or it was replaced.
   */
  publish(out: TickOutput): Promise<void> {
    return new Promise((resolve) => {
      if (this.waiting) {
        this.waiting.done.push(resolve);
        // The replaced tick's project progress still goes out (its griefs happened), before the newer.
        if (out.progress) this.waiting.progress.push(out.progress);
        // A replaced tick's resizes still go out, each in its order: the newer frame is of the last size.
        const resizes = [...(this.waiting.out.resizes ?? []), ...(out.resizes ?? [])];
        this.waiting.out = { ...out, delta: undefined, ...(resizes.length > 0 ? { resizes } : {}) };
      } else {
        this.waiting = { out, progress: out.progress ? [out.progress] : [], done: [resolve] };
      }
      void this.drive();
    });
  }

  /** Takes the "N watching" count every interval and stops the sockets that stopped reading. */
  start(): void {
    this.onlineTimer = setInterval(() => {
      this.onlineDue = true;
      void this.drive();
    }, this.opts.onlineIntervalMs);
    this.stopStallWatch = watchStalls(this.sockets, this.opts.stallMs, (count) => {
      this.metrics.stalled.inc(count);
      this.opts.log.warn({ count, stallMs: this.opts.stallMs }, 'closed WebSockets that stopped reading');
    });
  }

  stop(): void {
    if (this.onlineTimer) clearInterval(this.onlineTimer);
    this.stopStallWatch?.();
  }

  /** Closes every socket with `code` (shutdown: 1001), after what is queued for it. */
  closeAll(code: number, reason: string): void {
    for (const ws of [...this.sockets]) ws.cork(() => ws.end(code, reason));
  }

  private subscribe(ws: WebSocket<Conn>): void {
    const conn = ws.getUserData();
    // Closed meanwhile: dropped by the send budget to make room for the greeting.
    if (conn.closed) return;
    this.subscribers[conn.stream].add(ws);
    if (conn.region) this.regionSubscribers++;
  }

  private unsubscribe(ws: WebSocket<Conn>): void {
    const had = this.subscribers[Stream.PNG].delete(ws) || this.subscribers[Stream.DELTA].delete(ws);
    if (had && ws.getUserData().region) this.regionSubscribers--;
  }

  /**
   * Brings a socket on `stream` up to date: PNG subscribers get the current frame; delta subscribers
   * the deltas after `since` when the log still has them, else the frame (a snapshot with its seq).
   */
  private sendCurrent(ws: WebSocket<Conn>, stream: Stream, since: number | undefined): void {
    const frame = this.frame;
    if (!frame.image) return;
    if (stream === Stream.DELTA && since !== undefined) {
      const missing = this.deltaLog.catchUp(since, frame.seq);
      if (missing) {
        // The catch-up run must arrive whole (a newer png may still supersede it).
        for (const m of missing) this.send(ws, m, 'delta', frame.image.message);
        return;
      }
    }
    this.send(ws, frame.image.message, 'png');
  }

  /** Runs the waiting fan-outs one after another: the newest tick first, then an online count. */
  private async drive(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const next = this.waiting;
        if (next) {
          this.waiting = undefined;
          try {
            await this.fanOutTick(next.out, next.progress);
          } finally {
            for (const done of next.done) done();
          }
        } else if (this.onlineDue) {
          this.onlineDue = false;
          await this.fanOutOnline();
        } else {
          return;
        }
      }
    } catch (err) {
      this.opts.log.error({ err }, 'fan-out failed');
    } finally {
      this.running = false;
    }
  }

  private fanOutTick(out: TickOutput, blocks: readonly ProgressBlock[]): Promise<void> {
    // Served from now on: a socket that opens during this fan-out gets this frame, then the next tick.
    this.current = out.frame;
    // Absent over 4096 a side: then every subscriber has a region (greet and resubscribe see to it).
    const png = out.frame.image?.message;
    const delta = out.delta?.message;
    // Outboxes queue references to these shared bytes, so a socket's own buffer in uWS holds at most
    // a fragment: the budget counts what uWS holds now.
    this.budget.beforePublish();
    if (out.delta) this.deltaLog.push(out.delta);
    else this.deltaLog.clear();
    // After a resize, the sockets that asked (`?resize=1`) are told each new size before its frame.
    const resizes = out.resizes ?? [];
    const { publishedBytes } = this.metrics;
    publishedBytes.inc({ stream: Stream.PNG }, (png?.length ?? 0) * this.subscribers[Stream.PNG].size);
    publishedBytes.inc({ stream: Stream.DELTA }, ((delta ?? png)?.length ?? 0) * this.subscribers[Stream.DELTA].size);
    const now = performance.now();
    // Encoded per project on its first watcher here: the cost follows what this process's sockets watch.
    const progress = blocks.length > 0 ? new WatchedProgress(blocks) : undefined;
    const regions = this.regionSubscribers > 0 ? new RegionTick(out) : undefined;
    return this.eachSubscriber((ws, conn) => {
      if (conn.resize) for (const r of resizes) conn.outbox.push(ws, r.message, 'other', now);
      if (!conn.region && !png) {
        // The canvas grew past 4096 a side: no whole-canvas png or delta any more. Told once, then
        // off the stream (as greet does over 4096); a `subscribe` with a region brings it back.
        this.unsubscribe(ws);
        conn.outbox.push(ws, USE_TILES, 'other', now);
      } else if (conn.region && regions) {
        // A region's tick is one small delta per changed tile: corked, they leave in one write
        // instead of one each (5,000 subscribers of 3 x 3 tiles: 45,000 writes a tick otherwise).
        const region = conn.region;
        ws.cork(() => inCorkedCallback(() => regions.deliver(ws, conn.outbox, region, now)));
      } else if (conn.stream === Stream.DELTA && delta) conn.outbox.push(ws, delta, 'delta', now, png);
      else if (png) conn.outbox.push(ws, png, 'png', now);
      // Right behind the tick's pixels, in the same loop turn: a grief arrives with the delta holding it.
      if (conn.project !== 0 && progress) {
        for (const m of progress.messages(conn.project)) conn.outbox.push(ws, m, 'other', now);
      }
    });
  }

  /** "N watching", to the sockets that asked (`?online=1`), when the count changed. */
  private fanOutOnline(): Promise<void> {
    const n = this.online();
    if (n === this.onlineSent) return Promise.resolve();
    this.onlineSent = n;
    const message = encodeMessage({ t: MsgType.ONLINE, n });
    return this.eachSubscriber((ws, conn) => {
      if (conn.online) this.send(ws, message);
    });
  }

  /** Calls `deliver` for every open subscriber of either stream, SLICE sockets per loop turn. */
  private async eachSubscriber(deliver: (ws: WebSocket<Conn>, conn: Conn) => void): Promise<void> {
    const all = [...this.subscribers[Stream.PNG], ...this.subscribers[Stream.DELTA]];
    for (let start = 0; start < all.length; start += SLICE) {
      if (start > 0) await nextTurn();
      for (let i = start; i < Math.min(start + SLICE, all.length); i++) {
        const ws = all[i] as WebSocket<Conn>;
        const conn = ws.getUserData();
        if (!conn.closed) deliver(ws, conn);
      }
    }
  }
}
