/**
 * The admin console as admins use it, in a real Chromium against a real server (SPEC AC-*): sign
 * in (a wrong token refused), find a person by email and read why they were joined, undo an alias,
 * delete a person, revoke a device and see its next sync refused; each screen under axe, at
 * 360 px with nothing wider than the screen, and saved as a screenshot in artifacts/screenshots/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { explainInWords } from '../../shared/resolver/explain-in-words.ts';
import type { AliasRecord, StoredRequest } from '../../shared/resolver/records.ts';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { ADMIN_TOKEN, admin, call, type TestServer } from '../helpers/server.ts';
import { loginRow, registerDevice } from '../helpers/sync-wire.ts';
import { type AdminConsole, adminSession } from './helpers/admin-console.ts';
import { appCopy, removeAppCopy } from './helpers/app-build.ts';
import { DESKTOP, PHONE, type Viewport } from './helpers/field-app.ts';

const login = (server: TestServer, identities: Record<string, string>) =>
  call<{ mpid: string }>(server.url, '/v1/login', {
    environment: 'production',
    known_identities: identities,
  });

afterAll(removeAppCopy);

describe('the admin console in the built app', () => {
  it('[AC-7] is a chunk of its own: the entry script the Field screen loads holds none of it', async () => {
    const dir = await appCopy();
    const entry = /src="\.\/(assets\/index-[^"]+\.js)"/.exec(
      readFileSync(path.join(dir, 'index.html'), 'utf8'),
    );
    expect(entry).not.toBeNull();
    expect(
      readFileSync(path.join(dir, entry![1]!), 'utf8').includes('Sign in as an admin'),
      'admin code in the entry',
    ).toBe(false);
    const chunks = readdirSync(path.join(dir, 'assets')).filter((f) => /^AdminConsole-.+\.js$/.test(f));
    expect(chunks).toHaveLength(1);
    expect(readFileSync(path.join(dir, 'assets', chunks[0]!), 'utf8')).toContain('Sign in as an admin');
  });
});

describe.skipIf(chromiumSkipReason !== null)(
  `the admin console in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 120_000 },
  () => {
    const session = adminSession();
    let server: TestServer | undefined;
    let ui: AdminConsole | undefined;

    async function openConsole(viewport: Viewport = DESKTOP): Promise<AdminConsole> {
      server = await session.serve();
      ui = await session.open(server, viewport);
      return ui;
    }

    /** The screen as it is now has no serious or critical axe violation, and is saved as a screenshot. */
    async function check(state: string): Promise<void> {
      await ui!.screenshot(state);
      expect(await ui!.seriousA11yViolations(), state).toEqual([]);
    }

    it('[AC-1] by keyboard alone: a wrong token is refused, the right one signs in, sign-out; the token is stored nowhere', async () => {
      const screen = await openConsole();
      const { page } = screen;
      await check('admin-sign-in');
      await screen.tabTo(screen.tokenField);
      await page.keyboard.type('not-the-token');
      await page.keyboard.press('Enter');
      await screen.expectText(
        screen.alert,
        'The server refused this admin token: it is wrong or has been revoked.',
      );
      await check('admin-sign-in-refused');
      await screen.tokenField.fill('');
      await screen.tabTo(screen.tokenField);
      await page.keyboard.type(ADMIN_TOKEN);
      await page.keyboard.press('Enter');
      await screen.seeSignedIn();
      await check('admin-find-empty');
      const stored = await page.evaluate(async () => {
        const databases = await indexedDB.databases();
        return JSON.stringify([{ ...localStorage }, { ...sessionStorage }, databases, document.cookie]);
      });
      expect(stored).not.toContain(ADMIN_TOKEN);
      await screen.tabTo(page.getByRole('button', { name: 'Sign out' }));
      await page.keyboard.press('Enter');
      await screen.tokenField.waitFor();
      await page.reload();
      await screen.tokenField.waitFor(); // a reload never signs back in: the token was in memory only
      expect(screen.pageErrors).toEqual([]);
    });

    it('[AC-2] finds a person by email and reads why they were joined, in the words of the explain trace', async () => {
      const screen = await openConsole();
      const first = await login(server!, { email: 'ana@example.com' });
      const second = await login(server!, { customerid: 'c-ana', email: 'ana@example.com' });
      expect(second.body.mpid).toBe(first.body.mpid);
      await screen.signIn(ADMIN_TOKEN);
      await screen.seeSignedIn();
      await screen.search('Email', 'nobody@example.com');
      await screen.expectText(
        screen.results,
        'No one in workspace default has Email “nobody@example.com”. Deleted people are never found.',
      );
      await check('admin-find-none');
      await login(server!, { email: 'nobody@example.com' });
      await screen.page.getByRole('button', { name: 'Search' }).click(); // the same search, asked again
      await screen.expectText(screen.results.getByRole('status'), '1 person found');
      await screen.search('Email', 'ana@example.com');
      await screen.expectText(screen.results.getByRole('status'), '1 person found');
      await check('admin-find-found');
      await screen.openPerson('c-ana');
      const detail = await admin<{ requests: StoredRequest[] }>(
        server!.url,
        'GET',
        `/workspaces/default/profiles/${first.body.mpid}`,
      );
      const inWords = detail.body.requests.map((r) => {
        if (r.trace === null) throw new Error(`request ${r.requestId} has no trace`);
        const { headline, steps } = explainInWords(r.trace);
        return [headline, ...steps];
      });
      expect(inWords).toHaveLength(2);
      await expect.poll(() => screen.explained()).toEqual(inWords);
      expect(inWords[0]!.join(' ')).toMatch(/email/i); // the second login was joined by the email
      await check('admin-person');
    });

    it('[AC-3] undoes an alias behind a confirmation that says what will happen', async () => {
      const screen = await openConsole();
      const source = await call<{ mpid: string }>(server!.url, '/v1/identify', {
        environment: 'production',
        known_identities: { ios_idfv: 'idfv-lee' },
      });
      const destination = await login(server!, { customerid: 'c-lee' });
      await call(server!.url, '/v1/alias', {
        environment: 'production',
        request_id: 'alias-lee',
        data: { source_mpid: source.body.mpid, destination_mpid: destination.body.mpid },
      });
      const aliasStatus = async () =>
        (
          await admin<{ aliases: AliasRecord[] }>(
            server!.url,
            'GET',
            `/workspaces/default/profiles/${destination.body.mpid}`,
          )
        ).body.aliases[0]?.status;
      await expect.poll(aliasStatus, { timeout: 20_000 }).toBe('applied');
      await screen.signIn(ADMIN_TOKEN);
      await screen.seeSignedIn();
      await screen.search('Customer ID', 'c-lee');
      await screen.openPerson('c-lee');
      const alias = screen.section('Aliases').getByRole('article', { name: 'Alias alias-lee' });
      await alias.getByText('Applied').waitFor();
      await alias.getByRole('button', { name: 'Undo this alias' }).click();
      await screen.seeDialog();
      await check('admin-undo-alias-confirm');
      await screen.dialog.getByRole('button', { name: 'Cancel' }).click();
      await screen.dialog.waitFor({ state: 'detached' });
      expect(await aliasStatus()).toBe('applied'); // cancelling changes nothing
      const said = await screen.confirm(alias, 'Undo this alias', 'Undo alias');
      expect(said).toContain('Alias alias-lee is marked undone');
      await alias.getByText('Undone').waitFor();
      expect(await aliasStatus()).toBe('undone');
      await screen.section('History').getByText('Alias undone (alias-lee).').waitFor();
      await check('admin-alias-undone');
    });

    it('[AC-3] deletes a person behind a confirmation; search no longer finds them', async () => {
      const screen = await openConsole();
      await login(server!, { customerid: 'c-dee', email: 'dee@example.com' });
      await screen.signIn(ADMIN_TOKEN);
      await screen.seeSignedIn();
      await screen.search('Email', 'dee@example.com');
      await screen.openPerson('c-dee');
      await screen.page.getByRole('button', { name: 'Delete this person' }).click();
      await screen.seeDialog();
      await check('admin-delete-confirm');
      const said = await screen.dialog.innerText();
      expect(said).toContain('cannot be undone');
      await screen.dialog.getByRole('button', { name: 'Delete for good' }).click();
      await screen.page.getByRole('heading', { name: 'Find a person' }).waitFor();
      await screen.search('Email', 'dee@example.com');
      await screen.expectText(
        screen.results,
        'No one in workspace default has Email “dee@example.com”. Deleted people are never found.',
      );
      const found = await admin<{ profiles: unknown[] }>(
        server!.url,
        'GET',
        '/workspaces/default/profiles?identity_type=email&value=dee%40example.com',
      );
      expect(found.body.profiles).toEqual([]);
    });

    it('[AC-4] lists devices with when they were last seen, and a revoked device is refused at its next sync (401)', async () => {
      const screen = await openConsole();
      await screen.signIn(ADMIN_TOKEN);
      await screen.seeSignedIn();
      await screen.page.getByRole('link', { name: 'Devices' }).click();
      await screen.expectText(
        screen.page.getByRole('region', { name: 'Devices' }),
        'No device has registered with workspace default yet. Devices appear here after their first sync.',
      );
      await check('admin-devices-empty');
      const headers = await registerDevice(server!.url, server!.server.appInput.key, 'tablet-7');
      const pushed = await call(
        server!.url,
        '/sync/v1/requests/push',
        { rows: [loginRow('tablet-7', 1, 't7-1', 'c-tab')] },
        { headers },
      );
      expect(pushed.status).toBe(200);
      await screen.page.getByRole('link', { name: 'Find a person' }).click();
      await screen.page.getByRole('link', { name: 'Devices' }).click();
      const device = screen.page.getByRole('article', { name: 'Device tablet-7, tablet-7' });
      await device.getByText('Active').waitFor();
      await expect.poll(() => device.innerText()).toMatch(/Last seen .+; registered .+; 1 request accepted/);
      await check('admin-devices');
      const said = await screen.confirm(device, 'Revoke this device', 'Revoke device');
      expect(said).toContain('its next sync is refused (401)');
      await device.getByText('Revoked').waitFor();
      const refused = await fetch(`${server!.url}/sync/v1/config`, { headers });
      expect(refused.status).toBe(401);
    });

    it('[AC-5] by keyboard alone: search, open a person, open the delete confirmation and leave it with Escape', async () => {
      const screen = await openConsole();
      const { page } = screen;
      const kim = await login(server!, { customerid: 'c-kim', email: 'kim@example.com' });
      await screen.signIn(ADMIN_TOKEN);
      await screen.seeSignedIn();
      await screen.tabTo(page.getByLabel('Value', { exact: true }));
      await page.keyboard.type('kim@example.com');
      await page.keyboard.press('Enter'); // the identity select starts on Email
      await screen.expectText(screen.results.getByRole('status'), '1 person found');
      await screen.tabTo(screen.results.getByRole('link', { name: 'c-kim', exact: true }));
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'c-kim', level: 2 }).waitFor();
      await screen.tabTo(page.getByRole('button', { name: 'Delete this person' }));
      await page.keyboard.press('Enter');
      await screen.seeDialog();
      expect(
        await screen.dialog
          .getByRole('button', { name: 'Cancel' })
          .evaluate((b) => b === document.activeElement),
      ).toBe(true); // the safe choice has the focus
      await page.keyboard.press('Escape');
      await screen.dialog.waitFor({ state: 'detached' });
      const still = await admin(server!.url, 'GET', `/workspaces/default/profiles/${kim.body.mpid}`);
      expect(still.status).toBe(200);
      expect(screen.pageErrors).toEqual([]);
    });

    it('[AC-1][AC-6] a token revoked mid-session signs out with the reason; an unreachable server is said so', async () => {
      const screen = await openConsole();
      const created = await admin<{ id: string; token: string }>(server!.url, 'POST', '/tokens', {
        name: 'temp',
      });
      await screen.signIn(created.body.token);
      await screen.seeSignedIn();
      expect((await admin(server!.url, 'DELETE', `/tokens/${created.body.id}`)).status).toBe(204);
      await screen.page.getByRole('link', { name: 'Devices' }).click();
      await screen.expectText(
        screen.alert,
        'You were signed out\nThe server refused this admin token: it is wrong or has been revoked.',
      );
      await check('admin-signed-out-revoked');
      await screen.signIn(ADMIN_TOKEN);
      await screen.page.getByRole('heading', { name: 'Devices' }).waitFor();
      await screen.page.getByRole('link', { name: 'Find a person' }).click();
      await session.stopServer();
      server = undefined;
      await screen.page.getByLabel('Value', { exact: true }).fill('ana@example.com');
      await screen.page.getByRole('button', { name: 'Search' }).click();
      await screen.expectText(
        screen.results,
        'The server cannot be reached. Check that it is running and your network, then try again.',
      );
      await check('admin-unreachable');
    });

    it('[AC-5] a 360 px phone: every admin screen fits the screen', async () => {
      const screen = await openConsole(PHONE);
      const fits = async (state: string) => {
        expect(await screen.scrollWidth(), state).toBeLessThanOrEqual(PHONE.width);
        await screen.screenshot(state);
      };
      await login(server!, {
        customerid: 'c-ana-0123456789-long-customer-identifier',
        email: 'ana@example.com',
      });
      await fits('admin-phone-sign-in');
      await screen.signIn(ADMIN_TOKEN);
      await screen.seeSignedIn();
      await fits('admin-phone-find');
      await screen.search('Email', 'ana@example.com');
      await fits('admin-phone-found');
      await screen.openPerson('c-ana-0123456789-long-customer-identifier');
      await fits('admin-phone-person');
      await screen.page.getByRole('button', { name: 'Delete this person' }).click();
      await screen.seeDialog();
      await fits('admin-phone-delete-confirm');
      await screen.dialog.getByRole('button', { name: 'Cancel' }).click();
      await screen.page.getByRole('link', { name: 'Devices' }).click();
      await screen.page.getByRole('heading', { name: 'Devices' }).waitFor();
      await fits('admin-phone-devices');
      expect(screen.pageErrors).toEqual([]);
    });
  },
);
