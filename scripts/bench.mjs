#!/usr/bin/env node
/**
 * Runs a benchmark the way production code runs: bundled by esbuild (no development transforms),
 * on plain Node with the GC exposed so memory can be measured after a full collection.
 *
 *   node scripts/bench.mjs <name> [args...]     e.g. node scripts/bench.mjs resolver --sizes 10000
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const [name, ...args] = process.argv.slice(2);
const entry = path.join(root, 'test', 'bench', `${name ?? ''}-bench.ts`);
if (name === undefined || name === '--help' || !existsSync(entry)) {
  console.log(
    'usage: node scripts/bench.mjs <resolver|resolver-heap|server|identify-store|identify-profile|identify-cpu|devices|app|soak|what-if|graph|admin-search> [benchmark options, --help for each]',
  );
  process.exit(name === undefined || name === '--help' ? 0 : 2);
}
const outdir = path.join(root, '.bench');
mkdirSync(outdir, { recursive: true });
const outfile = path.join(outdir, `${name}.mjs`);
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=16384', outfile, ...args], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(run.status ?? 1);
