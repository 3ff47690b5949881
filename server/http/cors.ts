/**
 * Which cross-origin calls are allowed, by path (AU-5, AP-*): the IDSync API (`/v1/`) for the
 * `--cors-origin` list, the device sync API (`/sync/v1/`, its event stream included, and `/sync/v2/`) for the
 * `--app-origin` list (the desktop app's `app://identity-sync` by default; the server's own web
 * app is same-origin and needs nothing), and nothing else: the admin API and the app never.
 */
import type { FastifyCorsOptions } from '@fastify/cors';
import { SYNC_PROTOCOL_HEADER } from '../../shared/protocol/sync.ts';
import type { ServerOptions } from '../options.ts';

const NONE: FastifyCorsOptions = { origin: false };

/** Browsers cache a preflight answer this long, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

function allowed(origins: readonly string[]): boolean | string[] {
  return origins.includes('*') ? true : [...origins];
}

export function corsPolicy(options: ServerOptions): (url: string) => FastifyCorsOptions {
  const idsync: FastifyCorsOptions = {
    origin: allowed(options.corsOrigins),
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'x-mp-key', 'x-mp-signature', 'date', 'authorization', 'x-request-id'],
    exposedHeaders: ['x-mp-max-age', 'retry-after', 'x-request-id'],
    maxAge: PREFLIGHT_MAX_AGE_S,
  };
  const sync: FastifyCorsOptions = {
    origin: allowed(options.appOrigins),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'x-mp-key', 'content-type', SYNC_PROTOCOL_HEADER],
    exposedHeaders: ['retry-after', 'x-request-id'],
    maxAge: PREFLIGHT_MAX_AGE_S,
  };
  return (url) => {
    if (url.startsWith('/v1/')) return idsync;
    if (url.startsWith('/sync/')) return sync;
    return NONE;
  };
}
