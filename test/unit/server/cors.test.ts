/**
 * The CORS hook (server/http/cors.ts) answers exactly as `@fastify/cors` with per-path dynamic
 * options did before (AU-5, AP-8, HP-10): the same status, headers and body for every path kind,
 * method, origin and preflight shape, compared on two minimal apps.
 */
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_PROTOCOL_HEADER } from '../../../shared/protocol/sync.ts';
import { corsPolicy, registerCors } from '../../../server/http/cors.ts';
import type { ServerOptions } from '../../../server/options.ts';

/** The options the server gave `@fastify/cors` per path until session 19. */
function pluginOptions(corsOrigins: readonly string[], appOrigins: readonly string[]) {
  const allowed = (origins: readonly string[]) => (origins.includes('*') ? true : [...origins]);
  const idsync: FastifyCorsOptions = {
    origin: allowed(corsOrigins),
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'x-mp-key', 'x-mp-signature', 'date', 'authorization', 'x-request-id'],
    exposedHeaders: ['x-mp-max-age', 'retry-after', 'x-request-id'],
    maxAge: 600,
  };
  const sync: FastifyCorsOptions = {
    origin: allowed(appOrigins),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'x-mp-key', 'content-type', SYNC_PROTOCOL_HEADER],
    exposedHeaders: ['retry-after', 'x-request-id'],
    maxAge: 600,
  };
  return (url: string): FastifyCorsOptions =>
    url.startsWith('/v1/') ? idsync : url.startsWith('/sync/') ? sync : { origin: false };
}

function withRoutes(app: FastifyInstance): FastifyInstance {
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ code: 'NOT_FOUND' }));
  for (const url of ['/v1/identify', '/sync/v1/devices', '/admin/v1/workspaces', '/healthz']) {
    app.post(url, () => ({ ok: true }));
    app.get(url, () => ({ ok: true }));
  }
  return app;
}

const CONFIGS = [
  { corsOrigins: ['*'], appOrigins: ['app://identity-sync'] },
  { corsOrigins: ['https://shop.example.com', 'https://b.example'], appOrigins: ['*'] },
];
const URLS = ['/v1/identify', '/sync/v1/devices', '/admin/v1/workspaces', '/healthz', '/nowhere'];
const ORIGINS = [undefined, '', 'https://shop.example.com', 'app://identity-sync', 'https://evil.example'];
const PREFLIGHT_METHODS = [undefined, 'POST'];

describe.each(CONFIGS)('CORS headers with %j', (config) => {
  let before: FastifyInstance;
  let after: FastifyInstance;
  beforeAll(async () => {
    const options = pluginOptions(config.corsOrigins, config.appOrigins);
    before = Fastify();
    await before.register(cors, {
      hook: 'onRequest',
      delegator: (request, callback) => callback(null, options(request.url)),
    });
    withRoutes(before);
    after = Fastify();
    registerCors(after, corsPolicy(config as unknown as ServerOptions));
    withRoutes(after);
    await Promise.all([before.ready(), after.ready()]);
  });
  afterAll(async () => {
    await Promise.all([before.close(), after.close()]);
  });

  it('[AU-5][AP-8][HP-10] answers every path, method, origin and preflight as @fastify/cors did', async () => {
    let compared = 0;
    for (const url of URLS)
      for (const method of ['GET', 'POST', 'OPTIONS'] as const)
        for (const origin of ORIGINS)
          for (const requestMethod of method === 'OPTIONS' ? PREFLIGHT_METHODS : [undefined]) {
            const headers: Record<string, string> = {};
            if (origin !== undefined) headers['origin'] = origin;
            if (requestMethod !== undefined) headers['access-control-request-method'] = requestMethod;
            const answer = async (app: FastifyInstance) => {
              const res = await app.inject({ method, url, headers });
              const kept = { ...res.headers };
              delete kept['date'];
              delete kept['connection'];
              return { url, method, headers, status: res.statusCode, answer: kept, body: res.body };
            };
            expect(await answer(after)).toEqual(await answer(before));
            compared++;
          }
    expect(compared).toBe(URLS.length * ORIGINS.length * 4);
  });
});
