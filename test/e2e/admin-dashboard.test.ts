/**
 * The admin console's dashboard, device detail and inputs in a real Chromium against a real
 * server (SPEC AC-30..AC-39): traffic through the IDSync API and a device is counted on the
 * charts; a device's refused request is read with its reason; an input is created, its secret
 * rotated (the old one then refused with 401) and the input revoked. Each screen under axe, at
 * desktop and 360 px, saved as a screenshot in artifacts/screenshots/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceDetail } from '../../shared/protocol/admin-devices.ts';
import type { Stats } from '../../shared/protocol/admin-stats.ts';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { ADMIN_TOKEN, admin, call, type TestServer } from '../helpers/server.ts';
import { loginRow, pushRow, registerDevice } from '../helpers/sync-wire.ts';
import { type AdminConsole, adminSession } from './helpers/admin-console.ts';
import { removeAppCopy } from './helpers/app-build.ts';
import { DESKTOP, PHONE, type Viewport } from './helpers/field-app.ts';

const HOUR = 3_600_000;

afterAll(removeAppCopy);

/**
 * An anonymous visitor who then logs in (a conversion), a known user, and a device that logs in
 * and then pushes a modify of a profile it never saw: the server records it as FORBIDDEN.
 */
async function traffic(server: TestServer): Promise<void> {
  const identify = (identities: Record<string, string>) =>
    call<{ mpid: string }>(server.url, '/v1/identify', {
      environment: 'production',
      known_identities: identities,
    });
  const anonymous = await identify({ ios_idfv: 'idfv-visitor' });
  expect(anonymous.status).toBe(200);
  const login = await call<{ mpid: string }>(server.url, '/v1/login', {
    environment: 'production',
    known_identities: { customerid: 'c-visitor', ios_idfv: 'idfv-visitor' },
  });
  expect(login.body.mpid).toBe(anonymous.body.mpid);
  const other = await identify({ email: 'other@example.com' });
  const headers = await registerDevice(server.url, server.server.appInput.key, 'phone-1');
  const pushed = await call(
    server.url,
    '/sync/v1/requests/push',
    {
      rows: [
        loginRow('phone-1', 1, 'p1-login', 'c-phone'),
        pushRow({
          deviceId: 'phone-1',
          seq: 2,
          requestId: 'p1-tampered',
          kind: 'modify',
          modifyMpid: other.body.mpid,
          body: {
            identity_changes: [
              { identity_type: 'email', old_value: 'other@example.com', new_value: 'x@example.com' },
            ],
          },
        }),
      ],
    },
    { headers },
  );
  expect(pushed.status).toBe(200);
  const detail = await admin<DeviceDetail>(server.url, 'GET', '/workspaces/default/devices/phone-1');
  expect(detail.body.requests).toEqual({ applied: 1, failed: 1 });
}

describe.skipIf(chromiumSkipReason !== null)(
  `the admin dashboard, device detail and inputs in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 120_000 },
  () => {
    const session = adminSession();
    let server: TestServer | undefined;
    let ui: AdminConsole | undefined;

    async function signedIn(viewport: Viewport = DESKTOP): Promise<AdminConsole> {
      server = await session.serve();
      ui = await session.open(server, viewport);
      await ui.signIn(ADMIN_TOKEN);
      await ui.seeSignedIn();
      return ui;
    }

    async function check(state: string): Promise<void> {
      await ui!.screenshot(state);
      expect(await ui!.seriousA11yViolations(), state).toEqual([]);
    }

    it('[AC-30][AC-31][AC-32][AC-33][AC-34] the dashboard counts IDSync and device traffic by outcome, the conversion and each device by lag', async () => {
      const screen = await signedIn();
      const { page } = screen;
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Dashboard', level: 2 }).waitFor();
      await screen.expectText(
        screen.section('Resolutions by outcome').getByRole('status'),
        'No resolution in the last 24 hours.',
      );
      await check('admin-dashboard-empty');
      await traffic(server!);
      await page.getByRole('button', { name: 'Refresh' }).click();
      const outcomes = screen.section('Resolutions by outcome');
      await outcomes.getByRole('img').waitFor();
      const now = Date.now();
      const stats = await admin<Stats>(
        server!.url,
        'GET',
        `/workspaces/default/stats?from=${now - 24 * HOUR}&to=${now}&bucket=hour`,
      );
      const total = (outcome: string) =>
        stats.body.resolutions.filter((r) => r.outcome === outcome).reduce((sum, r) => sum + r.count, 0);
      expect(total('created')).toBeGreaterThan(0);
      expect(total('converted')).toBe(1);
      expect(total('failed')).toBe(1);
      const legend = await outcomes.getByRole('list', { name: 'Totals by outcome' }).innerText();
      expect(legend.replace(/\s+/g, ' ').trim()).toBe(
        `Created ${total('created')} Converted ${total('converted')} Matched ${total('matched')} Failed ${total('failed')}`,
      );
      expect(await outcomes.getByRole('img').getAttribute('aria-label')).toContain(
        `${total('created')} created, 1 converted, ${total('matched')} matched, 1 failed`,
      );
      const { conversion } = stats.body;
      expect(conversion.startedAnonymous).toBeGreaterThan(0);
      await screen.expectText(
        screen.section('Anonymous to known').locator('p').first(),
        `${Math.round(conversion.rate! * 100)}% ${conversion.converted} of ${conversion.startedAnonymous} ${conversion.startedAnonymous === 1 ? 'profile' : 'profiles'} that started anonymous became known`,
      );
      const lag = screen.section('Sync lag per device');
      await lag.getByRole('link', { name: 'phone-1' }).waitFor();
      await outcomes.getByText('Show as a table').click();
      await check('admin-dashboard');
      await page.locator('label', { hasText: 'Last 30 days' }).click(); // the radio itself is drawn by its label
      expect(await page.getByRole('radio', { name: 'Last 30 days' }).isChecked()).toBe(true);
      await screen.expectText(
        outcomes.getByRole('list', { name: 'Totals by outcome' }),
        `Created ${total('created')}\nConverted 1\nMatched ${total('matched')}\nFailed 1`,
      );
      await check('admin-dashboard-30-days');
      await lag.getByRole('link', { name: 'phone-1' }).click();
      await page.getByRole('heading', { name: 'phone-1', level: 2 }).waitFor();
      expect(screen.pageErrors).toEqual([]);
    });

    it('[AC-35] a device detail shows its registration, counts and the request it was refused, with what it was told', async () => {
      const screen = await signedIn();
      const { page } = screen;
      await traffic(server!);
      await page.getByRole('link', { name: 'Devices' }).click();
      await page.getByRole('link', { name: 'Details of phone-1' }).click();
      await page.getByRole('heading', { name: 'phone-1', level: 2 }).waitFor();
      const facts = await screen.section('Registration and sync').innerText();
      expect(facts).toContain(`with input ${server!.server.appInput.key}`);
      expect(facts).toMatch(/Next expected request\s+number 3/);
      expect(facts).toMatch(/Requests\s+1 applied, 1 failed/);
      const refused = screen
        .section('Failed requests')
        .getByRole('article', { name: 'Request 2, p1-tampered' });
      const said = await refused.innerText();
      expect(said).toContain('Request 2: modify');
      expect(said).toContain('FORBIDDEN');
      expect(said).toContain('Refused: the device asked for something it may not do');
      expect(said).toContain(
        'The device was told: “this device may modify only profiles its own requests resolved to”',
      );
      await check('admin-device-detail');
      await page.goto(`${server!.url}/app/#/admin/devices/no-such-device`);
      await screen.expectText(screen.alert, 'Not found: no device no-such-device in default.');
      await check('admin-device-not-found');
    });

    it('[AC-36][AC-37][AC-38] creates an input, rotates its secret (the old one then refused, 401), revokes it; the connect link is the server’s', async () => {
      const screen = await signedIn();
      const { page } = screen;
      await page.getByRole('link', { name: 'Inputs' }).click();
      await page.getByRole('heading', { name: 'Inputs and credentials' }).waitFor();
      const appKey = server!.server.appInput.key;
      const fieldApp = page.getByRole('article', { name: `Input Field app, ${appKey}` });
      const base = server!.url;
      await fieldApp
        .getByRole('link', { name: `${base}/app/#/connect?server=${encodeURIComponent(base)}&key=${appKey}` })
        .waitFor();
      await check('admin-inputs');
      const form = page.getByRole('form', { name: 'Create an input' });
      await form.getByRole('button', { name: 'Create input' }).click();
      await screen.expectText(
        form.getByRole('alert'),
        'Give the input a name, such as the app or service that will use it.',
      );
      await form.getByLabel('Name').fill('Billing server');
      await form.getByRole('button', { name: 'Create input' }).click();
      const once = page.getByRole('alert').filter({ hasText: 'shown only once' });
      const first = (await once.locator('pre').innerText()).trim();
      const key = /Input (\S+) created/.exec(await once.innerText())![1]!;
      await check('admin-input-created');
      const basic = (secret: string) =>
        call(
          base,
          '/v1/identify',
          { environment: 'production', known_identities: { email: 'b@example.com' } },
          {
            auth: 'basic',
            key,
            secret,
          },
        );
      expect((await basic(first)).status).toBe(200);
      await once.getByRole('button', { name: 'I have stored it' }).click();
      const input = page.getByRole('article', { name: `Input Billing server, ${key}` });
      expect(await input.innerText()).toContain('Server to server: the IDSync API with the key and secret');
      await input.getByRole('button', { name: 'Rotate secret' }).click();
      await screen.seeDialog();
      await check('admin-input-rotate-confirm');
      await screen.dialog.getByRole('button', { name: 'Rotate secret' }).click();
      await screen.dialog.waitFor({ state: 'detached' });
      const rotated = page.getByRole('alert').filter({ hasText: `Input ${key} rotated` });
      const second = (await rotated.locator('pre').innerText()).trim();
      expect(second).not.toBe(first);
      await check('admin-input-rotated');
      expect((await basic(first)).status).toBe(401);
      expect((await basic(second)).status).toBe(200);
      const said = await screen.confirm(input, 'Revoke input', 'Revoke input');
      expect(said).toContain('refused (401)');
      await input.getByText(/^Revoked /).waitFor();
      expect((await basic(second)).status).toBe(401);
      await check('admin-input-revoked');
      expect(screen.pageErrors).toEqual([]);
    });

    it('[AC-39] a 360 px phone: the dashboard, a device detail and the inputs fit the screen', async () => {
      const screen = await signedIn(PHONE);
      const { page } = screen;
      await traffic(server!);
      const fits = async (state: string) => {
        expect(await screen.scrollWidth(), state).toBeLessThanOrEqual(PHONE.width);
        await check(state);
      };
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await screen.section('Resolutions by outcome').getByRole('img').waitFor();
      await screen.section('Resolutions by outcome').getByText('Show as a table').click();
      await fits('admin-phone-dashboard');
      await screen.section('Sync lag per device').getByRole('link', { name: 'phone-1' }).click();
      await page.getByRole('heading', { name: 'phone-1', level: 2 }).waitFor();
      await fits('admin-phone-device-detail');
      await page.getByRole('link', { name: 'Inputs' }).click();
      await page.getByRole('heading', { name: 'Inputs and credentials' }).waitFor();
      await page.getByRole('form', { name: 'Create an input' }).getByLabel('Name').fill('Phone-made input');
      await page.getByRole('button', { name: 'Create input' }).click();
      await page.getByRole('alert').filter({ hasText: 'shown only once' }).waitFor();
      await fits('admin-phone-inputs');
      expect(screen.pageErrors).toEqual([]);
    });
  },
);
