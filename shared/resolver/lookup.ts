/**
 * Lookup by identity priority (SPEC LK-1..LK-6) and eligibility (SPEC EL-1..EL-5).
 *
 * The highest-priority identifier in the request finds the first candidate set; each later
 * identifier in priority order narrows it as a tiebreaker, but a level whose hits do not intersect
 * the candidates is skipped rather than emptying the set (a conflicting lower identifier does not
 * disqualify a profile). Identifiers absent from the request are skipped. When more than one
 * candidate survives every level, `previous_mpid` wins, then the most recently seen record (A4).
 * Only eligible records are ever hits: orphans never; known records only when the request holds
 * one of their login IDs; records holding an immutable ID only when the request matches one of
 * them and contradicts none.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import type { CompiledConfig } from './compiled-config.ts';
import { requestValue, type PreparedIdentities } from './prepare-identities.ts';
import { holds, holdsAnyOf, isOrphan, type WorkingSet } from './profiles.ts';
import type { ProfileRecord } from './records.ts';
import { NONE, type ExclusionReason, type LevelTrace, type LookupTrace } from './trace.ts';

export type LookupFilter = 'known' | 'anonymous' | 'any';

function requestHoldsOneOf(
  record: ProfileRecord,
  types: readonly IdentityType[],
  request: PreparedIdentities,
): boolean {
  for (const type of types) {
    const value = requestValue(request, type);
    if (value !== undefined && holds(record.identities, type, value)) return true;
  }
  return false;
}

/** Why `record` may not be returned for this request, or `null` when it may (SPEC EL-1..EL-4). */
export function ineligibility(
  cc: CompiledConfig,
  record: ProfileRecord,
  request: PreparedIdentities,
): ExclusionReason | null {
  if (isOrphan(record)) return 'orphaned';
  const identities = record.identities;
  if (cc.loginList.length > 0 && holdsAnyOf(identities, cc.loginList)) {
    if (!requestHoldsOneOf(record, cc.loginList, request)) return 'login_protected';
  }
  if (cc.immutableList.length > 0 && holdsAnyOf(identities, cc.immutableList)) {
    if (!requestHoldsOneOf(record, cc.immutableList, request)) return 'immutable_protected';
    for (const type of cc.immutableList) {
      const value = requestValue(request, type);
      const held = identities[type];
      if (value !== undefined && held !== undefined && held.length > 0 && !held.includes(value)) {
        return 'immutable_conflict';
      }
    }
  }
  return null;
}

function filterExclusion(
  cc: CompiledConfig,
  record: ProfileRecord,
  filter: LookupFilter,
): ExclusionReason | null {
  if (filter === 'any') return null;
  const known = cc.loginList.length > 0 && holdsAnyOf(record.identities, cc.loginList);
  if (filter === 'known') return known ? null : 'not_known';
  return known ? 'not_anonymous' : null;
}

/** Deterministic A4 tie-break: previous MPID, then most recently seen, then newest, then lowest MPID. */
function tieBreak(
  candidates: readonly ProfileRecord[],
  previousMpid: string | null,
): { winner: ProfileRecord; rule: 'previous_mpid' | 'most_recently_seen' } {
  if (previousMpid !== null) {
    const previous = candidates.find((c) => c.mpid === previousMpid);
    if (previous !== undefined) return { winner: previous, rule: 'previous_mpid' };
  }
  let winner = candidates[0] as ProfileRecord;
  for (const c of candidates) {
    if (
      c.lastSeenAt > winner.lastSeenAt ||
      (c.lastSeenAt === winner.lastSeenAt &&
        (c.createdAt > winner.createdAt || (c.createdAt === winner.createdAt && c.mpid < winner.mpid)))
    ) {
      winner = c;
    }
  }
  return { winner, rule: 'most_recently_seen' };
}

const mpidsOf = (records: readonly ProfileRecord[]): readonly string[] =>
  records.length === 0 ? NONE : records.map((r) => r.mpid);

export interface LookupResult {
  readonly record: ProfileRecord | null;
  readonly trace: LookupTrace;
}

export function lookup(
  cc: CompiledConfig,
  ws: WorkingSet,
  prepared: PreparedIdentities,
  filter: LookupFilter,
  previousMpid: string | null,
  purpose: LookupTrace['purpose'] = filter,
): LookupResult {
  let levels: LevelTrace[] | null = null;
  let candidates: ProfileRecord[] | null = null;
  for (const { identityType, value } of prepared.entries) {
    const hits: ProfileRecord[] = [];
    let excluded: LevelTrace['excluded'] = NONE;
    for (const holder of ws.holders(identityType, value)) {
      const reason = ineligibility(cc, holder, prepared) ?? filterExclusion(cc, holder, filter);
      if (reason === null) hits.push(holder);
      else excluded = [...excluded, { mpid: holder.mpid, reason }];
    }
    if (candidates === null) {
      if (hits.length > 0) candidates = hits;
    } else {
      const narrowed: ProfileRecord[] = candidates.filter((c) => hits.includes(c));
      if (narrowed.length > 0) candidates = narrowed;
    }
    if (hits.length > 0 || excluded.length > 0) {
      const hitMpids = mpidsOf(hits);
      levels ??= [];
      levels.push({
        identityType,
        value,
        hits: hitMpids,
        excluded,
        candidates: candidates === null ? NONE : candidates === hits ? hitMpids : mpidsOf(candidates),
      });
    }
    if (candidates !== null && candidates.length === 1) {
      const record = candidates[0] as ProfileRecord;
      return { record, trace: { purpose, levels: levels ?? NONE, tieBreak: null, result: record.mpid } };
    }
  }
  if (candidates === null)
    return { record: null, trace: { purpose, levels: levels ?? NONE, tieBreak: null, result: null } };
  const { winner, rule } = tieBreak(candidates, previousMpid);
  return {
    record: winner,
    trace: {
      purpose,
      levels: levels ?? NONE,
      tieBreak: { rule, among: mpidsOf(candidates) },
      result: winner.mpid,
    },
  };
}
