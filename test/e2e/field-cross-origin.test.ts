/**
 * The app served from another origin than its server (SPEC AP-8): a tiny static server on another
 * port serves dist/app, and a connect link (`#/connect?server=…&key=…`) points it at the server.
 * With that origin in the server's `appOrigins` the device registers and syncs across origins (the
 * CORS of /sync/v1); without it the browser blocks the calls and the app says the server cannot be
 * reached.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppBootstrap } from '../../shared/protocol/app-bootstrap.ts';
import { chromiumSkipReason } from '../helpers/chromium.ts';
import { appCopy } from './helpers/app-build.ts';
import { contentTypeOf } from '../../shared/util/content-types.ts';
import { expectText, fieldSession, FieldApp } from './helpers/field-app.ts';

interface StaticServer {
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves the files of `dir` (index.html for `/`), 404 for anything else. */
async function serveStatic(dir: string): Promise<StaticServer> {
  const server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = path.join(dir, pathname === '/' ? 'index.html' : pathname);
    if (!file.startsWith(dir + path.sep)) return void response.writeHead(404).end();
    readFile(file).then(
      (body) => response.writeHead(200, { 'content-type': contentTypeOf(file) }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // "localhost", not 127.0.0.1: another origin than the server's by host as well as by port
    origin: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

describe.skipIf(chromiumSkipReason !== null)(
  `the app from another origin than its server in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  { timeout: 90_000 },
  () => {
    const session = fieldSession();
    let pages: StaticServer | undefined;

    beforeAll(async () => {
      pages = await serveStatic(await appCopy());
    });

    afterAll(async () => {
      await pages?.close();
    });

    /** Opens the connect link on the static origin, for a server that allows `appOrigins`. */
    async function openConnectLink(appOrigins: string[]): Promise<FieldApp> {
      const server = await session.serve({ appOrigins });
      const bootstrap = (await (await fetch(`${server.url}/app/bootstrap.json`)).json()) as AppBootstrap;
      const link = `${pages!.origin}/#/connect?server=${encodeURIComponent(server.url)}&key=${encodeURIComponent(bootstrap.apiKey)}`;
      return session.keep(await FieldApp.open(session.browser(), link));
    }

    it('[AP-8] a connect link on an allowed origin registers the device, which then syncs across origins', async () => {
      const remote = await openConnectLink([pages!.origin]);
      await remote.seeFieldScreen();
      await expectText(remote.syncStatus, 'Online');
      await remote.logIn({ customerId: 'c-far', email: 'far@example.com' });
      const mpid = await remote.mpidIn(remote.currentPerson);
      await remote.syncNow();
      await remote.seePerson('c-far', { mpid, state: 'Confirmed', current: true });
      await remote.page.getByRole('link', { name: 'Settings' }).click();
      await expectText(
        remote.page.getByRole('region', { name: 'Current connection' }).getByText(/^Connected to /),
        `Connected to ${(await session.server()).url}.`,
      );
      expect(remote.pageErrors).toEqual([]);
    });

    it('[AP-8] an origin the server does not allow cannot connect: the first-run screen says the server cannot be reached', async () => {
      const remote = await openConnectLink(['http://elsewhere.example']);
      await expectText(
        remote.page.getByRole('form', { name: 'Connect to a server' }).getByRole('alert'),
        'The server cannot be reached. Check the address and your connection; everything stays on this device and syncs later.',
      );
      await remote.page.getByRole('heading', { name: 'Set up this device' }).waitFor();
      await remote.screenshot('connect-first-run');
      expect(await remote.seriousA11yViolations()).toEqual([]);
    });
  },
);
