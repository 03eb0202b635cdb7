/** The RESULTS.md section of the stall scenario (subscribers that stop reading). */
import { stallPhases, type BenchResults } from './budgets.ts';
import { mdTable as table } from '../../testkit/report.ts';
import { n0, n1 } from '../../testkit/format.ts';

export function stallSection(r: BenchResults): string[] {
  const st = r.stall;
  if (!st) return [];
  const o = st.options;
  const mb = (pages: number) => n0((pages * st.pageBytes) / 1e6);
  const L = ['', '### Subscribers that stop reading (figures, not budgets)', ''];
  L.push(
    `Our server restarted on the same database with \`--stall-ms ${o.stallMs}\` (default 5000; shorter so the run ` +
      `stays short), otherwise defaults. perf/lib/load/stall-swarm.ts (CPU ${o.loadCpu}) places ${n0(o.rate)} px/s ` +
      `over one socket that reads, and opens ${n0(o.subscribers)} PNG-stream subscribers that pause their TCP ` +
      'socket as soon as they are open (nothing read from then on). Server RSS (VmRSS) and the `TCP:` line of ' +
      `/proc/net/sockstat (machine-wide; \`mem\` in pages of ${n0(st.pageBytes)} bytes, shown as MB) every 250 ms; ` +
      '*closed* = canvas_ws_stalled_total + canvas_ws_evicted_total from /metrics. ' +
      '*User-space held* is canvas_ws_buffered_bytes (outbox queues count shared frames once per socket).',
    '',
  );
  L.push(
    ...table(
      'reading | at s | server RSS MiB | TCP inuse | TCP orphan | TCP tw | TCP mem pages | TCP mem MB | server connections | user-space held MiB',
      stallPhases(st).map(([name, x]) => [
        name,
        n1(x.t),
        n0(x.rssMiB),
        n0(x.tcp.inuse),
        n0(x.tcp.orphan),
        n0(x.tcp.tw),
        n0(x.tcp.memPages),
        mb(x.tcp.memPages),
        n0(x.connections),
        n1(x.bufferedBytes / 2 ** 20),
      ]),
    ),
  );
  const held = st.peak.tcp.memPages - st.before.tcp.memPages;
  const gone =
    st.orphansGoneSeconds === undefined
      ? `${n0(st.after.tcp.orphan - st.before.tcp.orphan)} more orphans than before were left ${o.afterSeconds} s later`
      : `the orphans were back to the count before ${n1(st.orphansGoneSeconds)} s later`;
  const pl = st.placer;
  L.push(
    '',
    `${n0(st.ready)} of ${n0(o.subscribers)} opened in ${n1(st.connectSeconds)} s; ` +
      (st.closed
        ? `the server had closed all of them ${n1(st.closeSeconds)} s after the last one opened ` +
          `(${n0(st.stalled)} for stalling, ${n0(st.evicted)} by --max-buffered-total); `
        : `**the server did not close all of them** (${n0(st.stalled)} stalled, ${n0(st.evicted)} evicted); `) +
      `${gone}. Kernel TCP memory at the peak: ${mb(held)} MB over the reading before, ` +
      `${n0((held * st.pageBytes) / 1024 / Math.max(1, st.ready))} KiB per stopped reader. ` +
      (pl
        ? `The placer meanwhile: ${n0(pl.acks)} acks, ack p50 / p99 / max ${n1(pl.ackMs.p50)} / ${n1(pl.ackMs.p99)} / ` +
          `${n1(pl.ackMs.max)} ms. `
        : '') +
      `Worst event-loop delay in a 250 ms sample while connected: ${n1(st.peak.loopLagMaxMs - 10)} ms.`,
  );
  L.push(
    '',
    `Timeline (s: orphans / TCP mem MB / server RSS MiB): ${st.timeline
      .map((x) => `${n0(x.t)}: ${n0(x.tcp.orphan)} / ${mb(x.tcp.memPages)} / ${n0(x.rssMiB)}`)
      .join('; ')}.`,
  );
  return L;
}
