/**
 * History memory benchmark: the RSS of a real server process (server/main.ts in a child) over
 * repeated distinct large timelapse builds, per allocator setting, side by side in one run.
 *
 *   npx tsx perf/history-memory.ts [--placements 1500000] [--builds 16] [--rounds 1]
 *     [--variants glibc,arena2,jemalloc] [--db /tmp/history-mem.db]
 *
 * Each build asks for a different 100-frame 1000 x 1000 timelapse (a different `to`), so none is
 * served from the cache. Printed per variant: RSS at start, after each build, its peak (VmHWM), and
 * 10 s after the last build; and the server's own V8 heap and external memory (from /metrics).
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { rssBytes } from '../testkit/processes.ts';
import { loopbackArgs, startServer } from '../testkit/server-process.ts';
import { textTable } from '../testkit/report.ts';
import { openHistoryDb } from './lib/history-db.ts';

const { values: args } = parseArgs({
  options: {
    placements: { type: 'string', default: '1500000' },
    builds: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '1' },
    variants: { type: 'string', default: 'glibc,arena2,jemalloc' },
    db: { type: 'string', default: '/tmp/history-mem.db' },
    frames: { type: 'string', default: '100' },
  },
});
const COUNT = Number(args.placements);
const BUILDS = Number(args.builds);
const JEMALLOC = '/lib/x86_64-linux-gnu/libjemalloc.so.2';

const VARIANTS: Record<string, Record<string, string>> = {
  glibc: {},
  arena2: { MALLOC_ARENA_MAX: '2' },
  jemalloc: existsSync(JEMALLOC) ? { LD_PRELOAD: JEMALLOC } : {},
};

const store = openHistoryDb(args.db, 1000, 1000, COUNT).store;
store.close();

const MiB = (v: number) => `${Math.round(v / 1048576)}`;

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function measure(variant: string, round: number): Promise<string[]> {
  const env = VARIANTS[variant];
  if (!env) throw new Error(`unknown variant ${variant}`);
  const server = await startServer({
    args: loopbackArgs(args.db, { width: 1000, height: 1000, 'log-level': 'info' }),
    env,
    name: variant,
  });
  try {
    // A small build first: starts the workers and waits for the keyframe catch-up of startup.
    await (await fetch(`${server.http}/api/history/image?seq=${COUNT}`)).arrayBuffer();
    const start = rssBytes(server.pid);
    const after: number[] = [];
    let buildMs = 0;
    for (let i = 0; i < BUILDS; i++) {
      const t = performance.now();
      const res = await fetch(`${server.http}/api/history/timelapse?to=${COUNT - i}&frames=${args.frames}`);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${variant}: build ${i} answered ${res.status}`);
      buildMs += performance.now() - t;
      after.push(rssBytes(server.pid));
    }
    await sleep(10_000);
    const idle = rssBytes(server.pid);
    const heap = await metric(server.http, 'nodejs_heap_size_used_bytes');
    const external = await metric(server.http, 'nodejs_external_memory_bytes');
    return [
      variant,
      String(round),
      MiB(start),
      after.map(MiB).join(' '),
      MiB(rssBytes(server.pid, 'VmHWM')),
      MiB(idle),
      `${MiB(heap)} / ${MiB(external)}`,
      (buildMs / BUILDS / 1000).toFixed(2),
    ];
  } finally {
    await server.kill();
  }
}

const rows: string[][] = [];
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const variant of args.variants.split(',')) {
    const row = await measure(variant, round);
    console.log(row.join(' | '));
    rows.push(row);
  }
}
console.log(
  `\n${BUILDS} distinct ${args.frames}-frame 1000 x 1000 timelapses over ${COUNT.toLocaleString('en')} placements (MiB)\n`,
);
console.log(
  textTable(
    'allocator | round | RSS start | RSS after each build | peak | RSS 10 s idle | heap / external | s per build',
    rows,
  ),
);
