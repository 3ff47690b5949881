/**
 * Nothing on the Field screen moves under the user's pointer when the server answers (SPEC UP-16),
 * in Debian's Chromium with real layout: from the "Log in" click until the current person is
 * confirmed by the server and the sync round is over, the form's buttons and the current person's
 * actions stay where they were, at desktop and at phone width. Before, a round's progress bar
 * pushed the screen down by 9 px and "Confirmed by the server" wrapped the card's badges onto a new
 * line (33 px), and on a phone the sync bar's words wrapped onto more or fewer lines as they changed
 * (32 px): a click aimed at "Log in" for the next person could land beside it.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { DESKTOP, fieldSession, FieldApp, PHONE, type Viewport } from './helpers/field-app.ts';

/** The buttons a user aims at next, by their text. */
const WATCHED = ['Log in', 'Identify', 'Next person'] as const;

/**
 * Starts following the watched buttons' positions at every frame, until the current person shows
 * "Confirmed by the server" with no sync round running (or 10 s); resolves with every distinct
 * layout seen, as "Log in@x,y Identify@x,y Next person@x,y".
 */
async function followLayout(page: Page): Promise<() => Promise<string[]>> {
  const handle = await page.evaluateHandle(
    (watched) =>
      new Promise<string[]>((resolve) => {
        const seen: string[] = [];
        const started = performance.now();
        const card = document.querySelector('section[aria-labelledby="current-person-heading"]');
        const frame = () => {
          const layout = watched
            .map((name) => {
              const button = [...document.querySelectorAll('button')].find(
                (b) => b.textContent.trim() === name,
              );
              const rect = button?.getBoundingClientRect();
              return `${name}@${rect === undefined ? 'absent' : `${Math.round(rect.left)},${Math.round(rect.top)}`}`;
            })
            .join(' ');
          if (seen.at(-1) !== layout) seen.push(layout);
          const confirmed = (card?.textContent ?? '').includes('Confirmed by the server');
          const syncing = document.querySelector('[role="progressbar"]') !== null;
          if ((confirmed && !syncing) || performance.now() - started > 10_000) resolve(seen);
          else requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
    [...WATCHED],
  );
  return () => handle.jsonValue();
}

describe.skipIf(chromiumSkipReason !== null)(
  `the Field screen holds still while the server answers, in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 90_000 },
  () => {
    const session = fieldSession();

    for (const [name, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as [string, Viewport][]) {
      it(`[UP-16] ${name}: from a login until the server has confirmed it, the buttons stay put`, async () => {
        const server = await session.serve();
        const app = session.keep(await FieldApp.openConnected(session.browser(), server, viewport));
        const { page } = app;
        await app.logIn({ customerId: 'c-first' }); // the card now has a person and its badges
        await page.getByText('Confirmed by the server').waitFor();
        for (const customerId of ['c-a', 'c-b', 'c-c']) {
          await page.getByLabel('Customer ID').fill(customerId);
          const layouts = await followLayout(page);
          await page.getByRole('button', { name: 'Log in', exact: true }).click();
          const seen = await layouts();
          expect(seen, `${name}, logging in ${customerId}`).toHaveLength(1);
          console.log(seen);
          await app.currentPerson.getByText(customerId).waitFor();
        }
        expect(app.pageErrors).toEqual([]);
      });
    }
  },
);
