/**
 * Write-back onto an existing record and creation of a new one (SPEC WB-1..WB-5, CR-1..CR-3).
 *
 * A returned record picks up the request's identifiers it lacks: non-unique values are appended; a
 * unique value is added only when nobody else holds it and the record has no value of that type
 * yet. Identify and login never move or overwrite a unique value: that is modify's job (the 2022
 * correction, A5). A new record takes the request's identifiers except unique values someone
 * else already holds.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import type { IdentityMap } from '../protocol/idsync.ts';
import { historyEntry, type ResolveContext } from './context.ts';
import type { PreparedIdentities } from './prepare-identities.ts';
import { holds, type WorkingSet } from './profiles.ts';
import type { NewHistoryEntry, ProfileRecord } from './records.ts';
import type { StoreChange } from './store-port.ts';
import { writeTrace, type SkipTrace, type WriteTrace } from './trace.ts';

export interface Realised {
  readonly record: ProfileRecord;
  readonly created: boolean;
  /** Request identifiers the record held before any write (A12). */
  readonly matched: IdentityMap;
  readonly changes: StoreChange[];
  readonly history: NewHistoryEntry[];
  readonly writes: WriteTrace[];
  readonly skipped: SkipTrace[];
}

function uniqueHolder(
  ctx: ResolveContext,
  ws: WorkingSet,
  type: IdentityType,
  value: string,
  self: string | null,
) {
  return ctx.cc.unique.has(type) ? ws.otherHolder(type, value, self) : undefined;
}

/** True when the returned record's `lastSeenAt` must advance (LS-3: coarse last-seen). */
function lastSeenDue(ctx: ResolveContext, record: ProfileRecord): boolean {
  const resolution = ctx.options.lastSeenResolutionMs ?? 0;
  return resolution <= 0 || ctx.options.now - record.lastSeenAt >= resolution;
}

export function writeBack(
  ctx: ResolveContext,
  ws: WorkingSet,
  record: ProfileRecord,
  prepared: PreparedIdentities,
  reason: string,
): Realised {
  const matched: IdentityMap = {};
  const changes: StoreChange[] = [];
  const history: NewHistoryEntry[] = [];
  const writes: WriteTrace[] = [];
  const skipped: SkipTrace[] = [];
  let identities: Record<string, readonly string[]> | null = null;
  for (const { identityType: type, value } of prepared.entries) {
    if (holds(record.identities, type, value)) {
      matched[type] = value;
      continue;
    }
    const unique = ctx.cc.unique.has(type);
    if (unique) {
      const holder = uniqueHolder(ctx, ws, type, value, record.mpid);
      if (holder !== undefined) {
        skipped.push({ identityType: type, value, reason: 'unique_held_by_other', holder: holder.mpid });
        continue;
      }
      const current = record.identities[type];
      if (current !== undefined && current.length > 0) {
        skipped.push({ identityType: type, value, reason: 'unique_type_already_set', holder: null });
        continue;
      }
    }
    identities ??= { ...record.identities };
    identities[type] = [...(identities[type] ?? []), value];
    changes.push({ op: 'addIdentity', mpid: record.mpid, identityType: type, value, unique });
    history.push(historyEntry(ctx, 'identity_added', record.mpid, reason, { identityType: type, value }));
    writes.push(writeTrace('add_identity', record.mpid, type, value));
  }
  const now = ctx.options.now;
  const seen = lastSeenDue(ctx, record);
  if (seen) changes.push({ op: 'updateProfile', mpid: record.mpid, patch: { lastSeenAt: now } });
  const updated: ProfileRecord = {
    ...record,
    identities: identities ?? record.identities,
    lastSeenAt: seen ? now : record.lastSeenAt,
  };
  return { record: updated, created: false, matched, changes, history, writes, skipped };
}

export function createRecord(
  ctx: ResolveContext,
  ws: WorkingSet,
  mpid: string,
  prepared: PreparedIdentities,
  reason: string,
): Realised {
  const identities: Record<string, readonly string[]> = {};
  const history: NewHistoryEntry[] = [historyEntry(ctx, 'profile_created', mpid, reason)];
  const writes: WriteTrace[] = [writeTrace('create_profile', mpid)];
  const skipped: SkipTrace[] = [];
  const uniqueTypes: IdentityType[] = [];
  for (const { identityType: type, value } of prepared.entries) {
    const holder = uniqueHolder(ctx, ws, type, value, null);
    if (holder !== undefined) {
      skipped.push({ identityType: type, value, reason: 'unique_held_by_other', holder: holder.mpid });
      continue;
    }
    identities[type] = [value];
    if (ctx.cc.unique.has(type)) uniqueTypes.push(type);
    history.push(historyEntry(ctx, 'identity_added', mpid, reason, { identityType: type, value }));
    writes.push(writeTrace('add_identity', mpid, type, value));
  }
  const now = ctx.options.now;
  const record: ProfileRecord = {
    mpid,
    scopeId: ctx.ns.scopeId,
    environment: ctx.ns.environment,
    identities,
    createdAt: now,
    firstSeenAt: now,
    lastSeenAt: now,
    orphanedAt: null,
  };
  return {
    record,
    created: true,
    matched: {},
    changes: [{ op: 'createProfile', profile: record, uniqueTypes }],
    history,
    writes,
    skipped,
  };
}
