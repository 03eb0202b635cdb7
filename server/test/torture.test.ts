/**
 * The fast run of the reliability suite's first three parts (reliability/README.md; the full run
 * is `npm run torture`): a few SIGKILLs with every ack checked after restart (a writer alone, through
 * edges, and a leader with a standby taking over), 10,000 hostile frames,
 * and slow and abusive clients. Each part runs the real CLI as a child process on 127.0.0.1. A failure
 * names its seed: `npm run torture -- --fast --part <part> --seed <seed>` repeats it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PartResult } from '../../reliability/common.ts';
import { runCrash } from '../../reliability/crash.ts';
import { runCrashThroughEdges } from '../../reliability/crash-edge.ts';
import { runFailover } from '../../reliability/failover.ts';
import { runHostile } from '../../reliability/hostile.ts';
import { runSlowClients } from '../../reliability/slow-clients.ts';

const seed = Number(process.env['TORTURE_SEED'] ?? Date.now() % 1_000_000);

function assertHeld(r: PartResult, part: string): void {
  const figures = r.figures.map(([k, v]) => `${k}: ${v}`).join('\n  ');
  assert.deepEqual(
    r.failures,
    [],
    `${r.part} (repeat: npm run torture -- --fast --part ${part} --seed ${seed})\n  ${figures}`,
  );
}

test('torture 1: every acked placement survives SIGKILL; the grid equals the history; integrity ok', {
  timeout: 120_000,
}, async () => {
  assertHeld(await runCrash('fast', seed), 'crash');
});

test('torture 1b: through two edges and Redis, every placement an edge acked survives SIGKILL of the writer', {
  timeout: 120_000,
}, async () => {
  assertHeld(await runCrashThroughEdges('fast', seed), 'crash-edge');
});

test('torture 1c: two writers and two edges, the leader SIGKILLed again and again: the standby leads, no acked placement lost', {
  timeout: 120_000,
}, async () => {
  assertHeld(await runFailover('fast', seed), 'failover');
});

test('torture 2: 10,000 hostile frames each get the promised error or close; only valid placements change the grid', {
  timeout: 120_000,
}, async () => {
  assertHeld(await runHostile('fast', seed), 'hostile');
});

test('torture 3: never-reading subscribers, floods and churn: ' +
  'bounded RSS, readers get every tick, new clients get in', {
  timeout: 120_000,
}, async () => {
  assertHeld(await runSlowClients('fast', seed), 'slow');
});
