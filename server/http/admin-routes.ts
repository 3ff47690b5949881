/**
 * The admin API (`/admin/v1`, `Authorization: Bearer <admin token>`): workspaces and their configs,
 * input credentials, admin tokens, profile search and detail, the history feed, stored requests with
 * their explain traces, alias undo and profile deletion for data-subject requests.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { MpidSchema } from '../../shared/identity/mpid.ts';
import {
  CreateAdminTokenSchema,
  CreateInputSchema,
  HistoryQuerySchema,
  ProfileSearchSchema,
} from '../../shared/protocol/admin.ts';
import { ConfigSaveQuerySchema } from '../../shared/protocol/admin-config.ts';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import { WhatIfRequestSchema } from '../../shared/protocol/what-if.ts';
import { undoAliasProgram } from '../../shared/resolver/alias.ts';
import { resolveOptions, type Clock } from '../../shared/resolver/context.ts';
import type { Actor } from '../../shared/resolver/records.ts';
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

const WorkspaceParams = z.object({ workspace: z.string().min(1).max(64) });
const ProfileParams = WorkspaceParams.extend({ mpid: MpidSchema });

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

      admin.get('/workspaces', async () => ({ workspaces: await workspaces.list() }));

      admin.post('/workspaces', async (request, reply) => {
        const created = await workspaces.create(request.body, actorOf(request));
        if (!created.ok) return fail(reply, created.error);
        return reply.code(201).send(created.value);
      });

      admin.get('/workspaces/:workspace/config', async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        const found = await workspaces.get(params.workspace);
        return found === null
          ? fail(reply, apiError('NOT_FOUND', `no workspace ${params.workspace}`))
          : found;
      });

      admin.put('/workspaces/:workspace/config', async (request, reply) => {
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

      admin.get('/workspaces/:workspace/config/history', async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        return { history: await workspaces.configHistory(params.workspace) };
      });

      /** What-if replay (WI-1..WI-6): the log under another config, in memory; nothing is written. */
      admin.post('/workspaces/:workspace/what-if', async (request, reply) => {
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

      admin.get('/workspaces/:workspace/inputs', async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        return { inputs: await workspaces.listInputs(params.workspace) };
      });

      admin.post('/workspaces/:workspace/inputs', async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        const body = params === null ? null : parse(reply, CreateInputSchema, request.body);
        if (params === null || body === null) return reply;
        const created = await workspaces.createInput(params.workspace, body.name, body);
        return created.ok ? reply.code(201).send(created.value) : fail(reply, created.error);
      });

      admin.delete('/workspaces/:workspace/inputs/:key', async (request, reply) => {
        const params = parse(
          reply,
          WorkspaceParams.extend({ key: z.string().min(1).max(128) }),
          request.params,
        );
        if (params === null) return reply;
        if (!(await workspaces.revokeInput(params.workspace, params.key))) {
          return fail(reply, apiError('NOT_FOUND', `no active input ${params.key} in ${params.workspace}`));
        }
        deps.onInputRevoked(params.key);
        return reply.code(204).send();
      });

      admin.get('/workspaces/:workspace/profiles', async (request, reply) => {
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

      admin.get('/workspaces/:workspace/profiles/:mpid', async (request, reply) => {
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

      admin.delete('/workspaces/:workspace/profiles/:mpid', async (request, reply) => {
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

      admin.get('/workspaces/:workspace/history', async (request, reply) => {
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

      admin.get('/workspaces/:workspace/requests/:requestId', async (request, reply) => {
        const params = parse(
          reply,
          WorkspaceParams.extend({ requestId: z.string().min(1).max(128) }),
          request.params,
        );
        if (params === null) return reply;
        const found = await profiles.request(params.workspace, params.requestId);
        return found ?? fail(reply, apiError('NOT_FOUND', `no stored request ${params.requestId}`));
      });

      admin.post('/workspaces/:workspace/aliases/:aliasId/undo', async (request, reply) => {
        const params = parse(
          reply,
          WorkspaceParams.extend({ aliasId: z.string().min(1).max(160) }),
          request.params,
        );
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

      admin.get('/workspaces/:workspace/export', async (request, reply) => {
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

      admin.get('/workspaces/:workspace/devices', async (request, reply) => {
        const params = parse(reply, WorkspaceParams, request.params);
        if (params === null) return reply;
        return { devices: await deps.devices.list(params.workspace) };
      });

      admin.get('/workspaces/:workspace/devices/:id/view', async (request, reply) => {
        const params = parse(
          reply,
          WorkspaceParams.extend({ id: z.string().min(1).max(128) }),
          request.params,
        );
        if (params === null) return reply;
        const view = await deps.devices.view(params.workspace, params.id);
        return view === null
          ? fail(reply, apiError('NOT_FOUND', `no device ${params.id} in ${params.workspace}`))
          : { profiles: view };
      });

      admin.delete('/workspaces/:workspace/devices/:id', async (request, reply) => {
        const params = parse(
          reply,
          WorkspaceParams.extend({ id: z.string().min(1).max(128) }),
          request.params,
        );
        if (params === null) return reply;
        if (!(await deps.devices.revoke(params.workspace, params.id)))
          return fail(reply, apiError('NOT_FOUND', `no active device ${params.id} in ${params.workspace}`));
        deps.onDeviceRevoked(params.id);
        return reply.code(204).send();
      });

      admin.get('/tokens', async () => ({ tokens: await workspaces.listAdminTokens() }));

      admin.post('/tokens', async (request, reply) => {
        const body = parse(reply, CreateAdminTokenSchema, request.body);
        if (body === null) return reply;
        return reply.code(201).send(await workspaces.createAdminToken(body.name));
      });

      admin.delete('/tokens/:id', async (request, reply) => {
        const params = parse(reply, z.object({ id: z.string().min(1).max(64) }), request.params);
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
