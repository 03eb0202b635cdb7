/**
 * `npm run build`: the browser bundles, with esbuild, into client/dist/ (served under /assets/):
 * - app.js + app.css: the canvas page;
 * - png-worker.js: PNG decoding off the main thread (a classic worker script, so an IIFE);
 * - pow.js: the ALTCHA widget, loaded only when a server asks for proof of work;
 * - mod.js + mod.css: the moderation console (/mod).
 */
import { build, type BuildOptions } from 'esbuild';

const common: BuildOptions = {
  bundle: true,
  platform: 'browser',
  target: 'es2020',
  minify: true,
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['client/src/main.ts'],
    format: 'esm',
    sourcemap: true,
    outfile: 'client/dist/app.js',
  }),
  build({
    ...common,
    entryPoints: ['client/src/board/png-worker.ts'],
    format: 'iife',
    sourcemap: true,
    outfile: 'client/dist/png-worker.js',
  }),
  build({ ...common, entryPoints: ['client/src/pow/pow-widget.ts'], format: 'esm', outfile: 'client/dist/pow.js' }),
  build({
    ...common,
    entryPoints: ['client/src/mod/main.ts'],
    format: 'esm',
    sourcemap: true,
    outfile: 'client/dist/mod.js',
  }),
]);
