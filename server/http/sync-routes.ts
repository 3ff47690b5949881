/**
 * The device replication API (SPEC SY-*, S2-*): registration, the workspace config, and either
 * `/sync/v1` — push of requests (replayed in sequence order) and events, pull of request results
 * and profile projections with checkpoints — or `/sync/v2/round`, all of that in one call. A live
 * stream tells devices when to sync. Devices send their input key (`x-mp-key`), their credential
 * (`authorization: Device <id>:<secret>`) and their protocol version (`x-sync-protocol`); a device
 * can only push and pull its own data.
 */
import type { AliasWorker } from '../alias-worker.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import { IdentityRequestBodySchema, IdentityResponseSchema } from '../../shared/protocol/idsync.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import {
  DeviceConfigSchema,
  DeviceCredentialSchema,
  DeviceEventSchema,
  DeviceRegistrationSchema,
  MAX_PUSH_BATCH,
  MAX_ROUND_EVENTS,
  MIN_SUPPORTED_SYNC_PROTOCOL_VERSION,
  ProfileProjectionSchema,
  PullResponseSchema,
  PushResponseSchema,
  PushRowSchema,
  RoundResponseSchema,
  UNVERSIONED_SYNC_PROTOCOL,
  PushErrorCodes,
  PushedRequestSchema,
  ROUND_PROTOCOL_VERSION,
  RoundRequestSchema,
  SYNC_PROTOCOL_HEADER,
  SYNC_PROTOCOL_VERSION,
  syncProtocolOf,
  SyncRequestDocSchema,
  type PushError,
  type SyncRequestDoc,
} from '../../shared/protocol/sync.ts';
import type { Clock } from '../../shared/resolver/context.ts';
import type { RandomSource } from '../../shared/util/random.ts';
import { err, ok, type Result } from '../../shared/util/result.ts';
import { authenticate, type InputCredential, type Principal } from '../auth/authenticate.ts';
import type { ServerKey } from '../auth/secrets.ts';
import type { SeenSignatures } from '../auth/seen-signatures.ts';
import type { Device, DeviceStore } from '../db/device-store.ts';
import type { WorkspaceStore } from '../db/workspace-store.ts';
import { sendError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import type { RequestLimits } from './request-limits.ts';
import type { SyncStreams } from './sync-streams.ts';
import { route, type RouteDeclaration } from './route-table.ts';

export interface SyncDeps {
  readonly devices: DeviceStore;
  readonly workspaces: WorkspaceStore;
  readonly findInput: (key: string) => Promise<InputCredential | null>;
  readonly serverKey: ServerKey;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly metrics: Metrics;
  readonly streams: SyncStreams;
  /** Comments sent on an idle stream, shorter than the idle timeout so healthy streams stay open. */
  readonly heartbeatMs: number;
  readonly aliasWorker: AliasWorker;
  /** Per-address, per-device and registration limits around authentication (HL-3..HL-5). */
  readonly limits: RequestLimits;
  /** HMAC signatures already accepted (HL-6). */
  readonly signatures: SeenSignatures;
  /** `--body-limit`, announced to devices so they size their rounds to it (S2-7). */
  readonly bodyLimit: number;
}

const PullQuerySchema = z.object({
  seq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const PushBodySchema = z.object({
  rows: z
    .array(z.object({ newDocumentState: z.unknown(), assumedMasterState: z.unknown().optional() }))
    .max(MAX_PUSH_BATCH),
});

const EMPTY = Buffer.alloc(0);

/** Parses each pushed document on its own: one bad document is an error row, not a failed push. */
function parseRows<T>(
  rows: readonly { newDocumentState: unknown }[],
  schema: z.ZodType<T>,
  idOfInvalid: (value: unknown, index: number) => string = (value, index) => {
    const id = (value as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : `row ${index}`;
  },
): { docs: T[]; errors: PushError[] } {
  const docs: T[] = [];
  const errors: PushError[] = [];
  for (const [index, row] of rows.entries()) {
    const parsed = parseWith(schema, row.newDocumentState);
    if (parsed.ok) docs.push(parsed.value);
    else
      errors.push({
        id: idOfInvalid(row.newDocumentState, index),
        code: PushErrorCodes.invalid,
        message: parsed.error.message,
      });
  }
  return { docs, errors };
}

/** Parses each pushed request or event of a round on its own (S2-1). */
function parseEach<T>(values: readonly unknown[], schema: z.ZodType<T>): { docs: T[]; errors: PushError[] } {
  return parseRows(
    values.map((value) => ({ newDocumentState: value })),
    schema,
    (value, index) => {
      const named = (value as { requestId?: unknown; id?: unknown } | null) ?? {};
      const id = named.requestId ?? named.id;
      return typeof id === 'string' ? id : `item ${index}`;
    },
  );
}

export function registerSyncRoutes(app: FastifyInstance, deps: SyncDeps): void {
  const { devices, metrics } = deps;
  const fail = (reply: FastifyReply, error: ApiError) => sendError(reply, metrics, error);

  /** The input making the request, once the device's protocol version is one this server speaks. */
  const inputOf = async (
    request: FastifyRequest,
    minimumVersion?: number,
  ): Promise<Result<Principal, ApiError>> => {
    const version = syncProtocolOf(request.headers[SYNC_PROTOCOL_HEADER], minimumVersion);
    if (!version.ok) return version;
    return authenticate(
      { method: request.method, url: request.url, headers: request.headers, body: request.rawBody ?? EMPTY },
      deps.findInput,
      deps.serverKey,
      deps.clock.now(),
      deps.signatures,
    );
  };

  /** The device making the request, checked against its input key and credential. */
  async function deviceCredential(
    request: FastifyRequest,
    minimumVersion?: number,
  ): Promise<Result<Device, ApiError>> {
    const who = await inputOf(request, minimumVersion);
    if (!who.ok) return who;
    const header = request.headers.authorization ?? '';
    const match = /^Device ([^:\s]+):(\S+)$/.exec(header);
    if (match === null)
      return err(apiError('UNAUTHORIZED', 'send authorization: Device <device id>:<device secret>'));
    const device = await devices.authenticate(match[1] as string, match[2] as string);
    if (device === null) return err(apiError('UNAUTHORIZED', 'unknown, revoked or wrong device credential'));
    if (device.workspaceId !== who.value.workspaceId)
      return err(apiError('FORBIDDEN', 'this device belongs to another workspace'));
    return ok(device);
  }

  /** The device making the request, counted against its budget (HL-3). */
  const deviceOf = (request: FastifyRequest, minimumVersion?: number) =>
    deps.limits.authenticated(
      request.ip,
      () => deviceCredential(request, minimumVersion),
      (device) => ({ device: device.id }),
    );

  route(app, REGISTER_ROUTE, async (request, reply) => {
    const who = await deps.limits.authenticated(
      request.ip,
      () => inputOf(request),
      (input) => ({ input: input.apiKey }),
    );
    if (!who.ok) return fail(reply, who.error);
    const body = parseWith(DeviceRegistrationSchema, request.body);
    if (!body.ok) return fail(reply, body.error);
    const allowed = deps.limits.registration(who.value.apiKey);
    if (!allowed.ok) return fail(reply, allowed.error);
    const registered = await devices.register(who.value.workspaceId, who.value.apiKey, body.value);
    return registered.ok ? reply.code(201).send(registered.value) : fail(reply, registered.error);
  });

  route(app, CONFIG_ROUTE, async (request, reply) => {
    const device = await deviceOf(request);
    if (!device.ok) return fail(reply, device.error);
    const found = await deps.workspaces.get(device.value.workspaceId);
    if (found === null)
      return fail(reply, apiError('FORBIDDEN', 'the workspace of this device no longer exists'));
    return {
      config: found.config,
      version: found.version,
      protocolVersion: SYNC_PROTOCOL_VERSION,
      bodyLimit: deps.bodyLimit,
    };
  });

  route(app, PUSH_REQUESTS_ROUTE, async (request, reply) => {
    const device = await deviceOf(request);
    if (!device.ok) return fail(reply, device.error);
    const body = parseWith(PushBodySchema, request.body);
    if (!body.ok) return fail(reply, body.error);
    const conflicts: SyncRequestDoc[] = [];
    const { docs, errors } = parseRows(body.value.rows, SyncRequestDocSchema);
    docs.sort((a, b) => a.data.sync.seq - b.data.sync.seq);
    let gap = false;
    for (const doc of docs) {
      if (gap) {
        errors.push({
          id: doc.id,
          code: PushErrorCodes.gap,
          message: 'an earlier request of this device is missing',
        });
        continue;
      }
      const outcome = await devices.replay(device.value, doc, deps.random);
      if (outcome.kind === 'rejected') {
        errors.push(outcome.error);
        gap = outcome.gap;
      } else {
        conflicts.push(outcome.doc);
        if (outcome.kind === 'refused') errors.push(outcome.error);
      }
    }
    if (conflicts.length > 0) deps.streams.notify(device.value.workspaceId);
    if (docs.some((doc) => doc.data.sync.kind === 'alias')) {
      const workspaceId = device.value.workspaceId;
      void deps.aliasWorker.kick(workspaceId).then(() => deps.streams.notify(workspaceId));
    }
    return { conflicts, errors };
  });

  const pullRoute = (
    declaration: RouteDeclaration,
    pull: (deviceId: string, after: number, limit: number) => Promise<unknown>,
  ) =>
    route(app, declaration, async (request, reply) => {
      const device = await deviceOf(request);
      if (!device.ok) return fail(reply, device.error);
      const query = parseWith(PullQuerySchema, request.query);
      if (!query.ok) return fail(reply, query.error);
      return pull(device.value.id, query.value.seq, query.value.limit);
    });
  pullRoute(PULL_REQUESTS_ROUTE, (id, after, limit) => devices.pullRequests(id, after, limit));
  pullRoute(PULL_PROFILES_ROUTE, (id, after, limit) => devices.pullProfiles(id, after, limit));

  route(app, PUSH_EVENTS_ROUTE, async (request, reply) => {
    const device = await deviceOf(request);
    if (!device.ok) return fail(reply, device.error);
    const body = parseWith(PushBodySchema, request.body);
    if (!body.ok) return fail(reply, body.error);
    const { docs: events, errors } = parseRows(body.value.rows, DeviceEventSchema);
    await devices.pushEvents(device.value.id, events);
    return { conflicts: [], errors };
  });

  /**
   * One round (S2-9, DR-2): the pushed requests replayed in order, the events stored and what
   * changed for the device read, in one transaction (a round that pushes nothing only reads).
   */
  route(app, ROUND_ROUTE, async (request, reply) => {
    const device = await deviceOf(request, ROUND_PROTOCOL_VERSION);
    if (!device.ok) return fail(reply, device.error);
    const body = parseWith(RoundRequestSchema, request.body);
    if (!body.ok) return fail(reply, body.error);
    const pushed = parseEach(body.value.requests, PushedRequestSchema);
    const events = parseEach(body.value.events, DeviceEventSchema);
    const round = await devices.round(
      device.value,
      {
        requests: pushed.docs,
        events: events.docs,
        checkpoint: body.value.checkpoint,
        limit: body.value.limit,
      },
      deps.random,
    );
    const workspaceId = device.value.workspaceId;
    if (round.answered > 0) deps.streams.notify(workspaceId);
    if (pushed.docs.some((r) => r.kind === 'alias'))
      void deps.aliasWorker.kick(workspaceId).then(() => deps.streams.notify(workspaceId));
    return {
      requestErrors: [...pushed.errors, ...round.requestErrors],
      eventErrors: events.errors,
      results: round.results,
      profiles: round.profiles,
      checkpoint: round.checkpoint,
      more: round.more,
    };
  });

  route(app, SEARCH_ROUTE, async (request, reply) => {
    const device = await deviceOf(request);
    if (!device.ok) return fail(reply, device.error);
    const outcome = await devices.search(device.value, request.body, deps.random);
    if (outcome === null)
      return fail(reply, apiError('FORBIDDEN', 'the workspace of this device no longer exists'));
    return outcome.ok ? outcome.value.response : fail(reply, outcome.error.error);
  });

  route(app, STREAM_ROUTE, async (request, reply) => {
    const device = await deviceOf(request);
    if (!device.ok) return fail(reply, device.error);
    const raw = reply.raw;
    const admitted = deps.streams.admit({
      deviceId: device.value.id,
      // deviceOf authenticated the input by x-mp-key: a Device authorization leaves no room for Basic.
      inputKey: String(request.headers['x-mp-key']),
      workspaceId: device.value.workspaceId,
      notify: () => raw.write('data: RESYNC\n\n'),
      close: () => raw.destroy(),
    });
    if (!admitted.ok) return fail(reply, admitted.error);
    reply.hijack();
    // A hijacked reply writes its own head: carry over the headers set so far (CORS).
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) raw.setHeader(name, value);
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    raw.write(': connected\n\n');
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), deps.heartbeatMs);
    raw.on('close', () => {
      clearInterval(heartbeat);
      admitted.value();
    });
  });
}

/** The version header: optional on v1 (a device that sends none speaks version 2), required by the round. */
const protocolHeader = (minimum?: number) => ({
  name: SYNC_PROTOCOL_HEADER,
  required: minimum !== undefined,
  schema: z
    .number()
    .int()
    .min(minimum ?? MIN_SUPPORTED_SYNC_PROTOCOL_VERSION)
    .max(SYNC_PROTOCOL_VERSION),
  description: `The sync protocol version the device speaks; none means ${UNVERSIONED_SYNC_PROTOCOL}`,
});

/** What every device route shares: its tag, authentication, version header and refusals. */
const deviceRoute = (
  declaration: Omit<RouteDeclaration, 'tags' | 'auth'>,
  minimumVersion?: number,
): RouteDeclaration => ({
  tags: ['sync'],
  auth: 'device',
  headers: [protocolHeader(minimumVersion)],
  ...declaration,
  responses: {
    400: 'Malformed body or query, or a sync protocol version this server does not speak (update the app)',
    403: 'The device belongs to another workspace, or its workspace no longer exists',
    ...declaration.responses,
  },
});

const pushBody = (document: z.ZodType) =>
  z.object({ rows: z.array(PushRowSchema(document)).max(MAX_PUSH_BATCH) });

const REGISTER_ROUTE: RouteDeclaration = {
  method: 'POST',
  url: '/sync/v1/devices',
  operationId: 'registerDevice',
  summary: 'Register a device with the input key; the device credential is answered once',
  tags: ['sync'],
  auth: 'input',
  headers: [protocolHeader()],
  body: DeviceRegistrationSchema,
  responses: {
    201: { description: 'The device credential', schema: DeviceCredentialSchema },
    400: 'Malformed registration, or a sync protocol version this server does not speak (update the app)',
    409: 'The device id is registered with another secret',
    429: 'Too many registrations for this input; see Retry-After',
  },
};

const CONFIG_ROUTE = deviceRoute({
  method: 'GET',
  url: '/sync/v1/config',
  operationId: 'deviceConfig',
  summary: "The device's workspace config, its version, the protocol version and the body limit",
  responses: { 200: { description: 'Config', schema: DeviceConfigSchema } },
});

const PUSH_REQUESTS_ROUTE = deviceRoute({
  method: 'POST',
  url: '/sync/v1/requests/push',
  operationId: 'pushRequests',
  summary: "Push the device's requests; the server replays them in sequence order",
  description:
    'Each document is parsed on its own: a bad one is an error row, and a request after a refused one is a `gap` error (SPEC SY-*, S2-1..S2-5).',
  body: pushBody(SyncRequestDocSchema),
  responses: {
    200: {
      description: "The server's state of the replayed requests, and per-document errors",
      schema: PushResponseSchema(SyncRequestDocSchema),
    },
  },
});

const PullQueryDoc = PullQuerySchema.extend({
  seq: PullQuerySchema.shape.seq.describe('The checkpoint: changes after this position'),
  limit: PullQuerySchema.shape.limit.describe('At most this many documents'),
});

const PULL_REQUESTS_ROUTE = deviceRoute({
  method: 'GET',
  url: '/sync/v1/requests/pull',
  operationId: 'pullRequests',
  summary: "The device's requests answered since the checkpoint",
  query: PullQueryDoc,
  responses: {
    200: {
      description: 'Documents and the new checkpoint',
      schema: PullResponseSchema(SyncRequestDocSchema),
    },
  },
});

const PULL_PROFILES_ROUTE = deviceRoute({
  method: 'GET',
  url: '/sync/v1/profiles/pull',
  operationId: 'pullProfiles',
  summary: 'The profiles this device sees, changed since the checkpoint',
  query: PullQueryDoc,
  responses: {
    200: {
      description: 'Projections and the new checkpoint',
      schema: PullResponseSchema(ProfileProjectionSchema),
    },
  },
});

const PUSH_EVENTS_ROUTE = deviceRoute({
  method: 'POST',
  url: '/sync/v1/events/push',
  operationId: 'pushEvents',
  summary: 'Push events and attributes recorded on the device',
  body: pushBody(DeviceEventSchema),
  responses: {
    200: {
      description: 'Per-document errors (never conflicts)',
      schema: PushResponseSchema(DeviceEventSchema),
    },
  },
});

const ROUND_ROUTE = deviceRoute(
  {
    method: 'POST',
    url: '/sync/v2/round',
    operationId: 'syncRound',
    summary: 'One device sync round: push requests and events, get results and changed projections',
    description: `Needs x-sync-protocol ${ROUND_PROTOCOL_VERSION} or later (SPEC S2-9). Each pushed request (a PushedRequest) and each event (a DeviceEvent) is parsed on its own: a bad one is an error of its own (S2-1).`,
    body: RoundRequestSchema.extend({
      requests: z.array(PushedRequestSchema).max(MAX_PUSH_BATCH),
      events: z.array(DeviceEventSchema).max(MAX_ROUND_EVENTS),
    }),
    responses: {
      200: {
        description: 'Per-document errors, results, projections, checkpoint',
        schema: RoundResponseSchema,
      },
    },
  },
  ROUND_PROTOCOL_VERSION,
);

const SEARCH_ROUTE = deviceRoute({
  method: 'POST',
  url: '/sync/v1/search',
  operationId: 'deviceSearch',
  summary: "Search the device's workspace for a profile, as /v1/search does",
  body: IdentityRequestBodySchema,
  responses: {
    200: { description: 'A matching profile', schema: IdentityResponseSchema },
    404: 'No eligible profile matches',
  },
});

const STREAM_ROUTE = deviceRoute({
  method: 'GET',
  url: '/sync/v1/stream',
  operationId: 'syncStream',
  summary: 'Server-sent events: `RESYNC` whenever something the device sees may have changed',
  responses: {
    200: {
      description: 'An event stream with heartbeats',
      schema: z.string(),
      contentType: 'text/event-stream',
    },
    429: 'This input key holds its maximum of event streams',
    503: 'The server holds its maximum of event streams',
  },
});
