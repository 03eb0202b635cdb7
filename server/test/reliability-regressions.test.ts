/**
 * Regression tests for the defects the reliability suite (reliability/, `npm run torture`) found, one
 * test per defect, each reproducing the suite's failing input at unit or integration scale.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseClientMessage } from '../../protocol/codec.ts';
import { scanFrame } from '../../protocol/msgpack-scan.ts';
import { ErrorCode } from '../../protocol/messages.ts';
import { fillNoise, startTestServer, TestClient } from '../../testkit/fixture.ts';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
/** {t:'place', id:1, x:<X>, y:1, c:1} with X given as raw MessagePack. */
const placeWithX = (x: string) => hex(`85 a174 a5706c616365 a26964 01 a178 ${x} a179 01 a163 01`);

test('float-encoded integers (1.0, -0.0, float32 2.0) are invalid fields, not placements', async (t) => {
  // The suite's hostile frames placed pixels with x = 1.0 as float64: msgpackr decodes it to 1.
  const floats = ['cb 3ff0000000000000', 'cb 8000000000000000', 'ca 40000000'];
  for (const x of floats) {
    const r = parseClientMessage(placeWithX(x));
    assert.deepEqual(r, { ok: false, code: ErrorCode.INVALID_FIELD, message: 'x must be an integer', id: 1 }, x);
  }
  // A float id is not echoed (it is not a valid id).
  const floatId = parseClientMessage(hex('85 a174 a5706c616365 a26964 cb3ff0000000000000 a178 01 a179 01 a163 01'));
  assert.equal(floatId.ok, false);
  if (!floatId.ok) assert.equal(floatId.id, undefined);
  // The same integers as integers still parse; so do str8 keys and floats in keys nobody reads.
  assert.equal(parseClientMessage(placeWithX('01')).ok, true);
  assert.equal(
    parseClientMessage(hex('86 a174 a5706c616365 a26964 01 a178 01 a179 01 a163 01 a56578747261 cb3ff8000000000000'))
      .ok,
    true,
  );
  assert.deepEqual(scanFrame(hex('83 d90178 cb3ff0000000000000 a179 01 a17a ca40000000')), {
    ok: true,
    floatKeys: new Set(['x', 'z']),
  });
  // Deep nesting is walked without recursion.
  const deep = Buffer.alloc(5000, 0x91);
  deep[4999] = 0x01;
  assert.deepEqual(scanFrame(deep), { ok: true, floatKeys: new Set() });

  const ts = await startTestServer({ width: 8, height: 8 });
  t.after(() => ts.dispose());
  const c = await TestClient.connect(ts.ws);
  for (const x of floats) {
    c.socket.send(placeWithX(x));
    assert.equal((await c.nextOf('error')).code, ErrorCode.INVALID_FIELD);
  }
  assert.equal(ts.server.canvas.seq, 0, 'nothing placed');
  await c.close();
});

test('a length header the frame cannot back is refused before msgpackr allocates for it', () => {
  // `dd 01 ff ff ff`: an array32 of 33 million items in 5 bytes. msgpackr allocated the 256 MiB array
  // before noticing the items were missing; random hostile bytes grew the server by 130 MiB per
  // 20,000 frames this way, and parsing random frames under a 64 MiB heap ran out of memory.
  const before = process.memoryUsage().rss;
  const lying = [
    'dd 01ff ffff',
    'dd 00ff ffff 01',
    'dc ffff',
    'df 00ff ffff',
    'de ffff a1 74',
    '81 a1 78 dd 01ff ffff',
    'c6 00ff ffff 00',
    'db 7fff ffff 41',
  ];
  for (let i = 0; i < 50; i++) {
    for (const frame of lying) {
      const r = parseClientMessage(hex(frame));
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.code, ErrorCode.NOT_MSGPACK, frame);
    }
  }
  assert.ok(process.memoryUsage().rss - before < 64 << 20, 'no big allocations');
  // Well-formed frames still decode, 0xc1 anywhere and trailing bytes do not.
  assert.equal(parseClientMessage(hex('85 a174 a5706c616365 a26964 01 a178 01 a179 01 a163 01')).ok, true);
  for (const bad of ['92 01 c1', '81 a174 a6726573796e63 00', '']) assert.equal(scanFrame(hex(bad)).ok, false, bad);
});

test('clients that never read are closed after --stall-ms; a reader keeps every tick', async (t) => {
  // The suite's 1,000 non-reading subscribers drove RSS to 5.3 GB: each held up to --max-backpressure.
  // Now each holds at most a fragment in uWS (outbox.ts), and one that takes nothing for --stall-ms
  // is closed (stall-watch.ts).
  const ts = await startTestServer({ width: 1000, height: 1000, tickMs: 20, stallMs: 300 });
  t.after(() => ts.dispose());
  // Test-only shortcut, as in backpressure.test.ts: noisy content makes every PNG ~500 KB.
  fillNoise(ts.server.canvas, 0x2545f491);
  const reader = await TestClient.connect(ts.ws);
  const idle = await Promise.all(Array.from({ length: 8 }, () => TestClient.connect(ts.ws)));
  t.after(() => {
    for (const c of idle) c.socket.terminate();
  });
  for (const c of idle) c.socket.pause(); // never read again
  let seq = 0;
  const pngSeqs: number[] = [];
  for (let i = 0; i < 400; i++) {
    reader.send({ t: 'place', id: i, x: i % 1000, y: 0, c: i % 16 });
    seq = (await reader.nextOf('ack')).seq;
    pngSeqs.push((await reader.pngAtLeast(seq, 10_000)).seq);
    const health = (await (await fetch(`${ts.http}/healthz`)).json()) as { subscribers: number };
    if (health.subscribers === 1) break;
  }
  const health = (await (await fetch(`${ts.http}/healthz`)).json()) as { subscribers: number };
  assert.equal(health.subscribers, 1, 'only the reader is left');
  const metrics = await (await fetch(`${ts.http}/metrics`)).text();
  assert.match(metrics, /canvas_ws_stalled_total 8/);
  assert.deepEqual(
    pngSeqs,
    [...pngSeqs].sort((a, b) => a - b),
    'the reader saw every tick in order',
  );
  await reader.close();
});

test('a client pipelining GET /image without reading holds one response, not one per request', async (t) => {
  // The suite's pipelining client (20,000 requests, never read) drove the server to 3.7 GB.
  const ts = await startTestServer({ width: 1000, height: 1000, tickMs: 20 });
  t.after(() => ts.dispose());
  fillNoise(ts.server.canvas, 0x1234567);
  const c = await TestClient.connect(ts.ws);
  c.send({ t: 'place', id: 1, x: 0, y: 0, c: 1 });
  await c.pngAtLeast((await c.nextOf('ack')).seq); // the next tick encodes the noisy grid: ~500 KB
  await c.close();
  const pngBytes = (await (await fetch(`${ts.http}/image`)).arrayBuffer()).byteLength;
  assert.ok(pngBytes > 300_000, `noisy PNG (${pngBytes} bytes)`);

  const before = process.memoryUsage().rss;
  const socket = connect({ host: '127.0.0.1', port: ts.server.port });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause(); // never read
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.write('GET /image HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2000)); // ~1 GB of PNGs if all were buffered
  // Nothing to await: the defect was memory growing while the server kept writing; fixed, nothing
  // happens. A second is many ticks' worth of writing had the pipeline not been refused.
  await sleep(1000);
  const grown = process.memoryUsage().rss - before;
  assert.ok(grown < 150 << 20, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
  socket.resume(); // the server closed the connection at the second request; what it had sent drains
  await closed;
  assert.equal((await fetch(`${ts.http}/image`)).status, 200, 'still serving');
});

test(
  'pipelined HEAD and 304 answers close the connection instead of piling up; ' + 'one at a time still works',
  async (t) => {
    // Header-only answers have no body for tryEnd to hold back: pipelined unread, they grew RSS ~3x
    // the requests' bytes without limit. They now end a loop turn later, so uWS refuses the pipeline.
    const ts = await startTestServer({ width: 16, height: 16 });
    t.after(() => ts.dispose());
    const etag = (await fetch(`${ts.http}/image`)).headers.get('etag') ?? '';
    const conditional = `GET /image HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${etag}\r\n\r\n`;
    const head = 'HEAD /image HTTP/1.1\r\nHost: x\r\n\r\n';
    const socket = connect({ host: '127.0.0.1', port: ts.server.port });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => {}); // the refused pipeline may end in a reset
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise((resolve) => socket.once('connect', resolve));
    const answers = () => (text.match(/^HTTP\/1\.1 /gm) ?? []).length;
    for (const [i, request] of [conditional, head, conditional].entries()) {
      socket.write(request); // one at a time, as browsers do: keep-alive answers each
      while (answers() < i + 1) await once(socket, 'data');
    }
    assert.match(text, /^HTTP\/1\.1 304 Not Modified/m);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Length: \d+/m);
    socket.write((conditional + head).repeat(5000));
    await closed;
    assert.ok(answers() <= 4, `${answers()} answers: the pipeline was refused`);
  },
);
