/**
 * The `progress` messages of one fan-out, encoded on demand: the first socket watching a project
 * encodes that project's message (MessagePack) from the tick's packed records
 * (projects/progress-block.ts `message`), and every later watcher of it in this process shares the bytes. A
 * project nobody here watches costs nothing beyond its record, so a process's cost follows what its
 * own sockets watch (the writer no longer encodes 1,000 touched projects' messages a tick for edges
 * whose clients may watch none of them).
 */
import type { ProgressBlock } from '../projects/progress-block.ts';

const NONE: readonly Uint8Array[] = [];

export class WatchedProgress {
  private readonly encoded = new Map<number, readonly Uint8Array[]>();

  /** `blocks`: the fan-out's ticks' blocks, oldest first (a tick that waited and was replaced keeps its block). */
  constructor(private readonly blocks: readonly ProgressBlock[]) {}

  /** Project `id`'s `progress` messages of this fan-out, oldest first (none when it did not change). */
  messages(id: number): readonly Uint8Array[] {
    let out = this.encoded.get(id);
    if (out === undefined) {
      out = NONE;
      for (const block of this.blocks) {
        const message = block.message(id);
        if (message) out = [...out, message];
      }
      this.encoded.set(id, out);
    }
    return out;
  }
}
