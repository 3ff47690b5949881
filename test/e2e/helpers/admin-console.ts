/**
 * The admin console in a real Chromium against a real server: a page object whose methods are
 * what an admin does (sign in, find a person, open them, confirm a destructive action) and what
 * they read on screen. Elements are found by role and accessible name; every wait is for
 * something on screen.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ServerOptionsInput } from '../../../server/options.ts';
import type { ScopeConfigInput } from '../../../shared/identity/scope-config.ts';
import { launchChromium } from '../../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { appCopy } from './app-build.ts';
import { seriousA11yViolations } from './axe.ts';
import { fullPageScreenshot } from './screenshot.ts';
import { DESKTOP, expectText, type Viewport } from './field-app.ts';

/** A workspace where aliases apply (profile conversion), as the admin tests use. */
export const CONVERSION: ScopeConfigInput = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'ios_idfv', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};

/**
 * The hooks of an admin browser test file: one Chromium for the file, and per test a server on a
 * copy of the built app and a console page, both closed after the test.
 */
export function adminSession() {
  let browser: Browser | undefined;
  let server: TestServer | undefined;
  let ui: AdminConsole | undefined;
  beforeAll(async () => {
    await appCopy();
    browser = await launchChromium();
  });
  afterEach(async () => {
    await ui?.close();
    ui = undefined;
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    /** A server for this test on the built app, with `config` as its first workspace, and `options`. */
    async serve(
      config: ScopeConfigInput = CONVERSION,
      options: Partial<ServerOptionsInput> = {},
    ): Promise<TestServer> {
      server = await startTestServer({ appDir: await appCopy(), config, ...options });
      return server;
    },
    /** Stops this test's server now (to show the console offline); it is not closed again. */
    async stopServer(): Promise<void> {
      await server?.close();
      server = undefined;
    },
    /** The console of `on` in a fresh browser context, showing the sign-in form. */
    async open(on: TestServer, viewport: Viewport = DESKTOP): Promise<AdminConsole> {
      ui = await AdminConsole.open(browser as Browser, on, viewport);
      return ui;
    },
  };
}

const UI_TIMEOUT_MS = 20_000;
const MAX_TABS = 40;

export class AdminConsole {
  readonly pageErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
  }

  /** A fresh browser context on the server's `#/admin`, showing the sign-in form. */
  static async open(
    browser: Browser,
    server: TestServer,
    viewport: Viewport = DESKTOP,
  ): Promise<AdminConsole> {
    const context = await browser.newContext({ viewport });
    const opened = new AdminConsole(context, await context.newPage());
    await opened.page.goto(`${server.url}/app/#/admin`);
    await opened.tokenField.waitFor({ timeout: UI_TIMEOUT_MS });
    return opened;
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  get tokenField(): Locator {
    return this.page.getByLabel('Admin token');
  }

  get alert(): Locator {
    return this.page.getByRole('alert');
  }

  get results(): Locator {
    return this.page.getByRole('region', { name: 'Search results' });
  }

  get dialog(): Locator {
    return this.page.getByRole('dialog');
  }

  /** Waits until the confirmation dialog is open and done fading in. */
  async seeDialog(): Promise<void> {
    await this.dialog.waitFor({ timeout: UI_TIMEOUT_MS });
    await expect
      .poll(() => this.dialog.evaluate((element) => getComputedStyle(element).opacity), {
        timeout: UI_TIMEOUT_MS,
      })
      .toBe('1');
  }

  section(name: string): Locator {
    return this.page.getByRole('region', { name, exact: true });
  }

  async signIn(token: string): Promise<void> {
    await this.tokenField.fill(token);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  async seeSignedIn(): Promise<void> {
    await this.page.getByRole('heading', { name: 'Find a person' }).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  /** Searches by an identity type (its label in the select, e.g. "Email") and value. */
  async search(typeLabel: string, value: string): Promise<void> {
    const form = this.page.getByRole('form', { name: 'Find a person' });
    await form.getByLabel('Identity', { exact: true }).click();
    await this.page.getByRole('option', { name: typeLabel, exact: true }).click();
    await form.getByLabel('Value', { exact: true }).fill(value);
    await form.getByRole('button', { name: 'Search' }).click();
    await this.results.getByRole('status').waitFor({ timeout: UI_TIMEOUT_MS });
  }

  /** Opens a found person by their title and waits for their detail. */
  async openPerson(title: string): Promise<void> {
    await this.results.getByRole('link', { name: title, exact: true }).click();
    await this.page.getByRole('heading', { name: title, level: 2 }).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  /** Opens a confirmation with `label`, checks what it says, and confirms with `confirm`. */
  async confirm(within: Locator, label: string, confirm: string): Promise<string> {
    await within.getByRole('button', { name: label }).click();
    await this.seeDialog();
    const said = await this.dialog.innerText();
    await this.dialog.getByRole('button', { name: confirm }).click();
    await this.dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    return said;
  }

  /** Each explained request on a person's detail: its headline and steps as lines, without its date. */
  async explained(): Promise<string[][]> {
    const articles = await this.section('Why they are who they are').getByRole('article').all();
    return Promise.all(
      articles.map(async (article) =>
        (await article.innerText())
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '')
          .slice(2),
      ),
    );
  }

  async tabTo(target: Locator): Promise<void> {
    for (let presses = 0; presses < MAX_TABS; presses++) {
      if (await target.evaluate((element) => element === document.activeElement)) return;
      await this.page.keyboard.press('Tab');
    }
    throw new Error(`${MAX_TABS} × Tab never reached ${target.toString()}`);
  }

  expectText(locator: Locator, expected: string): Promise<void> {
    return expectText(locator, expected);
  }

  scrollWidth(): Promise<number> {
    return this.page.evaluate(() => document.documentElement.scrollWidth);
  }

  seriousA11yViolations(): Promise<string[]> {
    return seriousA11yViolations(this.page);
  }

  async screenshot(name: string): Promise<void> {
    await fullPageScreenshot(this.page, name);
  }
}
