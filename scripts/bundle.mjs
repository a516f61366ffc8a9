#!/usr/bin/env node
// Bundles the compiled code (dist/src, from tsc) into dist/bundle: one file per thread entry,
// so each thread of `minikafka start` loads one or a few files instead of ~90 ES modules. On
// the 2-core dev box that took 3-node start-up from about 150 to 100 ms after Node's own boot:
// four isolates were each resolving, reading and compiling the same module graph.
//
//   node-worker.js        a node's worker thread (one file: every node loads all of it)
//   compaction-worker.js  the piscina compaction job (one file)
//   main.js, index.js     the CLI and the embedded API, with shared chunks, so `start` loads
//                         the front end only after spawning the workers, and the other
//                         commands load only their own code
//
// Every output sits flat in dist/bundle: code locates its sibling entries with
// `new URL('./node-worker.js', import.meta.url)`, which must resolve from any chunk.
// Packages stay external (node_modules). esbuild-wasm: the WebAssembly build, nothing native.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild-wasm';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = 'dist/bundle';
rmSync(new URL(`../${outdir}`, import.meta.url), { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  outdir,
};

const started = performance.now();
await esbuild.build({
  ...common,
  entryPoints: {
    'node-worker': 'dist/src/workers/node-worker.js',
    'compaction-worker': 'dist/src/storage/cleaner/compaction-worker.js',
  },
});
await esbuild.build({
  ...common,
  entryPoints: { main: 'dist/src/cli/main.js', index: 'dist/src/index.js' },
  splitting: true,
  chunkNames: '[name]-[hash]',
});
await esbuild.stop?.();
if (!process.argv.includes('--quiet')) console.log(`bundled dist/src into ${outdir} in ${Math.round(performance.now() - started)} ms`);
