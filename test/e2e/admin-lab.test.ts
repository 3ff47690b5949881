/**
 * The Conversion Lab in a real Chromium against a real server (SPEC LB-6..9): sign in, open the Lab,
 * an invalid edit shows the problem at its path and cannot be run, then a bundled scenario runs
 * under all five strategies (the bundled simulator, as `npm start` builds it) and the differences
 * table shows one column per strategy, with the file's own strategy passing. Then that strategy's
 * run reads step by step with the server's reasons in words (LB-8), its identity graph shows after
 * a chosen step (LB-9), and its export (LB-7), downloaded and run with the bundled simulator exactly
 * as `npm run simulate -- <file>`, passes; the same file with one expectation changed fails at that
 * step. The run is a job whose progress shows while it runs, and a second run is cancelled (LB-15).
 * Each state under axe, at desktop width and at 360 px (nothing wider than the screen), saved in
 * artifacts/screenshots/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRATEGIES } from '../../shared/identity/scope-config.ts';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { ADMIN_TOKEN } from '../helpers/server.ts';
import { adminSession, type AdminConsole } from './helpers/admin-console.ts';
import { removeAppCopy } from './helpers/app-build.ts';
import { DESKTOP, PHONE } from './helpers/field-app.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FIRST = readFileSync(path.join(ROOT, 'scenarios', '01-offline-anonymous-then-login.json'), 'utf8');
/** Five simulator runs, two at a time, on a shared machine. */
const RUN_TIMEOUT_MS = 240_000;
const SIMULATOR = path.join(ROOT, 'dist', 'simulate.mjs');

/** `npm run simulate -- <file>`, with the bundled simulator (the same code as simulator/cli.ts). */
function simulate(file: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [SIMULATOR, file], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

afterAll(removeAppCopy);

describe.skipIf(chromiumSkipReason !== null)(
  `the Conversion Lab in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 900_000 },
  () => {
    const session = adminSession();
    let ui: AdminConsole | undefined;

    beforeAll(() => {
      execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')]);
    });

    afterAll(() => {
      rmSync(scratch, { recursive: true, force: true });
    });
    const scratch = mkdtempSync(path.join(tmpdir(), 'idsync-lab-export-'));

    async function check(state: string): Promise<void> {
      await ui!.screenshot(state);
      expect(await ui!.seriousA11yViolations(), state).toEqual([]);
    }

    it('[LB-6][LB-7][LB-8][LB-9][LB-10][LB-15] the form view; an invalid edit shows its path; a run under all five strategies shows its progress, then the differences table; its graph after a step; its export passes npm run simulate and a changed one fails; a second run is cancelled', async () => {
      const server = await session.serve(undefined, {
        labSimulator: path.join(ROOT, 'dist', 'simulate.mjs'),
        labTimeoutMs: RUN_TIMEOUT_MS / 3,
      });
      ui = await session.open(server);
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

      // [LB-10] The same file in the form editor: axe-clean, within 360 px, and back to JSON unchanged.
      await page.getByText('Form', { exact: true }).click();
      await page.getByRole('group', { name: 'Scenario form' }).waitFor();
      await check('admin-lab-form');
      await page.setViewportSize(PHONE);
      expect(await ui.scrollWidth(), 'the form at 360 px').toBeLessThanOrEqual(PHONE.width);
      await check('admin-lab-form-360');
      await page.setViewportSize(DESKTOP);
      await page.getByText('JSON', { exact: true }).click();
      await expect.poll(() => editor.inputValue()).toBe(FIRST);

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
      // [LB-15] The run is a job: its progress shows while it runs (two simulators at a time, five runs).
      const progress = page.getByRole('region', { name: 'Run progress' });
      await expect
        .poll(() => progress.getByRole('status').innerText())
        .toMatch(/^Running: [0-4] of 5 strategies done\.$/);
      expect(await progress.getByRole('listitem').allInnerTexts()).toHaveLength(5);
      expect(await run.isDisabled(), 'no second run while one runs').toBe(true);
      await check('admin-lab-running');
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
      await page.setViewportSize(DESKTOP);

      // [LB-7] Export the run under the file's own strategy, write it, and run it as `npm run simulate` does.
      const detail = page.getByRole('region', { name: 'One strategy' });
      await detail.scrollIntoViewIfNeeded();
      expect(await detail.getByLabel('Strategy', { exact: true }).inputValue()).toBe('profile_conversion');
      // [LB-8] The run step by step: the login's answers, the server's reason in words, the user.
      const login = detail
        .getByRole('list', { name: 'Step by step' })
        .getByRole('listitem')
        .filter({ hasText: '4. tablet: login' });
      await login.getByText(/^Why: /).click();
      await expect
        .poll(() => login.innerText())
        .toMatch(
          /4\. tablet: login\s+Device answered: P1, found, logged in\s+Server answered: P1, found, logged in\s+Why: .+[\s\S]*Users: tablet: P1, logged in/,
        );
      // [LB-9] The identity graph after the last step, then after step 2 (offline: nothing on the server yet).
      const graphStatus = detail.getByRole('status').filter({ hasText: 'on the server after step' });
      await ui.expectText(graphStatus, '1 profile on the server after step 9.');
      await detail.getByTestId('graph-canvas').waitFor();
      await check('admin-lab-export');
      await detail.getByLabel('Identity graph after step', { exact: true }).click();
      await page.getByRole('option', { name: '2. tablet: identify', exact: true }).click();
      await ui.expectText(graphStatus, '0 profiles on the server after step 2.');
      await check('admin-lab-graph-step-2');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        detail.getByRole('button', { name: 'Download scenario file' }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/-profile-conversion\.json$/);
      const exported = path.join(scratch, download.suggestedFilename());
      await download.saveAs(exported);
      const passed = simulate(exported);
      expect(passed.output).toContain('1 of 1 scenarios held');
      expect(passed.status, passed.output).toBe(0);

      // One changed expectation: the same file must now fail, at that step.
      const file = JSON.parse(readFileSync(exported, 'utf8')) as {
        steps: { expect?: { created?: boolean } }[];
      };
      const index = file.steps.findIndex((s) => s.expect?.created !== undefined);
      const changed = file.steps[index]?.expect;
      if (changed === undefined) throw new Error('the export has no created expectation');
      changed.created = changed.created !== true;
      const mutated = path.join(scratch, 'mutated.json');
      writeFileSync(mutated, JSON.stringify(file, null, 2));
      const failed = simulate(mutated);
      expect(failed.status, failed.output).toBe(1);
      expect(failed.output).toContain(`step ${index + 1} `);

      await page.setViewportSize(PHONE);
      expect(await ui.scrollWidth(), 'the export at 360 px').toBeLessThanOrEqual(PHONE.width);
      await check('admin-lab-export-360');

      // [LB-15] A second run, cancelled while it runs: the page says what had ended, and runs again.
      await run.click();
      await progress.getByRole('button', { name: 'Cancel the run' }).click();
      await expect
        .poll(() => progress.getByRole('status').innerText())
        .toMatch(/^Run cancelled: [0-4] of 5 strategies had ended/);
      expect(await progress.getByText('cancelled before it ended').count()).toBeGreaterThan(0);
      expect(await run.isDisabled(), 'Run is offered again').toBe(false);
      expect(await ui.scrollWidth(), 'the cancelled run at 360 px').toBeLessThanOrEqual(PHONE.width);
      await check('admin-lab-cancelled-360');
      await page.setViewportSize(DESKTOP);
      await check('admin-lab-cancelled');
      expect(ui.pageErrors).toEqual([]);
    });
  },
);
