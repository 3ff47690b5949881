/**
 * End to end with the published mParticle Web SDK (`@mparticle/web-sdk`) in a real Chromium: a
 * page served from its own origin loads the SDK, points it at a real server (so every identity call
 * is a cross-origin request with a CORS preflight), and runs identify, login, modify, logout and
 * alias the way an app would. The MPIDs the SDK receives are checked against the rules of SPEC.md
 * and against what the server stored (admin API).
 *
 * The SDK always posts aliases to `https://{aliasUrl}`; the page installs a fetch/XHR shim, before
 * the SDK loads, that sends `https://127.0.0.1:` to `http://127.0.0.1:` instead. Events go to the
 * page server (the identity server does not take events), which answers 202 to any POST.
 *
 * Needs Debian's /usr/bin/chromium; no browser is ever downloaded. Without it the suite is skipped
 * with a warning.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileDetail } from '../../server/db/profile-admin.ts';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import type { ProfileRecord, StoredRequest } from '../../shared/resolver/records.ts';
import { chromiumSkipReason, launchChromium } from '../helpers/chromium.ts';
import { admin, API_KEY, startTestServer, type TestServer } from '../helpers/server.ts';

if (chromiumSkipReason !== null) console.warn(`Web SDK end-to-end suite skipped: ${chromiumSkipReason}`);

const SDK_FILE = createRequire(import.meta.url).resolve('@mparticle/web-sdk/dist/mparticle.js');
const WORKSPACE = 'default';
const RUN_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// What runs in the page. Plain browser JavaScript, so no DOM types are needed in this project.
// ---------------------------------------------------------------------------------------------

type IdentityOp = 'login' | 'logout' | 'modify' | 'identify';
type Step =
  | { readonly op: IdentityOp; readonly request: { readonly userIdentities?: Record<string, string> } }
  /** Aliases the user of step `source` into the user of step `destination` (0 = the initial identify). */
  | { readonly op: 'alias'; readonly source: number; readonly destination: number };

interface Plan {
  readonly apiKey: string;
  readonly config: Record<string, unknown>;
  readonly identify: Record<string, string>;
  readonly steps: readonly Step[];
}

interface StepResult {
  readonly op: IdentityOp | 'alias';
  readonly httpCode: number | null;
  readonly mpid: string | null;
  readonly isLoggedIn: boolean | null;
  readonly userIdentities: Record<string, string> | null;
  readonly message: string | null;
}

interface RunResults {
  readonly steps: StepResult[];
  readonly done: boolean;
  readonly error: string | null;
  readonly deviceId: string | null;
}

type PageGlobals = { __run(plan: Plan): void; __results?: RunResults };

const PAGE_SCRIPT = String.raw`
(function () {
  // The SDK hard-codes https for aliases; the test servers speak http.
  function rewrite(url) {
    return typeof url === 'string' && url.indexOf('https://127.0.0.1:') === 0 ? 'http://' + url.slice(8) : url;
  }
  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) { return realFetch(rewrite(input), init); };
  var realOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function () {
    var args = Array.prototype.slice.call(arguments);
    args[1] = rewrite(args[1]);
    return realOpen.apply(this, args);
  };
})();
`;

const RUNNER_SCRIPT = String.raw`
window.__run = function (plan) {
  var R = { steps: [], done: false, error: null, deviceId: null };
  window.__results = R;
  function summary(op, result) {
    var user = result && typeof result.getUser === 'function' ? result.getUser() : null;
    return {
      op: op,
      httpCode: result && typeof result.httpCode === 'number' ? result.httpCode : null,
      mpid: user ? user.getMPID() : null,
      isLoggedIn: user ? user.isLoggedIn() : null,
      userIdentities: user ? user.getUserIdentities().userIdentities : null,
      message: result && result.message ? String(result.message) : null,
    };
  }
  function settle(op, resolve, reject) {
    return function (result) {
      try { var s = summary(op, result); R.steps.push(s); resolve(s); } catch (e) { reject(e); }
    };
  }
  function run(step) {
    return new Promise(function (resolve, reject) {
      if (step.op === 'alias') {
        var source = mParticle.Identity.getUser(R.steps[step.source].mpid);
        var destination = mParticle.Identity.getUser(R.steps[step.destination].mpid);
        var request = mParticle.Identity.createAliasRequest(source, destination);
        if (!request) throw new Error('createAliasRequest returned nothing');
        mParticle.Identity.aliasUsers(request, settle('alias', resolve, reject));
      } else {
        mParticle.Identity[step.op](step.request, settle(step.op, resolve, reject));
      }
    });
  }
  var chain = new Promise(function (resolve, reject) {
    var config = Object.assign({}, plan.config, {
      identifyRequest: { userIdentities: plan.identify },
      identityCallback: settle('identify', resolve, reject),
    });
    mParticle.init(plan.apiKey, config);
  });
  plan.steps.forEach(function (step) { chain = chain.then(function () { return run(step); }); });
  chain.then(
    function () { R.deviceId = mParticle.getDeviceId(); R.done = true; },
    function (e) { R.error = String(e && e.stack || e); R.done = true; }
  );
};
`;

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Identity Sync web SDK e2e</title>
<script>${PAGE_SCRIPT}</script>
<script src="/mparticle.js"></script>
<script>${RUNNER_SCRIPT}</script>
</head><body></body></html>`;

// ---------------------------------------------------------------------------------------------
// The page server: the page, the SDK file, and a sink answering 202 to events (the SDK posts them to /v3/{key}/events).
// ---------------------------------------------------------------------------------------------

interface PageServer {
  readonly origin: string;
  readonly host: string;
  close(): Promise<void>;
}

async function startPageServer(): Promise<PageServer> {
  const sdk = readFileSync(SDK_FILE);
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '/';
    if (request.method === 'GET' && (url === '/' || url === '/index.html')) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
    } else if (request.method === 'GET' && url === '/mparticle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(sdk);
    } else if (request.method === 'OPTIONS') {
      response.writeHead(204, { ...cors, 'access-control-allow-methods': 'POST, GET' }).end();
    } else if (request.method === 'POST') {
      request.resume();
      request.on('end', () => response.writeHead(202, cors).end());
    } else {
      response.writeHead(404).end();
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Running a plan in a fresh browser context, recording the identity traffic.
// ---------------------------------------------------------------------------------------------

interface IdentityExchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown> | null;
  /** The response's `access-control-allow-origin`: the page is on another origin. */
  readonly allowOrigin: string | undefined;
}

interface Run {
  readonly results: RunResults;
  readonly exchanges: readonly IdentityExchange[];
  readonly pageErrors: readonly string[];
  /** Requests the page made to anything but the two local servers (there should be none). */
  readonly offHost: readonly string[];
}

function sdkConfig(identityServer: string, pages: PageServer): Record<string, unknown> {
  const host = identityServer.replace(/^https?:\/\//, '');
  return {
    isDevelopmentMode: true,
    logLevel: 'none',
    requestConfig: false,
    forceHttps: false,
    identityUrl: `${host}/v1/`,
    aliasUrl: `${host}/v1/identity/`,
    configUrl: `${pages.host}/config/`,
    v1SecureServiceUrl: `${pages.host}/v1/`,
    v2SecureServiceUrl: `${pages.host}/v2/`,
    v3SecureServiceUrl: `${pages.host}/v3/`,
    userAudienceUrl: `${pages.host}/audience/`,
  };
}

async function runInBrowser(browser: Browser, pages: PageServer, identityServer: string, plan: Plan) {
  const context = await browser.newContext();
  try {
    const page: Page = await context.newPage();
    const exchanges: IdentityExchange[] = [];
    const pageErrors: string[] = [];
    const offHost: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(identityServer) && !url.startsWith(pages.origin)) offHost.push(url);
    });
    page.on('response', (response) => {
      const request = response.request();
      if (!request.url().startsWith(identityServer)) return;
      let body: Record<string, unknown> | null;
      try {
        body = request.postDataJSON() as Record<string, unknown> | null;
      } catch {
        body = null; // not JSON; the assertions on the body then fail with a clear diff
      }
      exchanges.push({
        method: request.method(),
        path: request.url().slice(identityServer.length),
        status: response.status(),
        headers: request.headers(),
        body,
        allowOrigin: response.headers()['access-control-allow-origin'],
      });
    });
    await page.goto(`${pages.origin}/`);
    await page.evaluate((p) => (globalThis as unknown as PageGlobals).__run(p), plan);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__results?.done === true, null, {
      timeout: RUN_TIMEOUT_MS,
    });
    const results = await page.evaluate(() => (globalThis as unknown as Required<PageGlobals>).__results);
    return { results, exchanges, pageErrors, offHost } satisfies Run;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Admin API reads.
// ---------------------------------------------------------------------------------------------

async function profileDetail(server: string, mpid: string): Promise<ProfileDetail> {
  const response = await admin<ProfileDetail>(server, 'GET', `/workspaces/${WORKSPACE}/profiles/${mpid}`);
  expect(response.status, `admin profile ${mpid}`).toBe(200);
  return response.body;
}

async function profilesHolding(server: string, type: string, value: string): Promise<ProfileRecord[]> {
  const query = new URLSearchParams({ identity_type: type, value });
  const response = await admin<{ profiles: ProfileRecord[] }>(
    server,
    'GET',
    `/workspaces/${WORKSPACE}/profiles?${query.toString()}`,
  );
  expect(response.status).toBe(200);
  return response.body.profiles;
}

async function storedRequest(server: string, requestId: string): Promise<StoredRequest> {
  const response = await admin<StoredRequest>(
    server,
    'GET',
    `/workspaces/${WORKSPACE}/requests/${requestId}`,
  );
  expect(response.status, `stored request ${requestId}`).toBe(200);
  return response.body;
}

/** Polls the profile until one of its aliases leaves `pending` (the alias worker polls every 50 ms). */
async function settledAliases(server: string, mpid: string, timeoutMs = 5000): Promise<ProfileDetail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const detail = await profileDetail(server, mpid);
    if (detail.aliases.length > 0 && detail.aliases.every((a) => a.status !== 'pending')) return detail;
    if (Date.now() > deadline) return detail;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The identity requests (identify, login, logout, modify) the SDK sent, in order. */
function identityCalls(run: Run): IdentityExchange[] {
  return run.exchanges.filter((e) => e.method === 'POST' && !e.path.endsWith('/Alias'));
}

/**
 * Checks what every run must show: no page errors, no failed step, nothing sent elsewhere, only
 * IDSync calls to the identity server (events went to the page server), each answered with CORS
 * headers for the page's origin, and identity calls carrying the key and the device stamp.
 */
function expectCleanRun(run: Run, pages: PageServer, stepCount: number): void {
  expect(run.pageErrors).toEqual([]);
  expect(run.results.error).toBeNull();
  expect(run.offHost).toEqual([]);
  expect(run.results.steps).toHaveLength(stepCount);
  expect(run.results.deviceId).toMatch(/^[0-9a-f-]{36}$/i);
  for (const exchange of run.exchanges) {
    expect(`${exchange.method} ${exchange.path}`).toMatch(
      /^POST \/v1\/(identify|login|logout|-?[1-9][0-9]*\/modify|identity\/[^/]+\/Alias)$/,
    );
    expect(exchange.allowOrigin, exchange.path).toBe(pages.origin);
  }
  for (const call of identityCalls(run)) {
    expect(call.status, `${call.path} status`).toBe(200);
    expect(call.headers['x-mp-key']).toBe(API_KEY);
    expect(call.headers['content-type']).toMatch(/^application\/json/);
    if (!call.path.endsWith('/modify')) {
      // The SDK sends its per-browser stamp with every identify, login and logout.
      const known = (call.body?.['known_identities'] ?? {}) as Record<string, unknown>;
      expect(known['device_application_stamp'], call.path).toBe(run.results.deviceId);
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** The workspace of both tests: customer ID and email are login and unique types. */
function workspaceConfig(strategy: 'profile_conversion' | 'profile_link'): ScopeConfigInput {
  return {
    scopeId: WORKSPACE,
    strategy,
    identityPriority: ['customerid', 'email', 'device_application_stamp'],
    loginIdentities: ['customerid', 'email'],
    uniqueIdentities: ['customerid', 'email'],
  };
}

describe.skipIf(chromiumSkipReason !== null)(
  `the mParticle Web SDK against a real server in Chromium${chromiumSkipReason === null ? '' : ` (skipped: ${chromiumSkipReason})`}`,
  () => {
    // Assigned in beforeAll; afterAll copes with a beforeAll that failed half way.
    let browser: Browser;
    let pages: PageServer;
    let server: TestServer | null = null;

    beforeAll(async () => {
      pages = await startPageServer();
      browser = await launchChromium();
    });

    afterEach(async () => {
      await server?.close();
      server = null;
    });

    afterAll(async () => {
      await browser?.close();
      await pages?.close();
    });

    async function start(config: ScopeConfigInput): Promise<string> {
      server = await startTestServer({ config });
      return server.url;
    }

    it('[SC-1][SC-2][SC-3][SC-4][IL-3][IL-4][IL-2][IL-7][MD-10][NV-1][LO-2] web SDK: profile conversion — identify, login converts in place, modify, logout, login again', async () => {
      const url = await start(workspaceConfig('profile_conversion'));
      const plan: Plan = {
        apiKey: API_KEY,
        config: sdkConfig(url, pages),
        identify: {},
        steps: [
          { op: 'login', request: { userIdentities: { customerid: 'cust-1', email: 'old@example.com' } } },
          { op: 'modify', request: { userIdentities: { email: ' New@Example.COM ' } } },
          { op: 'logout', request: {} },
          { op: 'login', request: { userIdentities: { customerid: 'cust-1' } } },
        ],
      };
      const run = await runInBrowser(browser, pages, url, plan);
      expectCleanRun(run, pages, 5);
      const [identify, login, modify, logout, relogin] = run.results.steps;

      expect(identify).toMatchObject({ op: 'identify', httpCode: 200, isLoggedIn: false });
      const a = identify!.mpid!;
      expect(a).toMatch(/^-?[1-9][0-9]*$/);
      // [IL-4] a login value nobody holds converts the anonymous profile in place.
      expect(login).toMatchObject({ op: 'login', httpCode: 200, mpid: a, isLoggedIn: true });
      expect(modify).toMatchObject({ op: 'modify', httpCode: 200, mpid: a, isLoggedIn: true });
      // [LO-2] conversion logout (always_new) gives a new anonymous profile.
      expect(logout).toMatchObject({ op: 'logout', httpCode: 200, isLoggedIn: false });
      const b = logout!.mpid!;
      expect(b).not.toBe(a);
      // [IL-2] the known profile holding the login value wins.
      expect(relogin).toMatchObject({ op: 'login', httpCode: 200, mpid: a, isLoggedIn: true });

      // The browser's traffic: identify, login, modify of A, logout, login.
      expect(identityCalls(run).map((c) => c.path)).toEqual([
        '/v1/identify',
        '/v1/login',
        `/v1/${a}/modify`,
        '/v1/logout',
        '/v1/login',
      ]);
      // The second login was made as the new anonymous user B.
      expect(identityCalls(run)[4]!.body?.['previous_mpid']).toBe(b);
      const modifyBody = identityCalls(run)[2]!.body;
      expect(modifyBody?.['identity_changes']).toEqual([
        { identity_type: 'email', old_value: 'old@example.com', new_value: ' New@Example.COM ' },
      ]);

      // What the server stored matches what the browser got.
      const deviceId = run.results.deviceId!;
      const profileA = await profileDetail(url, a);
      expect(profileA.profile).toMatchObject({ mpid: a, environment: 'development', orphanedAt: null });
      expect(profileA.profile.identities).toEqual({
        customerid: ['cust-1'],
        email: ['new@example.com'], // [MD-10][NV-1] replaced, trimmed and lower-cased
        device_application_stamp: [deviceId],
      });
      const profileB = await profileDetail(url, b);
      expect(profileB.profile).toMatchObject({ mpid: b, environment: 'development', orphanedAt: null });
      expect(profileB.profile.identities).toEqual({ device_application_stamp: [deviceId] });
      expect((await profilesHolding(url, 'customerid', 'cust-1')).map((p) => p.mpid)).toEqual([a]);
      expect((await profilesHolding(url, 'email', 'new@example.com')).map((p) => p.mpid)).toEqual([a]);
      expect(await profilesHolding(url, 'email', 'old@example.com')).toEqual([]);
      expect(
        (await profilesHolding(url, 'device_application_stamp', deviceId)).map((p) => p.mpid).sort(),
      ).toEqual([a, b].sort());

      // Each identity request the SDK sent is stored under its request_id with the MPID it returned.
      const calls = identityCalls(run).filter((c) => !c.path.endsWith('/modify'));
      const answered = [identify, login, logout, relogin].map((s) => s!.mpid);
      for (const [i, call] of calls.entries()) {
        const stored = await storedRequest(url, call.body!['request_id'] as string);
        expect(stored.kind).toBe(call.path.slice('/v1/'.length));
        expect((stored.response as { mpid: string }).mpid).toBe(answered[i]);
      }
    });

    it('[SC-24][SC-25][SC-37][IL-5][IL-7][LO-1][AL-4][AL-7] web SDK: profile link — login gives a new MPID, alias from anonymous to known is applied', async () => {
      const url = await start(workspaceConfig('profile_link'));
      const plan: Plan = {
        apiKey: API_KEY,
        config: sdkConfig(url, pages),
        identify: {},
        steps: [
          { op: 'login', request: { userIdentities: { customerid: 'cust-9', email: 'nine@example.com' } } },
          { op: 'alias', source: 0, destination: 1 },
          { op: 'logout', request: {} },
        ],
      };
      const run = await runInBrowser(browser, pages, url, plan);
      expectCleanRun(run, pages, 4);
      const [identify, login, alias, logout] = run.results.steps;

      expect(identify).toMatchObject({ op: 'identify', httpCode: 200, isLoggedIn: false });
      const anonymous = identify!.mpid!;
      // [IL-5] link creates a new known profile; the anonymous one is untouched.
      expect(login).toMatchObject({ op: 'login', httpCode: 200, isLoggedIn: true });
      const known = login!.mpid!;
      expect(known).not.toBe(anonymous);
      // [AL-4] accepted and answered 202, to the SDK's own alias URL (key in the path, no x-mp-key).
      expect(alias).toMatchObject({ op: 'alias', httpCode: 202, message: null });
      const aliasCall = run.exchanges.find((e) => e.method === 'POST' && e.path.endsWith('/Alias'));
      expect(aliasCall).toMatchObject({ path: `/v1/identity/${API_KEY}/Alias`, status: 202 });
      expect(aliasCall!.headers['x-mp-key']).toBeUndefined();
      expect(aliasCall!.body?.['data']).toMatchObject({
        source_mpid: anonymous,
        destination_mpid: known,
        device_application_stamp: run.results.deviceId,
      });
      // [LO-1] link logout always creates a new anonymous profile.
      expect(logout).toMatchObject({ op: 'logout', httpCode: 200, isLoggedIn: false });
      expect([anonymous, known]).not.toContain(logout!.mpid);

      const deviceId = run.results.deviceId!;
      const knownDetail = await settledAliases(url, known);
      expect(knownDetail.profile.identities).toEqual({
        customerid: ['cust-9'],
        email: ['nine@example.com'],
        device_application_stamp: [deviceId],
      });
      expect(knownDetail.aliases).toHaveLength(1);
      expect(knownDetail.aliases[0]).toMatchObject({
        sourceMpid: anonymous,
        destinationMpid: known,
        environment: 'development',
        status: 'applied',
        deviceApplicationStamp: deviceId,
      });
      // [AL-7] the destination, created after the anonymous profile, takes its earlier first-seen
      // time; identities are not copied; both record alias_applied.
      const anonymousDetail = await profileDetail(url, anonymous);
      expect(knownDetail.profile.createdAt).toBeGreaterThan(anonymousDetail.profile.firstSeenAt);
      expect(knownDetail.profile.firstSeenAt).toBe(anonymousDetail.profile.firstSeenAt);
      expect(knownDetail.history.map((h) => h.kind)).toContain('alias_applied');
      expect(anonymousDetail.history.map((h) => h.kind)).toContain('alias_applied');
      expect(anonymousDetail.aliases.map((a) => a.status)).toEqual(['applied']);
      expect(anonymousDetail.profile.identities).toEqual({ device_application_stamp: [deviceId] });
      expect((await profilesHolding(url, 'customerid', 'cust-9')).map((p) => p.mpid)).toEqual([known]);
    });
  },
);
