/**
 * A minimal indexed APNG writer, measured against the timelapse's UPNG.encode by
 * `npm run bench:history -- --apng`: each frame is the rectangle that changed, its unchanged cells a
 * transparent palette entry blended over the previous frame (bit depth 8: 17 entries), 8-bit
 * scanlines from canvas/png-encoder.ts deflated by node:zlib. A measurement to decide on, not server code.
 */
import { deflateSync } from 'node:zlib';
import { PngEncoder, pngChunk } from '../../server/canvas/png-encoder.ts';

const u32 = (...values: number[]) => {
  const b = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) b.writeUInt32BE(v, i * 4);
  return b;
};

/** The smallest rectangle holding every cell that differs (1 x 1 when none does). */
function changed(a: Uint8Array, b: Uint8Array, w: number, h: number) {
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  for (let y = 0; y < h; y++)
    for (let x = 0, i = y * w; x < w; x++, i++) {
      if (a[i] === b[i]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  return x1 < 0 ? { x: 0, y: 0, w: 1, h: 1 } : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

export function indexedApng(frames: Uint8Array[], w: number, h: number, palette: readonly number[], delayMs: number) {
  const clear = palette.length;
  const plte = Buffer.from([...palette, 0].flatMap((rgb) => [rgb >> 16, (rgb >> 8) & 255, rgb & 255]));
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', Buffer.concat([u32(w, h), Buffer.from([8, 3, 0, 0, 0])])),
    pngChunk('PLTE', plte),
    pngChunk('tRNS', Buffer.from([...palette.map(() => 255), 0])),
    pngChunk('acTL', u32(frames.length, 0)),
  ];
  const encoder = (rw: number, rh: number) => new PngEncoder(rw, rh, [...palette, 0]);
  let sequence = 0;
  frames.forEach((f, i) => {
    const prev = frames[i - 1];
    const r = prev ? changed(prev, f, w, h) : { x: 0, y: 0, w, h };
    // delay delayMs/1000 s; dispose 0; blend 1 (over) after the first frame: transparent cells keep the previous one
    const timing = Buffer.from([delayMs >> 8, delayMs & 255, 1000 >> 8, 1000 & 255, 0, prev ? 1 : 0]);
    parts.push(pngChunk('fcTL', Buffer.concat([u32(sequence++, r.w, r.h, r.x, r.y), timing])));
    const crop = new Uint8Array(r.w * r.h);
    for (let y = 0; y < r.h; y++) {
      const src = (r.y + y) * w + r.x;
      crop.set(f.subarray(src, src + r.w), y * r.w);
      if (prev) for (let x = 0; x < r.w; x++) if (prev[src + x] === f[src + x]) crop[y * r.w + x] = clear;
    }
    const data = deflateSync(encoder(r.w, r.h).packScanlines(crop), { level: 6 });
    parts.push(prev ? pngChunk('fdAT', Buffer.concat([u32(sequence++), data])) : pngChunk('IDAT', data));
  });
  parts.push(pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}
