/** --allowed-origins: which pages may open the WebSocket, checked on the upgrade request. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestServer } from '../../testkit/fixture.ts';

type Upgrade = { opened: true } | { opened: false; status: number; body: string };

/** Opens /ws with the given Origin header (none when undefined) and reports how the server answered. */
function upgrade(url: string, origin: string | undefined): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, origin === undefined ? {} : { origin });
    socket.once('open', () => {
      socket.once('close', () => resolve({ opened: true }));
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
    });
    socket.once('error', reject);
  });
}

test('with --allowed-origins, pages from other origins get 403 and the listed origin connects', async (t) => {
  const ts = await startTestServer({
    width: 10,
    height: 10,
    allowedOrigins: ['https://canvas.example.com', 'http://localhost:8080'],
  });
  t.after(() => ts.dispose());
  assert.deepEqual(await upgrade(ts.ws, 'https://canvas.example.com'), { opened: true });
  assert.deepEqual(await upgrade(ts.ws, 'http://localhost:8080'), { opened: true });
  for (const other of [
    'https://evil.example',
    'https://canvas.example.com.evil.example',
    'http://canvas.example.com',
    'https://canvas.example.com:8443',
    'null',
  ]) {
    const answer = await upgrade(ts.ws, other);
    assert.equal(answer.opened, false, other);
    assert.equal(!answer.opened && answer.status, 403, other);
    assert.match(!answer.opened ? answer.body : '', /Origin not allowed/, other);
  }
});

test('with --allowed-origins, a client sending no Origin (not a browser) connects', async (t) => {
  const ts = await startTestServer({ width: 10, height: 10, allowedOrigins: ['https://canvas.example.com'] });
  t.after(() => ts.dispose());
  assert.deepEqual(await upgrade(ts.ws, undefined), { opened: true });
});

test('without --allowed-origins any Origin may open the WebSocket', async (t) => {
  const ts = await startTestServer({ width: 10, height: 10 });
  t.after(() => ts.dispose());
  assert.deepEqual(await upgrade(ts.ws, 'https://anywhere.example'), { opened: true });
  assert.deepEqual(await upgrade(ts.ws, undefined), { opened: true });
});
