/**
 * Builds shared among viewers and fairly among addresses: concurrent viewers of the default
 * timelapse during placements get one build; one address flooding distinct builds does not starve
 * another's; a moving answer is served from its last build while a rebuild runs behind it.
 * Addresses are set with X-Forwarded-For (the rig trusts loopback as a proxy, as behind nginx).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrames, getBytes, getError, type Rig, startHistoryRig } from './history-rig.ts';

const from = (ip: string) => ({ 'X-Forwarded-For': ip });

/**
 * Loop turns (not time) until `done` holds or `settled` (a request whose answer ends the wait) has
 * settled: the server shares this event loop.
 */
async function until(done: () => boolean, settled?: Promise<unknown>): Promise<void> {
  let over = false;
  void settled?.finally(() => {
    over = true;
  });
  while (!done() && !over) await new Promise(setImmediate);
}

/** A few placements now, with the current time, as the committer writes them during an event. */
function placeNow(rig: Rig, n: number): void {
  rig.commit(
    Array.from({ length: n }, (_, i) => ({ x: i % rig.canvas.width, y: 0, color: 1 + (i % 5) })),
    Date.now(),
  );
}

test('concurrent viewers of the default timelapse during placements share one build and get the same bytes', async (t) => {
  const rig = await startHistoryRig({ width: 64, height: 64, service: { maxBuilds: 1 } });
  t.after(() => rig.close());
  rig.placeRandom(3000, 21); // placed in 2023: before any open end
  // About a second of work (40 frames of 512 x 512), so the later viewers arrive while it runs.
  const url = `${rig.url}/api/history/timelapse?frames=40&scale=8`;
  const seqBefore = rig.canvas.seq;
  const viewers = [getBytes(url, from('192.0.2.1'))];
  await until(() => rig.history.buildsInProgress > 0);
  for (let v = 2; v <= 5; v++) {
    placeNow(rig, 7); // the current seq moves between every two viewers
    viewers.push(getBytes(url, from(`192.0.2.${v}`)));
  }
  const answers = await Promise.all(viewers);
  assert.ok(rig.canvas.seq > seqBefore + 20, 'placements went on while they asked');
  for (const [i, a] of answers.entries()) {
    assert.equal(a.status, 200, `viewer ${i + 1}`);
    assert.deepEqual(a.bytes, answers[0]?.bytes, `viewer ${i + 1} has the same bytes`);
    assert.equal(a.headers.get('x-history-to'), '3000', 'the end rounded to before the new placements');
    assert.equal(a.headers.get('cache-control'), 'public, max-age=5');
  }
  assert.equal(rig.history.buildsStarted, 1, 'one build');
  assert.equal(decodeFrames(answers[0]?.bytes ?? new Uint8Array(), rig.palette).frames.length, 40);
});

test('an address flooding distinct builds gets 429 for all but one, and another address is still served', async (t) => {
  const rig = await startHistoryRig({ width: 64, height: 64, service: { maxBuilds: 1, maxBuildQueue: 1 } });
  t.after(() => rig.close());
  rig.placeRandom(3000, 22);
  const flooder = from('198.51.100.1');
  const first = getBytes(`${rig.url}/api/history/timelapse?to=3000&frames=90&scale=16`, flooder);
  await until(() => rig.history.buildsInProgress > 0);
  // Another address's distinct build waits for the worker instead of being refused.
  const other = getBytes(`${rig.url}/api/history/timelapse?to=2500&frames=90&scale=16`, from('198.51.100.2'));
  await until(() => rig.history.buildsInProgress > 1, other);
  for (let i = 0; i < 8; i++) {
    const refused = await getError(`${rig.url}/api/history/timelapse?to=${2000 + i}&frames=10`, {
      headers: flooder,
    });
    assert.equal(refused.status, 429);
    assert.equal(refused.error, 'busy');
    assert.equal(refused.retryAfter, '5');
    assert.match(refused.message, /your address/);
  }
  const heatmap = await getError(`${rig.url}/api/history/heatmap?to=100`, { headers: flooder });
  assert.equal(heatmap.status, 429, 'heatmaps count in the same share');
  // The worker and the one queue slot are taken: a third address is refused for that reason.
  const full = await getError(`${rig.url}/api/history/heatmap?to=100`, { headers: from('198.51.100.3') });
  assert.equal(full.status, 429);
  assert.match(full.message, /1 waiting, the most at once/);
  const [a, b] = await Promise.all([first, other]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200, 'the other address was served');
  assert.equal(b.headers.get('x-history-to'), '2500');
  const again = await getBytes(`${rig.url}/api/history/timelapse?to=2000&frames=10`, flooder);
  assert.equal(again.status, 200, 'the flooder gets its next build once its first is done');
});

test('a moving answer is served from its last build while the rebuild runs, then from the rebuild', async (t) => {
  // movingRefreshMs 0: every request for a changed answer starts its rebuild (30 s in production).
  const rig = await startHistoryRig({ width: 32, height: 32, service: { movingRefreshMs: 0 } });
  t.after(() => rig.close());
  rig.placeRandom(500, 23);
  const url = `${rig.url}/api/history/heatmap`;
  const first = await getBytes(url);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-history-to'), '500');
  rig.placeRandom(300, 24); // still long before now: within the open end
  const stale = await getBytes(url);
  assert.equal(stale.headers.get('x-history-to'), '500', 'the last build, at once');
  assert.deepEqual(stale.bytes, first.bytes);
  assert.equal(rig.history.buildsStarted, 2, 'and a rebuild started behind it');
  await until(() => rig.history.buildsInProgress === 0);
  const fresh = await getBytes(url);
  assert.equal(fresh.headers.get('x-history-to'), '800');
  assert.equal(fresh.headers.get('x-heatmap-total'), '800');
  assert.equal(rig.history.buildsStarted, 2, 'nothing new since: no build');
  // A client holding the current answer is told so without a body.
  const cached = await getBytes(url, { 'If-None-Match': fresh.headers.get('etag') ?? '' });
  assert.equal(cached.status, 304);
});
