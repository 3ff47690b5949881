/**
 * The field app offline, in a real Chromium against a real server over HTTP (SPEC DV-1, DV-5,
 * DV-9, DV-16, DV-17, SY-4, SY-5, AP-7): a field worker captures people with no network, reloads,
 * comes back online and sees the server's decisions in words; two devices sign up the same new
 * customer offline and converge on the first to sync; and the app shell opens offline from the
 * service worker. Each test has its own server (temp SQLite) and fresh browser contexts.
 */
import { describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { expectText, fieldSession, FieldApp } from './helpers/field-app.ts';

describe.skipIf(chromiumSkipReason !== null)(
  `the field app offline in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 90_000 },
  () => {
    const session = fieldSession();

    /** A fresh server, and the app opened on it online in a new browser context (a new device). */
    async function device(): Promise<FieldApp> {
      return session.keep(await FieldApp.openConnected(session.browser(), await session.server()));
    }

    it('[DV-1][DV-16][DV-17][SY-5] offline: identify, record, log in, next person, log in again; a reload loses nothing; back online the server confirms both people and explains its decisions', async () => {
      const app = await device();
      await app.waitForOfflineShell();
      await app.goOffline();

      await app.identify({ email: 'ana@example.com' });
      await app.recordEvent('store_visit');
      await app.logIn({ customerId: 'c-ana' });
      const ana = await app.mpidIn(app.currentPerson);
      await app.nextPerson();
      await app.logIn({ customerId: 'c-ben', email: 'ben@example.com' });
      await app.recordEvent('purchase');
      const ben = await app.mpidIn(app.currentPerson);
      expect(ben).not.toBe(ana);

      const beforeReload = '3 requests and 2 events waiting to sync';
      await expectText(app.waiting, beforeReload);
      await app.reload();
      await app.seeOfflineAfterReload();
      await expectText(app.waiting, beforeReload);
      await expectText(app.peopleCount, '2 people');
      await app.seePerson('c-ben', { mpid: ben, state: 'Recorded', current: true });
      await app.seePerson('c-ana', { mpid: ana, state: 'Recorded', current: false });
      const benPanel = await app.openPerson('c-ben');
      await expect.poll(() => app.activityIn(benPanel)).toEqual(['purchase']);
      const waitingPanel = await app.openPerson('c-ana');
      await expect.poll(() => app.activityIn(waitingPanel)).toEqual(['store_visit']);
      await expect
        .poll(() => headlines(app.decisionsIn(waitingPanel)))
        .toEqual([
          [
            'Log in',
            'Waiting for the server',
            'Logged in as a new customer: the anonymous profile became known.',
          ],
          [
            'Identify',
            'Waiting for the server',
            'Treated as a new anonymous visitor: no existing profile matched.',
          ],
        ]);

      await app.goOnline();
      await app.syncNow();
      await expectText(app.syncStatus, 'Online');
      await app.seePerson('c-ana', { mpid: ana, state: 'Confirmed', current: false });
      await app.seePerson('c-ben', { mpid: ben, state: 'Confirmed', current: true });
      const panel = app.personPanel('c-ana');
      expect(await app.mpidIn(panel)).toBe(ana);
      await expect
        .poll(() => headlines(app.decisionsIn(panel)))
        .toEqual([
          [
            'Log in',
            'Decided by the server',
            'Logged in as a new customer: the anonymous profile became known.',
          ],
          [
            'Identify',
            'Decided by the server',
            'Treated as a new anonymous visitor: no existing profile matched.',
          ],
        ]);
      const [login] = await app.decisionsIn(panel);
      expect(login).toContain(
        `Profile conversion: the login IDs are new and the device has an anonymous profile, so profile ${ana} became a customer, keeping its MPID and history.`,
      );
      expect(login).toContain(`Added customer ID c-ana to profile ${ana}.`);
      await expect.poll(() => app.activityIn(panel)).toEqual(['store_visit']);
      expect(app.pageErrors).toEqual([]);
    });

    it('[SY-4][DV-9] two devices log the same new customer in offline: the first to sync keeps its MPID, the second is told it was merged and shows that MPID', async () => {
      const first = await device();
      const second = await device();
      await first.goOffline();
      await second.goOffline();
      await first.logIn({ customerId: 'c-new' });
      await second.logIn({ customerId: 'c-new' });
      const kept = await first.mpidIn(first.currentPerson);
      const dropped = await second.mpidIn(second.currentPerson);
      expect(dropped).not.toBe(kept);

      await first.goOnline();
      await first.syncNow();
      await first.seePerson('c-new', { mpid: kept, state: 'Confirmed', current: true });

      await second.goOnline(); // syncs at once
      const toast = second.page.getByRole('alert').filter({ hasText: 'Merged into an existing customer' });
      await expectText(
        toast,
        `Merged into an existing customer\nThe server already knew this person, so what was recorded as ${dropped} now belongs to ${kept}.`,
      );
      await expect.poll(() => second.mpidIn(second.currentPerson)).toBe(kept);
      await second.seePerson('c-new', { mpid: kept, state: 'Merged', current: true });
      expect(first.pageErrors).toEqual([]);
      expect(second.pageErrors).toEqual([]);
    });

    it('[AP-1] after one online visit the service worker opens the app shell offline', async () => {
      const app = await device();
      await app.waitForOfflineShell();
      await app.goOffline();
      await app.reload();
      await app.seeOfflineAfterReload();
      const another = await app.context.newPage();
      await another.goto(`${(await session.server()).url}/app/#/connect`);
      await another.getByRole('heading', { name: 'Settings' }).waitFor();
      expect(app.pageErrors).toEqual([]);
    });
  },
);

/** Each decision's first lines: what was asked, who decided, and the decision in one sentence. */
async function headlines(decisions: Promise<string[][]>): Promise<string[][]> {
  return (await decisions).map((lines) => lines.slice(0, 3));
}
