/**
 * Whether the built web app (dist/app) is older than what it is built from: `npm start` rebuilds it
 * then (AP-9), and so do the browser tests. A folder counts with everything under it (its own time
 * changes when a file in it is added, removed or renamed).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const APP_SOURCES = ['renderer', 'shared', 'package.json', 'package-lock.json'];

/** The newest modification time of a file, or of a folder and anything under it; 0 if absent. */
export function newest(target) {
  let stats;
  try {
    stats = statSync(target);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(target)
    .filter((name) => name !== 'node_modules')
    .reduce((latest, name) => Math.max(latest, newest(path.join(target, name))), stats.mtimeMs);
}

/** True when `<root>/dist/app/index.html` is missing or older than a source of the app. */
export function appIsStale(root) {
  const built = newest(path.join(root, 'dist', 'app', 'index.html'));
  return built === 0 || APP_SOURCES.some((source) => newest(path.join(root, source)) > built);
}
