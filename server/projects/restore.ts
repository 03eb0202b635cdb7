/**
 * The projects at startup: every stored project indexed, its `done` recounted from the restored grid
 * (the one scan of each project's area), its griefs and contributors from its stored state, and the
 * placements after the oldest state replayed for griefs and contributions only. States are written
 * every 5 minutes and at shutdown: after a crash the replay reads at most those minutes of history.
 */
import type { Canvas } from '../canvas/canvas.ts';
import type { ProjectStore } from '../store/project-store.ts';
import { Projects } from './projects.ts';

export function restoreProjects(store: ProjectStore, canvas: Canvas): Projects {
  const projects = new Projects(canvas.width, canvas.height);
  const records = store.all();
  projects.restore(records, canvas, store.states(canvas.seq));
  if (projects.size === 0) return projects;
  let from = canvas.seq;
  for (const p of projects.all()) from = Math.min(from, p.createdSeq);
  store.eachPlacementAfter(
    from,
    (x, y) => projects.covers(x, y),
    (row, previous) => projects.replay(row, previous),
  );
  return projects;
}
