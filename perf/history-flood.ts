/**
 * History flood: does one client asking for build after build keep the builder from others? A real
 * server (server/main.ts in a child, loopback trusted as a proxy so X-Forwarded-For names the
 * client) on the perf/history-memory.ts database; for `--seconds`:
 * - a flooder (one address) asks for a distinct 100-frame 1000 x 1000 timelapse, then the next as soon
 *   as it has an answer (200 or 429), with `--flooders` such loops at once;
 * - 3 other addresses each ask for one distinct timelapse every 5 s, retrying after a 429 as
 *   Retry-After says, and record how long each of their builds took to arrive.
 *
 *   npx tsx perf/history-flood.ts [--seconds 30] [--flooders 4] [--db /tmp/history-mem.db]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loopbackArgs, startServer } from '../testkit/server-process.ts';
import { openHistoryDb } from './lib/history-db.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    flooders: { type: 'string', default: '4' },
    db: { type: 'string', default: '/tmp/history-mem.db' },
    placements: { type: 'string', default: '1500000' },
  },
});
const COUNT = Number(args.placements);
openHistoryDb(args.db, 1000, 1000, COUNT).store.close();
const server = await startServer({
  args: loopbackArgs(args.db, { width: 1000, height: 1000, 'log-level': 'info', 'trusted-proxies': '127.0.0.1' }),
});
const end = performance.now() + Number(args.seconds) * 1000;
let distinct = 0;
const ask = async (ip: string) => {
  const res = await fetch(`${server.http}/api/history/timelapse?to=${COUNT - ++distinct}&frames=100`, {
    headers: { 'X-Forwarded-For': ip },
  });
  await res.arrayBuffer();
  return res;
};
const flood = { ok: 0, busy: 0 };
const flooder = async () => {
  while (performance.now() < end) {
    const res = await ask('198.51.100.66');
    if (res.status === 200) flood.ok++;
    else flood.busy++;
  }
};
const others = { ok: 0, busy: 0, waits: [] as number[] };
const viewer = async (ip: string) => {
  while (performance.now() < end) {
    const t = performance.now();
    for (;;) {
      const res = await ask(ip);
      if (res.status === 200) {
        others.ok++;
        others.waits.push((performance.now() - t) / 1000);
        break;
      }
      others.busy++;
      if (performance.now() > end) break;
      await sleep(Number(res.headers.get('retry-after') ?? 5) * 1000);
    }
    await sleep(5000);
  }
};
try {
  await fetch(`${server.http}/api/history/image?seq=1`);
  await Promise.all([
    ...Array.from({ length: Number(args.flooders) }, flooder),
    viewer('203.0.113.1'),
    viewer('203.0.113.2'),
    viewer('203.0.113.3'),
  ]);
  const w = others.waits.sort((a, b) => a - b);
  console.log(
    `${args.seconds} s, ${args.flooders} flood loops from one address: flooder ${flood.ok} builds, ${flood.busy} x 429; ` +
      `3 other addresses: ${others.ok} builds, ${others.busy} x 429, wait for a build ${w.map((v) => v.toFixed(1)).join(' ')} s`,
  );
} finally {
  await server.kill();
}
