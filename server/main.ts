/**
 * Entry point: read config, start, log the URL, shut down gracefully on SIGINT/SIGTERM.
 * Operator mistakes (bad flag, port in use, unwritable database) print one line and exit 1.
 */
import { loadConfig } from './config/config.ts';
import { startEdge } from './edge.ts';
import { createLogger } from './ops/log.ts';
import { OperatorError } from './ops/operator-error.ts';
import { uwsBackend } from './ops/uws-backend.ts';
import { startServer } from './server.ts';
import { startWriter } from './writer.ts';

async function main(): Promise<void> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof OperatorError) return fatal(err.message);
    throw err;
  }
  if (loaded.kind === 'help') {
    process.stdout.write(`${loaded.text}\n`);
    return;
  }
  const { config } = loaded;
  const log = createLogger(config.logLevel);
  let server: { url: string; close(): Promise<void> };
  try {
    server =
      config.role === 'edge'
        ? await startEdge(config, log)
        : config.role === 'writer'
          ? await startWriter(config, log)
          : await startServer(config, log);
  } catch (err) {
    if (err instanceof OperatorError) return fatal(err.message);
    throw err;
  }
  log.info({ url: server.url, backend: uwsBackend, role: config.role }, `listening on ${server.url}`);

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close().then(
      () => setImmediate(() => process.exit(0)),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

function fatal(message: string): void {
  process.stderr.write(`canvas-server: ${message}\n`);
  process.exitCode = 1;
}

await main();
