/**
 * Whole numbers with thousands separators ("12,345"), written by hand: the first
 * `toLocaleString` of a page sets up the browser's number formatting, which cost the hello handler
 * ~100 ms on a phone-class CPU (a 4x throttle) in the middle of loading a big canvas.
 */
export function groupDigits(n: number): string {
  const digits = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? `-${out}` : out;
}
