import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Connection,
  streamUrl,
  webSocketUrl,
  type ConnectionStatus,
  type SocketHandlers,
} from '../src/connection/connection.ts';
import { RECONNECT } from '../src/connection/reconnect.ts';

const statusOf = (c: Connection): ConnectionStatus => c.status;

/** Fake clock and sockets: the test decides when sockets deliver frames or close. */
class Harness {
  now = 0;
  timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  sockets: Array<{ url: string; h: SocketHandlers; sent: Uint8Array[]; closedByClient: boolean }> = [];
  statuses: ConnectionStatus[] = [];
  frames: Uint8Array[] = [];
  urls = 0;
  throwOnOpen = false;
  readonly conn: Connection;

  constructor(connectTimeoutMs = 10_000) {
    this.conn = new Connection({
      url: () => `ws://x/ws?n=${++this.urls}`,
      openSocket: (url, h) => {
        if (this.throwOnOpen) throw new Error('SecurityError');
        const s = { url, h, sent: [] as Uint8Array[], closedByClient: false };
        this.sockets.push(s);
        return { send: (b) => s.sent.push(b), close: () => (s.closedByClient = true) };
      },
      setTimer: (fn, ms) => {
        const t = { at: this.now + ms, fn, cancelled: false };
        this.timers.push(t);
        return () => (t.cancelled = true);
      },
      now: () => this.now,
      random: () => 0,
      connectTimeoutMs,
    });
    this.conn.onStatus = (s) => this.statuses.push(s);
    this.conn.onMessage = (b) => this.frames.push(b);
  }

  get last() {
    const s = this.sockets[this.sockets.length - 1];
    if (!s) throw new Error('no socket');
    return s;
  }

  /** Advances just past the current backoff, so exactly the next attempt starts. */
  advanceToRetry(): void {
    const s = this.conn.status;
    if (s.kind !== 'waiting') throw new Error(`not waiting but ${s.kind}`);
    this.advance(s.retryInMs);
  }

  /** Advances the clock, running due timers in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.now = due.at;
      due.fn();
    }
    this.now = until;
  }
}

test('open only once the first frame arrives; frames are passed on; send works only when open', () => {
  const h = new Harness();
  h.conn.start();
  assert.deepEqual(h.conn.status, { kind: 'connecting', attempt: 1 });
  assert.equal(h.conn.send(new Uint8Array([1])), false, 'not open yet');
  h.last.h.message(new Uint8Array([9]));
  assert.deepEqual(h.conn.status, { kind: 'open' });
  assert.deepEqual(h.frames, [new Uint8Array([9])]);
  assert.equal(h.conn.send(new Uint8Array([2])), true);
  assert.deepEqual(h.last.sent, [new Uint8Array([2])]);
});

test('a close schedules a reconnect with backoff, asking for the URL again', () => {
  const h = new Harness();
  h.conn.start();
  h.last.h.message(new Uint8Array([0]));
  h.last.h.close(1006);
  assert.deepEqual(h.conn.status, { kind: 'waiting', retryInMs: RECONNECT.baseMs / 2, failures: 1, blocked: false });
  assert.equal(h.conn.send(new Uint8Array([1])), false, 'nothing is sent while disconnected');
  h.advance(RECONNECT.baseMs / 2 - 1);
  assert.equal(h.sockets.length, 1);
  h.advance(1);
  assert.equal(h.sockets.length, 2);
  assert.equal(h.last.url, 'ws://x/ws?n=2');
  h.last.h.close(1006); // the server is still down
  assert.equal(h.conn.status.kind === 'waiting' && h.conn.status.retryInMs, RECONNECT.baseMs, 'doubled');
  h.advance(RECONNECT.baseMs);
  h.last.h.message(new Uint8Array([0]));
  assert.deepEqual(h.conn.status, { kind: 'open' });
});

test('a WebSocket that never delivers a frame is reported blocked after blockedAfter attempts', () => {
  const h = new Harness();
  h.conn.start();
  for (let i = 0; i < RECONNECT.blockedAfter; i++) {
    assert.equal(h.conn.blocked, false);
    h.last.h.close(1006);
    h.advanceToRetry();
  }
  const waiting = h.statuses.filter((s) => s.kind === 'waiting');
  assert.equal(waiting[waiting.length - 1]?.kind === 'waiting' && waiting[waiting.length - 1]?.blocked, true);
  assert.equal(h.conn.blocked, true);
  h.last.h.message(new Uint8Array([0]));
  assert.equal(h.conn.blocked, false, 'it works after all');
});

test('a socket that opens but stays silent is given up after the connect timeout', () => {
  const h = new Harness(3000);
  h.conn.start();
  h.advance(2999);
  assert.equal(h.conn.status.kind, 'connecting');
  h.advance(1);
  assert.equal(h.last.closedByClient, true);
  assert.equal(h.conn.status.kind, 'waiting');
  h.last.h.close(1006); // its late close event must not count twice
  const status = statusOf(h.conn); // a fresh read: the asserts above narrowed h.conn.status
  assert.equal(status.kind === 'waiting' ? status.failures : -1, 1);
});

test('a throwing WebSocket constructor is a failed attempt, not a crash', () => {
  const h = new Harness();
  h.throwOnOpen = true;
  h.conn.start();
  assert.equal(h.conn.status.kind, 'waiting');
  h.throwOnOpen = false;
  h.advanceToRetry();
  assert.equal(h.conn.status.kind, 'connecting');
});

test('retryNow skips the backoff; stop closes and stays stopped', () => {
  const h = new Harness();
  h.conn.start();
  h.last.h.close(1006);
  h.conn.retryNow();
  assert.equal(h.sockets.length, 2);
  h.last.h.message(new Uint8Array([0]));
  h.conn.stop();
  assert.equal(h.last.closedByClient, true);
  assert.deepEqual(h.conn.status, { kind: 'stopped' });
  h.advance(60_000);
  assert.equal(h.sockets.length, 2, 'no reconnect after stop');
});

test('URLs: ws or wss by page protocol; delta stream with optional since', () => {
  assert.equal(webSocketUrl({ protocol: 'http:', host: 'localhost:8080' }), 'ws://localhost:8080/ws');
  assert.equal(webSocketUrl({ protocol: 'https:', host: 'canvas.example' }), 'wss://canvas.example/ws');
  assert.equal(streamUrl('ws://h/ws', null), 'ws://h/ws?stream=delta&online=1&resize=1');
  assert.equal(streamUrl('ws://h/ws', 42), 'ws://h/ws?stream=delta&online=1&resize=1&since=42');
  assert.equal(streamUrl('ws://h/ws', null, 'ab12.x-_Y'), 'ws://h/ws?stream=delta&online=1&resize=1&token=ab12.x-_Y');
});
