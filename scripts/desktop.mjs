#!/usr/bin/env node
/**
 * `npm run desktop`: builds the desktop app with electron-vite, then starts it when an Electron
 * binary is on this machine. Electron downloads its binary lazily on first use, which fails where
 * GitHub is unreachable; then this prints one line pointing at the browser build and exits 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN_BUNDLE = path.join(ROOT, 'out', 'main', 'index.js');
const ELECTRON_PACKAGE = path.join(ROOT, 'node_modules', 'electron');

const USAGE = `Usage: npm run desktop [-- --help]

Builds the desktop app (electron-vite build → out/) and starts it with Electron.
Electron is looked up, in order, in:
  ELECTRON_OVERRIDE_DIST_PATH   a folder holding an unpacked Electron
  node_modules/electron/dist    the binary npm's electron package downloads on first use
  (node_modules/electron/path.txt names the executable inside that folder)
If none is present, it says so and exits 0: use the same app in a browser instead
(npm start, then open http://127.0.0.1:8080/app/).`;

/**
 * The Electron executable to run, or null when this machine has none. Mirrors the lookup of
 * node_modules/electron/index.js, minus its download.
 */
function findElectronBinary() {
  const pathFile = path.join(ELECTRON_PACKAGE, 'path.txt');
  const executable = existsSync(pathFile)
    ? readFileSync(pathFile, 'utf8').trim()
    : ({ darwin: 'Electron.app/Contents/MacOS/Electron', win32: 'electron.exe' }[process.platform] ??
      'electron');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = path.join(override ? override : path.join(ELECTRON_PACKAGE, 'dist'), executable);
  return existsSync(binary) ? binary : null;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

const build = spawnSync(
  process.execPath,
  [path.join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
if (build.status !== 0) process.exit(build.status ?? 1);

const binary = findElectronBinary();
if (binary === null) {
  console.log(
    'No Electron binary on this machine (it cannot be downloaded here). Use the same app in a browser: npm start, then open http://127.0.0.1:8080/app/',
  );
  process.exit(0);
}

const child = spawn(binary, [MAIN_BUNDLE, ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal === null ? (code ?? 0) : 1));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
