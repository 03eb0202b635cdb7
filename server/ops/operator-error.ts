/**
 * A failure the operator fixes, not a bug: a bad flag or environment value, a port in use, a
 * database that cannot be opened or holds another canvas, the slow uWS fallback without consent.
 * main.ts prints its message as one line and exits 1; anything else is a bug and keeps its stack.
 */
export class OperatorError extends Error {}

/** The URL to print: a wildcard listen address is shown as localhost. */
export function shownUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `http://${shown}:${port}`;
}
