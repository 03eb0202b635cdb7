/**
 * docs/ARCHITECTURE.md describes the tree as it is: every source file under server/ is named in its
 * tree under its folder, and the import rules it states hold (tick/ and ws/ never import each other,
 * streams/ imports neither, no route file is imported by history/ or bus/, no part imports a root).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../testkit/paths.ts';

const SERVER = join(REPO_ROOT, 'server');
const sources = readdirSync(SERVER, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.startsWith(`test${sep}`))
  .map((f) => f.split(sep).join('/'));

/** The lines of the fenced tree, grouped by the folder entry each belongs to ("" for server/ itself). */
function treeByFolder(): Map<string, string> {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const tree = doc.slice(doc.indexOf('## The tree'), doc.indexOf('## A placement'));
  const byFolder = new Map<string, string>();
  let folder = '';
  for (const line of tree.split('\n')) {
    const entry = /^ {2}(\S+)/.exec(line)?.[1];
    if (entry) folder = entry.endsWith('/') ? entry.slice(0, -1) : '';
    byFolder.set(folder, `${byFolder.get(folder) ?? ''}\n${line}`);
  }
  return byFolder;
}

test('every file under server/ is named in the ARCHITECTURE tree, under its folder', () => {
  const tree = treeByFolder();
  const missing = sources.filter((file) => {
    const parts = file.split('/');
    const name = parts.pop() as string;
    const text = tree.get(parts.join('/')) ?? '';
    return !new RegExp(`\\b${name.replace('.', '\\.')}`).test(text);
  });
  assert.deepEqual(missing, []);
});

function importsOf(file: string): string[] {
  const text = readFileSync(join(SERVER, file), 'utf8');
  const dir = file.split('/').slice(0, -1);
  return [...text.matchAll(/from '(\.[^']+)'/g)].map((m) => {
    const out = [...dir];
    for (const part of (m[1] as string).split('/')) {
      if (part === '..') out.pop();
      else if (part !== '.') out.push(part);
    }
    return out.join('/');
  });
}

test('imports follow the rules ARCHITECTURE states', () => {
  const broken: string[] = [];
  const roots = new Set(['server.ts', 'edge.ts', 'front.ts', 'main.ts']);
  const routeFile = /^http\/(routes|api-routes|admin-routes|history-routes)\.ts$/;
  for (const file of sources) {
    const folder = file.includes('/') ? (file.split('/')[0] as string) : '';
    for (const target of importsOf(file)) {
      const into = target.includes('/') ? target.split('/')[0] : '';
      if ((folder === 'tick' && into === 'ws') || (folder === 'ws' && into === 'tick'))
        broken.push(`${file} -> ${target}`);
      if (folder === 'streams' && (into === 'tick' || into === 'ws')) broken.push(`${file} -> ${target}`);
      if ((folder === 'history' || folder === 'bus') && routeFile.test(target)) broken.push(`${file} -> ${target}`);
      if (folder !== '' && roots.has(target)) broken.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});
