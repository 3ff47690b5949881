/**
 * The identity graph on a person's detail, in a real Chromium against a real server (SPEC
 * GV-4..GV-6): a visitor aliased into a customer shows as two profiles joined by a highlighted
 * alias; undoing the alias takes the highlight away; axe-checked, desktop and 360 px screenshots.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AliasRecord } from '../../shared/resolver/records.ts';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { ADMIN_TOKEN, admin, call, type TestServer } from '../helpers/server.ts';
import { type AdminConsole, adminSession } from './helpers/admin-console.ts';
import { appCopy, removeAppCopy } from './helpers/app-build.ts';
import { DESKTOP, PHONE, type Viewport } from './helpers/field-app.ts';

afterAll(removeAppCopy);

describe('the graph view in the built app', () => {
  it('[GV-6] the graph library is a chunk of its own: neither the entry nor the console chunk holds it', async () => {
    const assets = path.join(await appCopy(), 'assets');
    const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
    const holding = scripts.filter((f) =>
      readFileSync(path.join(assets, f), 'utf8').includes('react-flow__node'),
    );
    expect(holding).toHaveLength(1);
    expect(holding[0]).toMatch(/^GraphCanvas-.+\.js$/);
  });
});

describe.skipIf(chromiumSkipReason !== null)(
  `the identity graph in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 120_000 },
  () => {
    const session = adminSession();
    let server: TestServer | undefined;
    let ui: AdminConsole | undefined;

    async function check(state: string): Promise<void> {
      await ui!.screenshot(state);
      expect(await ui!.seriousA11yViolations(), state).toEqual([]);
    }

    /** A visitor aliased into customer `c-gia`; the console open on the customer's detail. */
    async function aliasedPerson(viewport: Viewport) {
      server = await session.serve();
      const visitor = await call<{ mpid: string }>(server.url, '/v1/identify', {
        environment: 'production',
        known_identities: { ios_idfv: 'idfv-gia' },
      });
      const customer = await call<{ mpid: string }>(server.url, '/v1/login', {
        environment: 'production',
        known_identities: { customerid: 'c-gia' },
      });
      await call(server.url, '/v1/alias', {
        environment: 'production',
        request_id: 'alias-gia',
        data: { source_mpid: visitor.body.mpid, destination_mpid: customer.body.mpid },
      });
      const aliasStatus = async () =>
        (
          await admin<{ aliases: AliasRecord[] }>(
            server!.url,
            'GET',
            `/workspaces/default/profiles/${customer.body.mpid}`,
          )
        ).body.aliases[0]?.status;
      await expect.poll(aliasStatus, { timeout: 20_000 }).toBe('applied');
      ui = await session.open(server, viewport);
      await ui.signIn(ADMIN_TOKEN);
      await ui.seeSignedIn();
      await ui.search('Customer ID', 'c-gia');
      await ui.openPerson('c-gia');
      return { screen: ui, visitor: visitor.body.mpid, customer: customer.body.mpid };
    }

    it('[GV-4][GV-5][GV-6] shows both profiles joined by the highlighted alias; undoing it changes the graph', async () => {
      const { screen, visitor } = await aliasedPerson(DESKTOP);
      const graph = screen.section('Identity graph');
      const canvas = graph.getByTestId('graph-canvas');
      await canvas.locator('.react-flow__node').first().waitFor();
      expect(await canvas.locator('.graph-node-profile').count()).toBe(2);
      expect(await canvas.locator('.graph-node-joined').count()).toBe(2);
      expect(await canvas.locator('.graph-edge-joining').count()).toBe(1);
      await graph.getByText(/The graph as text/).click();
      const connections = graph.getByRole('list', { name: 'Graph connections' });
      await connections.locator('strong', { hasText: 'by request alias-gia' }).waitFor();
      await check('admin-graph');

      const alias = screen.section('Aliases').getByRole('article', { name: 'Alias alias-gia' });
      await screen.confirm(alias, 'Undo this alias', 'Undo alias');
      await alias.getByText('Undone').waitFor();
      const after = screen.section('Identity graph').getByTestId('graph-canvas');
      await after.locator('.react-flow__node').first().waitFor();
      await expect.poll(() => after.locator('.graph-edge-joining').count()).toBe(0);
      expect(await after.locator('.graph-node-joined').count()).toBe(0);
      expect(await after.locator('.graph-edge-aliased_into').count()).toBe(1);
      await check('admin-graph-alias-undone');

      await after.locator('.graph-node-profile', { hasText: visitor.slice(-4) }).click();
      await screen.page.waitForURL(new RegExp(`/admin/people/${visitor}$`));
      expect(screen.pageErrors).toEqual([]);
    });

    it('[GV-6] Tab passes the picture by, and it fits a 360 px screen', async () => {
      const { screen } = await aliasedPerson(PHONE);
      const canvas = screen.section('Identity graph').getByTestId('graph-canvas');
      await canvas.locator('.react-flow__node').first().waitFor();
      const focusableInside = await canvas.evaluate(
        (element) => element.querySelectorAll('[tabindex]:not([tabindex="-1"]), button, input').length,
      );
      expect(focusableInside).toBe(0);
      expect(await screen.scrollWidth()).toBeLessThanOrEqual(PHONE.width);
      await check('admin-graph-phone');
    });
  },
);
