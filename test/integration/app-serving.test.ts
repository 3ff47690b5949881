/**
 * The central server serves the web app (SPEC AP-*) over real HTTP: the built files under /app/
 * with their cache and security headers, revalidation, the SPA fallback, path traversal refused,
 * the missing build, `/app/bootstrap.json` with a key that registers a device, and CORS of the
 * device sync API for the desktop app and configured origins.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../shared/ipc/csp.ts';
import type { ErrorBody } from '../../shared/protocol/errors.ts';
import { startServer } from '../../server/server.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import { registerDevice } from '../helpers/sync-wire.ts';

const INDEX =
  '<!doctype html><title>Identity Sync</title><script type="module" src="./assets/index-abc123.js"></script>';
const ASSET = 'console.log("app");';
const OUTSIDE = 'OUTSIDE THE APP FOLDER';
const DESKTOP = 'app://identity-sync';

let root: string;
let appDir: string;
let t: TestServer;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'idsync-app-'));
  appDir = path.join(root, 'app');
  mkdirSync(path.join(appDir, 'assets'), { recursive: true });
  writeFileSync(path.join(appDir, 'index.html'), INDEX);
  writeFileSync(path.join(appDir, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  writeFileSync(path.join(appDir, 'manifest.webmanifest'), '{"name":"Identity Sync"}');
  writeFileSync(path.join(appDir, 'assets', 'index-abc123.js'), ASSET);
  writeFileSync(path.join(appDir, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  // What a traversal would reach: `<root>/package.json`, and a symlink pointing at it.
  writeFileSync(path.join(root, 'package.json'), OUTSIDE);
  symlinkSync(path.join(root, 'package.json'), path.join(appDir, 'escape.json'));
  t = await startTestServer({ appDir });
});

afterAll(async () => {
  await t.close();
  rmSync(root, { recursive: true, force: true });
});

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(base: string, rawPath: string): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function expectSecurityHeaders(headers: Headers) {
  expect(headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
}

describe('app files', () => {
  it('[AP-1] / and /app redirect to /app/, which answers index.html', async () => {
    for (const route of ['/', '/app']) {
      const redirect = await fetch(`${t.url}${route}`, { redirect: 'manual' });
      expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/app/']);
    }
    const index = await fetch(`${t.url}/app/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toBe(INDEX);
  });

  it('[AP-2] [AP-3] index.html: security headers, html, no-cache, validators', async () => {
    const index = await fetch(`${t.url}/app/index.html`);
    expect(index.status).toBe(200);
    expectSecurityHeaders(index.headers);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('etag')).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Date.parse(index.headers.get('last-modified') ?? '')).not.toBeNaN();
    // The directives the app relies on; manifest-src falls back to default-src.
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "connect-src 'self' http: https:",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "worker-src 'self'",
    ]) {
      expect(CONTENT_SECURITY_POLICY.split('; ')).toContain(directive);
    }
  });

  it('[AP-2] [AP-3] cache policy and content type of each kind of file', async () => {
    const cases: [string, string, string][] = [
      [
        '/app/assets/index-abc123.js',
        'text/javascript; charset=utf-8',
        'public, max-age=31536000, immutable',
      ],
      ['/app/sw.js', 'text/javascript; charset=utf-8', 'no-cache'],
      ['/app/manifest.webmanifest', 'application/manifest+json', 'no-cache'],
      ['/app/icon.svg', 'image/svg+xml', 'public, max-age=300'],
    ];
    for (const [route, type, cache] of cases) {
      const r = await fetch(`${t.url}${route}`);
      expect([route, r.status, r.headers.get('content-type'), r.headers.get('cache-control')]).toEqual([
        route,
        200,
        type,
        cache,
      ]);
      expectSecurityHeaders(r.headers);
    }
    expect(await (await fetch(`${t.url}/app/assets/index-abc123.js`)).text()).toBe(ASSET);
  });

  it('[AP-2] a reload revalidates: a matching ETag or date is 304 without a body, a stale one 200', async () => {
    const first = await fetch(`${t.url}/app/assets/index-abc123.js`);
    const etag = first.headers.get('etag') ?? '';
    const modified = first.headers.get('last-modified') ?? '';
    const byTag = await fetch(`${t.url}/app/assets/index-abc123.js`, { headers: { 'if-none-match': etag } });
    expect([byTag.status, await byTag.text(), byTag.headers.get('etag')]).toEqual([304, '', etag]);
    const byDate = await fetch(`${t.url}/app/index.html`, { headers: { 'if-modified-since': modified } });
    expect(byDate.status).toBe(304);
    const stale = await fetch(`${t.url}/app/assets/index-abc123.js`, {
      headers: { 'if-none-match': 'W/"0-0"' },
    });
    expect([stale.status, await stale.text()]).toEqual([200, ASSET]);
  });

  it('[AP-1] HEAD answers the headers of GET without a body', async () => {
    const head = await fetch(`${t.url}/app/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(INDEX)));
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
  });

  it('[AP-4] a route-like path answers index.html; a missing file with an extension is 404', async () => {
    for (const route of ['/app/connect', '/app/people/42', '/app/assets']) {
      const r = await fetch(`${t.url}${route}`);
      expect([route, r.status, r.headers.get('cache-control'), await r.text()]).toEqual([
        route,
        200,
        'no-cache',
        INDEX,
      ]);
    }
    const missing = await fetch(`${t.url}/app/assets/index-missing.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: { reason: string }[] }).errors[0]?.reason).toBe('NOT_FOUND');
  });

  it('[AP-5] path traversal and odd encodings are 404 and never read outside the app folder', async () => {
    for (const rawPath of [
      '/app/../package.json',
      '/app/%2e%2e/package.json',
      '/app/..%2fpackage.json',
      '/app/%5c..%5cpackage.json',
      '/app/%00',
      '/app/assets/..%2f..%2f..%2fpackage.json',
      '/app/.%2e/package.json',
      '/app/assets%2findex-abc123.js',
      '/app//package.json',
      '/app/escape.json',
    ]) {
      const r = await rawGet(t.url, rawPath);
      expect([rawPath, r.status]).toEqual([rawPath, 404]);
      expect(r.body).not.toContain(OUTSIDE);
    }
  });
});

describe('app not built', () => {
  it('[AP-6] without index.html the app answers 503 with how to build it; bootstrap still works', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'idsync-app-empty-'));
    const server = await startTestServer({ appDir: path.join(empty, 'missing') });
    try {
      for (const route of ['/app/', '/app/connect']) {
        const r = await fetch(`${server.url}${route}`);
        expect([r.status, r.headers.get('content-type'), r.headers.get('cache-control')]).toEqual([
          503,
          'text/plain; charset=utf-8',
          'no-store',
        ]);
        expect(await r.text()).toBe(
          'The app is not built yet: run `npm run build:app` (npm start does it for you)\n',
        );
      }
      expect((await fetch(`${server.url}/app/bootstrap.json`)).status).toBe(200);
    } finally {
      await server.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

interface Bootstrap {
  serverUrl: string;
  apiKey: string;
  workspace: { id: string; name: string };
}

describe('bootstrap', () => {
  it('[AP-7] bootstrap.json names this server and a key-only key with which a device registers', async () => {
    const r = await fetch(`${t.url}/app/bootstrap.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(r.headers);
    const body = (await r.json()) as Bootstrap;
    expect(body).toEqual({
      serverUrl: t.url,
      apiKey: t.server.appInput.key,
      workspace: { id: 'default', name: 'default' },
    });
    const inputs = await call<{ inputs: { key: string; name: string; allowKeyOnly: boolean }[] }>(
      t.url,
      '/admin/v1/workspaces/default/inputs',
      undefined,
      { auth: 'none', method: 'GET', headers: { authorization: 'Bearer test-admin-token-0123456789' } },
    );
    expect(inputs.body.inputs.filter((i) => i.key === body.apiKey)).toEqual([
      expect.objectContaining({ name: 'Field app', allowKeyOnly: true }),
    ]);
    const registered = await call<{ device_id: string; device_secret: string }>(
      body.serverUrl,
      '/sync/v1/devices',
      { device_id: 'web-1', name: 'web-1', device_application_stamp: 'das-web-1' },
      { key: body.apiKey },
    );
    expect(registered.status).toBe(201);
    expect(registered.body.device_id).toBe('web-1');
  });

  it('[HT-9] the app key opens the device sync API only: the IDSync API refuses it with 403', async () => {
    const key = t.server.appInput.key;
    const identify = { environment: 'production', known_identities: { customerid: 'ht9-victim' } };
    const routes: [string, unknown][] = [
      ['/v1/identify', identify],
      ['/v1/login', identify],
      ['/v1/search', identify],
      ['/v1/1234/modify', { identity_changes: [] }],
      ['/v1/alias', { source_mpid: '1', destination_mpid: '2' }],
      [`/v1/identity/${key}/Alias`, { source_mpid: '1', destination_mpid: '2' }],
    ];
    for (const [route, body] of routes) {
      const answer = await call<ErrorBody>(t.url, route, body, { key });
      expect([route, answer.status, answer.body.errors[0]?.reason]).toEqual([route, 403, 'FORBIDDEN']);
    }
    const inputs = await call<{ inputs: { key: string; syncOnly: boolean }[] }>(
      t.url,
      '/admin/v1/workspaces/default/inputs',
      undefined,
      { auth: 'none', method: 'GET', headers: { authorization: 'Bearer test-admin-token-0123456789' } },
    );
    expect(inputs.body.inputs.find((i) => i.key === key)?.syncOnly).toBe(true);
    const headers = await registerDevice(t.url, key, 'ht9-device');
    expect((await fetch(`${t.url}/sync/v1/config`, { headers })).status).toBe(200);
  });

  it('[HT-9] upgrading a database makes its existing Field app key sync-only', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'idsync-ht9-'));
    try {
      const first = await startTestServer({ dataDir });
      const key = first.server.appInput.key;
      await first.close();
      const file = new Database(path.join(dataDir, 'identity-sync.sqlite'));
      file.exec('alter table inputs drop column sync_only; delete from schema_migrations where version = 3');
      file.close();
      const upgraded = await startTestServer({ dataDir });
      try {
        expect(upgraded.server.appInput.key).toBe(key);
        const answer = await call<ErrorBody>(
          upgraded.url,
          '/v1/identify',
          {
            environment: 'production',
            known_identities: {},
          },
          { key },
        );
        expect(answer.status).toBe(403);
      } finally {
        await upgraded.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('[AP-7] serverUrl follows the Host the app was loaded from', async () => {
    const { port } = new URL(t.url);
    const r = await fetch(`http://localhost:${port}/app/bootstrap.json`);
    expect(((await r.json()) as Bootstrap).serverUrl).toBe(`http://localhost:${port}`);
  });
});

function preflight(base: string, route: string, origin: string) {
  return fetch(`${base}${route}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,x-mp-key,content-type',
    },
  });
}

describe('CORS for the device sync API', () => {
  it('[AP-8] the desktop app origin passes the preflight; another origin gets no allow-origin', async () => {
    const allowed = await preflight(t.url, '/sync/v1/devices', DESKTOP);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(DESKTOP);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(allowed.headers.get('access-control-allow-headers')).toBe(
      'authorization, x-mp-key, content-type, x-sync-protocol',
    );
    expect(allowed.headers.get('access-control-max-age')).toBe('600');
    const evil = await preflight(t.url, '/sync/v1/devices', 'https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const adminPreflight = await preflight(t.url, '/admin/v1/workspaces', DESKTOP);
    expect(adminPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('[AP-8] cross-origin sync calls and the event stream carry the allow-origin header', async () => {
    const headers = await registerDevice(t.url, t.server.appInput.key, 'desktop-1');
    const config = await fetch(`${t.url}/sync/v1/config`, { headers: { ...headers, origin: DESKTOP } });
    expect(config.status).toBe(200);
    expect(config.headers.get('access-control-allow-origin')).toBe(DESKTOP);
    const evil = await fetch(`${t.url}/sync/v1/config`, {
      headers: { ...headers, origin: 'https://evil.example' },
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const abort = new AbortController();
    const stream = await fetch(`${t.url}/sync/v1/stream`, {
      headers: { ...headers, origin: DESKTOP },
      signal: abort.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    expect(stream.headers.get('access-control-allow-origin')).toBe(DESKTOP);
    abort.abort();
  });

  it('[AP-8] [AP-7] configured origins and public URL replace the defaults; * allows any origin', async () => {
    const web = 'https://field.example.com';
    const server = await startTestServer({
      appDir,
      appOrigins: [web],
      publicUrl: 'https://ids.example.com/',
    });
    const any = await startTestServer({ appDir, appOrigins: ['*'] });
    try {
      const listed = await preflight(server.url, '/sync/v1/requests/push', web);
      expect([listed.status, listed.headers.get('access-control-allow-origin')]).toEqual([204, web]);
      const desktop = await preflight(server.url, '/sync/v1/requests/push', DESKTOP);
      expect(desktop.headers.get('access-control-allow-origin')).toBeNull();
      const bootstrap = (await (await fetch(`${server.url}/app/bootstrap.json`)).json()) as Bootstrap;
      expect(bootstrap.serverUrl).toBe('https://ids.example.com');
      expect(server.server.connectUrl).toBe(
        `https://ids.example.com/app/#/connect?server=${encodeURIComponent('https://ids.example.com')}&key=${bootstrap.apiKey}`,
      );
      const anyOrigin = await preflight(any.url, '/sync/v1/devices', 'https://evil.example');
      expect(anyOrigin.headers.get('access-control-allow-origin')).toBe('https://evil.example');
    } finally {
      await server.close();
      await any.close();
    }
  });

  it('[AP-9] bound to every interface, the connect link names an address other devices can reach', async () => {
    const server = await startTestServer({ appDir, host: '0.0.0.0' });
    try {
      const { port } = new URL(server.url);
      const lan = Object.values(networkInterfaces())
        .flat()
        .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
      const base = `http://${lan?.address ?? '127.0.0.1'}:${port}`;
      expect(server.server.connectUrl).toBe(
        `${base}/app/#/connect?server=${encodeURIComponent(base)}&key=${server.server.appInput.key}`,
      );
    } finally {
      await server.close();
    }
  });

  it('[AP-8] [AP-7] a malformed app origin or public URL stops the server with the option named', async () => {
    await expect(startServer({ port: 0, dataDir: root, appOrigins: ['identity-sync'] })).rejects.toThrow(
      'invalid option appOrigins.0: an origin is scheme://host[:port], or *',
    );
    await expect(
      startServer({ port: 0, dataDir: root, publicUrl: 'https://ids.example.com/?x=1' }),
    ).rejects.toThrow('invalid option publicUrl: a public URL has no query or fragment');
    await expect(startServer({ port: 0, dataDir: root, publicUrl: 'ftp://ids.example.com' })).rejects.toThrow(
      'invalid option publicUrl',
    );
  });
});
