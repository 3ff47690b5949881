/**
 * The IDSync HTTP API v1 (spec §4, §5): identify, login, logout, search, modify and alias, wire
 * compatible with mParticle's identity API. Each request is authenticated, parsed at the boundary
 * by the shared protocol schemas, and resolved by the shared resolver in one database transaction
 * that also reads the workspace's config.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ScopeConfig } from '../../shared/identity/scope-config.ts';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import {
  AliasRequestBodySchema,
  IdentityRequestBodySchema,
  IdentityResponseSchema,
  ModifyRequestBodySchema,
  ModifyResponseSchema,
} from '../../shared/protocol/idsync.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import { resolveOptions, type Clock, type ResolveOptions } from '../../shared/resolver/context.ts';
import type { IdentityKind } from '../../shared/resolver/identify.ts';
import { programFor } from '../../shared/resolver/program-for.ts';
import type { Actor } from '../../shared/resolver/records.ts';
import type { Program } from '../../shared/resolver/store-port.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import type { RandomSource } from '../../shared/util/random.ts';
import { err, type Result } from '../../shared/util/result.ts';
import type { AliasWorker } from '../alias-worker.ts';
import { authenticate, type InputCredential, type Principal } from '../auth/authenticate.ts';
import type { ServerKey } from '../auth/secrets.ts';
import type { SeenSignatures } from '../auth/seen-signatures.ts';
import { apiLogRow, type ApiLogged, type RequestLog } from '../db/request-log.ts';
import type { SqlIdentityStore } from '../db/sql-identity-store.ts';
import { sendError } from './errors.ts';
import type { SyncStreams } from './sync-streams.ts';
import { route, type RouteDeclaration } from './route-table.ts';
import type { Metrics } from './metrics.ts';
import type { RequestLimits } from './request-limits.ts';

export interface IdsyncDeps {
  readonly store: SqlIdentityStore;
  readonly findInput: (key: string) => Promise<InputCredential | null>;
  readonly serverKey: ServerKey;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly metrics: Metrics;
  readonly aliasWorker: AliasWorker;
  /** Per-address, per-input limits around authentication (HL-1, HL-2, HL-5). */
  readonly limits: RequestLimits;
  /** HMAC signatures already accepted (HL-6). */
  readonly signatures: SeenSignatures;
  /** Told after every write, so devices viewing the changed profiles pull. */
  readonly notifier: Pick<SyncStreams, 'notify'>;
  /** Every answered request, for what-if replay (LS-6); written in batches off the request path. */
  readonly requestLog: Pick<RequestLog, 'append'>;
  /** Coarse last-seen (LS-3), in ms. */
  readonly lastSeenResolutionMs: number;
}

const EMPTY = Buffer.alloc(0);

const Flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const QuerySchema = z.object({ read_only: Flag.optional(), return_matches: Flag.optional() });

type Flags = z.output<typeof QuerySchema>;

/** The flags of a request without a query string, parsed once (HP-11). */
const NO_FLAGS = parseWith(QuerySchema, {});

/** The query's flags; most requests have no query string, and their (empty) parse is shared. */
function parseFlags(query: unknown): Result<Flags, ApiError> {
  for (const _ in query as object) return parseWith(QuerySchema, query);
  return NO_FLAGS;
}

/** Whether a request with these flags wrote anything (read_only never does). */
function flagsWrite(flags: z.output<typeof QuerySchema>): boolean {
  return flags.read_only !== true;
}

function* withConfig<R>(
  config: ScopeConfig,
  program: Program<R>,
): Program<{ config: ScopeConfig; result: R }> {
  const result = yield* program;
  return { config, result };
}

/** The identities of the request and how each was used; no other profile's MPID is revealed. */
function lookupSummary(trace: ExplainTrace) {
  return trace.identities.map((i) => ({ identity_type: i.identityType, value: i.value, use: i.use }));
}

export function registerIdsyncRoutes(app: FastifyInstance, deps: IdsyncDeps): void {
  const { store, metrics, clock, random } = deps;

  /** Logs a request that was resolved and written (not a replay, not read-only) for what-if (LS-6). */
  const logged = (ran: { principal: Principal }, wrote: boolean, entry: Omit<ApiLogged, 'workspaceId'>) => {
    if (wrote) deps.requestLog.append(apiLogRow({ ...entry, workspaceId: ran.principal.workspaceId }));
  };

  /** The authenticated caller; a sync-only key (the app's, HT-9) is refused here. */
  async function principal(request: FastifyRequest, pathKey?: string): Promise<Result<Principal, ApiError>> {
    const who = await deps.limits.authenticated(
      request.ip,
      () =>
        authenticate(
          {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.rawBody ?? EMPTY,
            ...(pathKey === undefined ? {} : { pathKey }),
          },
          deps.findInput,
          deps.serverKey,
          clock.now(),
          deps.signatures,
        ),
      (who) => ({ input: who.apiKey }),
    );
    if (who.ok && who.value.syncOnly)
      return err(
        apiError(
          'FORBIDDEN',
          "this API key opens the device sync API (/sync/v1) only; call the IDSync API with another input's key",
        ),
      );
    return who;
  }

  /** Authenticates, then runs the program for the key's workspace; `null` when it sent an error. */
  async function resolve<R>(
    request: FastifyRequest,
    reply: FastifyReply,
    make: (config: ScopeConfig, actor: Actor, flags: z.output<typeof QuerySchema>) => Program<R>,
    pathKey?: string,
  ): Promise<{
    config: ScopeConfig;
    result: R;
    principal: Principal;
    flags: z.output<typeof QuerySchema>;
  } | null> {
    const who = await principal(request, pathKey);
    if (!who.ok) {
      await sendError(reply, metrics, who.error);
      return null;
    }
    const flags = parseFlags(request.query);
    if (!flags.ok) {
      await sendError(reply, metrics, flags.error);
      return null;
    }
    const actor: Actor = { kind: 'app', id: who.value.apiKey };
    const ran = await store.runProgram(who.value.workspaceId, (config) =>
      withConfig(config, make(config, actor, flags.value)),
    );
    if (ran === null) {
      await sendError(
        reply,
        metrics,
        apiError('FORBIDDEN', 'the workspace of this API key no longer exists'),
      );
      return null;
    }
    return { ...ran, principal: who.value, flags: flags.value };
  }

  /** Options of identify, login, logout and modify: the `read_only` flag and the last-seen window apply. */
  const identityOptions = (
    config: ScopeConfig,
    actor: Actor,
    flags: z.output<typeof QuerySchema>,
    now: number,
  ): ResolveOptions =>
    resolveOptions({
      config,
      random,
      now,
      actor,
      readOnly: flags.read_only,
      lastSeenResolutionMs: deps.lastSeenResolutionMs,
    });

  const identityRoute = (kind: IdentityKind) => async (request: FastifyRequest, reply: FastifyReply) => {
    const now = clock.now();
    const ran = await resolve(request, reply, (config, actor, flags) =>
      programFor(kind, { body: request.body }, identityOptions(config, actor, flags, now)),
    );
    if (ran === null) return reply;
    const outcome = ran.result;
    if (!outcome.ok) return sendError(reply, metrics, outcome.error.error, outcome.error.requestId);
    const { response, trace, created } = outcome.value;
    logged(ran, !outcome.value.replayed && flagsWrite(ran.flags), {
      at: now,
      requestId: outcome.value.requestId,
      kind,
      body: request.body,
      bodyText: request.bodyText,
      trace,
    });
    if (flagsWrite(ran.flags)) deps.notifier.notify(ran.principal.workspaceId);
    metrics.resolutions.inc({
      kind,
      strategy: trace.strategy,
      branch: trace.branch,
      situation: trace.situation ?? 'none',
      created: String(created),
    });
    reply.header('x-mp-max-age', String(ran.config.identityCacheMaxAgeSec));
    return reply
      .code(200)
      .send(ran.flags.return_matches === true ? { ...response, lookup: lookupSummary(trace) } : response);
  };

  for (const kind of ['identify', 'login', 'logout'] as const) {
    route(app, IDENTITY_ROUTES[kind], identityRoute(kind));
  }

  route(app, SEARCH_ROUTE, async (request, reply) => {
    const now = clock.now();
    const ran = await resolve(request, reply, (config, actor) =>
      programFor('search', { body: request.body }, resolveOptions({ config, random, now, actor })),
    );
    if (ran === null) return reply;
    const outcome = ran.result;
    if (!outcome.ok) return sendError(reply, metrics, outcome.error.error, outcome.error.requestId);
    const { response, trace } = outcome.value;
    return reply
      .code(200)
      .send(ran.flags.return_matches === true ? { ...response, lookup: lookupSummary(trace) } : response);
  });

  route<{ Params: { mpid: string } }>(app, MODIFY_ROUTE, async (request, reply) => {
    const now = clock.now();
    const ran = await resolve(request, reply, (config, actor, flags) =>
      programFor(
        'modify',
        { body: request.body, target: request.params.mpid },
        identityOptions(config, actor, flags, now),
      ),
    );
    if (ran === null) return reply;
    const outcome = ran.result;
    if (!outcome.ok) return sendError(reply, metrics, outcome.error.error, outcome.error.requestId);
    logged(ran, !outcome.value.replayed && flagsWrite(ran.flags), {
      at: now,
      requestId: outcome.value.requestId,
      kind: 'modify',
      body: request.body,
      modifyMpid: request.params.mpid,
      trace: outcome.value.trace,
    });
    metrics.resolutions.inc({
      kind: 'modify',
      strategy: ran.config.strategy,
      branch: 'modify',
      situation: 'none',
      created: 'false',
    });
    return reply.code(200).send(outcome.value.response);
  });

  const aliasRoute =
    (pathKey: (request: FastifyRequest) => string | undefined) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const now = clock.now();
      const ran = await resolve(
        request,
        reply,
        (config, actor) =>
          programFor('alias', { body: request.body }, resolveOptions({ config, random, now, actor })),
        pathKey(request),
      );
      if (ran === null) return reply;
      const outcome = ran.result;
      if (!outcome.ok) return sendError(reply, metrics, outcome.error.error, outcome.error.requestId);
      logged(ran, !outcome.value.replayed, {
        at: now,
        requestId: outcome.value.requestId,
        kind: 'alias',
        body: request.body,
        bodyText: request.bodyText,
        trace: outcome.value.trace,
      });
      void deps.aliasWorker
        .kick(ran.principal.workspaceId)
        .then(() => deps.notifier.notify(ran.principal.workspaceId));
      return reply.code(202).send();
    };

  route(
    app,
    ALIAS_ROUTE,
    aliasRoute(() => undefined),
  );
  // The web SDK posts aliases to {aliasUrl}{apiKey}/Alias with the key in the path and no x-mp-key.
  route<{ Params: { apiKey: string } }>(
    app,
    SDK_ALIAS_ROUTE,
    aliasRoute((request) => (request.params as { apiKey: string }).apiKey),
  );
}

const IDSYNC_ERRORS = {
  400: 'Malformed request, unknown identity type, invalid MPID, blocked values',
  403: 'The workspace is gone, or this key opens the device sync API only',
  409: 'The request_id was used before for a different request',
} as const;

const FlagsDoc = z.object({
  read_only: Flag.optional().describe('Resolve without persisting anything'),
  return_matches: Flag.optional().describe('Add how each request identity was used'),
});

const identityDeclaration = (kind: IdentityKind, summary: string): RouteDeclaration => ({
  method: 'POST',
  url: `/v1/${kind}`,
  operationId: kind,
  summary,
  tags: ['idsync'],
  auth: 'input',
  query: FlagsDoc,
  body: IdentityRequestBodySchema,
  responses: {
    200: { description: 'The resolved profile', schema: IdentityResponseSchema },
    ...IDSYNC_ERRORS,
  },
});

const IDENTITY_ROUTES: Record<'identify' | 'login' | 'logout', RouteDeclaration> = {
  identify: identityDeclaration('identify', 'Establish the current user'),
  login: identityDeclaration('login', 'Transition to an authenticated user'),
  logout: identityDeclaration('logout', 'Transition to the logged-out user described by the body'),
};

const SEARCH_ROUTE: RouteDeclaration = {
  ...identityDeclaration('identify', 'Find the matching user without writing anything'),
  url: '/v1/search',
  operationId: 'search',
  responses: {
    200: { description: 'A matching profile', schema: IdentityResponseSchema },
    404: 'No eligible profile matches',
    ...IDSYNC_ERRORS,
  },
};

const MODIFY_ROUTE: RouteDeclaration = {
  method: 'POST',
  url: '/v1/:mpid/modify',
  operationId: 'modify',
  summary: 'Add, change or remove identities of a profile',
  tags: ['idsync'],
  auth: 'input',
  params: z.object({ mpid: z.string().describe('MPID, a signed 64-bit decimal string') }),
  query: FlagsDoc.pick({ read_only: true }),
  body: ModifyRequestBodySchema,
  responses: { 200: { description: 'Applied', schema: ModifyResponseSchema }, ...IDSYNC_ERRORS },
};

const ALIAS_ROUTE: RouteDeclaration = {
  method: 'POST',
  url: '/v1/alias',
  operationId: 'alias',
  summary: 'Alias a source profile into a destination profile (processed in the background)',
  tags: ['idsync'],
  auth: 'input',
  body: AliasRequestBodySchema,
  responses: { 202: { description: 'Accepted' }, ...IDSYNC_ERRORS, 403: 'Aliasing not available' },
};

const SDK_ALIAS_ROUTE: RouteDeclaration = {
  ...ALIAS_ROUTE,
  url: '/v1/identity/:apiKey/Alias',
  operationId: 'sdkAlias',
  summary: 'The web SDK alias endpoint (API key in the path)',
  auth: 'input-key-in-path',
  params: z.object({ apiKey: z.string().describe('API key of an input that allows key-only use') }),
};
