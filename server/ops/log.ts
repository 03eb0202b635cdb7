/** Structured logging (pino, JSON lines on stdout). Log at request/connection boundaries only. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'canvas' } });
}
