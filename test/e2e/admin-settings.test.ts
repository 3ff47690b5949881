/**
 * Workspace settings in a real Chromium against a real server (SPEC AC-20..AC-26): change the
 * strategy through the impact preview and see the history and the server follow; an invalid edit
 * explained inline and unsaveable; a preview that changes nothing; a 409 shown with the conflicting
 * values; a save another admin overtook (AC-40); the priority reordered by keyboard alone; axe on
 * each state, screenshots at desktop and 360 px in artifacts/screenshots/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import type { WhatIfResponse } from '../../shared/protocol/what-if.ts';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { ADMIN_TOKEN, admin, call, type TestServer } from '../helpers/server.ts';
import { type AdminConsole, adminSession, CONVERSION } from './helpers/admin-console.ts';
import { removeAppCopy } from './helpers/app-build.ts';
import { DESKTOP, PHONE, type Viewport } from './helpers/field-app.ts';

/** Email is neither login nor unique, so two people may share one. */
const EMAIL_SHARED: ScopeConfigInput = {
  ...CONVERSION,
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
};

const identify = (server: TestServer, identities: Record<string, string>) =>
  call<{ mpid: string }>(server.url, '/v1/identify', {
    environment: 'production',
    known_identities: identities,
  });
const login = (server: TestServer, identities: Record<string, string>) =>
  call<{ mpid: string }>(server.url, '/v1/login', {
    environment: 'production',
    known_identities: identities,
  });

/** An anonymous device, then a login on it: conversion joins them, isolation keeps them apart. */
async function recordConversion(
  server: TestServer,
  n: number,
): Promise<{ anonymous: string; known: string }> {
  const anonymous = await identify(server, { ios_idfv: `idfv-${n}` });
  const known = await login(server, { customerid: `c-${n}`, ios_idfv: `idfv-${n}` });
  expect(anonymous.status).toBe(200);
  expect(known.status).toBe(200);
  return { anonymous: anonymous.body.mpid, known: known.body.mpid };
}

afterAll(removeAppCopy);

describe.skipIf(chromiumSkipReason !== null)(
  `workspace settings in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 120_000 },
  () => {
    const session = adminSession();
    let server: TestServer | undefined;
    let ui: AdminConsole | undefined;

    async function openSettings(config = CONVERSION, viewport: Viewport = DESKTOP): Promise<AdminConsole> {
      server = await session.serve(config);
      ui = await session.open(server, viewport);
      return ui;
    }

    async function goToSettings(screen: AdminConsole): Promise<void> {
      await screen.signIn(ADMIN_TOKEN);
      await screen.seeSignedIn();
      await screen.page.getByRole('link', { name: 'Settings' }).click();
      await screen.section('Config history').getByRole('article', { name: 'Version 1' }).waitFor();
    }

    async function check(state: string): Promise<void> {
      await ui!.screenshot(state);
      expect(await ui!.seriousA11yViolations(), state).toEqual([]);
    }

    const saveButton = () => ui!.page.getByRole('button', { name: 'Preview impact and save' });

    it('[AC-23][AC-24][AC-25] changes the strategy to profile isolation through the impact preview; the history and the server follow', async () => {
      const screen = await openSettings();
      const { page } = screen;
      await recordConversion(server!, 1);
      await recordConversion(server!, 2);
      const predicted = await admin<WhatIfResponse>(server!.url, 'POST', '/workspaces/default/what-if', {
        config: { ...CONVERSION, strategy: 'profile_isolation' },
      });
      const { outcomesChanged, compared } = predicted.body.summary;
      expect(outcomesChanged).toBeGreaterThan(0);
      await goToSettings(screen);
      await screen
        .section('Config history')
        .getByRole('article', { name: 'Version 1' })
        .getByText('The workspace was created with this config.')
        .waitFor();
      await check('admin-settings');
      expect(await saveButton().isDisabled()).toBe(true); // nothing changed yet
      await page.getByRole('radio', { name: 'Profile isolation' }).check();
      await page.getByText('1 change not saved yet.').waitFor();
      await saveButton().click();
      await screen.seeDialog();
      await screen.dialog
        .getByText(`${outcomesChanged} of ${compared} recorded outcomes would change.`)
        .waitFor();
      const said = await screen.dialog.innerText();
      expect(said).toContain('Strategy: Profile conversion → Profile isolation.');
      const first = predicted.body.differences[0]!;
      const example = screen.dialog.getByRole('article', { name: `Request ${first.requestId}` });
      expect(await example.innerText()).toContain(`Why it would be: ${first.why.new}`);
      expect(await admin(server!.url, 'GET', '/workspaces/default/config')).toMatchObject({
        body: { version: 1 }, // previewing saved nothing
      });
      await check('admin-settings-preview');
      await screen.dialog.getByRole('button', { name: 'Save as version 2' }).click();
      await screen.dialog.waitFor({ state: 'detached' });
      await page.getByText('Saved as version 2. Requests from now on are resolved with it.').waitFor();
      const version2 = screen.section('Config history').getByRole('article', { name: 'Version 2' });
      await version2.getByText('Strategy: Profile conversion → Profile isolation.').waitFor();
      expect(await version2.innerText()).toMatch(/by admin /);
      await check('admin-settings-saved');
      const stored = await admin<{ version: number; config: { strategy: string } }>(
        server!.url,
        'GET',
        '/workspaces/default/config',
      );
      expect(stored.body).toMatchObject({ version: 2, config: { strategy: 'profile_isolation' } });
      const after = await recordConversion(server!, 3);
      expect(after.known).not.toBe(after.anonymous); // isolation: the login no longer takes over the device's profile
      expect(screen.pageErrors).toEqual([]);
    });

    it('[AC-21] an invalid edit is explained beside the flags and cannot be saved; a preview that changes nothing says so', async () => {
      const screen = await openSettings();
      const { page } = screen;
      await recordConversion(server!, 1);
      await goToSettings(screen);
      const immutable = page.getByRole('checkbox', { name: 'ios idfv: immutable' });
      await immutable.check();
      const explained = 'Ios idfv is immutable, so it must also be a login identity and a unique identity';
      await page.getByText(explained).waitFor();
      await page.getByText('Fix the rules shown in red before saving.').waitFor();
      expect(await saveButton().isDisabled()).toBe(true);
      await check('admin-settings-invalid');
      await immutable.uncheck();
      await page.getByText(explained).waitFor({ state: 'detached' });
      await page.getByRole('radio', { name: 'Only after a login' }).check();
      await saveButton().click();
      await screen.seeDialog();
      await screen.dialog.getByText('None of the 2 recorded outcomes would change.').waitFor();
      expect(await screen.dialog.innerText()).toContain('Device sync: whenever online → only after a login.');
      await check('admin-settings-preview-none');
      await screen.dialog.getByRole('button', { name: 'Back to editing' }).click();
      await screen.dialog.waitFor({ state: 'detached' });
      expect(
        (await admin<{ version: number }>(server!.url, 'GET', '/workspaces/default/config')).body.version,
      ).toBe(1);
      expect(screen.pageErrors).toEqual([]);
    });

    it('[AC-24] making a type unique while two people share a value is refused with the values, and nothing is saved', async () => {
      const screen = await openSettings(EMAIL_SHARED);
      const { page } = screen;
      await login(server!, { customerid: 'c-a', email: 'shared@example.com' });
      await login(server!, { customerid: 'c-b', email: 'shared@example.com' });
      await goToSettings(screen);
      await page.getByRole('checkbox', { name: 'Email: unique' }).check();
      await saveButton().click();
      await screen.seeDialog();
      await screen.dialog.getByRole('button', { name: 'Save as version 2' }).click();
      const refusal = screen.dialog.getByRole('alert');
      await refusal.waitFor();
      expect(await refusal.innerText()).toContain('email=shared@example.com (2 profiles)');
      await check('admin-settings-conflict');
      expect(
        (await admin<{ version: number }>(server!.url, 'GET', '/workspaces/default/config')).body.version,
      ).toBe(1);
    });

    it('[AC-40] a save another admin overtook is refused, said in words, and the reload shows their change', async () => {
      const screen = await openSettings();
      const { page } = screen;
      await goToSettings(screen);
      await page.getByRole('radio', { name: 'Profile isolation' }).check();
      // Meanwhile another admin saves version 2 from their own console.
      const other = { ...CONVERSION, strategy: 'profile_link' };
      expect(
        (await admin(server!.url, 'PUT', '/workspaces/default/config?expected_version=1', other)).status,
      ).toBe(200);
      await saveButton().click();
      await screen.seeDialog();
      await screen.dialog.getByRole('button', { name: 'Save as version 2' }).click();
      const refusal = screen.dialog.getByRole('alert');
      await refusal.waitFor();
      expect(await refusal.innerText()).toContain('changed by someone else since you opened it');
      expect(await screen.dialog.getByRole('button', { name: /^Save as version/ }).count()).toBe(0);
      await check('admin-settings-stale');
      await screen.dialog.getByRole('button', { name: 'Reload the current config' }).click();
      await screen.dialog.waitFor({ state: 'detached' });
      await page.getByText('Workspace default, config version 2.').waitFor();
      expect(await page.getByRole('radio', { name: 'Profile link' }).isChecked()).toBe(true);
      await screen.section('Config history').getByRole('article', { name: 'Version 2' }).waitFor();
      const stored = await admin<{ version: number; config: { strategy: string } }>(
        server!.url,
        'GET',
        '/workspaces/default/config',
      );
      expect(stored.body).toMatchObject({ version: 2, config: { strategy: 'profile_link' } });
    });

    it('[AC-22] by keyboard alone: reorders the priority with the arrow keys and saves it', async () => {
      const screen = await openSettings();
      const { page } = screen;
      await goToSettings(screen);
      const handle = (position: number) =>
        page.getByRole('button', { name: `Email, position ${position} of 4. Arrow keys move it.` });
      await screen.tabTo(handle(2));
      await page.keyboard.press('ArrowUp');
      await handle(1).waitFor();
      expect(await handle(1).evaluate((b) => b === document.activeElement)).toBe(true);
      await page.getByRole('status').filter({ hasText: 'Email moved to position 1 of 4.' }).waitFor();
      await page.keyboard.press('End');
      await handle(4).waitFor();
      expect(await handle(4).evaluate((b) => b === document.activeElement)).toBe(true);
      await screen.tabTo(saveButton());
      await page.keyboard.press('Enter');
      await screen.seeDialog();
      await screen.dialog.getByText('No recorded request to replay yet: nothing can change.').waitFor();
      await screen.tabTo(screen.dialog.getByRole('button', { name: 'Save as version 2' }));
      await page.keyboard.press('Enter');
      await screen.dialog.waitFor({ state: 'detached' });
      const stored = await admin<{ config: { identityPriority: string[] } }>(
        server!.url,
        'GET',
        '/workspaces/default/config',
      );
      expect(stored.body.config.identityPriority).toEqual([
        'customerid',
        'ios_idfv',
        'device_application_stamp',
        'email',
      ]);
      await screen
        .section('Config history')
        .getByText('Identity priority reordered:', { exact: false })
        .waitFor();
      expect(screen.pageErrors).toEqual([]);
    });

    it('[AC-26] a 360 px phone: the settings, the preview and the history fit the screen', async () => {
      const screen = await openSettings(CONVERSION, PHONE);
      await recordConversion(server!, 1);
      const fits = async (state: string) => {
        expect(await screen.scrollWidth(), state).toBeLessThanOrEqual(PHONE.width);
        await check(state);
      };
      await goToSettings(screen);
      await fits('admin-phone-settings');
      await screen.page.getByRole('radio', { name: 'Profile isolation' }).check();
      await saveButton().click();
      await screen.seeDialog();
      await screen.dialog.getByText(/recorded outcomes? would change\.$/).waitFor();
      await fits('admin-phone-settings-preview');
      expect(screen.pageErrors).toEqual([]);
    });
  },
);
