/**
 * Alias requests and their background processing (SPEC AL-1..AL-9). See `alias-rules.ts` for the
 * rules; this module runs them against the store.
 */
import { AliasRequestBodySchema } from '../protocol/idsync.ts';
import { apiError } from '../protocol/errors.ts';
import { parseWith } from '../protocol/parse.ts';
import { randomUuid } from '../util/random.ts';
import { ok, type Result } from '../util/result.ts';
import { aliasAvailability, aliasWindow, chainViolation, newAlias } from './alias-rules.ts';
import { historyEntry, resolveContext, type ResolveContext, type ResolveOptions } from './context.ts';
import { checkReplay, RECOMPUTED_NOTE, requestFingerprint } from './idempotency.ts';
import { failure, type ResolutionFailure } from './outcome.ts';
import type { AliasRecord, NewHistoryEntry } from './records.ts';
import { store, type Program, type StoreChange } from './store-port.ts';
import {
  TRACE_VERSION,
  writeTrace,
  type Branch,
  type ExplainTrace,
  type TraceKind,
  type WriteTrace,
} from './trace.ts';

export interface AliasAccepted {
  readonly requestId: string;
  readonly aliasId: string;
  readonly alias: AliasRecord;
  readonly trace: ExplainTrace;
  readonly replayed: boolean;
}

export type AliasOutcome = Result<AliasAccepted, ResolutionFailure>;

function aliasTrace(
  ctx: ResolveContext,
  kind: TraceKind,
  mpid: string | null,
  branch: Branch,
  writes: WriteTrace[],
  notes: string[],
): ExplainTrace {
  return {
    version: TRACE_VERSION,
    kind,
    requestId: ctx.requestId,
    strategy: ctx.cc.config.strategy,
    identities: [],
    previousMpid: null,
    lookups: [],
    situation: null,
    branch,
    writes,
    skipped: [],
    result: { mpid, created: false },
    notes,
  };
}

export function* aliasProgram(body: unknown, options: ResolveOptions): Program<AliasOutcome> {
  const parsed = parseWith(AliasRequestBodySchema, body);
  if (!parsed.ok) return failure(parsed.error);
  const request = parsed.value;
  const clientRequestId = request.requestId;
  const requestId = clientRequestId ?? randomUuid(options.random);
  const ctx = resolveContext(options, request.environment, requestId);
  const unavailable = aliasAvailability(ctx);
  if (unavailable !== null) return failure(unavailable, clientRequestId);
  if (request.sourceMpid === request.destinationMpid) {
    return failure(
      apiError('ALIAS_ERROR', 'source_mpid and destination_mpid are the same profile', 'data'),
      clientRequestId,
    );
  }
  const window = aliasWindow(ctx, request);
  if (!window.ok) return failure(window.error, clientRequestId);
  const print = requestFingerprint('alias', [
    request.environment,
    request.sourceMpid,
    request.destinationMpid,
    request.startMs,
    request.endMs,
    request.scope,
    request.deviceApplicationStamp,
  ]);
  const replay = yield* checkReplay(ctx.ns.scopeId, clientRequestId, 'alias', print);
  if (replay.kind === 'conflict') return replay.failure;
  if (replay.kind === 'replay') {
    const alias = yield* store.getAlias(ctx.ns.scopeId, replay.stored.requestId);
    if (alias === null)
      return failure(apiError('INTERNAL_ERROR', 'stored alias request has no alias record'), requestId);
    // An accepted alias always changed the graph, so its trace was kept (LS-1); rebuilt otherwise.
    const trace =
      replay.stored.trace ??
      aliasTrace(ctx, 'alias', alias.destinationMpid, 'alias_accepted', [], [RECOMPUTED_NOTE]);
    return ok({ requestId, aliasId: alias.id, alias, trace, replayed: true });
  }
  const profiles = yield* store.loadProfiles(ctx.ns, [], [request.sourceMpid, request.destinationMpid]);
  for (const [field, mpid] of [
    ['source_mpid', request.sourceMpid],
    ['destination_mpid', request.destinationMpid],
  ] as const) {
    if (!profiles.some((p) => p.mpid === mpid)) {
      return failure(
        apiError('ALIAS_ERROR', `${field} ${mpid} does not exist in this workspace`, `data.${field}`),
        clientRequestId,
      );
    }
  }
  const { alias, history } = newAlias(ctx, requestId, request, window.value);
  const notes = window.value.clamped
    ? [`start clamped to the ${ctx.cc.config.aliasing.maxWindowDays}-day alias window`]
    : [];
  const trace = aliasTrace(
    ctx,
    'alias',
    alias.destinationMpid,
    'alias_accepted',
    [writeTrace('accept_alias', alias.destinationMpid, null, null, alias.sourceMpid)],
    notes,
  );
  if (options.readOnly !== true) {
    yield* store.commit({
      changes: [{ op: 'putAlias', alias }],
      history,
      request: {
        scopeId: ctx.ns.scopeId,
        requestId,
        kind: 'alias',
        environment: ctx.ns.environment,
        fingerprint: print,
        at: options.now,
        actor: options.actor,
        mpids: [alias.sourceMpid, alias.destinationMpid],
        status: 202,
        response: null,
        trace,
      },
    });
  }
  return ok({ requestId, aliasId: alias.id, alias, trace, replayed: false });
}

export interface AliasProcessed {
  readonly alias: AliasRecord;
}

/**
 * Applies or drops the oldest due pending alias of the scope; `null` when none is due. Run it until
 * it returns `null` to drain the queue (AL-5, AL-6).
 */
export function* processNextAliasProgram(options: ResolveOptions): Program<AliasProcessed | null> {
  const due = yield* store.dueAliases(options.config.scopeId, options.now, 1);
  const pending = due[0];
  if (pending === undefined) return null;
  const ctx = resolveContext(options, pending.environment, null);
  const mpids = [pending.sourceMpid, pending.destinationMpid];
  const related = yield* store.loadAliases(ctx.ns, mpids);
  const profiles = yield* store.loadProfiles(ctx.ns, [], mpids);
  const source = profiles.find((p) => p.mpid === pending.sourceMpid);
  const destination = profiles.find((p) => p.mpid === pending.destinationMpid);
  const violation =
    source === undefined || destination === undefined
      ? 'the source or destination profile no longer exists'
      : chainViolation(pending, related);
  const detail = { aliasId: pending.id };
  let alias: AliasRecord;
  let history: NewHistoryEntry[];
  const changes: StoreChange[] = [];
  if (violation !== null || source === undefined || destination === undefined) {
    alias = { ...pending, status: 'rejected', statusReason: violation, processedAt: options.now };
    history = mpids.map((mpid) =>
      historyEntry(ctx, 'alias_rejected', mpid, `alias ${pending.id} dropped: ${violation}`, detail),
    );
  } else {
    const firstSeenAt = Math.min(source.firstSeenAt, destination.firstSeenAt);
    alias = {
      ...pending,
      status: 'applied',
      processedAt: options.now,
      previousDestinationFirstSeenAt: destination.firstSeenAt,
    };
    if (firstSeenAt !== destination.firstSeenAt) {
      changes.push({ op: 'updateProfile', mpid: destination.mpid, patch: { firstSeenAt } });
    }
    history = [
      historyEntry(ctx, 'alias_applied', source.mpid, `aliased into ${destination.mpid}`, {
        ...detail,
        otherMpid: destination.mpid,
      }),
      historyEntry(ctx, 'alias_applied', destination.mpid, `merged from ${source.mpid}`, {
        ...detail,
        otherMpid: source.mpid,
      }),
    ];
  }
  changes.unshift({ op: 'putAlias', alias });
  yield* store.commit({ changes, history, request: null });
  return { alias };
}

export type AliasUndoOutcome = Result<{ alias: AliasRecord }, ResolutionFailure>;

/**
 * Undoes a pending or applied alias (D5). The destination's first-seen time becomes the earliest of
 * its own original first-seen time and the sources of the aliases into it that remain applied.
 */
export function* undoAliasProgram(aliasId: string, options: ResolveOptions): Program<AliasUndoOutcome> {
  const scopeId = options.config.scopeId;
  const alias = yield* store.getAlias(scopeId, aliasId);
  if (alias === null) return failure(apiError('LOOKUP_ERROR', `no alias ${aliasId} in this workspace`));
  if (alias.status !== 'pending' && alias.status !== 'applied') {
    return failure(
      apiError(
        'ALIAS_ERROR',
        `alias ${aliasId} is ${alias.status}; only pending or applied aliases can be undone`,
      ),
    );
  }
  const ctx = resolveContext(options, alias.environment, null);
  const undone: AliasRecord = { ...alias, status: 'undone', processedAt: options.now };
  const changes: StoreChange[] = [{ op: 'putAlias', alias: undone }];
  if (alias.status === 'applied') {
    const into = (yield* store.loadAliases(ctx.ns, [alias.destinationMpid])).filter(
      (a) => a.destinationMpid === alias.destinationMpid && a.previousDestinationFirstSeenAt !== null,
    );
    const remaining = into.filter((a) => a.status === 'applied' && a.id !== alias.id);
    const profiles = yield* store.loadProfiles(
      ctx.ns,
      [],
      [alias.destinationMpid, ...remaining.map((a) => a.sourceMpid)],
    );
    const destination = profiles.find((p) => p.mpid === alias.destinationMpid);
    // First-seen only ever decreases while aliases apply, so the largest value an alias recorded
    // is the destination's own first-seen time from before any alias.
    const original = Math.max(...into.map((a) => a.previousDestinationFirstSeenAt as number));
    const firstSeenAt = Math.min(
      original,
      ...remaining.map((a) => profiles.find((p) => p.mpid === a.sourceMpid)?.firstSeenAt ?? original),
    );
    if (destination !== undefined && destination.firstSeenAt !== firstSeenAt) {
      changes.push({ op: 'updateProfile', mpid: destination.mpid, patch: { firstSeenAt } });
    }
  }
  const history = [alias.sourceMpid, alias.destinationMpid].map((mpid) =>
    historyEntry(ctx, 'alias_undone', mpid, `alias ${alias.id} undone`, { aliasId: alias.id }),
  );
  yield* store.commit({ changes, history, request: null });
  return ok({ alias: undone });
}
