/**
 * How the app loads (SPEC UP), in a real Chromium against a real server: the Field route fetches
 * no admin-console code (its chunk comes on the first visit to #/admin), and index.html paints an
 * "opening" state before any script has run, which the Field screen replaces. The opening state
 * is saved as a screenshot at desktop and phone widths. The device engine's chunk is fetched from
 * index.html but evaluated only after the Field screen is painted.
 */
import { describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { DESKTOP, fieldSession, FieldApp, PHONE } from './helpers/field-app.ts';

const ADMIN_CHUNK = /\/assets\/(AdminConsole|GraphCanvas)-[^/]*\.js$/;
const DEVICE_CHUNK = /\/assets\/device-code-[^/]*\.js$/;

type PaintedWindow = Window & { fieldPainted?: number };

/**
 * Installed before the app's scripts: the device works local-only (so the Field is the app's first
 * screen, as on a kiosk's every visit), and the time of the frame after the Field's heading entered
 * the DOM is kept.
 */
function recordFieldPainted(): void {
  localStorage.setItem('identity-sync:connection', JSON.stringify({ kind: 'local' }));
  const observer = new MutationObserver(() => {
    if (document.getElementById('current-person-heading') === null) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      (window as PaintedWindow).fieldPainted = performance.now();
    });
  });
  observer.observe(document, { childList: true, subtree: true });
}

describe.skipIf(chromiumSkipReason !== null)(
  `how the app loads in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 90_000 },
  () => {
    const session = fieldSession();

    it('[UP-1] the Field route loads no admin-console code; #/admin fetches it', async () => {
      const server = await session.serve();
      const context = await session.browser().newContext({ viewport: DESKTOP });
      const page = await context.newPage();
      const scripts: string[] = [];
      page.on('request', (request) => {
        if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
      });
      const app = session.keep(await FieldApp.attach(context, page, `${server.url}/app/`));
      await app.seeFieldScreen();
      await page.waitForLoadState('networkidle');
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.filter((script) => ADMIN_CHUNK.test(script))).toEqual([]);

      await page.goto(`${server.url}/app/#/admin`);
      await expect
        .poll(() => scripts.some((script) => ADMIN_CHUNK.test(script)), { timeout: 20_000 })
        .toBe(true);
    });

    it("[UP-9] index.html fetches the device engine's chunk; the app evaluates it after the Field is painted", async () => {
      const server = await session.serve();
      const context = await session.browser().newContext({ viewport: DESKTOP });
      await context.addInitScript(recordFieldPainted);
      const page = await context.newPage();
      const html = await (await fetch(`${server.url}/app/`)).text();
      expect(html).toMatch(/<link rel="modulepreload"[^>]* href="\.\/assets\/device-code-[^"]*\.js"/);
      const deviceChunk: string[] = [];
      page.on('request', (request) => {
        if (DEVICE_CHUNK.test(new URL(request.url()).pathname)) deviceChunk.push(request.url());
      });
      const app = session.keep(await FieldApp.attach(context, page, `${server.url}/app/`));
      await app.seeFieldScreen();
      // The engine opens: the Field shows the device's data.
      await app.currentPerson.getByText('Reading this device’s storage…').waitFor({ state: 'detached' });
      const at = await page.evaluate(() => ({
        painted: (window as PaintedWindow).fieldPainted ?? null,
        evaluated: performance.getEntriesByName('identity-sync:device-code')[0]?.startTime ?? null,
        scriptStart: performance.getEntriesByName('identity-sync:script-start')[0]?.startTime ?? null,
      }));
      expect(deviceChunk).toHaveLength(1);
      expect(at.painted).not.toBeNull();
      expect(at.scriptStart).not.toBeNull();
      expect(at.evaluated).toBeGreaterThanOrEqual(at.painted ?? Number.POSITIVE_INFINITY);
    });

    it("[UP-10] the opening state paints before the app's stylesheet has loaded; the app waits for it", async () => {
      const server = await session.serve();
      const context = await session.browser().newContext({ viewport: DESKTOP });
      await context.addInitScript(recordFieldPainted);
      const page = await context.newPage();
      let release = () => {};
      const stylesheetHeld = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/assets/*.css', async (route) => {
        await stylesheetHeld;
        await route.continue();
      });
      await page.goto(`${server.url}/app/`, { waitUntil: 'commit' });
      const painted = () =>
        page.evaluate(() => performance.getEntriesByName('first-contentful-paint').length > 0);
      await expect.poll(painted, { timeout: 20_000 }).toBe(true);
      expect(
        await page.getByRole('status').filter({ hasText: 'Opening this device’s storage…' }).count(),
      ).toBe(1);
      // The app's script has not run: nothing renders unstyled.
      expect(
        await page.evaluate(() => performance.getEntriesByName('identity-sync:script-start').length),
      ).toBe(0);

      release();
      const heading = page.getByRole('heading', { name: 'Current person' });
      await heading.waitFor({ timeout: 20_000 });
      // Styled by the app's stylesheet (the browser's default is a serif font).
      expect(await heading.evaluate((element) => getComputedStyle(element).fontFamily)).toMatch(
        /-apple-system|system-ui/,
      );
      await context.close();
    });

    for (const viewport of [DESKTOP, PHONE]) {
      it(`[UP-4] before any script runs the page shows that it is opening, then the Field screen (${viewport.width} px)`, async () => {
        const server = await session.serve();
        const context = await session.browser().newContext({ viewport });
        const page = await context.newPage();
        await page.route('**/*.js', (route) => route.abort());
        const app = session.keep(await FieldApp.attach(context, page, `${server.url}/app/`));
        const opening = page.getByRole('status').filter({ hasText: 'Opening this device’s storage…' });
        await opening.waitFor({ timeout: 20_000 });
        expect(await page.getByRole('heading', { name: 'Identity Sync', level: 1 }).isVisible()).toBe(true);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          viewport.width,
        );
        await app.screenshot(`opening-${viewport === PHONE ? 'phone' : 'desktop'}`);

        await page.unroute('**/*.js');
        await page.reload();
        await app.seeFieldScreen();
        expect(await opening.count()).toBe(0);
      });
    }
  },
);
