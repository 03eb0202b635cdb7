/**
 * The WebSocket to /ws and its reconnection. Timers, randomness and the socket factory are injected,
 * so the reconnect policy is unit tested in Node with fake sockets.
 *
 * A socket counts as working only once its first frame arrives (the server always starts with
 * `hello`): some proxies accept the upgrade and then drop the connection, and that must look like
 * "blocked", not like "connected".
 */
import { decodeServerMessage } from '../../../protocol/codec.ts';
import type { ServerMessage } from '../../../protocol/messages.ts';
import { ReconnectState } from './reconnect.ts';

export interface SocketHandlers {
  message(bytes: Uint8Array): void;
  close(code: number): void;
}

export interface Transport {
  send(bytes: Uint8Array): void;
  close(): void;
}

export type OpenSocket = (url: string, handlers: SocketHandlers) => Transport;

export type ConnectionStatus =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'waiting'; retryInMs: number; failures: number; blocked: boolean }
  | { kind: 'stopped' };

export interface ConnectionDeps {
  /** Asked before every attempt, so a reconnect can say which seq it already has. */
  url: () => string;
  openSocket: OpenSocket;
  /** Runs fn after ms; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
  now(): number;
  random(): number;
  /** A socket that has not delivered its first frame by then is given up on. */
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export class Connection {
  onMessage: (bytes: Uint8Array) => void = () => {};
  onStatus: (status: ConnectionStatus) => void = () => {};
  private state = new ReconnectState();
  private transport: Transport | null = null;
  private cancelTimer: (() => void) | null = null;
  private attempts = 0;
  private current: ConnectionStatus = { kind: 'stopped' };

  constructor(private readonly deps: ConnectionDeps) {}

  get status(): ConnectionStatus {
    return this.current;
  }

  /** True when the WebSocket never worked after several attempts (the caller polls instead). */
  get blocked(): boolean {
    return this.state.blocked;
  }

  start(): void {
    if (this.current.kind === 'stopped') this.attempt();
  }

  /** Skips the remaining backoff (e.g. the browser went back online). */
  retryNow(): void {
    if (this.current.kind !== 'waiting') return;
    this.clearTimer();
    this.attempt();
  }

  stop(): void {
    this.clearTimer();
    const t = this.transport;
    this.transport = null;
    t?.close();
    this.setStatus({ kind: 'stopped' });
  }

  /** Sends when the connection is open; returns false (nothing sent) otherwise. */
  send(bytes: Uint8Array): boolean {
    if (this.current.kind !== 'open' || !this.transport) return false;
    this.transport.send(bytes);
    return true;
  }

  private attempt(): void {
    this.attempts++;
    this.setStatus({ kind: 'connecting', attempt: this.attempts });
    let transport: Transport | null = null;
    let gotFrame = false;
    const handlers: SocketHandlers = {
      message: (bytes) => {
        if (this.transport !== transport) return; // a socket we already gave up on
        if (!gotFrame) {
          gotFrame = true;
          this.clearTimer();
          this.state.working(this.deps.now());
          this.setStatus({ kind: 'open' });
        }
        this.onMessage(bytes);
      },
      close: () => {
        if (this.transport !== transport) return;
        this.failed();
      },
    };
    try {
      transport = this.deps.openSocket(this.deps.url(), handlers);
    } catch {
      // The constructor throws for URLs the page may not open (e.g. blocked by policy): a failure.
      this.transport = null;
      this.failed();
      return;
    }
    this.transport = transport;
    this.cancelTimer = this.deps.setTimer(() => {
      this.cancelTimer = null;
      if (this.transport === transport && !gotFrame) {
        this.transport = null;
        transport?.close();
        this.failed();
      }
    }, this.deps.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  }

  private failed(): void {
    this.clearTimer();
    this.transport = null;
    const delay = this.state.failed(this.deps.now(), this.deps.random());
    this.setStatus({ kind: 'waiting', retryInMs: delay, failures: this.state.failures, blocked: this.state.blocked });
    this.cancelTimer = this.deps.setTimer(() => {
      this.cancelTimer = null;
      this.attempt();
    }, delay);
  }

  private clearTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private setStatus(status: ConnectionStatus): void {
    this.current = status;
    this.onStatus(status);
  }
}

/** The real browser WebSocket behind the Transport interface. */
export const browserSocket: OpenSocket = (url, handlers) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (ev: MessageEvent<unknown>) => {
    // The protocol is binary only; a text frame is not ours to interpret.
    if (ev.data instanceof ArrayBuffer) handlers.message(new Uint8Array(ev.data));
  };
  ws.onclose = (ev) => handlers.close(ev.code);
  return {
    send: (bytes) => ws.send(bytes),
    close: () => ws.close(),
  };
};

/** ws:// or wss:// URL of /ws on the page's own host. */
export function webSocketUrl(location: { protocol: string; host: string }, path = '/ws'): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

/**
 * The delta stream (a few bytes per changed pixel instead of a whole PNG per tick). With `since`, a
 * reconnect gets only the ticks it missed when the server still holds them, else a snapshot.
 * A server without the delta stream ignores the query and sends PNGs, which the client also handles.
 */
export function streamUrl(base: string, since: number | null, token: string | null = null): string {
  // online=1, resize=1: the server sends `online` messages ("N watching") and `resize` messages (the
  // canvas grew) to sockets that ask for them.
  const q = new URLSearchParams({ stream: 'delta', online: '1', resize: '1' });
  if (since !== null) q.set('since', String(since));
  // Only when the server minted this page an identity (no cookie): reconnects stay that identity.
  if (token !== null) q.set('token', token);
  return `${base}?${q.toString()}`;
}

/** A server frame decoded, or null (with a console warning) for one that is not a MessagePack map. */
export function tryDecodeServerMessage(bytes: Uint8Array): ServerMessage | null {
  try {
    return decodeServerMessage(bytes);
  } catch {
    console.warn('ignoring a frame that is not a MessagePack map');
    return null;
  }
}
