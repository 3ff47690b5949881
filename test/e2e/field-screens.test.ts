/**
 * The Field screen as people use it, in a real Chromium against a real server: on a 360 px phone
 * with nothing wider than the screen, with the keyboard alone (Tab, Shift+Tab, Enter, Space and
 * the app's shortcuts), and with no serious or critical axe violations in its main states. Each
 * state is also saved as a screenshot in artifacts/screenshots/ (desktop 1280×800, phone 360×740).
 */
import { describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { DESKTOP, expectText, fieldSession, FieldApp, PHONE, type Viewport } from './helpers/field-app.ts';

describe.skipIf(chromiumSkipReason !== null)(
  `the Field screen on a phone, by keyboard, and under axe in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 90_000 },
  () => {
    const session = fieldSession();

    async function openApp(viewport: Viewport): Promise<FieldApp> {
      const server = await session.serve();
      return session.keep(await FieldApp.openConnected(session.browser(), server, viewport));
    }

    /** The state (with no sync round running, unless that is the state) is checked by axe and saved as a screenshot. */
    async function check(state: string): Promise<void> {
      const app = session.app();
      if (state !== 'syncing') await app.syncBar.getByRole('progressbar').waitFor({ state: 'detached' });
      await app.screenshot(state);
      expect(await app.seriousA11yViolations(), state).toEqual([]);
    }

    it('a 360 px phone: identify, log in and next person with nothing wider than the screen', async () => {
      const phone = await openApp(PHONE);
      const fits = async (state: string) => {
        expect(await phone.scrollWidth(), state).toBeLessThanOrEqual(PHONE.width);
        await phone.screenshot(state);
      };
      await fits('field-phone-empty');
      await phone.identify({ email: 'ana@example.com' });
      await phone.logIn({ customerId: 'c-ana-0123456789-long-customer-identifier' });
      await phone.recordEvent('store_visit');
      await phone.syncNow();
      await fits('field-phone-person');
      const panel = await phone.openPerson('c-ana-0123456789-long-customer-identifier');
      await phone.page.getByRole('link', { name: '← Back to the field' }).waitFor();
      await expect.poll(() => phone.activityIn(panel)).toEqual(['store_visit']);
      await fits('person-phone-explained');
      await phone.page.getByRole('link', { name: '← Back to the field' }).click();
      await phone.nextPerson();
      await expectText(phone.peopleCount, '1 person'); // the next person makes no one until identified
      await fits('field-phone-next-person');
      await phone.goOffline();
      await fits('offline-phone');
      await phone.page.getByRole('link', { name: 'Settings' }).click();
      await phone.page.getByRole('heading', { name: 'Settings' }).waitFor();
      await fits('connect-phone');
      expect(phone.pageErrors).toEqual([]);
    });

    it('the keyboard alone: log in, record an event, next person, open a person, work offline', async () => {
      const desk = await openApp(DESKTOP);
      const { page } = desk;
      await desk.typeInto(page.getByLabel('Customer ID'), 'c-kim');
      await desk.typeInto(page.getByLabel('Email'), 'kim@example.com');
      await page.keyboard.press('Enter'); // submits the form: Log in
      await expectText(desk.currentPerson.getByRole('table'), 'Customer ID\tc-kim\nEmail\tkim@example.com');

      await desk.typeInto(page.getByRole('combobox', { name: 'Event name' }), 'store_visit');
      await desk.tabTo(page.getByRole('button', { name: 'Record activity' }));
      await page.keyboard.press('Space');
      await expectText(
        page.getByRole('form', { name: 'Record activity' }).getByRole('status'),
        'Recorded “store_visit”.',
      );

      // Back up with Shift+Tab to Next person, then the shortcut for the second one.
      await desk.tabTo(page.getByRole('button', { name: 'Next person' }), 'backward');
      await page.keyboard.press('Enter');
      await desk.seeNextPersonStarted();
      await desk.typeInto(page.getByLabel('Customer ID'), 'c-lee');
      await page.keyboard.press('Enter');
      await expectText(desk.peopleCount, '2 people');
      await page.keyboard.press('Alt+N');
      await desk.seeNextPersonStarted();

      // Search, Tab to the list of those who match, Enter opens the first.
      await desk.typeInto(page.getByRole('searchbox', { name: 'Search people' }), 'kim@');
      await expectText(desk.peopleCount, '1 of 2 people');
      await desk.tabTo(desk.peopleList);
      await page.keyboard.press('Enter');
      const panel = desk.personPanel('c-kim');
      await panel.waitFor();
      await expect.poll(() => desk.activityIn(panel)).toEqual(['store_visit']);
      await desk.tabTo(panel.getByRole('button', { name: 'Close' }));
      await page.keyboard.press('Enter');
      await panel.waitFor({ state: 'detached' });
      await page.keyboard.press('/'); // the search shortcut
      await page.keyboard.press('Control+A');
      await page.keyboard.type('c-lee');
      await expectText(desk.peopleCount, '1 of 2 people');

      await desk.tabTo(desk.syncBar.getByRole('switch', { name: 'Work offline' }), 'backward');
      await page.keyboard.press('Space');
      await expectText(desk.syncStatus, 'Working offline');
      expect(desk.pageErrors).toEqual([]);
    });

    it('no serious or critical axe violations: empty, with people, a person explained, settings, offline, syncing', async () => {
      const desk = await openApp(DESKTOP);
      await check('field-desktop-empty');
      await desk.identify({ email: 'ana@example.com' });
      await desk.recordEvent('store_visit');
      await desk.logIn({ customerId: 'c-ana' });
      await desk.nextPerson();
      await desk.logIn({ customerId: 'c-ben', email: 'ben@example.com' });
      await desk.syncNow();
      await check('field-desktop');
      const panel = await desk.openPerson('c-ana');
      await expect.poll(() => desk.decisionsIn(panel).then((d) => d.length)).toBe(2);
      await check('person-explained');
      await desk.page.getByRole('link', { name: 'Settings' }).click();
      await desk.page.getByRole('heading', { name: 'Settings' }).waitFor();
      await check('connect');
      await desk.page.getByRole('link', { name: 'Field' }).click();
      await desk.seeFieldScreen();
      await desk.goOffline();
      await desk.logIn({ customerId: 'c-cy' });
      await check('offline');

      // While a round runs the sync bar shows its progress: hold the push until axe has looked.
      const release = await desk.holdSyncPush();
      await desk.goOnline();
      await desk.syncBar.getByRole('progressbar').waitFor();
      await check('syncing');
      release();
      await expectText(desk.waiting, 'Nothing waiting to sync');
      expect(desk.pageErrors).toEqual([]);
    });
  },
);
