/**
 * Reports of the benchmarks and the reliability suite: tables for Markdown and the terminal, and the
 * generated sections of perf/RESULTS.md. Each section sits between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->`, is replaced on every run (appended the first time), and leaves everything
 * outside its markers, hand-written notes and the other sections, as it was.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export type Rows = readonly (readonly string[])[];

/** Column names written as one Markdown-like string, `'server | req/s | p99 ms'`, or as a list. */
export type Head = string | readonly string[];

const columns = (head: Head): readonly string[] => (typeof head === 'string' ? head.split(' | ') : head);

/** A Markdown table; `|` and line breaks inside cells are escaped so a message cannot break a row. */
export function mdTable(head: Head, rows: Rows): string[] {
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  const names = columns(head);
  return [line(names), `|${names.map(() => '---').join('|')}|`, ...rows.map(line)];
}

/** The same table as aligned plain text, for the terminal. */
export function textTable(head: Head, rows: Rows): string {
  const names = columns(head);
  const widths = names.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(names), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `lines` wrapped in the markers of section `name`. */
export function section(name: string, lines: readonly string[]): string {
  return [`<!-- ${name}:start -->`, ...lines, `<!-- ${name}:end -->`].join('\n');
}

/** Replaces section `name` of the Markdown file at `path` by `lines` (appends it when absent). */
export function writeSection(path: string, name: string, lines: readonly string[]): void {
  const text = section(name, lines);
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const a = old.indexOf(`<!-- ${name}:start -->`);
  const end = `<!-- ${name}:end -->`;
  const b = old.indexOf(end);
  writeFileSync(
    path,
    a >= 0 && b > a ? old.slice(0, a) + text + old.slice(b + end.length) : `${old.trimEnd()}\n\n${text}\n`,
  );
}

/**
 * One part of a report as data: a heading, the sentences that say how to read it, a table, and what
 * follows from the table. Every scenario returns its figures as parts; `renderParts` writes them.
 */
export interface Part {
  title?: string;
  /** `####` instead of `###`: a table that belongs to the part before. */
  sub?: boolean;
  text?: readonly string[];
  head?: Head;
  rows?: Rows;
  after?: readonly string[];
}

/** The parts as Markdown lines, each paragraph separated by a blank line. */
export function renderParts(parts: readonly Part[]): string[] {
  return parts.flatMap((p) => [
    ...(p.title ? ['', `${p.sub ? '####' : '###'} ${p.title}`] : []),
    ...(p.text?.length ? ['', p.text.join(' ')] : []),
    ...(p.head && p.rows ? ['', ...mdTable(p.head, p.rows)] : []),
    ...(p.after ?? []).flatMap((line) => ['', line]),
  ]);
}
