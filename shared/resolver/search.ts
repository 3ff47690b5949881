/**
 * Search (SPEC SR-1..SR-4): the identify lookup with every eligibility rule, answered without
 * writing anything at all, not even the request. No eligible match is a 404 NOT_FOUND_ERROR. With
 * `searchRequiresImmutableMatch` (A7) a profile is only found through an immutable identity it holds.
 */
import { parseIdentityRequestBody, type IdentityMap, type IdentityResponse } from '../protocol/idsync.ts';
import { apiError } from '../protocol/errors.ts';
import { ok, type Result } from '../util/result.ts';
import { resolveContext, type ResolveOptions } from './context.ts';
import { lookup } from './lookup.ts';
import { failure, type ResolutionFailure } from './outcome.ts';
import { prepareIdentities, requestValue } from './prepare-identities.ts';
import { holds, isKnown, WorkingSet } from './profiles.ts';
import { store, type Program } from './store-port.ts';
import { TRACE_VERSION, type ExplainTrace } from './trace.ts';

export interface SearchSuccess {
  readonly response: IdentityResponse;
  readonly trace: ExplainTrace;
}

export type SearchOutcome = Result<SearchSuccess, ResolutionFailure>;

export function* searchProgram(body: unknown, options: ResolveOptions): Program<SearchOutcome> {
  const parsed = parseIdentityRequestBody(body);
  if (!parsed.ok) return failure(parsed.error);
  const request = parsed.value;
  const ctx = resolveContext(options, request.environment, request.requestId);
  const prepared = prepareIdentities(ctx.cc, request.knownIdentities, 'search');
  if (!prepared.ok) return failure(prepared.error, request.requestId);
  const ws = new WorkingSet(yield* store.loadProfiles(ctx.ns, prepared.value.entries, []));
  const found = lookup(ctx.cc, ws, prepared.value, 'any', request.previousMpid, 'search');
  let record = found.record;
  const notes: string[] = [];
  if (record !== null && ctx.cc.config.searchRequiresImmutableMatch && ctx.cc.immutableList.length > 0) {
    const { identities } = record;
    const viaImmutable = ctx.cc.immutableList.some((type) => {
      const value = requestValue(prepared.value, type);
      return value !== undefined && holds(identities, type, value);
    });
    if (!viaImmutable) {
      notes.push(
        `searchRequiresImmutableMatch: ${record.mpid} was not matched through an immutable identity`,
      );
      record = null;
    }
  }
  const trace: ExplainTrace = {
    version: TRACE_VERSION,
    kind: 'search',
    requestId: request.requestId,
    strategy: ctx.cc.config.strategy,
    identities: prepared.value.traces,
    previousMpid: null,
    lookups: [found.trace],
    situation: null,
    branch: record === null ? 'search_not_found' : 'search_found',
    writes: [],
    skipped: [],
    result: { mpid: record?.mpid ?? null, created: false },
    notes,
  };
  if (record === null) {
    return failure(
      apiError('NOT_FOUND_ERROR', 'no profile matches these identities'),
      request.requestId,
      trace,
    );
  }
  const matched: IdentityMap = {};
  for (const { identityType, value } of prepared.value.entries) {
    if (holds(record.identities, identityType, value)) matched[identityType] = value;
  }
  return ok({
    response: {
      context: null,
      mpid: record.mpid,
      matched_identities: matched,
      is_ephemeral: !isKnown(record.identities, ctx.cc.loginList),
      is_logged_in: false,
    },
    trace,
  });
}
