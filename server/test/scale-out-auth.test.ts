/**
 * A Redis that requires a password (requirepass), as the README asks for any Redis reachable beyond
 * loopback: writer and edge take the credentials in their --redis URL; a client without them can
 * neither read the canvas keys nor publish forged requests.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { Socket } from 'node:net';
import { startEdge, startWriter } from '../../testkit/cluster.ts';
import { httpRequest, tempDir } from '../../testkit/fixture.ts';
import { imageAtLeast } from '../../testkit/image-probe.ts';
import { startRedis } from '../../testkit/redis.ts';

test('writer and edge work through a password-protected Redis; a client without the password is refused', async (t) => {
  const redis = await startRedis(undefined, undefined, 'c4nvas-s3cret');
  const dir = tempDir();
  const writer = await startWriter(redis.url, `${dir}/canvas.db`, { width: 16, height: 16, 'tick-ms': 200 });
  const edge = await startEdge(redis.url, { 'tick-ms': 200 });
  t.after(async () => {
    await Promise.all([edge.stop(), writer.stop()]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const placed = await httpRequest(`${edge.http}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify({ x: 3, y: 4, color: 5 }),
  });
  assert.equal(placed.status, 200, placed.body);
  await imageAtLeast(edge.http, Number(placed.json().seq));

  // A raw client without credentials: every command is refused.
  const replies = await new Promise<string>((resolve, reject) => {
    const sock = new Socket();
    let text = '';
    sock.on('data', (d) => {
      text += d.toString();
      if (text.split('\r\n').length > 2) {
        sock.destroy();
        resolve(text);
      }
    });
    sock.on('error', reject);
    sock.connect(redis.port, '127.0.0.1', () => sock.write('GET canvas:meta\r\nPUBLISH canvas:requests forged\r\n'));
  });
  const lines = replies.split('\r\n').filter((l) => l !== '');
  assert.equal(lines.length, 2, replies);
  for (const line of lines) assert.match(line, /^-NOAUTH/);
});
