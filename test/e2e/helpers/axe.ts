/**
 * axe on a page as a user sees it once it is still: CSS transitions and animations (a tooltip
 * fading in, a button leaving its loading state) are waited out first, because axe computes
 * contrast from the opacity of the moment, and a half-faded tooltip is not what anyone reads.
 * Endless ones (a spinner, a striped progress bar) are what the state looks like, and are kept.
 * The page must stay still for `QUIET_MS`, longer than the app's tooltip open delay (300 ms): a
 * tooltip whose delay was still running when the page first looked still would otherwise start
 * fading in while axe reads it.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** Long enough for Mantine's transitions (at most a few hundred ms) on a loaded machine. */
const SETTLE_TIMEOUT_MS = 5_000;
/** How long no transition may run before axe reads the page. */
const QUIET_MS = 500;

/** axe's serious and critical violations on the page once still, as "rule (impact): element" lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(() => {
    (window as unknown as { axeStillSince: number | null }).axeStillSince = null;
  });
  const handle = await page.waitForFunction(
    (quietMs) => {
      const moving = document
        .getAnimations()
        .some((a) => a.playState === 'running' && a.effect?.getComputedTiming().endTime !== Infinity);
      const since = window as unknown as { axeStillSince: number | null };
      const now = performance.now();
      if (moving || since.axeStillSince === null) {
        since.axeStillSince = moving ? null : now;
        return false;
      }
      return now - since.axeStillSince >= quietMs;
    },
    QUIET_MS,
    { timeout: SETTLE_TIMEOUT_MS, polling: 50 },
  );
  await handle.dispose();
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}): ${node.html}`));
}
