/**
 * Flags between the harness and its load generators (children pinned to the load CPU, each
 * printing JSON lines): written from an object, read back into an object of the same shape.
 */
import { parseArgs } from 'node:util';

export type Flags = Readonly<Record<string, string | number>>;

/** `{ url: 'ws://...', rate: 5 }` as `--url ws://... --rate 5`. */
export const toArgv = (flags: Flags): string[] => Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]);

/**
 * This process's flags, each typed like its default (numbers parsed); exits with 2 when `--url` is
 * not a loopback WebSocket URL (the generators are for 127.0.0.1 only), and with 3 once it has run
 * for `--timeout-seconds`, so a generator whose harness died never outlives it for long.
 */
export function readFlags<T extends Record<string, string | number>>(name: string, defaults: T): T {
  const options = Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({ options });
  const out: Record<string, string | number> = { ...defaults };
  for (const [k, v] of Object.entries(values))
    if (typeof v === 'string') out[k] = typeof defaults[k] === 'number' ? Number(v) : v;
  if (!String(out.url).startsWith('ws://127.0.0.1:')) {
    process.stderr.write(`${name}: --url must be ws://127.0.0.1:PORT/ws (loopback only)\n`);
    process.exit(2);
  }
  const limit = Number(out['timeout-seconds']);
  if (limit > 0)
    setTimeout(() => {
      process.stderr.write(`${name}: gave up after ${limit} s\n`);
      process.exit(3);
    }, limit * 1000).unref();
  return out as T;
}

/** Prints one JSON line for the harness. */
export const emit = (obj: object): boolean => process.stdout.write(`${JSON.stringify(obj)}\n`);
