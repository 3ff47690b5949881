/**
 * One device, several tabs (SPEC DV-14), in Debian's Chromium on Dexie/IndexedDB: pages of one
 * origin open the same device database through the device harness (`test/browser`) and log in at
 * the same time. The log must stay one log: every request gets its own sequence number, with no
 * gaps, each page's requests keep the order that page asked for them, and each request's previous
 * user is the answer of the request before it. Before the lock and the head (commit a59ee81) two
 * tabs logged 80 requests under 40 distinct numbers.
 *
 * Needs /usr/bin/chromium; no browser is ever downloaded. Without it the suite is skipped with the
 * reason in its title.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HarnessAnswer, HarnessLogEntry } from '../browser/harness-api.ts';
import {
  bundleHarness,
  openHarness,
  startHarnessServer,
  type HarnessServer,
} from '../browser/harness-server.ts';
import { chromiumSkipReason, launchChromium } from '../helpers/chromium.ts';

const DATABASE = 'device-tabs';
const LOGINS = 40;
const LIVE_WAIT_MS = 5_000;

if (chromiumSkipReason !== null) console.warn(`Device tabs suite skipped: ${chromiumSkipReason}`);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `LOGINS` logins for one page: customer IDs `<tab>-<round>-<n>`, in call order. */
function logins(tab: string, round: number): Record<string, string>[] {
  return range(0, LOGINS - 1).map((n) => ({
    customerid: `${tab}-${round}-${n}`,
    email: `${tab}-${round}-${n}@example.com`,
  }));
}

/** Starts the logins on every page at once and waits for all of them. */
async function loginEverywhere(pages: Record<string, Page>, round: number): Promise<void> {
  const answers = await Promise.all(
    Object.entries(pages).map(([tab, page]) =>
      page.evaluate((list) => window.harness!.loginAll(list), logins(tab, round)),
    ),
  );
  const failed = answers.flat().filter((a: HarnessAnswer) => !a.ok);
  expect(failed).toEqual([]);
}

const customerIds = (log: readonly HarnessLogEntry[], prefix: string) =>
  log.map((r) => r.identities['customerid'] ?? '').filter((c) => c.startsWith(prefix));

/** The whole log is one gapless sequence 1..n, chained by previous_mpid. */
function expectOneLog(log: readonly HarnessLogEntry[], n: number): void {
  expect(log.map((r) => r.seq)).toEqual(range(1, n));
  expect(new Set(log.map((r) => r.requestId)).size).toBe(n);
  expect(log.map((r) => r.previousMpid)).toEqual([null, ...log.slice(0, -1).map((r) => r.answer)]);
}

describe.skipIf(chromiumSkipReason !== null)(
  `device tabs in Chromium on IndexedDB${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  () => {
    let server: HarnessServer;
    let browser: Browser;
    let context: BrowserContext;
    const pages: Record<string, Page> = {};

    beforeAll(async () => {
      server = await startHarnessServer(await bundleHarness());
      browser = await launchChromium();
      context = await browser.newContext();
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('[DV-14] two tabs logging in at once keep one gapless log, each tab in its own call order', async () => {
      pages['a'] = await openHarness(context, server.url, DATABASE);
      pages['b'] = await openHarness(context, server.url, DATABASE);
      await loginEverywhere(pages, 1);
      const log = await pages['a'].evaluate(() => window.harness!.requests());
      expect(log).toHaveLength(2 * LOGINS);
      expectOneLog(log, 2 * LOGINS);
      for (const tab of ['a', 'b'])
        expect(customerIds(log, `${tab}-1-`)).toEqual(range(0, LOGINS - 1).map((n) => `${tab}-1-${n}`));
      const seenByB = await pages['b'].evaluate(() => window.harness!.requests());
      expect(seenByB).toEqual(log);
    }, 60_000);

    it('[DV-14] a third tab joins: 200 requests, 200 gapless sequence numbers', async () => {
      pages['c'] = await openHarness(context, server.url, DATABASE);
      await loginEverywhere(pages, 2);
      const logs = await Promise.all(
        Object.values(pages).map((page) => page.evaluate(() => window.harness!.requests())),
      );
      const [log] = logs;
      expect(log).toHaveLength(5 * LOGINS);
      expectOneLog(log!, 5 * LOGINS);
      for (const tab of ['a', 'b', 'c'])
        expect(customerIds(log!, `${tab}-2-`)).toEqual(range(0, LOGINS - 1).map((n) => `${tab}-2-${n}`));
      expect(logs.slice(1)).toEqual([log, log]);
    }, 60_000);

    it("[DV-14][DV-17] a tab's live views show another tab's writes within a bounded wait", async () => {
      const total = 5 * LOGINS + 1;
      const waiting = ['b', 'c'].map((tab) =>
        pages[tab]!.evaluate(([count, ms]) => window.harness!.waitForPendingRequests(count, ms), [
          total,
          LIVE_WAIT_MS,
        ] as const),
      );
      const login = await pages['a']!.evaluate(() =>
        window.harness!.login({ customerid: 'live-1', email: 'live-1@example.com' }),
      );
      expect(login.ok).toBe(true);
      const statuses = await Promise.all(waiting);
      expect(statuses.map((s) => s.value)).toEqual([total, total]);
      const person = await pages['b']!.evaluate(([mpid, ms]) => window.harness!.waitForPerson(mpid, ms), [
        login.mpid!,
        LIVE_WAIT_MS,
      ] as const);
      expect(person.ms).toBeLessThan(LIVE_WAIT_MS);
    }, 30_000);
  },
);
