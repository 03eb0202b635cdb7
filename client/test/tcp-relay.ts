/**
 * A TCP relay with a fixed address in front of a server that may die and come back on another port,
 * like a load balancer. The e2e restart test needs it: this uWebSockets.js build listens without
 * SO_REUSEADDR, so after a killed server's connections leave TIME_WAIT sockets behind, a new server
 * cannot bind the same port for about a minute. The page keeps one URL (the relay's) throughout.
 */
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private backendPort = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(backendPort: number): Promise<TcpRelay> {
    const server = createServer();
    const relay = new TcpRelay(server);
    relay.backendPort = backendPort;
    server.on('connection', (client) => relay.pipe(client));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return relay;
  }

  get port(): number {
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('relay is not listening');
    return addr.port;
  }

  /** New connections go to this port from now on. */
  setBackend(port: number): void {
    this.backendPort = port;
  }

  private pipe(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.backendPort });
    this.sockets.add(client).add(upstream);
    // Either side ending (or failing, e.g. the backend is down) ends both, as a dead server would.
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}
