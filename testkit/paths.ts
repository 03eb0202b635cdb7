/** Where the repository is, for tests, benchmarks and the reliability suite that start processes in it. */
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
