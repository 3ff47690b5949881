/**
 * The Node side of the device harness: bundles `device-harness.ts` for the browser with esbuild,
 * serves it with its page over real HTTP on 127.0.0.1 (or writes both into a folder another server
 * serves, such as a copy of the built app, so the harness shares the app's origin and database),
 * and opens harness pages in a browser context.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import type { HarnessConfigName } from './harness-api.ts';

export const HARNESS_SCRIPT = 'device-harness.js';

export const HARNESS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Device harness</title>
    <script type="module" src="./${HARNESS_SCRIPT}"></script>
  </head>
  <body></body>
</html>
`;

/** The repository root: the nearest folder up with a package.json (from test/browser or .bench). */
function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('no package.json above the harness');
    dir = parent;
  }
  return dir;
}

/** `shared/device` and the harness as one browser module, minified as a production build would be. */
export async function bundleHarness(options: { readonly minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [path.join(repoRoot(), 'test', 'browser', 'device-harness.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: options.minify ?? true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild wrote no harness bundle');
  return output.text;
}

/** Writes the harness page and its bundle into `dir` (created if missing). */
export function writeHarness(dir: string, script: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), HARNESS_HTML);
  writeFileSync(path.join(dir, HARNESS_SCRIPT), script);
}

export interface HarnessServer {
  /** The harness page, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** A static server for the harness page alone, on a free port of 127.0.0.1. */
export async function startHarnessServer(script: string): Promise<HarnessServer> {
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: HARNESS_HTML },
    '/index.html': { type: 'text/html; charset=utf-8', body: HARNESS_HTML },
    [`/${HARNESS_SCRIPT}`]: { type: 'text/javascript; charset=utf-8', body: script },
  };
  const server = createServer((request, response) => {
    const file = files[(request.url ?? '/').split('?')[0] ?? '/'];
    if (file === undefined || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Opens a harness page on `database` and waits until `window.harness` is ready. */
export async function openHarness(
  context: BrowserContext,
  pageUrl: string,
  database: string,
  config: HarnessConfigName = 'field',
): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const url = new URL(pageUrl);
  url.searchParams.set('db', database);
  url.searchParams.set('config', config);
  await page.goto(url.href);
  await page
    .waitForFunction(() => window.harness !== undefined || window.harnessError !== undefined)
    .catch((error: unknown) => {
      throw new Error(
        `the device harness at ${url.href} did not start: ${errors.join('; ') || String(error)}`,
      );
    });
  const failure = await page.evaluate(() => window.harnessError ?? null);
  if (failure !== null) throw new Error(`the device harness did not open: ${failure}`);
  return page;
}
