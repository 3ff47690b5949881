/**
 * The web app (the built renderer) under /app/, and `/app/bootstrap.json`, which tells the app
 * where its server is and which key-only input to register with. `/` and `/app` redirect to
 * `/app/`. Every answer under /app carries the app's security headers.
 */
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppBootstrapSchema, type AppBootstrap } from '../../shared/protocol/app-bootstrap.ts';
import { apiError } from '../../shared/protocol/errors.ts';
import type { AppInput } from '../app-input.ts';
import { APP_SECURITY_HEADERS } from './app-headers.ts';
import { sendError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { route, type RouteDeclaration } from './route-table.ts';
import { appPathSegments, fileInside } from './static-path.ts';
import { cacheControlOf, NO_CACHE, sendFile } from './static-files.ts';

const APP_NOT_BUILT = 'The app is not built yet: run `npm run build:app` (npm start does it for you)\n';

export interface AppRouteDeps {
  /** Absolute path of the built renderer. */
  readonly appDir: string;
  readonly publicUrl: string | undefined;
  readonly appInput: AppInput;
  readonly metrics: Metrics;
}

/** `protocol://host` of the request, or null when its Host header is not a bare host[:port]. */
function requestOrigin(request: FastifyRequest): string | null {
  const candidate = `${request.protocol}://${request.host}`;
  if (request.host === '' || !URL.canParse(candidate)) return null;
  const url = new URL(candidate);
  const bare = url.username === '' && url.password === '' && url.pathname === '/' && url.search === '';
  return bare && url.hash === '' ? url.origin : null;
}

export async function registerAppRoutes(app: FastifyInstance, deps: AppRouteDeps): Promise<void> {
  const { appDir, metrics } = deps;
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, metrics, apiError('NOT_FOUND', `no file ${request.url.split('?')[0] ?? ''}`));

  app.get('/', (_request, reply) => reply.redirect('/app/', 302));

  await app.register((scope, _options, done) => {
    scope.addHook('onRequest', (_request, reply, done) => {
      reply.headers(APP_SECURITY_HEADERS);
      done();
    });

    scope.get('/app', (_request, reply) => reply.redirect('/app/', 302));

    route(scope, BOOTSTRAP_ROUTE, async (request, reply) => {
      const serverUrl = deps.publicUrl ?? requestOrigin(request);
      if (serverUrl === null)
        return sendError(reply, metrics, apiError('VALIDATION_ERROR', 'the Host header is not host[:port]'));
      const { key, workspaceId } = deps.appInput;
      const body: AppBootstrap = {
        serverUrl,
        apiKey: key,
        workspace: { id: workspaceId, name: workspaceId },
      };
      return reply.header('cache-control', 'no-store').send(body);
    });

    scope.route({
      method: ['GET', 'HEAD'],
      url: '/app/*',
      handler: async (request, reply) => {
        // The raw path, still encoded: appPathSegments decodes segment by segment.
        const rawPath = (request.raw.url ?? '').split('?')[0] ?? '';
        const segments = rawPath.startsWith('/app/') ? appPathSegments(rawPath.slice(5)) : null;
        if (segments === null) return notFound(request, reply);
        if (segments.length > 0) {
          const file = await fileInside(appDir, segments);
          const relative = segments.join('/');
          if (file !== null) return sendFile(request, reply, file, cacheControlOf(relative));
          // A path with an extension names a file; one without is a route of the app.
          if (path.extname(relative) !== '') return notFound(request, reply);
        }
        const index = await fileInside(appDir, ['index.html']);
        if (index === null)
          return reply
            .code(503)
            .header('cache-control', 'no-store')
            .type('text/plain; charset=utf-8')
            .send(APP_NOT_BUILT);
        return sendFile(request, reply, index, NO_CACHE);
      },
    });
    done();
  });
}

/** The one route under /app that is an API; the app's files and redirects are not documented (OA-1). */
const BOOTSTRAP_ROUTE: RouteDeclaration = {
  method: 'GET',
  url: '/app/bootstrap.json',
  operationId: 'appBootstrap',
  summary: "What the web app needs to connect: this server's URL and its key-only app input",
  tags: ['app'],
  auth: 'public',
  responses: {
    200: { description: 'Server URL, app input key and workspace', schema: AppBootstrapSchema },
    400: 'The Host header is not host[:port] (and no --public-url is set)',
  },
};
