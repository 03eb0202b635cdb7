/**
 * At its open file limit the server stops accepting instead of spinning: uWebSockets.js v20.30.0
 * retries a failing accept4 at once, for ever (0.96 cores measured, new clients hanging). A server
 * started with `prlimit --nofile=200` is flooded with idle half-requests (a slowloris) from more
 * connections than it has descriptors: its CPU stays low (0.007 cores measured with the guard), a new
 * client is refused at once rather than left hanging, and once the connections are gone it serves again.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { tempDir } from '../../testkit/fixture.ts';
import { isExecutable } from '../../testkit/processes.ts';
import { loopbackArgs, startServer } from '../../testkit/server-process.ts';

const PRLIMIT = '/usr/bin/prlimit';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('at the open file limit the server stops accepting instead of spinning, and accepts again after', async (t) => {
  assert.ok(isExecutable(PRLIMIT), `${PRLIMIT} (util-linux) is needed`);
  const dir = tempDir();
  const server = await startServer({
    args: loopbackArgs(`${dir}/canvas.db`, { width: 32, height: 32 }),
    wrap: (command) => [PRLIMIT, '--nofile=200:200', '--', ...command],
  });
  const sockets: Socket[] = [];
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (let i = 0; i < 260; i++) {
    const s = connect(server.port, '127.0.0.1', () => s.write('GET /image HTTP/1.1\r\n'));
    s.on('error', () => {}); // refused or reset once the server stops accepting
    sockets.push(s);
  }
  await sleep(1000);
  const pid = server.proc.pid as number;
  const before = cpuSeconds(pid);
  const started = performance.now();
  await sleep(2000);
  const cores = (cpuSeconds(pid) - before) / ((performance.now() - started) / 1000);
  assert.ok(cores < 0.25, `the server used ${cores.toFixed(2)} cores while at its file limit`);

  const meanwhile = await fetch(`${server.http}/image`).then(
    (res) => `status ${res.status}`,
    (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
  );
  assert.equal(meanwhile, 'ECONNREFUSED', 'a new client is refused at once, not left waiting');
  assert.ok(server.lines().some((l) => l.includes('not accepting new connections')));

  for (const s of sockets) s.destroy();
  const deadline = Date.now() + 10_000;
  let status = 0;
  while (status !== 200 && Date.now() < deadline) {
    status = await fetch(`${server.http}/image`).then(
      (res) => res.status,
      () => 0,
    );
    if (status !== 200) await sleep(100);
  }
  assert.equal(status, 200, 'serves again once the connections are gone');
});
