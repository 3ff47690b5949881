/**
 * Which cross-origin calls are allowed, by path (AU-5, AP-*): the IDSync API (`/v1/`) for the
 * `--cors-origin` list, the device sync API (`/sync/v1/`, its event stream included, and `/sync/v2/`) for the
 * `--app-origin` list (the desktop app's `app://identity-sync` by default; the server's own web
 * app is same-origin and needs nothing), and nothing else: the admin API and the app never.
 *
 * The headers are the ones `@fastify/cors` (dynamic options, strict preflight, 204 answers) wrote,
 * built once per policy instead of per request (HP-10): every answer varies by `Origin`; an
 * allowed origin is reflected; the exposed headers are listed on every answer of a CORS path; a
 * preflight (OPTIONS) of a CORS path without `Origin` or `Access-Control-Request-Method` is 400
 * `Invalid Preflight Request`, otherwise 204 with the methods, headers and max age; an OPTIONS
 * request anywhere else is answered as an unknown route.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SYNC_PROTOCOL_HEADER } from '../../shared/protocol/sync.ts';
import type { ServerOptions } from '../options.ts';

/** Browsers cache a preflight answer this long, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/** One path's policy, its header values already joined. */
export interface CorsPolicy {
  /** Every origin (`true`) or these. */
  readonly origins: true | readonly string[];
  readonly methods: string;
  readonly allowedHeaders: string;
  readonly exposedHeaders: string;
  readonly maxAge: string;
}

function policy(
  origins: readonly string[],
  methods: readonly string[],
  allowedHeaders: readonly string[],
  exposedHeaders: readonly string[],
): CorsPolicy {
  return {
    origins: origins.includes('*') ? true : [...origins],
    methods: methods.join(', '),
    allowedHeaders: allowedHeaders.join(', '),
    exposedHeaders: exposedHeaders.join(', '),
    maxAge: String(PREFLIGHT_MAX_AGE_S),
  };
}

/** The policy of a request's url, or `null` where cross-origin calls are never allowed. */
export function corsPolicy(options: ServerOptions): (url: string) => CorsPolicy | null {
  const idsync = policy(
    options.corsOrigins,
    ['POST', 'OPTIONS'],
    ['content-type', 'x-mp-key', 'x-mp-signature', 'date', 'authorization', 'x-request-id'],
    ['x-mp-max-age', 'retry-after', 'x-request-id'],
  );
  const sync = policy(
    options.appOrigins,
    ['GET', 'POST', 'OPTIONS'],
    ['authorization', 'x-mp-key', 'content-type', SYNC_PROTOCOL_HEADER],
    ['retry-after', 'x-request-id'],
  );
  return (url) => {
    if (url.startsWith('/v1/')) return idsync;
    if (url.startsWith('/sync/')) return sync;
    return null;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A preflight of a CORS path was answered by the onRequest hook. */
    corsPreflight?: boolean;
  }
}

function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | undefined {
  if (origin === undefined || origin === '') return undefined;
  return policy.origins === true || policy.origins.includes(origin) ? origin : undefined;
}

/** Adds the CORS headers to every answer and answers preflights, before any other hook runs. */
export function registerCors(app: FastifyInstance, policyFor: (url: string) => CorsPolicy | null): void {
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    reply.header('Vary', 'Origin');
    const policy = policyFor(request.url);
    if (policy === null) return done();
    const origin = allowedOrigin(policy, request.headers.origin);
    if (origin !== undefined) reply.header('Access-Control-Allow-Origin', origin);
    reply.header('Access-Control-Expose-Headers', policy.exposedHeaders);
    if (request.raw.method !== 'OPTIONS') return done();
    if (!request.headers.origin || !request.headers['access-control-request-method']) {
      void reply.status(400).type('text/plain').send('Invalid Preflight Request');
      return;
    }
    request.corsPreflight = true;
    void reply
      .header('Access-Control-Allow-Methods', policy.methods)
      .header('Access-Control-Allow-Headers', policy.allowedHeaders)
      .header('Access-Control-Max-Age', policy.maxAge)
      .code(204)
      .header('Content-Length', '0')
      .send();
  });
  // Lets Fastify accept OPTIONS on every path; the hook above has answered those it allows.
  app.options('*', (request, reply) => {
    if (request.corsPreflight === true) return reply.send();
    return reply.callNotFound();
  });
}
