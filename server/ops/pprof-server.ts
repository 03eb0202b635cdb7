/**
 * Go-style profiling endpoints (off by default): a second uWS app bound to 127.0.0.1 only, so
 * `go tool pprof -http=:6061 http://localhost:6060/debug/pprof/profile?seconds=30` works as it does
 * against a Go server. Profiles are pprof protobuf, gzipped, from @datadog/pprof (V8's sampling
 * CPU profiler and sampling heap profiler).
 */
import { encode, heap, time } from '@datadog/pprof';
import type { HttpResponse, us_listen_socket } from 'uWebSockets.js';
import type { Logger } from './log.ts';
import { HttpGuard, Router, type Handler } from '../http/guard.ts';
import { trackAborted, type Aborted } from '../http/send.ts';
import { sendCode, sendError, writeAnswer } from '../http/answer.ts';
import { HttpCode } from '../http/status.ts';
import { listenPort, uws } from './uws-backend.ts';

const MAX_SECONDS = 300;
/** Heap sampling: one sample per 512 KiB allocated on average, stacks up to 64 frames. */
const HEAP_INTERVAL_BYTES = 512 * 1024;
const HEAP_STACK_DEPTH = 64;

export interface PprofServer {
  port: number;
  close(): void;
}

function sendProfile(res: HttpResponse, state: Aborted, name: string, body: Buffer): void {
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename="${name}.pb.gz"`,
    'Cache-Control': 'no-store',
  };
  writeAnswer(res, { status: '200 OK', headers, body }, state);
}

export async function startPprofServer(port: number, log: Logger): Promise<PprofServer> {
  heap.start(HEAP_INTERVAL_BYTES, HEAP_STACK_DEPTH);
  let cpuBusy = false;
  const app = uws.App();

  // Through the same guard as the main app: no exception may leave a uWS callback.
  const router = new Router(app, new HttpGuard(log));
  const profile: Handler = (res, req) => {
    const state = trackAborted(res); // before any await: res dies with the connection
    const text = req.getQuery('seconds') ?? '30';
    const seconds = Number(text);
    if (!/^\d+$/.test(text) || seconds < 1 || seconds > MAX_SECONDS) {
      return sendCode(res, state, HttpCode.BAD_REQUEST, `seconds must be an integer 1..${MAX_SECONDS}`);
    }
    // V8 has one CPU profiler per isolate: refuse overlapping captures instead of corrupting one.
    if (cpuBusy) return sendCode(res, state, HttpCode.BUSY, 'a CPU profile is already being captured');
    cpuBusy = true;
    time
      .profile({ durationMillis: seconds * 1000 })
      .then((profile) => encode(profile))
      .then(
        (body) => sendProfile(res, state, 'profile', body),
        (err: unknown) => {
          log.error({ err }, 'cpu profile failed');
          sendCode(res, state, HttpCode.INTERNAL, 'profile failed');
        },
      )
      .finally(() => (cpuBusy = false));
  };
  router.route('/debug/pprof/profile', { get: profile });

  const heapProfile: Handler = (res) => {
    const state = trackAborted(res);
    encode(heap.profile()).then(
      (body) => sendProfile(res, state, 'heap', body),
      (err: unknown) => {
        log.error({ err }, 'heap profile failed');
        sendCode(res, state, HttpCode.INTERNAL, 'profile failed');
      },
    );
  };
  router.route('/debug/pprof/heap', { get: heapProfile });
  router.any('/*', (res) =>
    sendError(res, HttpCode.NOT_FOUND, 'try /debug/pprof/profile?seconds=N or /debug/pprof/heap'),
  );

  const socket = await new Promise<us_listen_socket | false>((resolve) => app.listen('127.0.0.1', port, resolve));
  if (!socket) {
    heap.stop();
    throw new Error(`cannot listen for pprof on 127.0.0.1:${port}`);
  }
  return {
    port: listenPort(socket),
    close: () => {
      uws.us_listen_socket_close(socket);
      heap.stop();
    },
  };
}
