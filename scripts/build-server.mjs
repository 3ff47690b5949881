#!/usr/bin/env node
/**
 * Bundles the server for `npm start`, and the simulator it runs for the Conversion Lab (LB-1) as
 * dist/simulate.mjs (esbuild; dependencies stay in node_modules). Each file is written under a
 * temporary name and renamed into place, so a build running beside another (two test files, or
 * `npm start` during a test run) never leaves a half-written bundle for the other to load.
 */
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

if (process.argv.includes('--help')) {
  console.log(
    'usage: node scripts/build-server.mjs   (writes dist/server.mjs and dist/simulate.mjs; no options)',
  );
  process.exit(0);
}
const root = path.resolve(import.meta.dirname, '..');
const bundle = async (entry, outfile) => {
  const result = await build({
    entryPoints: [path.join(root, ...entry)],
    outfile: path.join(root, 'dist', outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    write: false,
  });
  for (const file of result.outputFiles) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
};
await Promise.all([
  bundle(['server', 'cli.ts'], 'server.mjs'),
  bundle(['simulator', 'cli.ts'], 'simulate.mjs'),
]);
