/** `npm run desktop` where no Electron binary exists (SPEC ES-14). */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../../../scripts/desktop.mjs');

describe('ES-14 npm run desktop', () => {
  it('--help prints the usage and exits 0', async () => {
    const { stdout } = await run(process.execPath, [SCRIPT, '--help']);
    expect(stdout).toMatch(/^Usage: npm run desktop/);
    expect(stdout).toContain('ELECTRON_OVERRIDE_DIST_PATH');
  });

  it('without a binary: builds, then prints one line pointing at the browser and exits 0', async () => {
    const { stdout } = await run(process.execPath, [SCRIPT], {
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent/electron-dist' },
    });
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toBe(
      'No Electron binary on this machine (it cannot be downloaded here). Use the same app in a browser: npm start, then open http://127.0.0.1:8080/app/',
    );
  }, 120_000);
});
