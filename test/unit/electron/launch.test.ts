/**
 * Launches the real desktop app with Playwright's Electron driver (SPEC ES-1, ES-4), only where an
 * Electron binary exists (set ELECTRON_OVERRIDE_DIST_PATH, or let npm's electron package download
 * one). Needs `npx electron-vite build` first.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { _electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ELECTRON_PACKAGE = path.join(ROOT, 'node_modules', 'electron');

/** The lookup of node_modules/electron/index.js, without its download. */
function electronBinary(): string | null {
  const pathFile = path.join(ELECTRON_PACKAGE, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const dist = process.env['ELECTRON_OVERRIDE_DIST_PATH'] ?? path.join(ELECTRON_PACKAGE, 'dist');
  const binary = path.join(dist, executable);
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();
if (binary === null) {
  console.log('launch.test.ts: skipped, no Electron binary on this machine (it cannot be downloaded here)');
}

describe('ES-1 the real app', () => {
  it.skipIf(binary === null)(
    'opens one sandboxed window on app:// with the bridge and nothing else',
    async () => {
      const app = await _electron.launch({
        executablePath: binary!,
        args: [path.join(ROOT, 'out', 'main', 'index.js')],
      });
      try {
        const page = await app.firstWindow();
        expect(page.url()).toBe('app://identity-sync/index.html');
        const globals = await page.evaluate(() => ({
          bridge: Object.keys((window as unknown as { identitySync: object }).identitySync).sort(),
          hasRequire: 'require' in window,
          hasProcess: 'process' in window,
        }));
        expect(globals).toEqual({
          bridge: ['openExternal', 'sealSecret', 'sealingAvailable', 'unsealSecret', 'version'],
          hasRequire: false,
          hasProcess: false,
        });
        await page.evaluate(() => {
          window.location.href = 'https://evil.example/';
        });
        await page.waitForTimeout(500);
        expect(page.url()).toBe('app://identity-sync/index.html');
      } finally {
        await app.close();
      }
    },
  );
});
