/**
 * The `app://identity-sync/` scheme that serves the built renderer (`out/renderer`).
 *
 * Privileges: `standard` gives the scheme a real origin (relative URLs, IndexedDB and
 * localStorage per origin, which RxDB needs); `secure` makes it a secure context (WebCrypto);
 * `supportFetchAPI` lets the page fetch its own assets; `codeCache` keeps V8's code cache.
 * `corsEnabled` stays off: it would let other origins read app:// responses without any
 * Access-Control-Allow-Origin check, and the page's own requests are same-origin anyway. No
 * `bypassCSP`, no service workers, no streaming.
 *
 * Only files under the renderer folder are served: every path segment is decoded and checked
 * (`..`, `%2e%2e`, encoded slashes, backslashes, NUL, drive letters are refused), the result is
 * verified to lie inside the root, and anything else is a 404.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { contentTypeOf } from '../../shared/util/content-types.ts';
import { APP_HOST, APP_SCHEME } from './app-origin.ts';
import { CONTENT_SECURITY_POLICY } from './security/csp.ts';

export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  codeCache: true,
  corsEnabled: false,
  bypassCSP: false,
  allowServiceWorkers: false,
  stream: false,
} as const;

export interface SchemeRegistry {
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges: typeof APP_SCHEME_PRIVILEGES }[]): void;
}

/** Must run before the app is ready, and once: a later call replaces earlier registrations. */
export function registerAppScheme(protocol: SchemeRegistry): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
}

const FORBIDDEN_IN_SEGMENT = /[/\\\0]|^[a-z]:/i;

/**
 * The file under `root` that `requestUrl` names, or null when the URL is not an app URL or its
 * path could escape the root. `/` is `index.html`.
 */
export function resolveAppFile(root: string, requestUrl: string): string | null {
  const url = URL.parse(requestUrl);
  if (url === null || url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  const segments: string[] = [];
  for (const raw of url.pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '.' || segment === '..' || FORBIDDEN_IN_SEGMENT.test(segment)) return null;
    segments.push(segment);
  }
  if (segments.length === 0) segments.push('index.html');
  const file = path.resolve(root, ...segments);
  const relative = path.relative(root, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null;
  return file;
}

/** Security headers on every response; worker scripts take their CSP from their own response. */
function headersFor(file: string): Headers {
  return new Headers({
    'content-type': contentTypeOf(file),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
  });
}

function notFound(): Response {
  return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

export type ReadFile = (file: string) => Promise<Uint8Array<ArrayBuffer>>;

/** The `protocol.handle('app', …)` handler for the renderer folder `root`. */
export function createAppProtocolHandler(
  root: string,
  read: ReadFile = readFile,
): (request: Request) => Promise<Response> {
  const absoluteRoot = path.resolve(root);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('Method not allowed', { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    const file = resolveAppFile(absoluteRoot, request.url);
    if (file === null) return notFound();
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = await read(file);
    } catch {
      return notFound();
    }
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers: headersFor(file) });
  };
}
