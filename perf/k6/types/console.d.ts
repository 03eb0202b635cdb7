// k6 provides console.log/warn/error, but @types/k6 does not declare `console` and the k6 project
// has no DOM or Node types, whose consoles would also bring unrelated globals.
declare const console: {
  log(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
};
