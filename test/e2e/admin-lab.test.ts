/**
 * The Conversion Lab in a real Chromium against a real server (SPEC LB-6): sign in, open the Lab,
 * an invalid edit shows the problem at its path and cannot be run, then a bundled scenario runs
 * under all five strategies (the bundled simulator, as `npm start` builds it) and the differences
 * table shows one column per strategy, with the file's own strategy passing. Each state under axe,
 * at desktop width and at 360 px (nothing wider than the screen), saved in artifacts/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STRATEGIES } from '../../shared/identity/scope-config.ts';
import { chromiumSkipReason, launchChromium } from '../helpers/chromium.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.ts';
import { AdminConsole } from './helpers/admin-console.ts';
import { appCopy, removeAppCopy } from './helpers/app-build.ts';
import { PHONE } from './helpers/field-app.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FIRST = readFileSync(path.join(ROOT, 'scenarios', '01-offline-anonymous-then-login.json'), 'utf8');
/** Five simulator runs, two at a time, on a shared machine. */
const RUN_TIMEOUT_MS = 240_000;

afterAll(removeAppCopy);

describe.skipIf(chromiumSkipReason !== null)(
  `the Conversion Lab in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 400_000 },
  () => {
    let browser: Browser | undefined;
    let server: TestServer | undefined;
    let ui: AdminConsole | undefined;

    beforeAll(async () => {
      execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')]);
      await appCopy();
      browser = await launchChromium();
    });

    afterEach(async () => {
      await ui?.close();
      ui = undefined;
      await server?.close();
      server = undefined;
    });

    afterAll(async () => {
      await browser?.close();
    });

    async function check(state: string): Promise<void> {
      await ui!.screenshot(state);
      expect(await ui!.seriousA11yViolations(), state).toEqual([]);
    }

    it('[LB-6] an invalid edit shows its path; a scenario run under all five strategies shows the differences table', async () => {
      server = await startTestServer({
        appDir: await appCopy(),
        labSimulator: path.join(ROOT, 'dist', 'simulate.mjs'),
        // The run answers only when all five are done; a loaded machine must not cut the quiet connection.
        idleTimeoutMs: RUN_TIMEOUT_MS,
        labTimeoutMs: RUN_TIMEOUT_MS / 3,
      });
      ui = await AdminConsole.open(browser!, server);
      const { page } = ui;
      await ui.signIn(ADMIN_TOKEN);
      await ui.seeSignedIn();
      await page.getByRole('link', { name: 'Lab' }).click();
      await page.getByRole('heading', { name: 'Conversion Lab' }).waitFor();
      const editor = page.getByLabel('Scenario JSON');
      const validation = page.locator('#lab-validation');
      await expect.poll(() => editor.inputValue()).toBe(FIRST);
      await ui.expectText(validation, 'Valid scenario: 9 steps, 1 device.');
      await check('admin-lab');

      const broken = JSON.parse(FIRST) as { steps: Record<string, unknown>[] };
      broken.steps[1] = { ...broken.steps[1], do: 'jump' };
      await editor.fill(JSON.stringify(broken, null, 2));
      await expect.poll(() => validation.innerText()).toMatch(/^The scenario is not valid:\s+steps\[1\]/);
      const run = page.getByRole('button', { name: 'Run under all five strategies' });
      expect(await run.isDisabled()).toBe(true);
      await check('admin-lab-invalid');

      await editor.fill(FIRST);
      await ui.expectText(validation, 'Valid scenario: 9 steps, 1 device.');
      await run.click();
      const table = page.getByRole('region', { name: 'Differences table' });
      await table.or(ui.alert).waitFor({ timeout: RUN_TIMEOUT_MS });
      expect(await ui.alert.count(), await ui.alert.allInnerTexts().then((t) => t.join())).toBe(0);
      const headers = await table.getByRole('columnheader').allInnerTexts();
      expect(headers).toEqual(['Step', ...STRATEGIES]);
      expect(await table.getByRole('rowheader').count()).toBe(9);
      await expect
        .poll(() => page.getByRole('region', { name: 'Results' }).innerText())
        .toContain('profile_conversion: passed');
      await check('admin-lab-differences');

      await page.setViewportSize(PHONE);
      expect(await ui.scrollWidth(), 'the page at 360 px').toBeLessThanOrEqual(PHONE.width);
      await check('admin-lab-differences-360');
      expect(ui.pageErrors).toEqual([]);
    });
  },
);
