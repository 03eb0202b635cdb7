import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { startTestServer, TestClient } from '../../testkit/fixture.ts';

/** Value of one sample line in Prometheus text format, e.g. metric('x_total{result="accepted"}'). */
function metric(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics reports placements by result, commits, ticks, subscribers and the uWS backend', async (t) => {
  const ts = await startTestServer({ width: 8, height: 8 });
  t.after(() => ts.dispose());
  const png = await TestClient.connect(ts.ws);
  const delta = await TestClient.connect(`${ts.ws}?stream=delta`);
  for (let i = 0; i < 3; i++) png.send({ t: 'place', id: i, x: i, y: 0, c: 1 });
  png.send({ t: 'place', id: 9, x: 0, y: 0, c: 99 });
  let seq = 0;
  for (let i = 0; i < 3; i++) seq = (await png.nextOf('ack')).seq;
  await png.nextOf('error');
  await png.pngAtLeast(seq);
  await delta.nextOf('delta');

  // A tick's duration is observed once its last fan-out shard is published, a few loop turns after
  // the first subscribers got the frame: scrape until it is there (bounded).
  let res = await fetch(`${ts.http}/metrics`);
  let body = await res.text();
  for (let i = 0; i < 50 && !((metric(body, 'canvas_tick_seconds_count') ?? 0) >= 1); i++) {
    res = await fetch(`${ts.http}/metrics`);
    body = await res.text();
  }
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(metric(body, 'canvas_placements_total{result="accepted"}'), 3);
  assert.equal(metric(body, 'canvas_placements_total{result="bad_color"}'), 1);
  assert.equal(metric(body, 'canvas_ws_connections'), 2);
  assert.equal(metric(body, 'canvas_ws_subscribers{stream="png"}'), 1);
  assert.equal(metric(body, 'canvas_ws_subscribers{stream="delta"}'), 1);
  assert.equal(metric(body, 'canvas_seq'), 3);
  assert.equal(metric(body, 'canvas_uws_backend{backend="native"}'), 1);
  assert.ok((metric(body, 'canvas_commit_seconds_count') ?? 0) >= 1, 'commit latency observed');
  assert.ok((metric(body, 'canvas_png_encode_seconds_count') ?? 0) >= 1, 'encode time observed');
  assert.ok((metric(body, 'canvas_tick_seconds_count') ?? 0) >= 1, 'tick duration observed');
  assert.ok((metric(body, 'canvas_png_bytes') ?? 0) > 0);
  assert.ok((metric(body, 'canvas_published_bytes_total{stream="png"}') ?? 0) > 0);
  assert.ok((metric(body, 'canvas_published_bytes_total{stream="delta"}') ?? 0) > 0);
  assert.ok(metric(body, 'nodejs_eventloop_lag_p99_seconds') !== undefined, 'event-loop delay');
  await png.close();
  await delta.close();
});

test('pprof, when enabled, serves gzipped pprof CPU and heap profiles on 127.0.0.1', async (t) => {
  const ts = await startTestServer({ pprof: true, pprofPort: 0 });
  t.after(() => ts.dispose());
  const port = ts.server.pprofPort;
  assert.ok(port !== undefined && port > 0);
  const base = `http://127.0.0.1:${port}/debug/pprof`;
  const cpu = await fetch(`${base}/profile?seconds=1`);
  assert.equal(cpu.status, 200);
  const raw = new Uint8Array(await cpu.arrayBuffer());
  assert.deepEqual([...raw.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
  const profile = Profile.decode(gunzipSync(raw));
  const types = profile.sampleType.map((t) => profile.stringTable.strings[Number(t.type)]);
  assert.ok(
    types.includes('wall') || types.includes('cpu') || types.includes('sample'),
    `sample types ${types.join(',')}`,
  );

  const heapRes = await fetch(`${base}/heap`);
  assert.equal(heapRes.status, 200);
  const heap = Profile.decode(gunzipSync(new Uint8Array(await heapRes.arrayBuffer())));
  assert.ok(heap.sampleType.length > 0);

  assert.equal((await fetch(`${base}/profile?seconds=abc`)).status, 400);
  assert.equal((await fetch(`${base}/profile?seconds=0`)).status, 400);
});

test('pprof is absent when not enabled', async (t) => {
  const ts = await startTestServer({});
  t.after(() => ts.dispose());
  assert.equal(ts.server.pprofPort, undefined);
  assert.equal((await fetch(`${ts.http}/debug/pprof/profile?seconds=1`)).status, 404);
  assert.equal((await fetch(`${ts.http}/debug/pprof/heap`)).status, 404);
});
