/**
 * Which projects cover a pixel: the canvas cut into CHUNK x CHUNK squares, each with the list of
 * projects whose rectangle meets it. A placement looks up one list and tests each project's
 * rectangle and target: with 1,000 projects of ~32 x 32 tiling a 1000 x 1000 canvas a list holds
 * 4-9 projects, and the lookup costs a few hundred ns (perf/RESULTS.md "Projects"). Memory: one array
 * slot per chunk and one entry per (project, chunk) pair, whatever the projects' area. No I/O.
 */
import { NONE } from './project-image.ts';

/** Side of a chunk in pixels: small enough that few projects share one, large enough that lists stay few. */
export const CHUNK = 64;

/** What the index needs of a project. */
export interface Indexed {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** width x height palette indices, NONE where the project has no pixel. */
  readonly target: Uint8Array;
}

export class ProjectIndex<P extends Indexed> {
  private readonly chunksX: number;
  private readonly chunks: Array<P[] | undefined>;

  constructor(width: number, height: number) {
    this.chunksX = Math.ceil(width / CHUNK);
    this.chunks = new Array<P[] | undefined>(this.chunksX * Math.ceil(height / CHUNK));
  }

  add(p: P): void {
    this.eachChunk(p, (i) => {
      const list = this.chunks[i];
      if (list) list.push(p);
      else this.chunks[i] = [p];
    });
  }

  remove(p: P): void {
    this.eachChunk(p, (i) => {
      const list = this.chunks[i];
      if (!list) return;
      const at = list.indexOf(p);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.chunks[i] = undefined;
    });
  }

  /**
   * Calls `each` with every project that has a pixel at (x, y) and the colour it wants there. The hot
   * path: no allocation.
   */
  at(x: number, y: number, each: (p: P, want: number) => void): void {
    const list = this.chunks[Math.floor(y / CHUNK) * this.chunksX + Math.floor(x / CHUNK)];
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as P;
      const lx = x - p.x;
      const ly = y - p.y;
      if (lx < 0 || ly < 0 || lx >= p.width || ly >= p.height) continue;
      const want = p.target[ly * p.width + lx] as number;
      if (want !== NONE) each(p, want);
    }
  }

  /** Whether any project has a pixel at (x, y). */
  covers(x: number, y: number): boolean {
    let found = false;
    this.at(x, y, () => {
      found = true;
    });
    return found;
  }

  private eachChunk(p: P, each: (i: number) => void): void {
    const x0 = Math.floor(p.x / CHUNK);
    const y0 = Math.floor(p.y / CHUNK);
    const x1 = Math.floor((p.x + p.width - 1) / CHUNK);
    const y1 = Math.floor((p.y + p.height - 1) / CHUNK);
    for (let cy = y0; cy <= y1; cy++) for (let cx = x0; cx <= x1; cx++) each(cy * this.chunksX + cx);
  }
}
