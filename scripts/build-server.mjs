#!/usr/bin/env node
/**
 * Bundles the server for `npm start`, and the simulator it runs for the Conversion Lab (LB-1) as
 * dist/simulate.mjs (esbuild; dependencies stay in node_modules).
 */
import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bundle = (entry, outfile) =>
  build({
    entryPoints: [path.join(root, ...entry)],
    outfile: path.join(root, 'dist', outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
await Promise.all([
  bundle(['server', 'cli.ts'], 'server.mjs'),
  bundle(['simulator', 'cli.ts'], 'simulate.mjs'),
]);
