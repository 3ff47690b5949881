/**
 * The HTTP application: body parsing, CORS for the IDSync and device sync APIs, the request limits
 * and replay protection shared by both (HL-*), the error body for every failure (including
 * Fastify's own), health and readiness, metrics, the OpenAPI document and docs UI, the IDSync,
 * device sync and admin routes, and the web app under /app/.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { sql } from 'kysely';
import { z } from 'zod';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import type { Clock } from '../../shared/resolver/context.ts';
import type { RandomSource } from '../../shared/util/random.ts';
import type { AliasWorker } from '../alias-worker.ts';
import type { AppInput } from '../app-input.ts';
import type { InputCredential } from '../auth/authenticate.ts';
import { SeenSignatures } from '../auth/seen-signatures.ts';
import type { ServerKey } from '../auth/secrets.ts';
import type { DatabaseHandle } from '../db/connect.ts';
import { AdminConsoleStore } from '../db/admin-console.ts';
import type { DeviceStore } from '../db/device-store.ts';
import { isStorageFailure, StorageHealth } from '../db/storage-faults.ts';
import type { ProfileAdmin } from '../db/profile-admin.ts';
import type { SqlIdentityStore } from '../db/sql-identity-store.ts';
import type { WorkspaceStore } from '../db/workspace-store.ts';
import type { ServerOptions } from '../options.ts';
import type { RequestLog } from '../db/request-log.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { LabRunner } from '../lab.ts';
import { registerAppRoutes } from './app-routes.ts';
import { BodyError, registerBodyParsing } from './body.ts';
import { corsPolicy, registerCors } from './cors.ts';
import { sendError } from './errors.ts';
import { registerIdsyncRoutes } from './idsync-routes.ts';
import { registerSyncRoutes } from './sync-routes.ts';
import { SyncStreams } from './sync-streams.ts';
import type { Metrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { route, RouteTable } from './route-table.ts';
import { RequestLimits } from './request-limits.ts';

export interface AppContext {
  readonly handle: DatabaseHandle;
  readonly store: SqlIdentityStore;
  readonly workspaces: WorkspaceStore;
  readonly profiles: ProfileAdmin;
  readonly serverKey: ServerKey;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly options: ServerOptions;
  readonly metrics: Metrics;
  readonly aliasWorker: AliasWorker;
  readonly logger: FastifyBaseLogger;
  readonly devices: DeviceStore;
  readonly appInput: AppInput;
  /** The compact log of answered requests (LS-6). */
  readonly requestLog: RequestLog;
}

/** Input credentials cached briefly: one lookup per key per few seconds, dropped at once on revoke. */
class InputCache {
  private readonly entries = new Map<string, { input: InputCredential | null; until: number }>();

  constructor(
    private readonly load: (key: string) => Promise<InputCredential | null>,
    private readonly ttlMs = 5000,
  ) {}

  async get(key: string): Promise<InputCredential | null> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.until > now) return hit.input;
    const input = await this.load(key);
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { input, until: now + this.ttlMs });
    return input;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * The longest path parameter the router hands to a route (Fastify's default is 100). Longer than
 * any valid id, so an over-long one is refused by the route's own schema with its own code (a
 * 400-digit MPID is `INVALID_MPID`); beyond it the router refuses the path (HT-8).
 */
const MAX_PATH_PARAM = 1024;

/** A Lab run's report: a timeline of a few thousand steps fits; a runaway one is stopped (LB-5). */
const LAB_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** Lab runs at once: each is a Node process with a server and devices; the machine may have 2 cores. */
const LAB_CONCURRENCY = 2;

/** Fastify's own failures (limits, media types, bad paths) as catalogue errors. */
function frameworkError(error: FastifyError | BodyError): ApiError {
  if (error instanceof BodyError) return error.apiError;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return apiError('PAYLOAD_TOO_LARGE', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return apiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return apiError('VALIDATION_ERROR', `a path segment is longer than ${MAX_PATH_PARAM} characters`);
    case 'FST_ERR_BAD_URL':
      return apiError('VALIDATION_ERROR', 'the path is not a valid URL (bad percent-encoding)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return apiError('VALIDATION_ERROR', error.message);
    default:
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        return apiError('VALIDATION_ERROR', error.message);
      }
      return apiError('INTERNAL_ERROR', 'something went wrong; the request changed nothing');
  }
}

/**
 * Timeouts that cut off slow or silent clients (SPEC HC-4). The request timeout ends once a request
 * is received, so event streams (GET, no body) are exempt from it; their heartbeats keep them inside
 * the idle timeout, which still closes a stream whose client stopped reading.
 */
function connectionTimeouts(options: ServerOptions) {
  return {
    connectionTimeout: options.idleTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    http: {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // Node checks the two timeouts above every this many ms (30 s by default).
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(options.headersTimeoutMs / 4)),
    },
  };
}

const STORAGE_FAILED = apiError(
  'UNAVAILABLE',
  "the server's storage is full or failing; the request changed nothing; retry later",
);

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const { options, metrics } = ctx;
  const app = Fastify({
    loggerInstance: ctx.logger,
    bodyLimit: options.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...connectionTimeouts(options),
    routerOptions: { maxParamLength: MAX_PATH_PARAM },
    // The router's own refusals (over-long or malformed paths) never reach the error handler.
    frameworkErrors: (error, _request, reply) => void sendError(reply, metrics, frameworkError(error)),
  });
  registerBodyParsing(app, options.bodyLimitBytes);
  const routes = new RouteTable(app);

  const storage = new StorageHealth(ctx.handle);
  app.setErrorHandler(async (error: FastifyError | BodyError, request, reply) => {
    if (isStorageFailure(error)) {
      storage.failed(error);
      request.log.error({ err: error }, 'storage full or failing');
      return sendError(reply, metrics, STORAGE_FAILED);
    }
    const mapped = frameworkError(error);
    if (mapped.code === 'INTERNAL_ERROR') request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, metrics, mapped);
  });
  app.setNotFoundHandler(async (request, reply) =>
    sendError(
      reply,
      metrics,
      apiError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`),
    ),
  );
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  registerCors(app, corsPolicy(options));

  route(
    app,
    {
      method: 'GET',
      url: '/healthz',
      operationId: 'health',
      summary: 'Liveness',
      tags: ['ops'],
      auth: 'public',
      responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } },
    },
    () => ({ status: 'ok' }),
  );
  route(
    app,
    {
      method: 'GET',
      url: '/readyz',
      operationId: 'readiness',
      summary: 'Readiness: the database answers and its storage is writable',
      tags: ['ops'],
      auth: 'public',
      responses: {
        200: {
          description: 'Ready',
          schema: z.object({ status: z.literal('ready'), database: z.enum(['sqlite', 'postgres']) }),
        },
        503: 'Database unreachable, or storage full or failing',
      },
    },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(ctx.handle.db);
      } catch (error) {
        return sendError(
          reply,
          metrics,
          apiError('UNAVAILABLE', `database unreachable: ${(error as Error).message}`),
        );
      }
      const unwritable = await storage.writable();
      if (unwritable !== null) return sendError(reply, metrics, apiError('UNAVAILABLE', unwritable));
      return { status: 'ready', database: ctx.handle.dialect };
    },
  );
  route(
    app,
    {
      method: 'GET',
      url: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tags: ['ops'],
      auth: 'public',
      responses: { 200: { description: 'Metrics text', schema: z.string(), contentType: 'text/plain' } },
    },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // Filled once every route is registered; the docs UI reads the same object (OA-1).
  const document: Record<string, unknown> = {};
  app.addHook('onReady', (done) => {
    Object.assign(document, openApiDocument(routes.declared()));
    done();
  });
  route(
    app,
    {
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openApiDocument',
      summary: 'This OpenAPI 3.1 document, derived from the registered routes',
      tags: ['ops'],
      auth: 'public',
      responses: { 200: { description: 'The document' } },
    },
    () => document,
  );
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const inputs = new InputCache((key) => ctx.workspaces.findInput(key));
  const limits = new RequestLimits(options, ctx.clock);
  const signatures = new SeenSignatures();
  const streams = new SyncStreams({
    perDevice: options.streamsPerDevice,
    perInput: options.streamsPerInput,
    total: options.maxStreams,
  });
  app.addHook('onClose', (_instance, done) => {
    streams.closeAll();
    done();
  });
  registerSyncRoutes(app, {
    devices: ctx.devices,
    workspaces: ctx.workspaces,
    findInput: (key) => inputs.get(key),
    serverKey: ctx.serverKey,
    clock: ctx.clock,
    random: ctx.random,
    metrics,
    streams,
    heartbeatMs: Math.min(20_000, Math.floor(options.idleTimeoutMs / 3)),
    aliasWorker: ctx.aliasWorker,
    bodyLimit: options.bodyLimitBytes,
    limits,
    signatures,
  });
  registerIdsyncRoutes(app, {
    notifier: streams,
    requestLog: ctx.requestLog,
    lastSeenResolutionMs: options.lastSeenResolutionMs,
    store: ctx.store,
    findInput: (key) => inputs.get(key),
    serverKey: ctx.serverKey,
    clock: ctx.clock,
    random: ctx.random,
    metrics,
    aliasWorker: ctx.aliasWorker,
    limits,
    signatures,
  });
  registerAdminRoutes(app, {
    handle: ctx.handle,
    requestLog: ctx.requestLog,
    devices: ctx.devices,
    store: ctx.store,
    workspaces: ctx.workspaces,
    profiles: ctx.profiles,
    clock: ctx.clock,
    random: ctx.random,
    metrics,
    onInputRevoked: (key) => {
      inputs.forget(key);
      streams.closeInput(key);
    },
    onDeviceRevoked: (id) => streams.closeDevice(id),
    console: new AdminConsoleStore(ctx.handle),
    onInputRotated: (key) => inputs.forget(key),
    lab: new LabRunner({
      simulator: path.resolve(options.labSimulator),
      timeoutMs: options.labTimeoutMs,
      maxOutputBytes: LAB_MAX_OUTPUT_BYTES,
      concurrency: LAB_CONCURRENCY,
    }),
  });
  await registerAppRoutes(app, {
    appDir: path.resolve(options.appDir),
    publicUrl: options.publicUrl,
    appInput: ctx.appInput,
    metrics,
  });
  return app;
}
