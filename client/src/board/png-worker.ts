/**
 * The PNG decoder worker (png-decoder.ts says why): decodes each canvas PNG it is sent and transfers
 * the indices and pixels back. Bundled on its own by `npm run build` into client/dist/png-worker.js.
 */
import { type DecodeReply, type DecodeRequest, decodeSnapshot } from './png-decoder.ts';

/** The worker global's part used here (the client's tsconfig has the DOM lib, not WebWorker). */
interface WorkerScope {
  addEventListener(type: 'message', listener: (ev: MessageEvent<DecodeRequest>) => void): void;
  postMessage(message: DecodeReply, transfer: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.addEventListener('message', (ev) => {
  const { id, png } = ev.data;
  decodeSnapshot(png).then(
    (snapshot) => scope.postMessage({ id, ok: true, snapshot }, [snapshot.indices.buffer, snapshot.pixels.buffer]),
    (err: unknown) => scope.postMessage({ id, ok: false, error: String(err) }, []),
  );
});
