/**
 * Debian's Chromium for browser tests and benchmarks, driven by playwright-core. No browser is
 * ever downloaded: without /usr/bin/chromium a suite says why it is skipped.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why browser suites cannot run here, or `null` when they can. */
export const chromiumSkipReason: string | null = existsSync(CHROMIUM)
  ? null
  : `${CHROMIUM} not found (install Debian's chromium: apt-get install -y chromium); no browser is downloaded`;

/** Flags that keep Chromium off the network it cannot reach here and quiet in a container. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
