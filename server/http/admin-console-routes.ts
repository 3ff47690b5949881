/**
 * The admin API routes the console needs beyond the base admin API (SPEC AA-1..AA-8): dashboard
 * stats, device detail and input secret rotation. Registered inside the `/admin/v1` scope, so the
 * admin token check there applies; every route keeps to the workspace in its path (HT-7).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type z } from 'zod';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import {
  DEFAULT_STATS_WINDOW_MS,
  MAX_STATS_BUCKETS,
  STATS_BUCKETS,
  StatsQuerySchema,
  StatsSchema,
  type Stats,
  type StatsQuery,
} from '../../shared/protocol/admin-stats.ts';
import {
  DeviceDetailQuerySchema,
  DeviceDetailSchema,
  type DeviceDetail,
} from '../../shared/protocol/admin-devices.ts';
import { RotatedInputSchema, type RotatedInput } from '../../shared/protocol/admin-inputs.ts';
import { err, ok, type Result } from '../../shared/util/result.ts';
import type { AdminDeps } from './admin-routes.ts';
import { adminRoute, DeviceParams, InputParams, WorkspaceParams } from './admin-params.ts';
import { route } from './route-table.ts';

export interface ConsoleRouteHelpers {
  /** Parses with a schema, answering 400 (and returning null) when it fails. */
  readonly parse: <S extends z.ZodType>(reply: FastifyReply, schema: S, input: unknown) => z.output<S> | null;
  readonly fail: (reply: FastifyReply, error: ApiError) => FastifyReply | Promise<FastifyReply>;
}

/** AA-1: the window the query asks for, or why it is refused. */
export function statsWindow(
  query: StatsQuery,
  now: number,
): Result<{ from: number; to: number; bucketMs: number }, ApiError> {
  const bucketMs = STATS_BUCKETS[query.bucket];
  const to = query.to ?? now;
  const from = query.from ?? to - DEFAULT_STATS_WINDOW_MS;
  if (from >= to) return err(apiError('VALIDATION_ERROR', 'from must be before to', 'from'));
  const buckets = Math.ceil(to / bucketMs) - Math.floor(from / bucketMs);
  if (buckets > MAX_STATS_BUCKETS) {
    return err(
      apiError(
        'VALIDATION_ERROR',
        `the window spans ${buckets} ${query.bucket} buckets; at most ${MAX_STATS_BUCKETS} are allowed`,
        'from',
      ),
    );
  }
  return ok({ from, to, bucketMs });
}

export function registerAdminConsoleRoutes(
  admin: FastifyInstance,
  deps: AdminDeps,
  { parse, fail }: ConsoleRouteHelpers,
): void {
  route(admin, STATS_ROUTE, async (request, reply) => {
    const params = parse(reply, WorkspaceParams, request.params);
    const query = params === null ? null : parse(reply, StatsQuerySchema, request.query);
    if (params === null || query === null) return reply;
    const now = deps.clock.now();
    const window = statsWindow(query, now);
    if (!window.ok) return fail(reply, window.error);
    const workspace = await deps.workspaces.get(params.workspace);
    if (workspace === null) return fail(reply, apiError('NOT_FOUND', `no workspace ${params.workspace}`));
    await deps.requestLog.flush();
    const stats = await deps.console.stats(
      {
        workspace: params.workspace,
        ...window.value,
        loginTypes: workspace.config.loginIdentities,
        now,
      },
      query.bucket,
    );
    return { workspace: params.workspace, ...stats } satisfies Stats;
  });

  route(admin, DEVICE_DETAIL_ROUTE, async (request, reply) => {
    const params = parse(reply, DeviceParams, request.params);
    const query = params === null ? null : parse(reply, DeviceDetailQuerySchema, request.query);
    if (params === null || query === null) return reply;
    const detail = await deps.console.device(params.workspace, params.id, query.failed_limit);
    return detail === null
      ? fail(reply, apiError('NOT_FOUND', `no device ${params.id} in ${params.workspace}`))
      : (detail satisfies DeviceDetail);
  });

  route(admin, ROTATE_INPUT_ROUTE, async (request, reply) => {
    const params = parse(reply, InputParams, request.params);
    if (params === null) return reply;
    const rotated = await deps.workspaces.rotateInputSecret(params.workspace, params.key);
    if (!rotated.ok) return fail(reply, rotated.error);
    deps.onInputRotated(params.key);
    return rotated.value satisfies RotatedInput;
  });
}

const STATS_ROUTE = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/stats',
  operationId: 'stats',
  summary: `Dashboard: resolutions by outcome per bucket, conversion rate, sync lag (at most ${MAX_STATS_BUCKETS} buckets)`,
  params: WorkspaceParams,
  query: StatsQuerySchema,
  responses: {
    200: { description: 'Stats for the window', schema: StatsSchema },
    400: 'Malformed query, from not before to, or too many buckets',
    404: 'No such workspace',
  },
});

const DEVICE_DETAIL_ROUTE = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/devices/:id',
  operationId: 'deviceDetail',
  summary: 'A device: registration, last seen, next seq, request counts, the last failed requests',
  params: DeviceParams,
  query: DeviceDetailQuerySchema,
  responses: {
    200: { description: 'Device detail', schema: DeviceDetailSchema },
    400: 'Malformed path or query',
    404: 'No such device in this workspace',
  },
});

const ROTATE_INPUT_ROUTE = adminRoute({
  method: 'POST',
  url: '/workspaces/:workspace/inputs/:key/rotate',
  operationId: 'rotateInput',
  summary: 'Give an input a new secret, shown once; the old secret stops working at once',
  params: InputParams,
  responses: {
    200: { description: 'The unchanged key and the new secret', schema: RotatedInputSchema },
    400: 'Malformed path',
    404: 'No such input in this workspace',
    409: 'The input was revoked',
  },
});
