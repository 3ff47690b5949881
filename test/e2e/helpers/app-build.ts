/**
 * The built web app (dist/app) for browser tests: built once per run with Vite's JS API when it is
 * missing or older than its sources (the rule `npm start` follows, AP-9). Test files run in
 * parallel workers, so the build runs under a lock folder: one worker builds, the others wait for
 * it and then find the app fresh.
 *
 * Others rebuild dist/app too (npm start, benchmarks, the renderer's own work), emptying it first:
 * a server serving it mid-test would lose the files the service worker precaches. So each worker
 * serves its own copy (`appCopy`), taken once and checked complete against sw.js's precache list,
 * and removed by `removeAppCopy` when the file's tests are done.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { build } from 'vite';
import { appIsStale, newest } from '../../../scripts/app-staleness.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const APP_DIR = path.join(ROOT, 'dist', 'app');
const LOCK = path.join(ROOT, 'dist', '.app-build.lock');
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 120_000;
const LOCK_RETRY_MS = 200;

/** Takes the lock folder (mkdir is atomic); false while another worker holds it. */
function tryLock(): boolean {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    const age = Date.now() - newest(LOCK);
    if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

/** Builds dist/app if it is stale; returns its path. */
async function ensureAppBuilt(): Promise<string> {
  for (;;) {
    if (!appIsStale(ROOT)) return APP_DIR;
    if (tryLock()) break;
    await delay(LOCK_RETRY_MS); // another worker is building: look again once it may be done
  }
  // Vitest sets NODE_ENV=test, and Vite would then build React's development bundle with
  // import.meta.env.PROD false (no service worker): build for production, as npm run build:app does.
  const nodeEnv = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    if (appIsStale(ROOT))
      await build({
        configFile: path.join(ROOT, 'renderer', 'vite.config.ts'),
        mode: 'production',
        logLevel: 'warn',
      });
  } finally {
    process.env['NODE_ENV'] = nodeEnv;
    rmSync(LOCK, { recursive: true, force: true });
  }
  return APP_DIR;
}

/** The files sw.js precaches (relative paths), or null when the build is not whole. */
function precacheList(dir: string): string[] | null {
  const sw = path.join(dir, 'sw.js');
  if (!existsSync(sw)) return null;
  const match = /^const PRECACHE = (\[.*\]);$/m.exec(readFileSync(sw, 'utf8'));
  return match === null ? null : (JSON.parse(match[1]!) as string[]);
}

function isWhole(dir: string): boolean {
  const files = precacheList(dir);
  return files !== null && files.every((file) => existsSync(path.join(dir, file)));
}

let copy: string | null = null;

/** A private copy of the fresh build (without source maps) for this worker's servers. */
export async function appCopy(): Promise<string> {
  if (copy !== null) return copy;
  for (;;) {
    const source = await ensureAppBuilt();
    const target = mkdtempSync(path.join(tmpdir(), 'idsync-app-'));
    cpSync(source, target, { recursive: true, filter: (file) => !file.endsWith('.map') });
    if (isWhole(target)) {
      copy = target;
      return target;
    }
    rmSync(target, { recursive: true, force: true }); // copied mid-rebuild: take it again
    await delay(LOCK_RETRY_MS);
  }
}

export function removeAppCopy(): void {
  if (copy !== null) rmSync(copy, { recursive: true, force: true });
  copy = null;
}
