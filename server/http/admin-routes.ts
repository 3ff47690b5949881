/**
 * The admin API (`/admin/v1`, `Authorization: Bearer <admin token>`): workspaces and their configs,
 * input credentials, admin tokens, profile search and detail, the history feed, stored requests with
 * their explain traces, alias undo and profile deletion for data-subject requests.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import {
  AliasUndoneSchema,
  CreateAdminTokenSchema,
  CreateInputSchema,
  DeviceListSchema,
  HistoryQuerySchema,
  ProfileDeletedSchema,
  ProfileDetailSchema,
  ProfileListSchema,
  ProfileSearchSchema,
  WorkspaceListSchema,
} from '../../shared/protocol/admin.ts';
import {
  ConfigHistorySchema,
  ConfigSaveQuerySchema,
  WorkspaceConfigSchema,
} from '../../shared/protocol/admin-config.ts';
import { CreatedInputSchema, InputListSchema } from '../../shared/protocol/admin-inputs.ts';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import { ProfileProjectionSchema } from '../../shared/protocol/sync.ts';
import { WhatIfRequestSchema, WhatIfResponseSchema } from '../../shared/protocol/what-if.ts';
import { undoAliasProgram } from '../../shared/resolver/alias.ts';
import { resolveOptions, type Clock } from '../../shared/resolver/context.ts';
import { HistoryEntrySchema, StoredRequestSchema, type Actor } from '../../shared/resolver/records.ts';
import type { RandomSource } from '../../shared/util/random.ts';
import type { AdminConsoleStore } from '../db/admin-console.ts';
import type { DatabaseHandle } from '../db/connect.ts';
import type { DeviceStore } from '../db/device-store.ts';
import type { ProfileAdmin } from '../db/profile-admin.ts';
import type { SqlIdentityStore } from '../db/sql-identity-store.ts';
import type { RequestLog } from '../db/request-log.ts';
import { readWhatIfLog } from '../db/what-if-log.ts';
import type { WorkspaceStore } from '../db/workspace-store.ts';
import { replayWhatIf } from '../what-if.ts';
import type { LabRunner } from '../lab.ts';
import { registerAdminConsoleRoutes } from './admin-console-routes.ts';
import { registerAdminGraphRoutes } from './admin-graph-routes.ts';
import { registerLabRoutes } from './lab-routes.ts';
import { sendError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { adminRoute, DeviceParams, InputParams, ProfileParams, WorkspaceParams } from './admin-params.ts';
import { route } from './route-table.ts';

export interface AdminDeps {
  /** Read only, for the what-if replay's request log. */
  readonly handle: DatabaseHandle;
  readonly devices: DeviceStore;
  readonly store: SqlIdentityStore;
  readonly workspaces: WorkspaceStore;
  readonly profiles: ProfileAdmin;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly metrics: Metrics;
  /** Called when an input is revoked, so cached credentials are dropped at once. */
  readonly onInputRevoked: (key: string) => void;
  /** Called when a device is revoked, so its open event streams are closed at once. */
  readonly onDeviceRevoked: (id: string) => void;
  /** What the console's dashboard and device pages read (AA-1..AA-6). */
  readonly console: AdminConsoleStore;
  /** Called when an input's secret is rotated, so the cached old secret is dropped at once (AA-7). */
  readonly onInputRotated: (key: string) => void;
  /** Runs scenarios with the simulator, each in a process of its own (LB-1). */
  readonly lab: LabRunner;
  /** Flushed before the what-if replay reads the log (LS-6). */
  readonly requestLog: Pick<RequestLog, 'flush'>;
}

const RequestParams = WorkspaceParams.extend({
  requestId: z.string().min(1).max(128).describe('request_id'),
});
const AliasParams = WorkspaceParams.extend({ aliasId: z.string().min(1).max(160).describe('Alias id') });
const TokenParams = z.object({ id: z.string().min(1).max(64).describe('Admin token id') });

declare module 'fastify' {
  interface FastifyRequest {
    adminActor?: Actor;
  }
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { workspaces, profiles, metrics } = deps;
  const fail = (reply: FastifyReply, error: ApiError) => sendError(reply, metrics, error);
  const actorOf = (request: FastifyRequest): Actor => request.adminActor ?? { kind: 'admin', id: 'unknown' };

  app.register(
    (admin, _options, done) => {
      admin.addHook('preHandler', async (request, reply) => {
        const header = request.headers.authorization;
        const token = header !== undefined && /^bearer /i.test(header) ? header.slice(7).trim() : '';
        const found = token === '' ? null : await workspaces.findAdminToken(token);
        if (found === null)
          return fail(reply, apiError('UNAUTHORIZED', 'send Authorization: Bearer <admin token>'));
        request.adminActor = { kind: 'admin', id: found.id };
      });

      /** Parses params, query or body with a schema, answering 400 (and returning null) when it fails. */
      const parse = <S extends z.ZodType>(reply: FastifyReply, schema: S, input: unknown) => {
        const parsed = parseWith(schema, input);
        if (!parsed.ok) {
          void fail(reply, parsed.error);
          return null;
        }
        return parsed.value;
      };

      route(admin, LIST_WORKSPACES, async () => ({ workspaces: await workspaces.list() }));

      route(admin, CREATE_WORKSPACE, async (request, reply) => {
        const created = await workspaces.create(request.body, actorOf(request));
        if (!created.ok) return fail(reply, created.error);
        return reply.code(201).send(created.value);
      });

      route(admin, GET_CONFIG, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        const found = await workspaces.get(params.workspace);
        return found === null
          ? fail(reply, apiError('NOT_FOUND', `no workspace ${params.workspace}`))
          : found;
      });

      route(admin, PUT_CONFIG, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        const query = params === null ? null : parse(reply, ConfigSaveQuerySchema, request.query);
        if (params === null || query === null) return reply;
        const updated = await workspaces.updateConfig(
          params.workspace,
          request.body,
          actorOf(request),
          query.expected_version,
        );
        return updated.ok ? updated.value : fail(reply, updated.error);
      });

      route(admin, CONFIG_HISTORY, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        return { history: await workspaces.configHistory(params.workspace) };
      });

      /** What-if replay (WI-1..WI-6): the log under another config, in memory; nothing is written. */
      route(admin, WHAT_IF, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        const body = params === null ? null : parse(reply, WhatIfRequestSchema, request.body);
        if (params === null || body === null) return reply;
        if ((await workspaces.get(params.workspace)) === null)
          return fail(reply, apiError('NOT_FOUND', `no workspace ${params.workspace}`));
        const config = parseWith(ScopeConfigSchema, body.config, 'INVALID_CONFIG');
        if (!config.ok) return fail(reply, { ...config.error, path: `config.${config.error.path ?? ''}` });
        if (config.value.scopeId !== params.workspace)
          return fail(
            reply,
            apiError('INVALID_CONFIG', `scopeId must be "${params.workspace}"`, 'config.scopeId'),
          );
        await deps.requestLog.flush();
        const log = await readWhatIfLog(deps.handle.db, params.workspace, body.to);
        return replayWhatIf(log, {
          workspace: params.workspace,
          config: config.value,
          request: body,
          random: deps.random,
        });
      });

      route(admin, LIST_INPUTS, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        return { inputs: await workspaces.listInputs(params.workspace) };
      });

      route(admin, CREATE_INPUT, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        const body = params === null ? null : parse(reply, CreateInputSchema, request.body);
        if (params === null || body === null) return reply;
        const created = await workspaces.createInput(params.workspace, body.name, body);
        return created.ok ? reply.code(201).send(created.value) : fail(reply, created.error);
      });

      route(admin, REVOKE_INPUT, async (request, reply) => {
        const params = parse(reply, InputParams, request.params);
        if (params === null) return reply;
        if (!(await workspaces.revokeInput(params.workspace, params.key))) {
          return fail(reply, apiError('NOT_FOUND', `no active input ${params.key} in ${params.workspace}`));
        }
        deps.onInputRevoked(params.key);
        return reply.code(204).send();
      });

      route(admin, SEARCH_PROFILES, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        const query = params === null ? null : parse(reply, ProfileSearchSchema, request.query);
        if (params === null || query === null) return reply;
        const found = await profiles.search(
          params.workspace,
          query.identity_type,
          query.value,
          query.environment,
        );
        return { profiles: found };
      });

      route(admin, PROFILE_DETAIL, async (request, reply) => {
        const params = parse(reply, ProfileParams, request.params);
        if (params === null) return reply;
        const detail = await profiles.detail(params.workspace, params.mpid);
        if (detail === null)
          return fail(reply, apiError('NOT_FOUND', `no profile ${params.mpid} in ${params.workspace}`));
        const own = await deps.devices.eventsOf(params.mpid);
        const attributes: Record<string, unknown> = {};
        for (const e of own)
          if (e.type === 'attribute') attributes[e.name] = (e.data as { value?: unknown }).value ?? null;
        const copied = await deps.devices.aliasedEventsOf(params.mpid, detail.aliases);
        const events = [...own.filter((e) => e.type === 'event'), ...copied].sort((a, b) => a.at - b.at);
        return { ...detail, events, attributes };
      });

      route(admin, DELETE_PROFILE, async (request, reply) => {
        const params = parse(reply, ProfileParams, request.params);
        if (params === null) return reply;
        const deleted = await profiles.delete(
          params.workspace,
          params.mpid,
          actorOf(request),
          deps.clock.now(),
        );
        return deleted
          ? { deleted: params.mpid }
          : fail(reply, apiError('NOT_FOUND', `no live profile ${params.mpid} in ${params.workspace}`));
      });

      route(admin, HISTORY, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        const query = params === null ? null : parse(reply, HistoryQuerySchema, request.query);
        if (params === null || query === null) return reply;
        return profiles.history({
          scopeId: params.workspace,
          limit: query.limit,
          ...(query.mpid === undefined ? {} : { mpid: query.mpid }),
          ...(query.kind === undefined ? {} : { kind: query.kind }),
          ...(query.before_seq === undefined ? {} : { beforeSeq: query.before_seq }),
        });
      });

      route(admin, STORED_REQUEST, async (request, reply) => {
        const params = parse(reply, RequestParams, request.params);
        if (params === null) return reply;
        const found = await profiles.request(params.workspace, params.requestId);
        return found ?? fail(reply, apiError('NOT_FOUND', `no stored request ${params.requestId}`));
      });

      route(admin, UNDO_ALIAS, async (request, reply) => {
        const params = parse(reply, AliasParams, request.params);
        if (params === null) return reply;
        const now = deps.clock.now();
        const outcome = await deps.store.runProgram(params.workspace, (config) =>
          undoAliasProgram(
            params.aliasId,
            resolveOptions({ config, random: deps.random, now, actor: actorOf(request) }),
          ),
        );
        if (outcome === null) return fail(reply, apiError('NOT_FOUND', `no workspace ${params.workspace}`));
        return outcome.ok ? outcome.value : fail(reply, outcome.error.error);
      });

      route(admin, EXPORT, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        return {
          profiles: await profiles.all(params.workspace),
          deviceRequests: await deps.devices.replayLog(params.workspace),
          aliases: await profiles.aliases(params.workspace),
          eventCounts: await deps.devices.eventCounts(params.workspace),
          lastSeenResolutionMs: deps.devices.lastSeenResolutionMs,
        };
      });

      route(admin, LIST_DEVICES, async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        return { devices: await deps.devices.list(params.workspace) };
      });

      route(admin, DEVICE_VIEW, async (request, reply) => {
        const params = parse(reply, DeviceParams, request.params);
        if (params === null) return reply;
        const view = await deps.devices.view(params.workspace, params.id);
        return view === null
          ? fail(reply, apiError('NOT_FOUND', `no device ${params.id} in ${params.workspace}`))
          : { profiles: view };
      });

      route(admin, REVOKE_DEVICE, async (request, reply) => {
        const params = parse(reply, DeviceParams, request.params);
        if (params === null) return reply;
        if (!(await deps.devices.revoke(params.workspace, params.id)))
          return fail(reply, apiError('NOT_FOUND', `no active device ${params.id} in ${params.workspace}`));
        deps.onDeviceRevoked(params.id);
        return reply.code(204).send();
      });

      route(admin, LIST_TOKENS, async () => ({ tokens: await workspaces.listAdminTokens() }));

      route(admin, CREATE_TOKEN, async (request, reply) => {
        const body = parse(reply, CreateAdminTokenSchema, request.body);
        if (body === null) return reply;
        return reply.code(201).send(await workspaces.createAdminToken(body.name));
      });

      route(admin, REVOKE_TOKEN, async (request, reply) => {
        const params = parse(reply, TokenParams, request.params);
        if (params === null) return reply;
        return (await workspaces.revokeAdminToken(params.id))
          ? reply.code(204).send()
          : fail(reply, apiError('NOT_FOUND', `no active admin token ${params.id}`));
      });

      registerAdminConsoleRoutes(admin, deps, { parse, fail });
      registerAdminGraphRoutes(admin, deps, { parse, fail });
      registerLabRoutes(admin, deps.lab, { parse, fail });

      done();
    },
    { prefix: '/admin/v1' },
  );
}

const NO_WORKSPACE = 'No such workspace';
const BAD_PATH = 'Malformed path';

const LIST_WORKSPACES = adminRoute({
  method: 'GET',
  url: '/workspaces',
  operationId: 'listWorkspaces',
  summary: 'List workspaces',
  responses: { 200: { description: 'Workspaces', schema: WorkspaceListSchema } },
});

const CREATE_WORKSPACE = adminRoute({
  method: 'POST',
  url: '/workspaces',
  operationId: 'createWorkspace',
  summary: 'Create a workspace from a scope config',
  body: ScopeConfigSchema,
  responses: {
    201: { description: 'Created: the config and its version', schema: WorkspaceConfigSchema },
    400: 'Invalid config',
    409: 'Exists',
  },
});

const GET_CONFIG = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/config',
  operationId: 'getConfig',
  summary: 'Current config',
  params: WorkspaceParams,
  responses: {
    200: { description: 'Config and version', schema: WorkspaceConfigSchema },
    400: BAD_PATH,
    404: NO_WORKSPACE,
  },
});

const PUT_CONFIG = adminRoute({
  method: 'PUT',
  url: '/workspaces/:workspace/config',
  operationId: 'putConfig',
  summary: 'Replace the config (recorded in the config history)',
  params: WorkspaceParams,
  query: ConfigSaveQuerySchema.extend({
    expected_version: ConfigSaveQuerySchema.shape.expected_version.describe(
      'The version the edit started from; a save is refused (409) once another save took it',
    ),
  }),
  body: ScopeConfigSchema,
  responses: {
    200: { description: 'Updated: the config and its new version', schema: WorkspaceConfigSchema },
    400: 'Invalid config',
    404: NO_WORKSPACE,
    409: 'Existing data conflicts, or the config changed since expected_version',
  },
});

const CONFIG_HISTORY = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/config/history',
  operationId: 'configHistory',
  summary: 'Config changes, newest first',
  params: WorkspaceParams,
  responses: { 200: { description: 'History', schema: ConfigHistorySchema }, 400: BAD_PATH },
});

const WHAT_IF = adminRoute({
  method: 'POST',
  url: '/workspaces/:workspace/what-if',
  operationId: 'whatIf',
  summary:
    'Replay the recorded request log under another config (a full scope config), in memory: the requests whose outcome would change, and why. Writes nothing.',
  params: WorkspaceParams,
  body: WhatIfRequestSchema,
  responses: {
    200: { description: 'Summary counts and the first differences', schema: WhatIfResponseSchema },
    400: 'Malformed body or invalid config (VALIDATION_ERROR, INVALID_CONFIG)',
    404: NO_WORKSPACE,
  },
});

const LIST_INPUTS = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/inputs',
  operationId: 'listInputs',
  summary: 'Input credentials (no secrets)',
  params: WorkspaceParams,
  responses: { 200: { description: 'Inputs', schema: InputListSchema }, 400: BAD_PATH },
});

const CREATE_INPUT = adminRoute({
  method: 'POST',
  url: '/workspaces/:workspace/inputs',
  operationId: 'createInput',
  summary: 'Create an input; the secret is shown once',
  params: WorkspaceParams,
  body: CreateInputSchema,
  responses: {
    201: { description: 'Key and secret', schema: CreatedInputSchema },
    400: 'Malformed path or body',
    404: NO_WORKSPACE,
  },
});

const REVOKE_INPUT = adminRoute({
  method: 'DELETE',
  url: '/workspaces/:workspace/inputs/:key',
  operationId: 'revokeInput',
  summary: 'Revoke an input; its cached credential and event streams end at once',
  params: InputParams,
  responses: { 204: { description: 'Revoked' }, 400: BAD_PATH, 404: 'No active input with this key' },
});

const SEARCH_PROFILES = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/profiles',
  operationId: 'searchProfiles',
  summary: 'Profiles holding an identity value',
  params: WorkspaceParams,
  query: ProfileSearchSchema,
  responses: { 200: { description: 'Profiles', schema: ProfileListSchema }, 400: 'Malformed path or query' },
});

const PROFILE_DETAIL = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/profiles/:mpid',
  operationId: 'profileDetail',
  summary: 'Profile detail: identities, aliases, history, requests with explain traces, events',
  params: ProfileParams,
  responses: {
    200: { description: 'Detail', schema: ProfileDetailSchema },
    400: BAD_PATH,
    404: 'No such profile',
  },
});

const DELETE_PROFILE = adminRoute({
  method: 'DELETE',
  url: '/workspaces/:workspace/profiles/:mpid',
  operationId: 'deleteProfile',
  summary: 'Delete for a data-subject request',
  params: ProfileParams,
  responses: {
    200: { description: 'Deleted', schema: ProfileDeletedSchema },
    400: BAD_PATH,
    404: 'No live profile with this MPID',
  },
});

const HISTORY = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/history',
  operationId: 'history',
  summary: 'History feed, newest first, paged by seq',
  params: WorkspaceParams,
  query: HistoryQuerySchema,
  responses: {
    200: {
      description: 'Entries',
      schema: z.object({ entries: z.array(HistoryEntrySchema), nextBeforeSeq: z.number().nullable() }),
    },
    400: 'Malformed path or query',
  },
});

const STORED_REQUEST = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/requests/:requestId',
  operationId: 'storedRequest',
  summary: 'A stored request with its result and explain trace',
  params: RequestParams,
  responses: {
    200: { description: 'Stored request', schema: StoredRequestSchema },
    400: BAD_PATH,
    404: 'No stored request with this request_id',
  },
});

const UNDO_ALIAS = adminRoute({
  method: 'POST',
  url: '/workspaces/:workspace/aliases/:aliasId/undo',
  operationId: 'undoAlias',
  summary: 'Undo a pending or applied alias',
  params: AliasParams,
  responses: {
    200: { description: 'Undone', schema: AliasUndoneSchema },
    400: BAD_PATH,
    404: 'No such workspace or alias',
  },
});

const EXPORT = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/export',
  operationId: 'exportWorkspace',
  summary:
    "Everything the simulator's checks compare: profiles, the device request log, aliases, event counts",
  params: WorkspaceParams,
  responses: { 200: { description: 'The export' }, 400: BAD_PATH },
});

const LIST_DEVICES = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/devices',
  operationId: 'listDevices',
  summary: 'Registered devices',
  params: WorkspaceParams,
  responses: { 200: { description: 'Devices', schema: DeviceListSchema }, 400: BAD_PATH },
});

const DEVICE_VIEW = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/devices/:id/view',
  operationId: 'deviceView',
  summary: 'The profiles as this device sees them',
  params: DeviceParams,
  responses: {
    200: {
      description: 'Profile projections',
      schema: z.object({ profiles: z.array(ProfileProjectionSchema) }),
    },
    400: BAD_PATH,
    404: 'No such device in this workspace',
  },
});

const REVOKE_DEVICE = adminRoute({
  method: 'DELETE',
  url: '/workspaces/:workspace/devices/:id',
  operationId: 'revokeDevice',
  summary: 'Revoke a device; its event streams end at once',
  params: DeviceParams,
  responses: { 204: { description: 'Revoked' }, 400: BAD_PATH, 404: 'No active device with this id' },
});

const LIST_TOKENS = adminRoute({
  method: 'GET',
  url: '/tokens',
  operationId: 'listAdminTokens',
  summary: 'Admin tokens (no secrets)',
  responses: { 200: { description: 'Tokens' } },
});

const CREATE_TOKEN = adminRoute({
  method: 'POST',
  url: '/tokens',
  operationId: 'createAdminToken',
  summary: 'Create an admin token; shown once',
  body: CreateAdminTokenSchema,
  responses: {
    201: { description: 'Id and token', schema: z.object({ id: z.string(), token: z.string() }) },
    400: 'Malformed body',
  },
});

const REVOKE_TOKEN = adminRoute({
  method: 'DELETE',
  url: '/tokens/:id',
  operationId: 'revokeAdminToken',
  summary: 'Revoke an admin token',
  params: TokenParams,
  responses: { 204: { description: 'Revoked' }, 400: BAD_PATH, 404: 'No active admin token with this id' },
});
