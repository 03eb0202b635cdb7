/**
 * Projects in tests and benchmarks: a project PNG from palette indices (8-bit RGBA, the plainest PNG:
 * UPNG.encode quantizes to a palette and writes one index past its PLTE for a transparent pixel,
 * which upng-js itself then cannot decode), and
 * every project's progress recounted from a database by plain SQL (the canvas as its placements
 * leave it, compared pixel by pixel with each stored target), the definition server/projects keeps
 * incrementally.
 */
import Database from 'better-sqlite3';
import { crc32, deflateSync } from 'node:zlib';

/** A PNG of `width` x `height` whose pixel is palette colour `at(x, y)`, transparent where it is -1. */
export function projectPng(
  width: number,
  height: number,
  palette: readonly number[],
  at: (x: number, y: number) => number,
): Buffer {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = at(x, y);
      if (c < 0) continue;
      const rgb = palette[c] as number;
      const o = (y * width + x) * 4;
      rgba[o] = rgb >> 16;
      rgba[o + 1] = (rgb >> 8) & 0xff;
      rgba[o + 2] = rgb & 0xff;
      rgba[o + 3] = 255;
    }
  }
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (1 + width * 4) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method variants, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Per project id, {total, done} recounted from the database at `dbPath` (canvas `width` wide). */
export function recountProjects(
  dbPath: string,
  width: number,
  height: number,
): Map<number, { total: number; done: number }> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const grid = new Uint8Array(width * height);
    for (const [x, y, color] of db
      .prepare('SELECT x, y, color FROM placements ORDER BY seq')
      .raw()
      .iterate() as Iterable<[number, number, number]>) {
      grid[y * width + x] = color;
    }
    const out = new Map<number, { total: number; done: number }>();
    const rows = db.prepare('SELECT id, x, y, width, height, target FROM projects').all() as Array<{
      id: number;
      x: number;
      y: number;
      width: number;
      height: number;
      target: Buffer;
    }>;
    for (const p of rows) {
      let total = 0;
      let done = 0;
      for (let ly = 0; ly < p.height; ly++) {
        for (let lx = 0; lx < p.width; lx++) {
          const want = p.target[ly * p.width + lx] as number;
          if (want === 255) continue;
          total++;
          if (grid[(p.y + ly) * width + p.x + lx] === want) done++;
        }
      }
      out.set(p.id, { total, done });
    }
    return out;
  } finally {
    db.close();
  }
}
