#!/usr/bin/env node
/**
 * `npm start`: builds what the server needs, then runs it in this process, so the server's own
 * signal handlers are the ones Ctrl-C and SIGTERM reach. The server bundle is always rebuilt (a
 * second of esbuild); the web app (`npm run build:app`) only when dist/app/index.html is missing
 * or older than a file under renderer/ or shared/ or the package files. `--help` builds only the
 * server.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { appIsStale } from './app-staleness.mjs';

const root = path.resolve(import.meta.dirname, '..');
await import('./build-server.mjs');

const args = process.argv.slice(2);
if (!args.includes('--help') && !args.includes('-h') && appIsStale(root)) {
  process.stdout.write('building the app (npm run build:app)…\n');
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const build = spawnSync(
    process.execPath,
    [vite, 'build', '-c', path.join(root, 'renderer', 'vite.config.ts'), '--logLevel', 'warn'],
    { cwd: root, stdio: 'inherit' },
  );
  if (build.status !== 0) {
    process.stderr.write('error: the app did not build; see above (the server needs dist/app)\n');
    process.exit(build.status ?? 1);
  }
}

// The server reads its flags from process.argv.slice(2): the same arguments npm start was given.
await import(pathToFileURL(path.join(root, 'dist', 'server.mjs')).href);
