/**
 * One machine, every core: a writer and N edges against a given Redis, each its own process.
 *
 *   npm run cluster -- --redis redis://127.0.0.1:6379 --edges 2 --port 8080 [-- server flags...]
 *
 * The edges share --port (SO_REUSEPORT: the kernel spreads connections across them); the writer
 * listens on --writer-port on 127.0.0.1 only (for moderation and for its own health checks: clients
 * go to the edges). Flags after `--` go to every process (e.g. --admin-token, --trusted-proxies);
 * --db and canvas flags (--width, --palette, ...) matter only on the writer, whose canvas the edges
 * take from Redis. Output lines are prefixed with the process name. SIGINT/SIGTERM stop the edges,
 * then the writer (which flushes and acknowledges queued placements first). If any process exits on
 * its own, the others are stopped and this exits 1: a supervisor (systemd, a container runtime)
 * should restart the whole group, or run each role as its own service instead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: {
    redis: { type: 'string', default: process.env['REDIS_URL'] ?? '' },
    edges: { type: 'string', default: '2' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '0.0.0.0' },
    'writer-port': { type: 'string', default: '8081' },
    db: { type: 'string', default: './data/canvas.db' },
  },
  allowPositionals: true,
});

const edgeCount = Number(values.edges);
if (!values.redis || !Number.isInteger(edgeCount) || edgeCount < 1) {
  process.stderr.write(
    'usage: npm run cluster -- --redis redis://HOST:PORT [--edges N] [--port P] [-- server flags]\n',
  );
  process.exit(2);
}

const children: ChildProcess[] = [];
let stopping = false;

function start(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args, ...positionals], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr])
    if (stream) createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${name} ${line}\n`));
  child.once('exit', (code, signal) => {
    if (stopping) return;
    process.stdout.write(`${name} exited (${code ?? signal}): stopping the others\n`);
    void stop(1);
  });
  children.push(child);
  return child;
}

async function stop(exitCode: number): Promise<void> {
  stopping = true;
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
  const [writer, ...edges] = children;
  for (const e of edges) e.kill('SIGTERM');
  await Promise.all(edges.map(exited));
  if (writer) {
    writer.kill('SIGTERM');
    await exited(writer);
  }
  process.exit(exitCode);
}

process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

start('writer', [
  '--role',
  'writer',
  '--redis',
  values.redis,
  '--host',
  '127.0.0.1',
  '--port',
  values['writer-port'],
  '--db',
  values.db,
]);
for (let i = 1; i <= edgeCount; i++) {
  start(`edge${i}`, [
    '--role',
    'edge',
    '--redis',
    values.redis,
    '--host',
    values.host,
    '--port',
    values.port,
    '--reuse-port',
  ]);
}
