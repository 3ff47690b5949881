/**
 * Identify, login and logout (SPEC IL-1..IL-9, LO-1..LO-5 and the strategy rules CV-*, LN-*, IS-*,
 * BM-*). Identify and login share one algorithm (A17):
 *
 *   1. If the request carries login IDs, a known record holding one of them wins (K1, K4, K5).
 *   2. Otherwise only anonymous records are candidates; without login IDs the device-ID match is
 *      returned, or a new anonymous record is created (N0, N1, N2).
 *   3. Login IDs nobody eligible holds mean a new known user (K2, K3): profile conversion adds them
 *      to the anonymous record (the previous MPID if anonymous, else the device match, A14); link
 *      and isolation create a new record and leave the anonymous one untouched.
 *
 * Logout ignores login-type values (A3) and creates a new anonymous record, except isolation (and
 * conversion with `reuse_anonymous_match`) which return to the device's anonymous record when one
 * matches. Best match treats login and logout as identify, or rejects them (A6).
 */
import { parseIdentityRequestBody, type IdentityResponse } from '../protocol/idsync.ts';
import { apiError } from '../protocol/errors.ts';
import { ok, type Result } from '../util/result.ts';
import { randomUuid, seededRandom } from '../util/random.ts';
import { aliasWindow, newAlias } from './alias-rules.ts';
import { resolveContext, type ResolveContext, type ResolveOptions } from './context.ts';
import {
  checkReplay,
  commitUnlessEmpty,
  identityFingerprint,
  leanRequest,
  RECOMPUTED_NOTE,
} from './idempotency.ts';
import { lookup } from './lookup.ts';
import { mintMpid } from './mint-mpid.ts';
import { failure, type ResolutionFailure } from './outcome.ts';
import { prepareIdentities, requestValue, type PreparedIdentities } from './prepare-identities.ts';
import { holds, isKnown, isOrphan, WorkingSet } from './profiles.ts';
import type { NewHistoryEntry, ProfileRecord, StoredRequest } from './records.ts';
import { compileConfig } from './compiled-config.ts';
import { store, type Program, type StoreChange } from './store-port.ts';
import {
  NONE,
  TRACE_VERSION,
  writeTrace,
  type Branch,
  type ExplainTrace,
  type LookupTrace,
  type Situation,
} from './trace.ts';
import { createRecord, writeBack, type Realised } from './write-back.ts';

export type IdentityKind = 'identify' | 'login' | 'logout';

const READ_ONLY_NOTE = ['read_only: nothing was persisted'] as const;

export interface IdentitySuccess {
  readonly kind: IdentityKind;
  readonly requestId: string;
  readonly response: IdentityResponse;
  readonly trace: ExplainTrace;
  readonly created: boolean;
  /** True when this answer came from the stored result of an earlier request with the same id. */
  readonly replayed: boolean;
}

export type IdentityOutcome = Result<IdentitySuccess, ResolutionFailure>;

interface Decision {
  /** The record to return, or `null` to create one. */
  readonly target: ProfileRecord | null;
  readonly situation: Situation;
  readonly branch: Branch;
  readonly reason: string;
  readonly lookups: LookupTrace[];
  /** The anonymous record a link login may alias into the new known record (A1). */
  readonly aliasSource: ProfileRecord | null;
}

function previousRecord(ws: WorkingSet, previousMpid: string | null): ProfileRecord | null {
  return previousMpid === null ? null : (ws.get(previousMpid) ?? null);
}

function previousStatus(cc: ResolveContext['cc'], previous: ProfileRecord | null, mpid: string | null) {
  if (mpid === null) return null;
  if (previous === null) return { mpid, status: 'not_found' as const };
  if (isOrphan(previous)) return { mpid, status: 'orphaned' as const };
  return {
    mpid,
    status: isKnown(previous.identities, cc.loginList) ? ('known' as const) : ('anonymous' as const),
  };
}

/** K1 / K4 / K5 for a request whose login ID matched a known record. */
function knownSituation(
  ctx: ResolveContext,
  ws: WorkingSet,
  prepared: PreparedIdentities,
  winner: ProfileRecord,
) {
  let otherKnown = false;
  let unknownLogin = false;
  for (const { identityType, value } of prepared.entries) {
    if (!ctx.cc.login.has(identityType)) continue;
    let held = false;
    for (const record of ws.records) {
      if (!holds(record.identities, identityType, value)) continue;
      held = true;
      if (record.mpid !== winner.mpid && isKnown(record.identities, ctx.cc.loginList)) otherKnown = true;
    }
    if (!held) unknownLogin = true;
  }
  return otherKnown ? 'K4' : unknownLogin ? 'K5' : 'K1';
}

function decideIdentifyOrLogin(
  ctx: ResolveContext,
  ws: WorkingSet,
  prepared: PreparedIdentities,
  previousMpid: string | null,
): Decision {
  const { cc } = ctx;
  const lookups: LookupTrace[] = [];
  const hasLogin = prepared.entries.some((e) => cc.login.has(e.identityType));
  if (hasLogin) {
    const known = lookup(cc, ws, prepared, 'known', previousMpid);
    lookups.push(known.trace);
    if (known.record !== null) {
      const situation = knownSituation(ctx, ws, prepared, known.record);
      return {
        target: known.record,
        situation,
        branch: 'known_user',
        reason: 'returning known user',
        lookups,
        aliasSource: null,
      };
    }
  }
  const anonymous = lookup(cc, ws, prepared, 'anonymous', previousMpid);
  lookups.push(anonymous.trace);
  if (!hasLogin) {
    if (anonymous.record !== null) {
      return {
        target: anonymous.record,
        situation: 'N1',
        branch: 'anonymous_match',
        reason: 'device identity match',
        lookups,
        aliasSource: null,
      };
    }
    const protectedKnown = anonymous.trace.levels.some((l) =>
      l.excluded.some((x) => x.reason === 'login_protected'),
    );
    return {
      target: null,
      situation: protectedKnown ? 'N2' : 'N0',
      branch: 'new_anonymous',
      reason: 'new anonymous user',
      lookups,
      aliasSource: null,
    };
  }
  const previous = previousRecord(ws, previousMpid);
  const previousAnonymous =
    previous !== null && !isOrphan(previous) && !isKnown(previous.identities, cc.loginList) ? previous : null;
  const anonymousCandidate = previousAnonymous ?? anonymous.record;
  const situation: Situation = anonymousCandidate === null ? 'K3' : 'K2';
  switch (cc.config.strategy) {
    case 'profile_conversion':
    case 'default':
      if (anonymousCandidate !== null) {
        return {
          target: anonymousCandidate,
          situation,
          branch: 'convert_anonymous',
          reason: 'anonymous profile converted to known',
          lookups,
          aliasSource: null,
        };
      }
      return {
        target: null,
        situation,
        branch: 'new_known',
        reason: 'new known user',
        lookups,
        aliasSource: null,
      };
    case 'profile_link':
    case 'profile_isolation':
    case 'best_match':
      return {
        target: null,
        situation,
        branch: 'new_known',
        reason: 'new known user',
        lookups,
        aliasSource: previousAnonymous,
      };
  }
}

function decideLogout(
  ctx: ResolveContext,
  ws: WorkingSet,
  prepared: PreparedIdentities,
  previousMpid: string | null,
): Decision {
  const { cc } = ctx;
  const anonymous = lookup(cc, ws, prepared, 'anonymous', previousMpid);
  const situation: Situation = anonymous.record === null ? 'G2' : 'G1';
  const reuse =
    cc.config.strategy === 'profile_isolation' ||
    ((cc.config.strategy === 'profile_conversion' || cc.config.strategy === 'default') &&
      cc.config.conversionLogout === 'reuse_anonymous_match');
  if (reuse && anonymous.record !== null) {
    return {
      target: anonymous.record,
      situation,
      branch: 'return_to_anonymous',
      reason: 'logout to anonymous profile',
      lookups: [anonymous.trace],
      aliasSource: null,
    };
  }
  return {
    target: null,
    situation,
    branch: 'new_anonymous',
    reason: 'logout to new anonymous profile',
    lookups: [anonymous.trace],
    aliasSource: null,
  };
}

function isLoggedIn(
  ctx: ResolveContext,
  kind: IdentityKind,
  record: ProfileRecord,
  prepared: PreparedIdentities,
) {
  if (kind === 'logout' || ctx.cc.config.strategy === 'best_match') return false;
  for (const type of ctx.cc.loginList) {
    const value = requestValue(prepared, type);
    if (value !== undefined && holds(record.identities, type, value)) return true;
  }
  return false;
}

export function* identityProgram(
  kind: IdentityKind,
  body: unknown,
  options: ResolveOptions,
): Program<IdentityOutcome> {
  const parsed = parseIdentityRequestBody(body);
  if (!parsed.ok) return failure(parsed.error);
  const request = parsed.value;
  const clientRequestId = request.requestId;
  const { config } = options;
  if (kind !== 'identify' && config.strategy === 'best_match' && config.bestMatchLoginLogout === 'reject') {
    return failure(
      apiError(
        'STRATEGY_UNSUPPORTED',
        `the best match strategy has no ${kind} request; call identify instead`,
      ),
      clientRequestId,
    );
  }
  const prepared = prepareIdentities(
    compileConfig(config),
    request.knownIdentities,
    kind === 'logout' ? 'logout' : 'identify',
  );
  if (!prepared.ok) return failure(prepared.error, clientRequestId);
  const print = identityFingerprint(kind, request.environment, request.previousMpid, request.knownIdentities);
  const replay = yield* checkReplay(config.scopeId, clientRequestId, kind, print);
  if (replay.kind === 'conflict') return replay.failure;
  if (replay.kind === 'replay' && replay.stored.trace !== null) {
    return ok(replayed(kind, replay.stored, replay.stored.trace));
  }
  /** A replay of a request that kept no trace: recompute it read-only, answer the stored response. */
  const replayOf = replay.kind === 'replay' ? replay.stored : null;

  const requestId = clientRequestId ?? randomUuid(options.random);
  const ctx = resolveContext(options, request.environment, requestId);
  const previousMpid = request.previousMpid;
  const ws = new WorkingSet(
    yield* store.loadProfiles(ctx.ns, prepared.value.entries, previousMpid === null ? [] : [previousMpid]),
  );
  const asLogout = kind === 'logout' && config.strategy !== 'best_match';
  const decision = asLogout
    ? decideLogout(ctx, ws, prepared.value, previousMpid)
    : decideIdentifyOrLogin(ctx, ws, prepared.value, previousMpid);
  let realised: Realised;
  if (decision.target !== null) {
    realised = writeBack(ctx, ws, decision.target, prepared.value, `${kind}: ${decision.reason}`);
  } else {
    // A recomputed replay may only imagine an MPID: it leaves the caller's random stream alone.
    const random = replayOf === null ? options.random : seededRandom(0);
    const mpid = yield* mintMpid(random, options.preferredMpid);
    realised = createRecord(ctx, ws, mpid, prepared.value, `${kind}: ${decision.reason}`);
  }
  const extra = autoAlias(ctx, decision, realised);
  const record = realised.record;
  const response: IdentityResponse = {
    context: null,
    mpid: record.mpid,
    matched_identities: realised.matched,
    is_ephemeral: !isKnown(record.identities, ctx.cc.loginList),
    is_logged_in: isLoggedIn(ctx, kind, record, prepared.value),
  };
  const trace: ExplainTrace = {
    version: TRACE_VERSION,
    kind,
    requestId,
    strategy: config.strategy,
    identities: prepared.value.traces,
    previousMpid: previousStatus(
      ctx.cc,
      previousMpid === null ? null : (ws.get(previousMpid) ?? null),
      previousMpid,
    ),
    lookups: decision.lookups,
    situation: decision.situation,
    branch: decision.branch,
    writes:
      extra !== null
        ? [...realised.writes, extra.write]
        : realised.writes.length > 0
          ? realised.writes
          : NONE,
    skipped: realised.skipped.length > 0 ? realised.skipped : NONE,
    result: { mpid: record.mpid, created: realised.created },
    notes: options.readOnly === true ? READ_ONLY_NOTE : replayOf !== null ? [RECOMPUTED_NOTE] : NONE,
  };
  if (replayOf !== null) return ok(replayed(kind, replayOf, trace));
  if (options.readOnly !== true) {
    const stored: StoredRequest = {
      scopeId: ctx.ns.scopeId,
      requestId,
      kind,
      environment: ctx.ns.environment,
      fingerprint: print,
      at: options.now,
      actor: options.actor,
      mpids: [record.mpid],
      status: 200,
      response,
      trace,
    };
    const changes: StoreChange[] = extra === null ? realised.changes : [...realised.changes, extra.change];
    const history: NewHistoryEntry[] =
      extra === null ? realised.history : [...realised.history, ...extra.history];
    yield* commitUnlessEmpty({
      changes,
      history,
      request: leanRequest(stored, history.length > 0, clientRequestId),
    });
  }
  return ok({ kind, requestId, response, trace, created: realised.created, replayed: false });
}

/** Link strategy, `autoAliasOnLinkLogin` (A1): alias the anonymous previous MPID into the new known record. */
function autoAlias(ctx: ResolveContext, decision: Decision, realised: Realised) {
  const aliasing = ctx.cc.config.aliasing;
  if (
    ctx.cc.config.strategy !== 'profile_link' ||
    !aliasing.enabled ||
    !aliasing.autoAliasOnLinkLogin ||
    decision.aliasSource === null ||
    !realised.created
  ) {
    return null;
  }
  const window = aliasWindow(ctx, { startMs: null, endMs: null });
  if (!window.ok) return null;
  const params = {
    sourceMpid: decision.aliasSource.mpid,
    destinationMpid: realised.record.mpid,
    startMs: null,
    endMs: null,
    scope: 'mpid',
    deviceApplicationStamp: null,
  } as const;
  const { alias, history } = newAlias(ctx, `${ctx.requestId}:auto-alias`, params, window.value);
  const change: StoreChange = { op: 'putAlias', alias };
  return {
    change,
    history,
    write: writeTrace('accept_alias', alias.destinationMpid, null, null, alias.sourceMpid),
  };
}

/** The stored answer; a request that kept no trace changed nothing, so it created nothing. */
function replayed(kind: IdentityKind, stored: StoredRequest, trace: ExplainTrace): IdentitySuccess {
  return {
    kind,
    requestId: stored.requestId,
    response: stored.response as IdentityResponse,
    trace,
    created: stored.trace?.result.created === true,
    replayed: true,
  };
}
