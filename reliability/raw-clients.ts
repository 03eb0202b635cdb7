/**
 * Raw TCP clients for abuse: a WebSocket upgrade written by hand (so a client can stop at any byte,
 * never read, or vanish with a reset) and partial HTTP requests. Thousands of these cost the suite
 * little, unlike full WebSocket clients.
 */
import { connect, type Socket } from 'node:net';
import { withTimeout } from './common.ts';

export function upgradeRequest(port: number, path = '/ws'): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
  );
}

/** Opens a TCP connection from `from` (a loopback address); rejects on error or after `timeoutMs`. */
export function tcpConnect(port: number, from: string, timeoutMs = 10_000): Promise<Socket> {
  return withTimeout(
    'TCP connect',
    new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, localAddress: from });
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', () => {}); // later resets are the point of these clients
        resolve(s);
      });
      s.once('error', reject);
    }),
    timeoutMs,
  );
}

/**
 * Completes a WebSocket upgrade on a raw socket: resolves once the 101 response head arrived. What
 * follows it (hello, PNG) is left unread when `read` is false: the socket is paused for good.
 */
export async function rawWebSocket(
  port: number,
  from: string,
  read: boolean,
  timeoutMs = 10_000,
  path = '/ws',
): Promise<Socket> {
  const s = await tcpConnect(port, from, timeoutMs);
  try {
    await withTimeout(
      'WebSocket upgrade',
      new Promise<void>((resolve, reject) => {
        let head = '';
        const onData = (chunk: Buffer) => {
          head += chunk.toString('latin1');
          if (!head.includes('\r\n\r\n')) return;
          s.off('data', onData);
          if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
          else resolve();
        };
        s.on('data', onData);
        s.once('close', () => reject(new Error('closed during the upgrade')));
        s.write(upgradeRequest(port, path));
      }),
      timeoutMs,
    );
  } catch (err) {
    s.destroy();
    throw err;
  }
  if (read) s.on('data', () => {});
  else s.pause(); // never read again: frames pile up in the kernel, then in the server
  return s;
}

/** Reads one whole HTTP/1.1 response (head + Content-Length body) from a fresh connection. */
export function rawHttp(
  port: number,
  from: string,
  request: string | Buffer,
  timeoutMs = 10_000,
): Promise<{ status: number; head: string; closed: boolean }> {
  return withTimeout(
    'raw HTTP request',
    new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, localAddress: from });
      let buf = Buffer.alloc(0);
      const done = (closed: boolean) => {
        const text = buf.toString('latin1');
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
        s.destroy();
        resolve({ status, head: text.slice(0, Math.max(0, text.indexOf('\r\n\r\n'))), closed });
      };
      s.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        const text = buf.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (buf.length >= end + 4 + len) done(false);
      });
      let connected = false;
      s.on('close', () => done(true));
      // After the connect, a reset (the server refusing mid-request) is an answer too: "closed".
      s.on('error', (err) => (connected ? undefined : reject(err)));
      s.once('connect', () => {
        connected = true;
        s.write(request);
      });
    }),
    timeoutMs,
  );
}
