/**
 * Full-page screenshots for the browser tests (artifacts/screenshots/, git-ignored). Chromium
 * captures a page taller than the window by laying it out at its full height, where a fixed
 * header or a sticky bar is painted wherever it sat relative to the scrolled window: part-way down
 * the image. For the capture, fixed elements become absolute (a header stays at the top of the
 * document) and sticky ones static (in their place in the flow); the page gets its own inline
 * styles back right after.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', '..', 'artifacts', 'screenshots');
const MARK = 'data-screenshot-position';

export async function fullPageScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.evaluate((mark) => {
    for (const element of document.querySelectorAll<HTMLElement>('body *')) {
      const { position } = getComputedStyle(element);
      if (position !== 'fixed' && position !== 'sticky') continue;
      element.setAttribute(mark, element.style.position);
      element.style.position = position === 'fixed' ? 'absolute' : 'static';
    }
  }, MARK);
  try {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  } finally {
    await page.evaluate((mark) => {
      for (const element of document.querySelectorAll<HTMLElement>(`[${mark}]`)) {
        element.style.position = element.getAttribute(mark) ?? '';
        element.removeAttribute(mark);
      }
    }, MARK);
  }
}
