/**
 * The outbox on its own: what it hands uWS, frame by frame, fed by a sink that records each call and
 * reports the buffered amount the test sets (as uWS reports what the kernel has not taken).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FRAGMENT_BYTES, type FrameSink, inCorkedCallback, Outbox, SMALL_FRAGMENT_BYTES } from '../streams/outbox.ts';

type Call = { op: 'send' | 'first' | 'fragment' | 'last'; bytes: Uint8Array };

class RecordingSink implements FrameSink {
  readonly calls: Call[] = [];
  /** What uWS would report it still holds; the test sets it to simulate a reader that is behind. */
  buffered = 0;
  send(bytes: Uint8Array) {
    this.calls.push({ op: 'send', bytes });
    return 1;
  }
  sendFirstFragment(bytes: Uint8Array) {
    this.calls.push({ op: 'first', bytes });
    return 1;
  }
  sendFragment(bytes: Uint8Array) {
    this.calls.push({ op: 'fragment', bytes });
    return 1;
  }
  sendLastFragment(bytes: Uint8Array) {
    this.calls.push({ op: 'last', bytes });
    return 1;
  }
  getBufferedAmount() {
    return this.buffered;
  }
  /** The messages a client reassembles from the calls so far. */
  messages(): number[][] {
    const out: number[][] = [];
    let parts: number[] | undefined;
    for (const c of this.calls) {
      if (c.op === 'send') out.push([...c.bytes]);
      else if (c.op === 'first') parts = [...c.bytes];
      else {
        assert.ok(parts, 'a continuation without a first fragment');
        parts.push(...c.bytes);
        if (c.op === 'last') {
          out.push(parts);
          parts = undefined;
        }
      }
    }
    return out;
  }
}

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

test('a message over FRAGMENT_BYTES goes out as first, middle and last fragments, none larger', () => {
  const sink = new RecordingSink();
  const box = new Outbox(1 << 20, 0);
  const big = new Uint8Array(3 * FRAGMENT_BYTES + 100).map((_, i) => i % 251);
  box.push(sink, big, 'png', 0);
  assert.deepEqual(
    sink.calls.map((c) => c.op),
    ['first', 'fragment', 'fragment', 'last'],
  );
  for (const c of sink.calls) assert.ok(c.bytes.length <= FRAGMENT_BYTES);
  assert.ok(FRAGMENT_BYTES < 16 * 1024, 'below the 16 KiB at which uWebSockets #1662 strikes');
  assert.deepEqual(sink.messages(), [[...big]]);
  assert.ok(box.idle);
});

test('nothing is handed to uWS while it holds bytes; each drain sends the next fragment, then what queued', () => {
  const sink = new RecordingSink();
  const box = new Outbox(1 << 20, 0);
  const big = bytes(2 * FRAGMENT_BYTES + 1, 7);
  sink.buffered = 0;
  box.push(sink, big, 'png', 0);
  assert.equal(sink.calls.length, 3, 'all of it while the kernel takes everything');
  sink.calls.length = 0;

  sink.buffered = 500; // the reader is behind: uWS holds bytes
  box.push(sink, bytes(10, 1), 'other', 2);
  box.push(sink, big, 'png', 3);
  box.push(sink, bytes(10, 2), 'other', 4);
  assert.equal(sink.calls.length, 0, 'uWS holds bytes: nothing new');
  sink.buffered = 0;
  box.pump(sink, 5); // drain
  assert.deepEqual(
    sink.calls.map((c) => c.op),
    ['send', 'first', 'fragment', 'last', 'send'],
  );
  const order = sink.messages().map((m) => m[0]);
  assert.deepEqual(order, [1, 7, 2], 'the earlier ack, the png, then the later ack, in order');
  assert.equal(box.progressAt, 5);
});

test('a newer png replaces stream messages not started, never the one in flight nor answers', () => {
  const sink = new RecordingSink();
  const box = new Outbox(1 << 20, 0);
  const first = bytes(2 * FRAGMENT_BYTES, 1);
  box.push(sink, first, 'png', 0);
  sink.calls.length = 0;
  // Start a second png, then stall: its first fragment is out.
  sink.buffered = 0;
  const inFlight = bytes(2 * FRAGMENT_BYTES, 2);
  const originalSend = sink.sendFirstFragment.bind(sink);
  sink.sendFirstFragment = (b: Uint8Array) => {
    sink.buffered = 1; // the kernel is full after this fragment
    return originalSend(b);
  };
  box.push(sink, inFlight, 'png', 1);
  box.push(sink, bytes(5, 3), 'delta', 2);
  box.push(sink, bytes(6, 4), 'other', 3);
  box.push(sink, bytes(2 * FRAGMENT_BYTES, 5), 'png', 4); // supersedes the delta only
  const newest = bytes(FRAGMENT_BYTES + 1, 6);
  box.push(sink, newest, 'png', 5); // supersedes the previous png
  sink.sendFirstFragment = originalSend;
  sink.buffered = 0;
  box.pump(sink, 6);
  const got = sink.messages();
  assert.deepEqual(
    got.map((m) => [m.length, m[0]]),
    [
      [inFlight.length, 2],
      [6, 4],
      [newest.length, 6],
    ],
  );
});

test('a delta that would take the queued stream bytes over the limit is replaced by the current png', () => {
  const sink = new RecordingSink();
  const box = new Outbox(100, 0);
  sink.buffered = 1; // a reader that is behind: everything queues
  box.push(sink, bytes(60, 1), 'delta', 0);
  box.push(sink, bytes(30, 2), 'delta', 1);
  const png = bytes(FRAGMENT_BYTES + 10, 9);
  box.push(sink, bytes(30, 3), 'delta', 2, png); // 60 + 30 + 30 > 100
  assert.equal(box.queuedBytes, png.length, 'only the png is left');
  sink.buffered = 0;
  box.pump(sink, 3);
  assert.deepEqual(
    sink.messages().map((m) => m[0]),
    [9],
  );
});

test('only the outbox hands uWS WebSocket frames: no other server code sends or publishes', () => {
  // How "no code path sends uWS a frame over 16 KiB" is kept: every frame goes through Outbox.pump,
  // which never hands uWS more than FRAGMENT_BYTES (tests above), and nothing else calls uWS's send
  // functions or app.publish. (Close frames from ws.end carry at most 123 bytes by RFC 6455.) The
  // streams' own `send` and `publish` (streams/streams.ts) go through the outbox, so calls on the
  // streams object are not uWS calls.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const offenders: string[] = [];
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    // bus/ speaks to Redis (its `.publish(` is Redis PUBLISH) and holds no uWS socket.
    if (
      !file.endsWith('.ts') ||
      file.startsWith('test') ||
      file.startsWith('bus') ||
      file === join('streams', 'outbox.ts')
    )
      continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/(\w+)\??\.(send|publish|sendFirstFragment|sendFragment|sendLastFragment)\(/g)) {
      const ownMethod = m[1] === 'streams' || (m[1] === 'this' && file === join('streams', 'streams.ts'));
      if (!ownMethod) offenders.push(`${file}: ${m[1]}.${m[2]}(`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('an outbox with small fragments splits large messages finer but still sends a message that fits one frame whole', () => {
  const sink = new RecordingSink();
  const box = new Outbox(1 << 20, 0, SMALL_FRAGMENT_BYTES);
  box.push(sink, bytes(FRAGMENT_BYTES, 1), 'delta', 0); // a big delta: one frame
  assert.deepEqual(
    sink.calls.map((c) => c.op),
    ['send'],
  );
  sink.calls.length = 0;
  const snapshot = bytes(10 * SMALL_FRAGMENT_BYTES + 1, 2);
  box.push(sink, snapshot, 'png', 1);
  assert.equal(sink.calls.length, 11);
  for (const c of sink.calls) assert.ok(c.bytes.length <= SMALL_FRAGMENT_BYTES);
  assert.deepEqual(
    sink.messages().map((m) => m.length),
    [snapshot.length],
  );
});

test('inside a uWS callback only what fits the 16 KiB cork buffer is sent; the rest follows on the next turn', async () => {
  const sink = new RecordingSink();
  const box = new Outbox(1 << 20, 0, SMALL_FRAGMENT_BYTES);
  const snapshot = bytes(10 * SMALL_FRAGMENT_BYTES, 3);
  inCorkedCallback(() => {
    box.push(sink, bytes(100, 1), 'other', 0); // hello
    box.push(sink, snapshot, 'png', 0);
  });
  const corked = sink.calls.reduce((n, c) => n + c.bytes.length + 10, 0);
  assert.ok(corked <= 15 * 1024, `${corked} bytes sent inside the callback`);
  assert.deepEqual(
    sink.calls.map((c) => c.op),
    ['send', 'first', 'fragment', 'fragment'],
    'hello and three 4 KiB fragments fit 15 KiB; a fourth would not',
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sink.calls.length, 1 + 10, 'the next turn sends the rest, out of the callback');
  assert.equal(sink.calls.at(-1)?.op, 'last');
  // Outside a callback there is no such bound: a second snapshot goes whole at once.
  box.push(sink, snapshot, 'png', 1);
  assert.equal(sink.calls.length, 11 + 10);
});

test('a closed outbox sends nothing, not even what waited for the next turn', async () => {
  const sink = new RecordingSink();
  const box = new Outbox(1 << 20, 0, SMALL_FRAGMENT_BYTES);
  inCorkedCallback(() => box.push(sink, bytes(10 * SMALL_FRAGMENT_BYTES, 4), 'png', 0));
  const sent = sink.calls.length;
  box.close();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sink.calls.length, sent);
  box.push(sink, bytes(10, 5), 'other', 1);
  assert.equal(sink.calls.length, sent);
});
