import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImagePoller, seqFromEtag, type ImageResponse } from '../src/connection/image-poller.ts';

test('polls with If-None-Match; a 304 delivers nothing; stop ends the loop', async () => {
  const requests: Array<string | null> = [];
  const responses: Array<ImageResponse | Error> = [
    { status: 200, etag: '"abc-5"', body: new Uint8Array([1]) },
    { status: 304, etag: '"abc-5"', body: null },
    new Error('network down'),
    { status: 200, etag: '"abc-9"', body: new Uint8Array([2]) },
  ];
  let tick: (() => void) | null = null;
  const poller = new ImagePoller({
    fetchImage: async (etag) => {
      requests.push(etag);
      const r = responses.shift();
      if (!r) throw new Error('no more responses');
      if (r instanceof Error) throw r;
      return r;
    },
    setTimer: (fn, ms) => {
      assert.equal(ms, 1000, 'once per second');
      tick = fn;
      return () => (tick = null);
    },
  });
  const images: Array<[number[], number | null]> = [];
  const results: boolean[] = [];
  poller.onImage = (png, seq) => images.push([[...png], seq]);
  const done = new Promise<void>((resolve) => {
    poller.onResult = (ok) => {
      results.push(ok);
      if (results.length === 4) resolve();
      else queueMicrotask(() => tick?.());
    };
  });
  poller.start();
  await done;
  assert.deepEqual(requests, [null, '"abc-5"', '"abc-5"', '"abc-5"']);
  assert.deepEqual(images, [
    [[1], 5],
    [[2], 9],
  ]);
  assert.deepEqual(results, [true, true, false, true]);
  assert.equal(poller.active, true);
  poller.stop();
  assert.equal(poller.active, false);
  assert.equal(tick, null, 'the pending timer is cancelled');
});

test('seqFromEtag reads "<canvas-id>-<seq>" and nothing else', () => {
  assert.equal(seqFromEtag('"3f2a9c-1234"'), 1234);
  assert.equal(seqFromEtag('W/"x-7"'), 7);
  assert.equal(seqFromEtag('"nope"'), null);
  assert.equal(seqFromEtag(null), null);
});
