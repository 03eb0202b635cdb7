/** Palette colours as CSS values and human names (for button labels and the cursor readout). */

/** Names of the r/place 2017 and 2022 palette colours; other colours are named by their hex code. */
const NAMES: ReadonlyMap<number, string> = new Map([
  [0xffffff, 'white'],
  [0xe4e4e4, 'light grey'],
  [0x888888, 'grey'],
  [0x222222, 'black'],
  [0xffa7d1, 'pink'],
  [0xe50000, 'red'],
  [0xe59500, 'orange'],
  [0xa06a42, 'brown'],
  [0xe5d900, 'yellow'],
  [0x94e044, 'lime'],
  [0x02be01, 'green'],
  [0x00d3dd, 'cyan'],
  [0x0083c7, 'blue'],
  [0x0000ea, 'dark blue'],
  [0xcf6ee4, 'magenta'],
  [0x820080, 'purple'],
  [0x6d001a, 'burgundy'],
  [0xbe0039, 'dark red'],
  [0xff4500, 'red'],
  [0xffa800, 'orange'],
  [0xffd635, 'yellow'],
  [0xfff8b8, 'pale yellow'],
  [0x00a368, 'dark green'],
  [0x00cc78, 'green'],
  [0x7eed56, 'light green'],
  [0x00756f, 'dark teal'],
  [0x009eaa, 'teal'],
  [0x00ccc0, 'light teal'],
  [0x2450a4, 'dark blue'],
  [0x3690ea, 'blue'],
  [0x51e9f4, 'light blue'],
  [0x493ac1, 'indigo'],
  [0x6a5cff, 'periwinkle'],
  [0x94b3ff, 'lavender'],
  [0x811e9f, 'dark purple'],
  [0xb44ac0, 'purple'],
  [0xe4abff, 'pale purple'],
  [0xde107f, 'magenta'],
  [0xff3881, 'pink'],
  [0xff99aa, 'light pink'],
  [0x6d482f, 'dark brown'],
  [0x9c6926, 'brown'],
  [0xffb470, 'beige'],
  [0x000000, 'black'],
  [0x515252, 'dark grey'],
  [0x898d90, 'grey'],
  [0xd4d7d9, 'light grey'],
]);

export function cssColour(rgb: number): string {
  return `#${rgb.toString(16).padStart(6, '0')}`;
}

export function colourName(rgb: number): string {
  return NAMES.get(rgb) ?? cssColour(rgb);
}

/** Dark text on light colours, light text on dark ones (relative luminance, roughly). */
export function isLight(rgb: number): boolean {
  const r = (rgb >> 16) & 255;
  const g = (rgb >> 8) & 255;
  const b = rgb & 255;
  return 0.299 * r + 0.587 * g + 0.114 * b > 150;
}
