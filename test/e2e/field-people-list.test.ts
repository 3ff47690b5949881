/**
 * The people list as a window over fixed-height rows (SPEC UP-15), in Debian's Chromium with real
 * layout: with more people than the list shows, only the rows in view (and a few either side) are
 * in the DOM; wherever the list is scrolled, every row in view is there; the keyboard reaches the
 * last and the first person and scrolls each into view; a new login while scrolled keeps the list
 * whole.
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { DESKTOP, expectText, fieldSession, FieldApp } from './helpers/field-app.ts';

const PEOPLE = 36;

/** The listbox's visible box, and each rendered option's box and position in the list. */
async function layout(list: Locator) {
  return list.evaluate((box) => {
    const view = box.getBoundingClientRect();
    const options = [...box.querySelectorAll('[role="option"]')].map((option) => {
      const rect = option.getBoundingClientRect();
      return {
        top: rect.top - view.top,
        bottom: rect.bottom - view.top,
        pos: Number(option.getAttribute('aria-posinset')),
      };
    });
    return { height: box.clientHeight, scrollTop: box.scrollTop, options };
  });
}

/** Every pixel row of the listbox's visible box is covered by a rendered option (no blank rows). */
async function expectViewCovered(list: Locator, state: string): Promise<void> {
  const { height, options } = await layout(list);
  const covering = options.filter((o) => o.bottom > 0 && o.top < height).sort((a, b) => a.top - b.top);
  expect(covering.length, state).toBeGreaterThan(0);
  let reached = 0;
  for (const o of covering) {
    expect(o.top, `${state}: a gap above person ${o.pos}`).toBeLessThanOrEqual(reached + 0.5);
    reached = Math.max(reached, o.bottom);
  }
  expect(reached, state).toBeGreaterThanOrEqual(height - 0.5);
}

/** The option the list marks active is rendered and wholly inside the visible box. */
async function expectActiveInView(page: Page, list: Locator, pos: number): Promise<void> {
  const active = await list.getAttribute('aria-activedescendant');
  expect(active).not.toBeNull();
  const option = page.locator(`[id="${active}"]`);
  expect(await option.getAttribute('aria-posinset')).toBe(String(pos));
  const { top, bottom, height } = await option.evaluate((el) => {
    const box = el.closest('[role="listbox"]')!;
    const view = box.getBoundingClientRect();
    const rect = el.getBoundingClientRect();
    return { top: rect.top - view.top, bottom: rect.bottom - view.top, height: box.clientHeight };
  });
  expect(top).toBeGreaterThanOrEqual(-0.5);
  expect(bottom).toBeLessThanOrEqual(height + 0.5);
}

describe.skipIf(chromiumSkipReason !== null)(
  `the people list window in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 120_000 },
  () => {
    const session = fieldSession();

    it('[UP-15][UP-3] only the rows in view are rendered; scrolled or moved by keyboard anywhere, the rows in view are there', async () => {
      const server = await session.serve();
      const app = session.keep(await FieldApp.openConnected(session.browser(), server, DESKTOP));
      const { page } = app;
      for (let i = 0; i < PEOPLE; i++) await app.logIn({ customerId: `c-${String(i).padStart(3, '0')}` });
      await expectText(app.peopleCount, `${PEOPLE} people`);
      const list = app.peopleList;

      const top = await layout(list);
      expect(top.options.length).toBeLessThan(PEOPLE);
      expect(Math.max(...top.options.map((o) => o.pos))).toBeLessThan(PEOPLE);
      await expectViewCovered(list, 'at the top');

      // The keyboard: End reaches the last person, Home the first, Page Down moves a page.
      await list.focus();
      await page.keyboard.press('End');
      await expect.poll(async () => (await layout(list)).options.some((o) => o.pos === PEOPLE)).toBe(true);
      await expectActiveInView(page, list, PEOPLE);
      await expectViewCovered(list, 'after End');
      await page.keyboard.press('Home');
      await expect.poll(async () => (await layout(list)).scrollTop).toBe(0);
      await expectActiveInView(page, list, 1);
      await page.keyboard.press('PageDown');
      await page.keyboard.press('PageDown');
      await expectActiveInView(page, list, 17);
      await expectViewCovered(list, 'after two Page Downs');

      // Scrolled by the wheel to the middle, the rows in view are rendered there.
      await list.hover();
      await page.mouse.wheel(0, 700);
      await expect.poll(async () => (await layout(list)).scrollTop).toBeGreaterThan(0);
      await expectViewCovered(list, 'scrolled by the wheel');

      // A login while the list is scrolled: one more person, and the rows in view still all there.
      await app.logIn({ customerId: 'c-late' });
      await expectText(app.peopleCount, `${PEOPLE + 1} people`);
      await expectViewCovered(list, 'after a login while scrolled');
      expect((await layout(list)).options.length).toBeLessThan(PEOPLE);
      expect(app.pageErrors).toEqual([]);
    });
  },
);
