/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that parse every request, so the
 * documentation cannot drift from what the server accepts. Served at /openapi.json and /docs.
 */
import { z } from 'zod';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import {
  AliasRequestBodySchema,
  IdentityRequestBodySchema,
  IdentityResponseSchema,
  ModifyRequestBodySchema,
  ModifyResponseSchema,
} from '../../shared/protocol/idsync.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/version.ts';
import {
  AliasRecordSchema,
  HistoryEntrySchema,
  ProfileRecordSchema,
  StoredRequestSchema,
} from '../../shared/resolver/records.ts';
import {
  CreateAdminTokenSchema,
  CreateInputSchema,
  HistoryQuerySchema,
  ProfileSearchSchema,
} from '../../shared/protocol/admin.ts';
import { AppBootstrapSchema } from '../../shared/protocol/app-bootstrap.ts';
import { DeviceDetailQuerySchema, DeviceDetailSchema } from '../../shared/protocol/admin-devices.ts';
import { RotatedInputSchema } from '../../shared/protocol/admin-inputs.ts';
import { MAX_STATS_BUCKETS, StatsQuerySchema, StatsSchema } from '../../shared/protocol/admin-stats.ts';
import { GraphQuerySchema, MAX_GRAPH_NODES, ProfileGraphSchema } from '../../shared/protocol/admin-graph.ts';
import { LabRunRequestSchema, LabRunResponseSchema } from '../../shared/protocol/lab.ts';
import { labJobPaths } from './lab-routes.ts';
import { WhatIfRequestSchema, WhatIfResponseSchema } from '../../shared/protocol/what-if.ts';
import {
  ROUND_PROTOCOL_VERSION,
  RoundRequestSchema,
  RoundResponseSchema,
  SYNC_PROTOCOL_HEADER,
} from '../../shared/protocol/sync.ts';

type Json = Record<string, unknown>;

function schema(zodSchema: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const generated = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any' }) as Json;
  delete generated['$schema'];
  return generated;
}

const json = (zodSchema: z.ZodType, io: 'input' | 'output' = 'output') => ({
  content: { 'application/json': { schema: schema(zodSchema, io) } },
});
const error = (description: string) => ({ description, ...json(ErrorBodySchema) });
const IDSYNC_ERRORS = {
  '400': error('Malformed request, unknown identity type, invalid MPID, blocked values'),
  '401': error('Missing, unknown, revoked or wrong credentials; bad or stale signature'),
  '409': error('The request_id was used before for a different request'),
  '413': error('Body too large'),
  '429': { description: 'Too many requests for this key; see Retry-After', ...json(ErrorBodySchema) },
};
const FLAGS = [
  {
    name: 'read_only',
    in: 'query',
    schema: { type: 'boolean' },
    description: 'Resolve without persisting anything',
  },
  {
    name: 'return_matches',
    in: 'query',
    schema: { type: 'boolean' },
    description: 'Add how each request identity was used',
  },
];
const IDSYNC_SECURITY = [{ basic: [] }, { digest: [], date: [], key: [] }, { key: [] }];
const ADMIN = { security: [{ admin: [] }], tags: ['admin'] };

function identityOperation(summary: string) {
  return {
    post: {
      tags: ['idsync'],
      summary,
      security: IDSYNC_SECURITY,
      parameters: FLAGS,
      requestBody: { required: true, ...json(IdentityRequestBodySchema, 'input') },
      responses: {
        '200': { description: 'The resolved profile', ...json(IdentityResponseSchema) },
        ...IDSYNC_ERRORS,
      },
    },
  };
}

function pathParam(name: string, description: string) {
  return { name, in: 'path', required: true, schema: { type: 'string' }, description };
}

function queryParams(zodSchema: z.ZodObject) {
  const properties = (schema(zodSchema, 'input')['properties'] ?? {}) as Record<string, Json>;
  return Object.entries(properties).map(([name, s]) => ({ name, in: 'query', schema: s }));
}

export function openApiDocument(): Json {
  const workspace = pathParam('workspace', 'Workspace (scope) id');
  const mpid = pathParam('mpid', 'MPID, a signed 64-bit decimal string');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Identity Sync',
      version: `protocol ${PROTOCOL_VERSION}`,
      description:
        'IDSync-compatible identity API (wire-compatible with mParticle identity v1) and the admin API.',
    },
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'API key and secret' },
        key: {
          type: 'apiKey',
          in: 'header',
          name: 'x-mp-key',
          description: 'API key (alone only for inputs that allow it)',
        },
        digest: {
          type: 'apiKey',
          in: 'header',
          name: 'x-mp-signature',
          description: 'hex HMAC-SHA256(secret, METHOD\\nDate\\npath+query+body)',
        },
        date: {
          type: 'apiKey',
          in: 'header',
          name: 'date',
          description: 'Signed request time, within 5 minutes',
        },
        admin: { type: 'http', scheme: 'bearer', description: 'Admin token' },
      },
    },
    paths: {
      '/sync/v2/round': {
        post: {
          tags: ['sync'],
          summary: 'One device sync round: push requests and events, get results and changed projections',
          description:
            'Needs the input key (x-mp-key), the device credential (authorization: Device <id>:<secret>) and x-sync-protocol 3 or later (SPEC S2-9).',
          parameters: [
            {
              name: SYNC_PROTOCOL_HEADER,
              in: 'header',
              required: true,
              schema: { type: 'integer', minimum: ROUND_PROTOCOL_VERSION },
              description: 'The sync protocol version the device speaks',
            },
          ],
          requestBody: { required: true, ...json(RoundRequestSchema, 'input') },
          responses: {
            '200': {
              description: 'Per-document errors, results, projections, checkpoint',
              ...json(RoundResponseSchema),
            },
            '400': error('Malformed round, or a sync protocol version this server does not speak'),
            '401': error('Unknown, revoked or wrong device credential'),
            '413': error('Body larger than --body-limit'),
            '429': error('Too many requests for this device; see Retry-After'),
          },
        },
      },
      '/v1/identify': identityOperation('Establish the current user'),
      '/v1/login': identityOperation('Transition to an authenticated user'),
      '/v1/logout': identityOperation('Transition to the logged-out user described by the body'),
      '/v1/search': {
        post: {
          ...identityOperation('Find the matching user without writing anything').post,
          responses: {
            '200': { description: 'A matching profile', ...json(IdentityResponseSchema) },
            '404': error('No eligible profile matches'),
            ...IDSYNC_ERRORS,
          },
        },
      },
      '/v1/{mpid}/modify': {
        post: {
          tags: ['idsync'],
          summary: 'Add, change or remove identities of a profile',
          security: IDSYNC_SECURITY,
          parameters: [mpid, FLAGS[0]],
          requestBody: { required: true, ...json(ModifyRequestBodySchema, 'input') },
          responses: { '200': { description: 'Applied', ...json(ModifyResponseSchema) }, ...IDSYNC_ERRORS },
        },
      },
      '/v1/alias': {
        post: {
          tags: ['idsync'],
          summary: 'Alias a source profile into a destination profile (processed in the background)',
          security: IDSYNC_SECURITY,
          requestBody: { required: true, ...json(AliasRequestBodySchema, 'input') },
          responses: {
            '202': { description: 'Accepted' },
            '403': error('Aliasing not available'),
            ...IDSYNC_ERRORS,
          },
        },
      },
      '/v1/identity/{apiKey}/Alias': {
        post: {
          tags: ['idsync'],
          summary: 'The web SDK alias endpoint (API key in the path)',
          parameters: [pathParam('apiKey', 'API key of an input that allows key-only use')],
          requestBody: { required: true, ...json(AliasRequestBodySchema, 'input') },
          responses: {
            '202': { description: 'Accepted' },
            '403': error('Aliasing not available'),
            ...IDSYNC_ERRORS,
          },
        },
      },
      '/app/bootstrap.json': {
        get: {
          tags: ['app'],
          summary: "What the web app needs to connect: this server's URL and its key-only app input",
          responses: {
            '200': { description: 'Server URL, app input key and workspace', ...json(AppBootstrapSchema) },
          },
        },
      },
      '/healthz': {
        get: { tags: ['ops'], summary: 'Liveness', responses: { '200': { description: 'Up' } } },
      },
      '/readyz': {
        get: {
          tags: ['ops'],
          summary: 'Readiness (database reachable)',
          responses: { '200': { description: 'Ready' }, '503': error('Not ready') },
        },
      },
      '/metrics': {
        get: {
          tags: ['ops'],
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Metrics text' } },
        },
      },
      '/admin/v1/workspaces': {
        get: { ...ADMIN, summary: 'List workspaces', responses: { '200': { description: 'Workspaces' } } },
        post: {
          ...ADMIN,
          summary: 'Create a workspace from a scope config',
          requestBody: { required: true, ...json(ScopeConfigSchema, 'input') },
          responses: {
            '201': { description: 'Created' },
            '400': error('Invalid config'),
            '409': error('Exists'),
          },
        },
      },
      '/admin/v1/workspaces/{workspace}/config': {
        get: {
          ...ADMIN,
          parameters: [workspace],
          summary: 'Current config',
          responses: { '200': { description: 'Config and version', ...json(ScopeConfigSchema) } },
        },
        put: {
          ...ADMIN,
          parameters: [
            workspace,
            {
              name: 'expected_version',
              in: 'query',
              schema: { type: 'integer', minimum: 1 },
              description:
                'The version the edit started from; a save is refused (409) once another save took it',
            },
          ],
          summary: 'Replace the config (recorded in the config history)',
          requestBody: { required: true, ...json(ScopeConfigSchema, 'input') },
          responses: {
            '200': { description: 'Updated' },
            '400': error('Invalid config'),
            '409': error('Existing data conflicts, or the config changed since expected_version'),
          },
        },
      },
      '/admin/v1/workspaces/{workspace}/config/history': {
        get: {
          ...ADMIN,
          parameters: [workspace],
          summary: 'Config changes, newest first',
          responses: { '200': { description: 'History' } },
        },
      },
      '/admin/v1/workspaces/{workspace}/inputs': {
        get: {
          ...ADMIN,
          parameters: [workspace],
          summary: 'Input credentials (no secrets)',
          responses: { '200': { description: 'Inputs' } },
        },
        post: {
          ...ADMIN,
          parameters: [workspace],
          summary: 'Create an input; the secret is shown once',
          requestBody: { required: true, ...json(CreateInputSchema, 'input') },
          responses: { '201': { description: 'Key and secret' } },
        },
      },
      '/admin/v1/workspaces/{workspace}/inputs/{key}': {
        delete: {
          ...ADMIN,
          parameters: [workspace, pathParam('key', 'API key')],
          summary: 'Revoke an input',
          responses: { '204': { description: 'Revoked' } },
        },
      },
      ...adminConsolePaths(workspace),
      ...adminGraphPaths(workspace),
      ...labJobPaths(json, ADMIN),
      '/admin/v1/workspaces/{workspace}/profiles': {
        get: {
          ...ADMIN,
          parameters: [workspace, ...queryParams(ProfileSearchSchema)],
          summary: 'Profiles holding an identity value',
          responses: {
            '200': { description: 'Profiles', ...json(z.object({ profiles: z.array(ProfileRecordSchema) })) },
          },
        },
      },
      '/admin/v1/workspaces/{workspace}/profiles/{mpid}': {
        get: {
          ...ADMIN,
          parameters: [workspace, mpid],
          summary: 'Profile detail: identities, aliases, history, requests with explain traces',
          responses: {
            '200': {
              description: 'Detail',
              ...json(
                z.object({
                  profile: ProfileRecordSchema,
                  aliases: z.array(AliasRecordSchema),
                  history: z.array(HistoryEntrySchema),
                  requests: z.array(StoredRequestSchema),
                }),
              ),
            },
            '404': error('No such profile'),
          },
        },
        delete: {
          ...ADMIN,
          parameters: [workspace, mpid],
          summary: 'Delete for a data-subject request',
          responses: { '200': { description: 'Deleted' } },
        },
      },
      '/admin/v1/workspaces/{workspace}/history': {
        get: {
          ...ADMIN,
          parameters: [workspace, ...queryParams(HistoryQuerySchema)],
          summary: 'History feed, newest first, paged by seq',
          responses: {
            '200': {
              description: 'Entries',
              ...json(
                z.object({ entries: z.array(HistoryEntrySchema), nextBeforeSeq: z.number().nullable() }),
              ),
            },
          },
        },
      },
      '/admin/v1/workspaces/{workspace}/requests/{requestId}': {
        get: {
          ...ADMIN,
          parameters: [workspace, pathParam('requestId', 'request_id')],
          summary: 'A stored request with its result and explain trace',
          responses: { '200': { description: 'Stored request', ...json(StoredRequestSchema) } },
        },
      },
      '/admin/v1/workspaces/{workspace}/aliases/{aliasId}/undo': {
        post: {
          ...ADMIN,
          parameters: [workspace, pathParam('aliasId', 'Alias id')],
          summary: 'Undo a pending or applied alias',
          responses: { '200': { description: 'Undone', ...json(z.object({ alias: AliasRecordSchema })) } },
        },
      },
      '/admin/v1/lab/runs': {
        post: {
          ...ADMIN,
          summary:
            'Run a scenario file under each strategy with the simulator, each in a process of its own with its own in-memory server (the Conversion Lab). Touches no workspace.',
          requestBody: { required: true, ...json(LabRunRequestSchema, 'input') },
          responses: {
            '200': {
              description: 'One run per strategy: its report, or why it could not run',
              ...json(LabRunResponseSchema),
            },
            '400': error('Malformed scenario or strategy list (VALIDATION_ERROR, with the path)'),
          },
        },
      },
      '/admin/v1/workspaces/{workspace}/what-if': {
        post: {
          ...ADMIN,
          parameters: [workspace],
          summary:
            'Replay the recorded request log under another config (a full scope config), in memory: the requests whose outcome would change, and why. Writes nothing.',
          requestBody: { required: true, ...json(WhatIfRequestSchema, 'input') },
          responses: {
            '200': { description: 'Summary counts and the first differences', ...json(WhatIfResponseSchema) },
            '400': error('Malformed body or invalid config (VALIDATION_ERROR)'),
            '404': error('No such workspace'),
          },
        },
      },
      '/admin/v1/tokens': {
        get: {
          ...ADMIN,
          summary: 'Admin tokens (no secrets)',
          responses: { '200': { description: 'Tokens' } },
        },
        post: {
          ...ADMIN,
          summary: 'Create an admin token; shown once',
          requestBody: { required: true, ...json(CreateAdminTokenSchema, 'input') },
          responses: { '201': { description: 'Token' } },
        },
      },
      '/admin/v1/tokens/{id}': {
        delete: {
          ...ADMIN,
          parameters: [pathParam('id', 'Token id')],
          summary: 'Revoke an admin token',
          responses: { '204': { description: 'Revoked' } },
        },
      },
    },
  };
}

/** The console's dashboard, device detail and input rotation (SPEC AA-1..AA-8). */
function adminConsolePaths(workspace: Json): Json {
  const unauthorized = error('No or an unknown admin token');
  return {
    '/admin/v1/workspaces/{workspace}/stats': {
      get: {
        ...ADMIN,
        parameters: [workspace, ...queryParams(StatsQuerySchema)],
        summary: `Dashboard: resolutions by outcome per bucket, conversion rate, sync lag (at most ${MAX_STATS_BUCKETS} buckets)`,
        responses: {
          '200': { description: 'Stats for the window', ...json(StatsSchema) },
          '400': error('Malformed query, from not before to, or too many buckets'),
          '401': unauthorized,
          '404': error('No such workspace'),
        },
      },
    },
    '/admin/v1/workspaces/{workspace}/devices/{id}': {
      get: {
        ...ADMIN,
        parameters: [workspace, pathParam('id', 'Device id'), ...queryParams(DeviceDetailQuerySchema)],
        summary: 'A device: registration, last seen, next seq, request counts, the last failed requests',
        responses: {
          '200': { description: 'Device detail', ...json(DeviceDetailSchema) },
          '400': error('Malformed path or query'),
          '401': unauthorized,
          '404': error('No such device in this workspace'),
        },
      },
    },
    '/admin/v1/workspaces/{workspace}/inputs/{key}/rotate': {
      post: {
        ...ADMIN,
        parameters: [workspace, pathParam('key', 'API key')],
        summary: 'Give an input a new secret, shown once; the old secret stops working at once',
        responses: {
          '200': { description: 'The unchanged key and the new secret', ...json(RotatedInputSchema) },
          '400': error('Malformed path'),
          '401': unauthorized,
          '404': error('No such input in this workspace'),
          '409': error('The input was revoked'),
        },
      },
    },
  };
}

/** The identity graph around a profile, for the console's graph view (SPEC GV-1..GV-3). */
function adminGraphPaths(workspace: Json): Json {
  return {
    '/admin/v1/workspaces/{workspace}/profiles/{mpid}/graph': {
      get: {
        ...ADMIN,
        parameters: [workspace, pathParam('mpid', 'MPID'), ...queryParams(GraphQuerySchema)],
        summary: `The graph around a profile: profiles, identity values, devices and aliases with the requests that joined them, depth 1..3 profile hops, at most max_nodes (up to ${MAX_GRAPH_NODES}) nodes, truncated when more exist`,
        responses: {
          '200': { description: 'Nodes and edges', ...json(ProfileGraphSchema) },
          '400': error(
            `Malformed path or query: depth outside 1..3, max_nodes outside 1..${MAX_GRAPH_NODES}`,
          ),
          '401': error('No or an unknown admin token'),
          '404': error('No live profile with this MPID in this workspace'),
        },
      },
    },
  };
}
