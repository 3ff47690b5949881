/**
 * The field app in a real Chromium against a real server: a page object whose methods are what a
 * field worker does (identify, log in, record an event, next person, sync), and what they read on
 * screen (the sync status, what is waiting, the current person's MPID). Elements are found by role
 * and accessible name, as a user sees them; every wait is for something on screen.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ServerOptionsInput } from '../../../server/options.ts';
import { launchChromium } from '../../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { appCopy, removeAppCopy } from './app-build.ts';
import { seriousA11yViolations } from './axe.ts';
import { fullPageScreenshot } from './screenshot.ts';

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 360, height: 740 } as const;
export type Viewport = typeof DESKTOP | typeof PHONE;

/** Long enough for a sync round on a loaded 2-core machine; every wait ends as soon as the screen says so. */
const UI_TIMEOUT_MS = 20_000;

/** More Tab presses than the Field screen has stops: a control never reached is a failure. */
const MAX_TABS = 40;

/** A fresh server (temp SQLite) serving this worker's copy of the built app under /app/. */
async function startAppServer(options: Partial<ServerOptionsInput> = {}): Promise<TestServer> {
  return startTestServer({ appDir: await appCopy(), ...options });
}

/**
 * The hooks of a field browser test file: one Chromium and one copy of the built app for the file,
 * and per test a server and the field apps opened on it, all closed after the test.
 */
export function fieldSession() {
  let browser: Browser | undefined;
  let server: TestServer | undefined;
  const apps: FieldApp[] = [];
  beforeAll(async () => {
    await appCopy();
    browser = await launchChromium();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await browser?.close();
    removeAppCopy();
  });
  return {
    /** The file's Chromium. */
    browser: (): Browser => browser as Browser,
    /** A server for this test on the built app, with `options`. */
    async serve(options: Partial<ServerOptionsInput> = {}): Promise<TestServer> {
      server = await startAppServer(options);
      return server;
    },
    /** This test's server: the one started by `serve`, or one with default options started now. */
    async server(): Promise<TestServer> {
      server ??= await startAppServer();
      return server;
    },
    /** Keeps `opened` to close after the test; it becomes this test's latest app. */
    keep(opened: FieldApp): FieldApp {
      apps.push(opened);
      return opened;
    },
    /** This test's latest app. */
    app(): FieldApp {
      const app = apps.at(-1);
      if (app === undefined) throw new Error('no field app opened in this test');
      return app;
    },
  };
}

/** Visible text as lines: the blank lines between paragraphs dropped, each line trimmed. */
function lines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n');
}

/** Waits until the locator's visible text (as `lines`) is exactly `expected`. */
export async function expectText(locator: Locator, expected: string): Promise<void> {
  await expect
    .poll(() => locator.innerText({ timeout: UI_TIMEOUT_MS }).then(lines), { timeout: UI_TIMEOUT_MS })
    .toBe(expected);
}

export interface Identities {
  readonly customerId?: string;
  readonly email?: string;
}

export class FieldApp {
  readonly pageErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
  }

  /** A fresh browser context (fresh IndexedDB, a new device) on `url`, with nothing waited for yet. */
  static async open(browser: Browser, url: string, viewport: Viewport = DESKTOP): Promise<FieldApp> {
    const context = await browser.newContext({ viewport, hasTouch: viewport === PHONE });
    const app = new FieldApp(context, await context.newPage());
    await app.page.goto(url);
    return app;
  }

  /** A page the test prepared (routes, listeners) in its own context, on `url`, with nothing waited for yet. */
  static async attach(context: BrowserContext, page: Page, url: string): Promise<FieldApp> {
    const app = new FieldApp(context, page);
    await page.goto(url);
    return app;
  }

  /** Opens the app the server serves: it connects by itself (bootstrap.json) and shows the Field screen online. */
  static async openConnected(browser: Browser, server: TestServer, viewport: Viewport = DESKTOP) {
    const app = await FieldApp.open(browser, `${server.url}/app/`, viewport);
    await app.seeFieldScreen();
    await expectText(app.syncStatus, 'Online');
    return app;
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  // --- what is on screen ---------------------------------------------------------------------

  get syncBar(): Locator {
    return this.page.getByRole('region', { name: 'Sync' });
  }

  get syncStatus(): Locator {
    return this.syncBar.getByRole('status');
  }

  /** "Nothing waiting to sync", "3 requests and 1 event waiting to sync". */
  get waiting(): Locator {
    return this.syncBar.getByText(/waiting to sync$/);
  }

  get currentPerson(): Locator {
    return this.page.getByRole('region', { name: 'Current person' });
  }

  get peopleList(): Locator {
    return this.page.getByRole('listbox', { name: 'People on this device' });
  }

  /** The people list's count ("2 people", "1 of 3 people" while searching). */
  get peopleCount(): Locator {
    return this.page
      .getByRole('region', { name: 'People on this device' })
      .getByText(/^(\d+ of )?\d+ (person|people)$/);
  }

  /** A person's row in the people list; its name starts with the person's title (customer ID, email…). */
  person(title: string): Locator {
    return this.peopleList.getByRole('option', { name: new RegExp(`^${escape(title)}\\b`) });
  }

  /**
   * Waits until a person's row in the people list names them (with "(current)" for the current
   * person), shows their short MPID ("1234…5678") and says their state in words.
   */
  async seePerson(title: string, expected: { mpid: string; state: string; current: boolean }): Promise<void> {
    const row = this.person(title);
    const summary = async () => {
      const shown = lines(await row.innerText({ timeout: UI_TIMEOUT_MS })).split('\n');
      return {
        title: shown[0],
        mpid: shown.some((line) => line.endsWith(`MPID ${shortMpid(expected.mpid)}`)),
        state: shown.includes(expected.state) ? expected.state : shown.slice(1).join(' | '),
      };
    };
    await expect
      .poll(summary, { timeout: UI_TIMEOUT_MS })
      .toEqual({ title: expected.current ? `${title} (current)` : title, mpid: true, state: expected.state });
  }

  /** The open person's panel (its heading is the person's title). */
  personPanel(title: string): Locator {
    return this.page.getByRole('region', { name: title, exact: true });
  }

  async seeFieldScreen(): Promise<void> {
    await this.currentPerson.getByRole('heading', { name: 'Current person' }).waitFor({
      timeout: UI_TIMEOUT_MS,
    });
  }

  /** The names of the events and attributes in a person's panel, newest first. */
  async activityIn(panel: Locator): Promise<string[]> {
    const items = await panel.getByRole('list', { name: 'Activity' }).getByRole('listitem').all();
    return Promise.all(items.map(async (item) => lines(await item.innerText()).split('\n')[0]!));
  }

  /**
   * The decisions in a person's panel, newest first, each as its lines on screen without its date:
   * what was asked, who decided, the decision in one sentence, then the steps that explain it.
   */
  async decisionsIn(panel: Locator): Promise<string[][]> {
    const articles = await panel.getByRole('article').all();
    return Promise.all(
      articles.map(async (article) => {
        const label = (await article.getAttribute('aria-label')) ?? '';
        const date = label.slice(label.indexOf(', ') + 2);
        return lines(await article.innerText())
          .split('\n')
          .filter((line) => line !== date);
      }),
    );
  }

  /** The full MPID shown in a region (the current person card or a person's panel). */
  async mpidIn(region: Locator): Promise<string> {
    const label = await region
      .getByLabel(/^MPID -?\d+$/)
      .getAttribute('aria-label', { timeout: UI_TIMEOUT_MS });
    return label!.slice('MPID '.length);
  }

  /** Whether anything is wider than the screen (the page scrolls sideways). */
  scrollWidth(): Promise<number> {
    return this.page.evaluate(() => document.documentElement.scrollWidth);
  }

  // --- what the user does ---------------------------------------------------------------------

  private async fillIdentities({ customerId, email }: Identities): Promise<void> {
    if (customerId !== undefined) await this.page.getByLabel('Customer ID').fill(customerId);
    if (email !== undefined) await this.page.getByLabel('Email').fill(email);
  }

  async identify(identities: Identities): Promise<void> {
    await this.fillIdentities(identities);
    await this.page.getByRole('button', { name: 'Identify', exact: true }).click();
    await expectText(this.identifyFormStatus, 'Identified.');
  }

  async logIn(identities: Identities): Promise<void> {
    await this.fillIdentities(identities);
    await this.page.getByRole('button', { name: 'Log in', exact: true }).click();
    await expectText(this.identifyFormStatus, 'Logged in.');
  }

  async recordEvent(name: string): Promise<void> {
    await this.page.getByRole('combobox', { name: 'Event name' }).fill(name);
    await this.page.getByRole('button', { name: 'Record activity' }).click();
    await expectText(this.activityFormStatus, `Recorded “${name}”.`);
  }

  async nextPerson(): Promise<void> {
    await this.page.getByRole('button', { name: 'Next person' }).click();
    await this.seeNextPersonStarted();
  }

  /** The previous person is gone from the current person card, and the keyboard is in Customer ID. */
  async seeNextPersonStarted(): Promise<void> {
    await this.currentPerson.getByRole('table').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await expect
      .poll(() => this.currentPerson.innerText(), { timeout: UI_TIMEOUT_MS })
      .toContain('No one yet.');
    const customerId = await this.page.getByLabel('Customer ID').getAttribute('id');
    await expect
      .poll(() => this.page.evaluate(() => document.activeElement?.id ?? null), { timeout: UI_TIMEOUT_MS })
      .toBe(customerId);
  }

  async openPerson(title: string): Promise<Locator> {
    await this.person(title).click();
    const panel = this.personPanel(title);
    await panel.waitFor({ timeout: UI_TIMEOUT_MS });
    return panel;
  }

  async syncNow(): Promise<void> {
    await this.syncBar.getByRole('button', { name: 'Sync now' }).click({ timeout: UI_TIMEOUT_MS });
    await expectText(this.waiting, 'Nothing waiting to sync');
  }

  /** The browser loses its network: the sync bar says so. */
  async goOffline(): Promise<void> {
    await this.context.setOffline(true);
    await expectText(this.syncStatus, 'Offline');
  }

  async goOnline(): Promise<void> {
    await this.context.setOffline(false);
  }

  /** Holds the next pushes to the server until the returned function is called (a sync in progress). */
  async holdSyncPush(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await this.context.route('**/sync/v2/round', async (route) => {
      await released;
      await route.continue();
    });
    return release;
  }

  async reload(): Promise<void> {
    await this.page.reload();
    await this.seeFieldScreen();
  }

  /**
   * After a reload with no network the sync bar says it is offline. Debian's Chromium 150 reports
   * `navigator.onLine === true` in a page the service worker serves under offline emulation, so the
   * app learns it from its failed round ("Offline: the server cannot be reached"); earlier builds
   * report false ("Offline"). Either is right; "Online" or a sync left running is not.
   */
  async seeOfflineAfterReload(): Promise<void> {
    await expect
      .poll(() => this.syncStatus.innerText({ timeout: UI_TIMEOUT_MS }).then(lines), {
        timeout: UI_TIMEOUT_MS,
      })
      .toMatch(/^Offline(: the server cannot be reached)?$/);
  }

  /** Waits until the service worker controls the page, so the app shell opens with no network. */
  async waitForOfflineShell(): Promise<void> {
    await this.page.waitForFunction(
      async () => {
        await navigator.serviceWorker.ready;
        return navigator.serviceWorker.controller !== null;
      },
      null,
      { timeout: UI_TIMEOUT_MS },
    );
  }

  // --- the keyboard only ----------------------------------------------------------------------

  /** Presses Tab (or Shift+Tab) until `target` has the focus, as a keyboard user moves through the page. */
  async tabTo(target: Locator, direction: 'forward' | 'backward' = 'forward'): Promise<void> {
    const key = direction === 'forward' ? 'Tab' : 'Shift+Tab';
    for (let presses = 0; presses < MAX_TABS; presses++) {
      if (await target.evaluate((element) => element === document.activeElement)) return;
      await this.page.keyboard.press(key);
    }
    throw new Error(`${MAX_TABS} × ${key} never reached ${target.toString()}`);
  }

  /** Tabs to a field and types into it. */
  async typeInto(field: Locator, text: string): Promise<void> {
    await this.tabTo(field);
    await this.page.keyboard.type(text);
  }

  // --- checks and artifacts -----------------------------------------------------------------

  /** axe's serious and critical violations on the page as it is now, as "rule (impact): element" lines. */
  seriousA11yViolations(): Promise<string[]> {
    return seriousA11yViolations(this.page);
  }

  /** A full-page screenshot in artifacts/screenshots/ (git-ignored). */
  async screenshot(name: string): Promise<void> {
    await fullPageScreenshot(this.page, name);
  }

  private get identifyFormStatus(): Locator {
    return this.page.getByRole('form', { name: 'Identify or log in' }).getByRole('status');
  }

  private get activityFormStatus(): Locator {
    return this.page.getByRole('form', { name: 'Record activity' }).getByRole('status');
  }
}

/** An MPID as the app shortens it on screen: "1234…5678". */
function shortMpid(mpid: string): string {
  return `${mpid.slice(0, 4)}…${mpid.slice(-4)}`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
