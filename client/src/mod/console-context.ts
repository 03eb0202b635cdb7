/** What every panel of the console is given: the API, the clock, and how to say what happened. */
import type { AdminApi } from './admin-api.ts';

export interface ConsoleContext {
  api: AdminApi;
  now(): number;
  /** One line in the top bar: the result of the last action, or why it failed. */
  notify(text: string, kind: 'ok' | 'error'): void;
  /** An action changed something: the audit log (and the watch panel) refresh at once. */
  acted(): void;
}
