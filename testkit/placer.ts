/**
 * The one WebSocket placing client of the benchmarks' load generators and the reliability suite:
 * sends `place` frames with ids and matches each answer (ack or error) to its send time. What to
 * send when (a window kept full, a fixed rate, one at a time) is the caller's; this keeps the books.
 * The server's tests drive sockets frame by frame with fixture.ts's TestClient instead.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage } from '../protocol/codec.ts';
import { type HelloMsg, MsgType, type PowChallenge, type ServerMessage } from '../protocol/messages.ts';

/** The answer to one of this client's placements. */
export type PlaceAnswer = { id: number; sentAt: number; ms: number } & (
  | { ok: true; seq: number; challenge?: PowChallenge }
  /** `challenge`: what a `challenge_required` / `challenge_invalid` refusal carries to solve. */
  | { ok: false; code: string; challenge?: PowChallenge }
);

export interface PlacerOptions {
  /** `?stream=`: delta keeps a placing socket's own frames small. */
  stream?: 'png' | 'delta';
  /** Loopback source address (127.0.0.2, ...), so one machine can be many clients. */
  from?: string;
  onAnswer?: (answer: PlaceAnswer) => void;
  /** Every other frame: hello, png, delta, errors that answer no placement. */
  onMessage?: (msg: ServerMessage) => void;
}

export class Placer {
  readonly ws: WebSocket;
  /** The server's hello; rejects when the socket fails before it. */
  readonly hello: Promise<HelloMsg>;
  /** Close code when the server (not `close`) closed the socket. */
  closedWith: number | undefined;
  private readonly sentAt = new Map<number, number>();
  private nextId = 1;
  private socket: Socket | undefined;
  private corked = false;
  private closing = false;

  constructor(url: string, opts: PlacerOptions = {}) {
    this.ws = new WebSocket(opts.stream ? `${url}?stream=${opts.stream}` : url, {
      perMessageDeflate: false,
      allowSynchronousEvents: true,
      ...(opts.from ? { localAddress: opts.from } : {}),
    });
    // The upgrade response's socket is the connection itself: corking it batches the frames of one
    // burst into one write instead of a syscall per frame.
    this.ws.on('upgrade', (res) => (this.socket = res.socket as Socket));
    this.hello = new Promise((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('error', () => undefined); // a later error is followed by 'close'
      this.ws.on('message', (data: Buffer) => {
        const msg = decodeServerMessage(new Uint8Array(data));
        if (msg.t === MsgType.HELLO) resolve(msg);
        const id = msg.t === MsgType.ACK || msg.t === MsgType.ERROR ? msg.id : undefined;
        const sentAt = id === undefined ? undefined : this.sentAt.get(id);
        if (id === undefined || sentAt === undefined) return opts.onMessage?.(msg);
        this.sentAt.delete(id);
        const base = { id, sentAt, ms: performance.now() - sentAt };
        if (msg.t === MsgType.ACK)
          return opts.onAnswer?.(
            msg.challenge
              ? { ...base, ok: true, seq: msg.seq, challenge: msg.challenge }
              : { ...base, ok: true, seq: msg.seq },
          );
        const refusal = { ...base, ok: false as const, code: msg.t === MsgType.ERROR ? msg.code : '' };
        opts.onAnswer?.(msg.t === MsgType.ERROR && msg.challenge ? { ...refusal, challenge: msg.challenge } : refusal);
      });
    });
    this.ws.on('close', (code) => {
      if (!this.closing) this.closedWith ??= code;
      this.sentAt.clear();
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Placements sent and not answered yet. */
  get inFlight(): number {
    return this.sentAt.size;
  }

  /**
   * Sends one placement (with `pow`, a solved challenge: testkit/pow.ts); returns its id. Frames sent
   * in one turn of the event loop go out in one write.
   */
  place(x: number, y: number, c: number, pow?: string): number {
    if (this.socket && !this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket?.uncork();
      });
    }
    const id = this.nextId++;
    this.sentAt.set(id, performance.now());
    this.ws.send(
      encodeMessage(pow === undefined ? { t: MsgType.PLACE, id, x, y, c } : { t: MsgType.PLACE, id, x, y, c, pow }),
    );
    return id;
  }

  /** Closes with a close frame, or terminates after `timeoutMs`. */
  close(timeoutMs = 2000): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, timeoutMs).unref();
    });
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.closing = true;
    this.ws.terminate();
  }
}
