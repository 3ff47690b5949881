/**
 * The app:// handler (SPEC ES-7, ES-8) over a real folder: only files inside the renderer build
 * are served, every traversal trick is a 404, and responses carry the CSP.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
  registerAppScheme,
  resolveAppFile,
} from '../../../electron/main/app-protocol.ts';
import { CONTENT_SECURITY_POLICY } from '../../../shared/ipc/csp.ts';

let base: string;
let root: string;
let handler: (request: Request) => Promise<Response>;
const read = vi.fn((file: string) => import('node:fs/promises').then((fs) => fs.readFile(file)));

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'app-protocol-'));
  root = path.join(base, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>Identity Sync</title>');
  await writeFile(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  await writeFile(path.join(root, 'assets', 'index-abc.css'), 'body{}');
  await writeFile(path.join(root, 'assets', 'logo.svg'), '<svg/>');
  await writeFile(path.join(root, 'assets', 'font.woff2'), 'woff2');
  await writeFile(path.join(root, 'assets', 'blob.bin'), 'bin');
  await writeFile(path.join(base, 'secret.txt'), 'TOP SECRET');
  await writeFile(path.join(base, 'renderer-evil.txt'), 'TOP SECRET');
  handler = createAppProtocolHandler(root, read);
});

afterAll(() => rm(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => handler(new Request(url, { method }));

describe('ES-7 the app:// scheme', () => {
  it('is registered once, standard and secure, without CORS, CSP bypass or service workers', () => {
    const protocol = { registerSchemesAsPrivileged: vi.fn() };
    registerAppScheme(protocol);
    expect(protocol.registerSchemesAsPrivileged.mock.calls).toEqual([
      [[{ scheme: 'app', privileges: APP_SCHEME_PRIVILEGES }]],
    ]);
    expect(APP_SCHEME_PRIVILEGES).toEqual({
      standard: true,
      secure: true,
      supportFetchAPI: true,
      codeCache: true,
      corsEnabled: false,
      bypassCSP: false,
      allowServiceWorkers: false,
      stream: false,
    });
  });

  it.each([
    ['app://identity-sync/', 'text/html; charset=utf-8', '<!doctype html><title>Identity Sync</title>'],
    [
      'app://identity-sync/index.html',
      'text/html; charset=utf-8',
      '<!doctype html><title>Identity Sync</title>',
    ],
    ['app://identity-sync/assets/index-abc.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
    ['app://identity-sync/assets/index-abc.css?v=1', 'text/css; charset=utf-8', 'body{}'],
    ['app://identity-sync/assets/logo.svg#x', 'image/svg+xml', '<svg/>'],
    ['app://identity-sync/assets/font.woff2', 'font/woff2', 'woff2'],
    ['app://identity-sync/assets/blob.bin', 'application/octet-stream', 'bin'],
    ['app://identity-sync/assets/./index-abc.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
  ])('serves %s as %s', async (url, type, body) => {
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe(body);
  });

  it('ES-8 sends the strict CSP on HTML (and every other response)', async () => {
    for (const url of ['app://identity-sync/', 'app://identity-sync/assets/index-abc.js']) {
      expect((await get(url)).headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  const ATTACKS = [
    'app://identity-sync/../secret.txt',
    'app://identity-sync/..%2fsecret.txt',
    'app://identity-sync/%2e%2e/secret.txt',
    'app://identity-sync/%2e%2e%2fsecret.txt',
    'app://identity-sync/%2E%2E%2Fsecret.txt',
    'app://identity-sync/assets/%2e%2e/%2e%2e/secret.txt',
    'app://identity-sync/..%5csecret.txt',
    'app://identity-sync/assets\\..\\..\\secret.txt',
    'app://identity-sync/%5c..%5c..%5csecret.txt',
    'app://identity-sync/%2fetc%2fpasswd',
    'app://identity-sync//etc/passwd',
    'app://identity-sync/C:%5cWindows%5cwin.ini',
    'app://identity-sync/c:/Windows/win.ini',
    'app://identity-sync/index.html%00.png',
    'app://identity-sync/%E0%A4%A',
    'app://identity-sync/..%252fsecret.txt',
    'app://identity-sync/../renderer-evil.txt',
    'app://other-host/index.html',
    'app://identity-sync.evil/index.html',
    'https://identity-sync/index.html',
    'app://identity-sync/assets',
    'app://identity-sync/missing.js',
  ];

  it.each(ATTACKS)('%s is a 404 and never reads outside the root', async (url) => {
    read.mockClear();
    const response = await get(url);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('SECRET');
    for (const [file] of read.mock.calls) expect(path.relative(root, file).startsWith('..')).toBe(false);
  });

  it('resolveAppFile maps only inside the root', () => {
    expect(resolveAppFile(root, 'app://identity-sync/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://identity-sync/a/b.js')).toBe(path.join(root, 'a', 'b.js'));
    // The URL parser resolves dot segments (literal or %2e-encoded) against the root: they cannot climb.
    expect(resolveAppFile(root, 'app://identity-sync/%2e%2e/%2e%2e/x')).toBe(path.join(root, 'x'));
    expect(resolveAppFile(root, 'app://identity-sync/..%2fx')).toBeNull();
    expect(resolveAppFile(root, 'app://identity-sync/a%2f..%2f..%2fx')).toBeNull();
    expect(resolveAppFile(root, 'not a url')).toBeNull();
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await get('app://identity-sync/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await get('app://identity-sync/index.html', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
