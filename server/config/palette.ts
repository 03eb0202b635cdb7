/** Built-in palettes, as 0xRRGGBB. A palette index is the value stored in the grid and on the wire. */

/** The 16 colours of r/place 2017. */
export const PALETTE_2017: readonly number[] = Object.freeze([
  0xffffff, 0xe4e4e4, 0x888888, 0x222222, 0xffa7d1, 0xe50000, 0xe59500, 0xa06a42, 0xe5d900, 0x94e044, 0x02be01,
  0x00d3dd, 0x0083c7, 0x0000ea, 0xcf6ee4, 0x820080,
]);

/** The 32 colours of r/place 2022 (final palette). */
export const PALETTE_2022: readonly number[] = Object.freeze([
  0x6d001a, 0xbe0039, 0xff4500, 0xffa800, 0xffd635, 0xfff8b8, 0x00a368, 0x00cc78, 0x7eed56, 0x00756f, 0x009eaa,
  0x00ccc0, 0x2450a4, 0x3690ea, 0x51e9f4, 0x493ac1, 0x6a5cff, 0x94b3ff, 0x811e9f, 0xb44ac0, 0xe4abff, 0xde107f,
  0xff3881, 0xff99aa, 0x6d482f, 0x9c6926, 0xffb470, 0x000000, 0x515252, 0x898d90, 0xd4d7d9, 0xffffff,
]);

export const NAMED_PALETTES: Readonly<Record<string, readonly number[]>> = Object.freeze({
  '2017': PALETTE_2017,
  '2022': PALETTE_2022,
});

/**
 * Parses a palette setting: a built-in name ("2017", "2022") or a comma-separated list of
 * 6-digit hex colours ("ffffff,000000,..."). Throws with a message naming the bad value.
 */
export function parsePalette(text: string): readonly number[] {
  const named = NAMED_PALETTES[text];
  if (named) return named;
  const parts = text.split(',').map((p) => p.trim().replace(/^#/, ''));
  const colours: number[] = [];
  for (const part of parts) {
    if (!/^[0-9a-fA-F]{6}$/.test(part)) {
      throw new Error(`palette colour "${part}" is not 6 hex digits (or use a name: 2017, 2022)`);
    }
    colours.push(parseInt(part, 16));
  }
  if (colours.length < 2 || colours.length > 256) {
    throw new Error(`palette has ${colours.length} colours; it needs 2 to 256`);
  }
  return Object.freeze(colours);
}
