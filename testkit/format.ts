/**
 * Numbers as the benchmark and reliability reports print them (RESULTS.md, the terminal). A figure
 * that could not be measured (NaN, or null from JSON) reads "n/a", never "NaN".
 */

/** Whole number with thousands separators: 12,345. */
export const n0 = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
/** One decimal: 12.3. */
export const n1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
/** Two decimals: 12.35. */
export const n2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
/** A share (0..1) as a whole percentage: 0.423 -> 42%. */
export const pct = (share: number): string => `${Math.round(share * 100)}%`;

/** Exactly `digits` decimals with thousands separators: 1,234.5. */
export const grouped = (n: number, digits = 1): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

/** As precise as it needs to be: an integer whole (12,345), anything else with at most two decimals. */
export function num(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Bytes in MiB with one decimal: "12.3 MiB". */
export function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
