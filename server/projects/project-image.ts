/**
 * A project's picture: a PNG whose every opaque pixel is exactly a palette colour, turned into the
 * target the project index compares placements with (one palette index per pixel, NONE where the
 * PNG is transparent). Decoded with upng-js (any colour type and bit depth it reads). No I/O.
 */
import UPNG from 'upng-js';

/** A target pixel that is not part of the project (transparent in the PNG). */
export const NONE = 255;

export interface ProjectTarget {
  width: number;
  height: number;
  /** width x height palette indices, row by row; NONE: not part of the project. */
  pixels: Uint8Array;
  /** Pixels that are part of the project. */
  total: number;
}

export type ImageRefusal = 'bad_image' | 'image_palette' | 'image_too_large';

export type TargetResult = { ok: true; target: ProjectTarget } | { ok: false; code: ImageRefusal; message: string };

/** PNG files start with these 8 bytes (RFC 2083 3.1). */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from IHDR, read before decoding so a huge image is refused without inflating it. */
function headerSize(png: Uint8Array): { width: number; height: number } | undefined {
  if (png.length < 24 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * The target of `png` for `palette` (0xRRGGBB), refused when it is not a PNG (`bad_image`), has more
 * than `maxPixels` pixels (width x height, `image_too_large`), or an opaque pixel whose colour is not
 * in the palette or is only partly transparent (`image_palette`).
 */
export function decodeTarget(png: Uint8Array, palette: readonly number[], maxPixels: number): TargetResult {
  const size = headerSize(png);
  if (!size) return { ok: false, code: 'bad_image', message: 'image is not a PNG' };
  const { width, height } = size;
  if (width < 1 || height < 1) return { ok: false, code: 'bad_image', message: 'image has no pixels' };
  if (width * height > maxPixels) {
    return {
      ok: false,
      code: 'image_too_large',
      message: `image is ${width} x ${height}: at most ${maxPixels} pixels per project`,
    };
  }
  let rgba: Uint8Array;
  try {
    const copy = new Uint8Array(png).buffer; // a copy: upng reads a whole ArrayBuffer (a Buffer may be a pool slice)
    const image = UPNG.decode(copy);
    if (image.width !== width || image.height !== height) throw new Error('size');
    const frame = UPNG.toRGBA8(image)[0];
    if (!frame || frame.byteLength < width * height * 4) throw new Error('short');
    rgba = new Uint8Array(frame);
  } catch {
    return { ok: false, code: 'bad_image', message: 'image is not a PNG that decodes' };
  }
  const indexOf = new Map<number, number>();
  palette.forEach((rgb, i) => {
    if (!indexOf.has(rgb)) indexOf.set(rgb, i);
  });
  const pixels = new Uint8Array(width * height).fill(NONE);
  let total = 0;
  for (let i = 0; i < width * height; i++) {
    const a = rgba[i * 4 + 3] as number;
    if (a === 0) continue;
    const rgb = ((rgba[i * 4] as number) << 16) | ((rgba[i * 4 + 1] as number) << 8) | (rgba[i * 4 + 2] as number);
    const index = indexOf.get(rgb);
    if (a !== 255 || index === undefined) {
      const hex = `#${rgb.toString(16).padStart(6, '0')}`;
      return {
        ok: false,
        code: 'image_palette',
        message: `pixel (${i % width}, ${Math.floor(i / width)}) is ${a !== 255 ? `partly transparent (alpha ${a})` : `${hex}, not a palette colour`}`,
      };
    }
    pixels[i] = index;
    total++;
  }
  if (total === 0) return { ok: false, code: 'bad_image', message: 'image has no opaque pixel' };
  return { ok: true, target: { width, height, pixels, total } };
}
