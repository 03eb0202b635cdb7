/**
 * A WebSocket client written on a bare TCP socket, for tests that must see the wire: every frame the
 * server sends with its size and opcode, fragmented messages reassembled by hand, and reading paced
 * by the test (small reads with pauses) so the server meets real backpressure. The `ws` package
 * hides all of that. RFC 6455: server frames are unmasked, client frames masked.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface WireFrame {
  fin: boolean;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  /** Payload bytes (the frame's size on the wire is this plus a 2-10 byte header). */
  length: number;
}

export class RawWebSocket {
  /** Every frame received, in order. */
  readonly frames: WireFrame[] = [];
  /** Every complete data message, reassembled from its fragments. */
  readonly messages: Uint8Array[] = [];
  /** Set when a frame breaks the protocol (a continuation without a start, a new message mid-way). */
  violation: string | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] | undefined;
  private handshakeDone = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {}

  /** Opens `url` (ws://host:port/path?query), reading as fast as data comes until `paced`. */
  static open(url: string): Promise<RawWebSocket> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      const client = new RawWebSocket(socket);
      socket.once('error', reject);
      socket.once('connect', () => {
        const key = randomBytes(16).toString('base64');
        socket.write(
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        resolve(client);
      });
      socket.on('data', (chunk: Buffer) => client.take(chunk));
    });
  }

  /** Sends one masked binary frame. */
  send(payload: Uint8Array): void {
    const mask = randomBytes(4);
    const header = payload.length < 126 ? Buffer.from([0x82, 0x80 | payload.length]) : Buffer.alloc(4);
    if (payload.length >= 126) {
      if (payload.length > 0xffff) throw new Error('test frames stay small');
      header[0] = 0x82;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(payload.length, 2);
    }
    const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Resolves once at least `count` messages arrived. */
  async messagesAtLeast(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.messages.length} of ${count} messages arrived`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /**
   * From now on reads at most `chunkBytes` every `everyMs` (the socket paused in between), so the
   * kernel's buffers fill when the server sends faster and it meets real backpressure. Returns a
   * function that goes back to reading freely.
   */
  paced(chunkBytes: number, everyMs: number): () => void {
    this.socket.removeAllListeners('data');
    this.socket.pause();
    const timer = setInterval(() => {
      const chunk = (this.socket.read(chunkBytes) ?? this.socket.read()) as Buffer | null;
      if (chunk) this.take(chunk);
    }, everyMs);
    return () => {
      clearInterval(timer);
      for (let c = this.socket.read() as Buffer | null; c; c = this.socket.read() as Buffer | null) this.take(c);
      this.socket.on('data', (chunk: Buffer) => this.take(chunk));
      this.socket.resume();
    };
  }

  /** Stops reading for good: what the server sends piles up in the kernel, then in the server. */
  stopReading(): void {
    this.socket.removeAllListeners('data');
    this.socket.pause();
  }

  close(): void {
    this.socket.destroy();
  }

  private take(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (!this.handshakeDone) {
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.pending.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
      this.handshakeDone = true;
      this.pending = this.pending.subarray(end + 4);
    }
    for (;;) {
      const frame = this.nextFrame();
      if (!frame) break;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Parses one frame off `pending`, or returns undefined until it is complete. */
  private nextFrame(): WireFrame | undefined {
    const p = this.pending;
    if (p.length < 2) return undefined;
    const b0 = p[0] as number;
    const b1 = p[1] as number;
    let length = b1 & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (p.length < 4) return undefined;
      length = p.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (p.length < 10) return undefined;
      length = Number(p.readBigUInt64BE(2));
      offset = 10;
    }
    if (p.length < offset + length) return undefined;
    const payload = Buffer.from(p.subarray(offset, offset + length));
    this.pending = p.subarray(offset + length);
    const frame: WireFrame = { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, length };
    this.frames.push(frame);
    this.assemble(frame, payload);
    return frame;
  }

  private assemble(frame: WireFrame, payload: Buffer): void {
    if (frame.opcode >= 8) return; // control frames may come between fragments
    if (frame.opcode === 0 && !this.fragments) this.violation ??= 'a continuation frame without a first fragment';
    if (frame.opcode !== 0 && this.fragments) this.violation ??= 'a new message inside a fragmented one';
    const parts = frame.opcode === 0 ? (this.fragments ?? []) : [];
    parts.push(payload);
    if (frame.fin) {
      this.messages.push(new Uint8Array(Buffer.concat(parts)));
      this.fragments = undefined;
    } else {
      this.fragments = parts;
    }
  }
}
