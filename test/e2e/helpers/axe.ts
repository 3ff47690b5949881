/**
 * axe on a page as a user sees it once it is still: CSS transitions and animations (a tooltip
 * fading in, a button leaving its loading state) are waited out first, because axe computes
 * contrast from the opacity of the moment, and a half-faded tooltip is not what anyone reads.
 * Endless ones (a spinner, a striped progress bar) are what the state looks like, and are kept.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** Long enough for Mantine's transitions (at most a few hundred ms) on a loaded machine. */
const SETTLE_TIMEOUT_MS = 5_000;

/** axe's serious and critical violations on the page once still, as "rule (impact): element" lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.waitForFunction(
    () =>
      document
        .getAnimations()
        .every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().endTime === Infinity),
    null,
    { timeout: SETTLE_TIMEOUT_MS },
  );
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}): ${node.html}`));
}
