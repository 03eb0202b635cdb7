/** The RESULTS.md section of the tick-encode scenario. */
import type { BenchResults } from './budgets.ts';
import type { LevelResult } from './scenarios/encode.ts';
import { mdTable as table } from '../../testkit/report.ts';
import { n0, n2 } from '../../testkit/format.ts';

export function encodeSection(r: BenchResults): string[] {
  const c = r.config;
  const L: string[] = [];
  if (r.encode) {
    const e = r.encode;
    L.push('', `### Tick encode (${e.width} x ${e.height}, ${e.colours} colours)`, '');
    L.push(
      `Canvas content: ${e.content}. Median of N runs after warm-up; ` +
        `in-process on CPU ${c.loadCpu} (no server running).`,
      '',
    );
    L.push(
      ...table(
        'encoder | N | event-loop thread CPU ms | sync part ms | loop busy ms | wall ms | total CPU ms | bytes | output',
        [
          [
            `ours: PngEncoder, zlib level ${e.ours.level} (default), deflate in libuv's pool`,
            String(e.ours.runs),
            n2(e.ours.loopCpuMs),
            `${n2(e.ours.packMs)} (packScanlines)`,
            n2(e.ours.loopBusyMs),
            n2(e.ours.wallMs),
            n2(e.ours.cpuMs),
            n0(e.ours.bytes),
            `indexed, 4-bit; decodes to the grid: ${e.ours.roundTrip ? 'yes' : 'NO'}`,
          ],
          [
            `UPNG.encode([rgba], w, h, cnum=${e.upng.cnum})`,
            String(e.upng.runs),
            n2(e.upng.loopCpuMs),
            `${n2(e.upng.wallMs)} (all of it)`,
            n2(e.upng.wallMs),
            n2(e.upng.wallMs),
            n2(e.upng.cpuMs),
            n0(e.upng.bytes),
            `colour type ${e.upng.ctype}, ${e.upng.depth}-bit; decodes to the grid: ${e.upng.roundTrip ? 'yes' : 'NO'}`,
          ],
        ],
      ),
    );
    L.push('', '#### zlib levels on the same scanlines', '');
    const ref = e.levels.find((l) => l.how === 'deflateSync');
    const levelRow = (name: string, l: LevelResult) => [
      name,
      String(l.runs),
      n0(l.bytes),
      `${(l.bytes / (ref?.bytes ?? NaN)).toFixed(3)}x`,
      n2(l.cpuMs),
      n2(l.loopCpuMs),
      n2(l.syncMs),
    ];
    L.push(
      ...table(
        'encode | N | PNG bytes | bytes / level 9 | CPU ms per encode (all threads) | event-loop thread CPU ms | sync call ms (loop blocked)',
        [
          levelRow(`PngEncoder level ${e.ours.level} (server default)`, {
            level: e.ours.level,
            how: 'PngEncoder',
            runs: e.ours.runs,
            bytes: e.ours.bytes,
            cpuMs: e.ours.cpuMs,
            loopCpuMs: e.ours.loopCpuMs,
            syncMs: e.ours.syncMs,
          }),
          ...e.levels.map((l) =>
            levelRow(
              l.how === 'PngEncoder'
                ? `PngEncoder level ${l.level}`
                : `node:zlib deflateSync level ${l.level} of the same packed scanlines (all on the calling thread)`,
              l,
            ),
          ),
        ],
      ),
    );
    L.push(
      '',
      '*Sync call*: wall time of `encoder.encode(grid)` until it returns its promise (packing the scanlines and ' +
        'handing deflate to the pool): the block a tick puts on the event loop for its encode (budget <= 2 ms), ' +
        "with libuv's pool on the same CPU as the loop, as on a one-CPU server, where the deflate thread the call " +
        'wakes preempts the loop during it' +
        (e.ours.otherCpu === undefined
          ? '. '
          : `; with every other thread moved to CPU ${e.ours.otherCpu} (idle then) it is ` +
            `${n2(e.ours.syncOtherCpuMs)} ms at level ${e.ours.level}, the loop's own work. `) +
        'The CRC and concatenation after the deflate run later, as separate short blocks ' +
        '(counted in the event-loop thread CPU figure).',
    );
    L.push(
      '',
      `UPNG.encode / ours: event-loop thread CPU ${(e.upng.loopCpuMs / e.ours.loopCpuMs).toFixed(1)}x, ` +
        `total CPU ${(e.upng.cpuMs / e.ours.cpuMs).toFixed(1)}x, wall ${(e.upng.wallMs / e.ours.wallMs).toFixed(1)}x.`,
      '',
    );
    L.push(
      '- Event-loop thread CPU: CPU time of the main thread only (/proc/self/task/PID/schedstat) ' +
        'read around all N runs, divided by N: packing, handing deflate to the pool, CRC and concatenation. ' +
        'This is the figure for "CPU on the event loop".',
    );
    L.push('- Sync part: wall time of `packScanlines`, the synchronous call inside `encode` (median).');
    L.push(
      '- Loop busy: `performance.eventLoopUtilization().active` across `await encode()` (median), in wall time; ' +
        "on one CPU it also counts time the deflate thread preempts the loop, so it exceeds the loop's own CPU.",
    );
    L.push(
      '- Total CPU: `process.cpuUsage()` across `await encode()` (median), all threads, ' +
        'so it includes the thread-pool deflate; wall: `await encode()` end to end.',
    );
    L.push(
      '- UPNG gets RGBA built once from the palette, outside the timing; ' +
        'it is synchronous, so all of it runs on the event loop.',
    );
  }
  return L;
}
