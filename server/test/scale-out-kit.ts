/** Shared by the writer/edge tests. */
import { request } from 'node:http';

/**
 * GET /healthz on a new TCP connection (no keep-alive), so with several edges on one port the kernel
 * picks a listener each time; undefined while nothing listens on the port.
 */
export function healthOnNewConnection(port: number): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
