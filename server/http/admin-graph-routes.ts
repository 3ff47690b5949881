/**
 * The identity graph around a profile (SPEC GV-1..GV-3), for the console's graph view. Registered
 * inside the `/admin/v1` scope, so the admin token check there applies; the walk keeps to the
 * workspace in the path, so another workspace's MPID is not found (HT-7).
 */
import type { FastifyInstance } from 'fastify';
import {
  GraphQuerySchema,
  MAX_GRAPH_NODES,
  ProfileGraphSchema,
  type ProfileGraph,
} from '../../shared/protocol/admin-graph.ts';
import { apiError } from '../../shared/protocol/errors.ts';
import { ProfileGraphReader } from '../db/profile-graph.ts';
import type { ConsoleRouteHelpers } from './admin-console-routes.ts';
import type { AdminDeps } from './admin-routes.ts';
import { adminRoute, ProfileParams } from './admin-params.ts';
import { route } from './route-table.ts';

export function registerAdminGraphRoutes(
  admin: FastifyInstance,
  deps: AdminDeps,
  { parse, fail }: ConsoleRouteHelpers,
): void {
  const reader = new ProfileGraphReader(deps.handle);
  route(admin, GRAPH_ROUTE, async (request, reply) => {
    const params = parse(reply, ProfileParams, request.params);
    const query = params === null ? null : parse(reply, GraphQuerySchema, request.query);
    if (params === null || query === null) return reply;
    const graph = await reader.around(params.workspace, params.mpid, query.depth, query.max_nodes);
    return graph === null
      ? fail(reply, apiError('NOT_FOUND', `no live profile ${params.mpid} in ${params.workspace}`))
      : (graph satisfies ProfileGraph);
  });
}

const GRAPH_ROUTE = adminRoute({
  method: 'GET',
  url: '/workspaces/:workspace/profiles/:mpid/graph',
  operationId: 'profileGraph',
  summary: `The graph around a profile: profiles, identity values, devices and aliases with the requests that joined them, depth 1..3 profile hops, at most max_nodes (up to ${MAX_GRAPH_NODES}) nodes, truncated when more exist`,
  params: ProfileParams,
  query: GraphQuerySchema,
  responses: {
    200: { description: 'Nodes and edges', schema: ProfileGraphSchema },
    400: `Malformed path or query: depth outside 1..3, max_nodes outside 1..${MAX_GRAPH_NODES}`,
    404: 'No live profile with this MPID in this workspace',
  },
});
