/**
 * Palette colours as the 32-bit words of an ImageData's pixels (RGBA in memory, so the word's byte
 * order is the platform's). Shared by the renderer and the PNG decoder worker, which converts a
 * snapshot to pixels off the main thread: both must write the same words.
 */
export function pixelWords(palette: readonly number[]): Uint32Array<ArrayBuffer> {
  const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  return Uint32Array.from(palette, (rgb) => {
    const r = (rgb >> 16) & 255;
    const g = (rgb >> 8) & 255;
    const b = rgb & 255;
    return littleEndian
      ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
      : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
  });
}

/** The pixel words of palette indices (what an ImageData holds for them). */
export function indicesToPixels(indices: Uint8Array, words: Uint32Array): Uint32Array<ArrayBuffer> {
  const pixels = new Uint32Array(indices.length);
  for (let i = 0; i < indices.length; i++) pixels[i] = words[indices[i] as number] ?? 0;
  return pixels;
}
