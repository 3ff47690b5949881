/**
 * What admins read and repair: profiles found by any identity (eligibility does not apply to
 * admins), a profile's full detail, the history feed, stored requests with their traces, and
 * deletion for data-subject requests.
 */
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import type { Environment } from '../../shared/identity/scope-config.ts';
import type {
  Actor,
  AliasRecord,
  HistoryEntry,
  HistoryKind,
  ProfileRecord,
  StoredRequest,
} from '../../shared/resolver/records.ts';
import type { DatabaseHandle } from './connect.ts';
import {
  loadRecords,
  toAlias,
  toHistoryEntry,
  toStoredRequest,
  type SqlIdentityStore,
} from './sql-identity-store.ts';

export interface ProfileDetail {
  readonly profile: ProfileRecord;
  readonly aliases: readonly AliasRecord[];
  readonly history: readonly HistoryEntry[];
  readonly requests: readonly StoredRequest[];
}

export interface HistoryQuery {
  readonly scopeId: string;
  readonly mpid?: string;
  readonly kind?: HistoryKind;
  /** Entries with a smaller seq than this (paging backwards from the newest). */
  readonly beforeSeq?: number;
  readonly limit: number;
}

export class ProfileAdmin {
  constructor(
    private readonly handle: DatabaseHandle,
    private readonly store: SqlIdentityStore,
  ) {}

  /** Live profiles of the workspace holding the value (any environment unless one is given). */
  async search(
    scopeId: string,
    type: IdentityType,
    value: string,
    environment?: Environment,
  ): Promise<ProfileRecord[]> {
    let query = this.handle.db
      .selectFrom('identities')
      .select('mpid')
      .where('scope_id', '=', scopeId)
      .where('identity_type', '=', type)
      .where('value', '=', value);
    if (environment !== undefined) query = query.where('environment', '=', environment);
    const rows = await query.orderBy('id').execute();
    return loadRecords(
      this.handle.db,
      rows.map((r) => r.mpid),
      null,
    );
  }

  async detail(scopeId: string, mpid: string, historyLimit = 200): Promise<ProfileDetail | null> {
    const { db } = this.handle;
    const [profile] = await loadRecords(db, [mpid], null);
    if (profile === undefined || profile.scopeId !== scopeId) return null;
    const aliases = await db
      .selectFrom('aliases')
      .selectAll()
      .where('scope_id', '=', scopeId)
      .where((eb) => eb.or([eb('source_mpid', '=', mpid), eb('destination_mpid', '=', mpid)]))
      .orderBy('requested_at')
      .execute();
    const history = await db
      .selectFrom('history')
      .selectAll()
      .where('mpid', '=', mpid)
      .orderBy('seq', 'desc')
      .limit(historyLimit)
      .execute();
    const requests = await db
      .selectFrom('requests')
      .innerJoin('request_profiles', (join) =>
        join
          .onRef('request_profiles.scope_id', '=', 'requests.scope_id')
          .onRef('request_profiles.request_id', '=', 'requests.request_id'),
      )
      .selectAll('requests')
      .where('request_profiles.mpid', '=', mpid)
      .where('requests.scope_id', '=', scopeId)
      .orderBy('requests.seq', 'desc')
      .limit(historyLimit)
      .execute();
    return {
      profile,
      aliases: aliases.map(toAlias),
      history: history.map(toHistoryEntry),
      requests: requests.map(toStoredRequest),
    };
  }

  async history(query: HistoryQuery): Promise<{ entries: HistoryEntry[]; nextBeforeSeq: number | null }> {
    let select = this.handle.db.selectFrom('history').selectAll().where('scope_id', '=', query.scopeId);
    if (query.mpid !== undefined) select = select.where('mpid', '=', query.mpid);
    if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
    if (query.beforeSeq !== undefined) select = select.where('seq', '<', query.beforeSeq);
    const rows = await select
      .orderBy('seq', 'desc')
      .limit(query.limit + 1)
      .execute();
    const entries = rows.slice(0, query.limit).map(toHistoryEntry);
    const last = entries.at(-1);
    return { entries, nextBeforeSeq: rows.length > query.limit && last !== undefined ? last.seq : null };
  }

  async request(scopeId: string, requestId: string): Promise<StoredRequest | null> {
    const row = await this.handle.db
      .selectFrom('requests')
      .selectAll()
      .where('scope_id', '=', scopeId)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return row === undefined ? null : toStoredRequest(row);
  }

  /**
   * Deletes a profile for a data-subject request: its identities go, identity values are scrubbed
   * from its history, and stored requests that touched it (their bodies and traces name its
   * identities) are removed. The MPID stays reserved so it is never issued again, and a
   * `profile_deleted` entry records who deleted it and when.
   */
  async delete(scopeId: string, mpid: string, actor: Actor, now: number): Promise<boolean> {
    return this.store.exclusive(async (tx) => {
      await tx.lockProfiles([mpid]);
      const { db } = tx;
      const row = await db
        .selectFrom('profiles')
        .select(['environment'])
        .where('mpid', '=', mpid)
        .where('scope_id', '=', scopeId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (row === undefined) return false;
      await db.deleteFrom('identities').where('mpid', '=', mpid).execute();
      await db.updateTable('profiles').set({ deleted_at: now }).where('mpid', '=', mpid).execute();
      await db.updateTable('history').set({ value: null }).where('mpid', '=', mpid).execute();
      const touched = await db
        .selectFrom('request_profiles')
        .select('request_id')
        .where('scope_id', '=', scopeId)
        .where('mpid', '=', mpid)
        .execute();
      const ids = touched.map((t) => t.request_id);
      if (ids.length > 0) {
        await db
          .deleteFrom('request_profiles')
          .where('scope_id', '=', scopeId)
          .where('request_id', 'in', ids)
          .execute();
        await db
          .deleteFrom('requests')
          .where('scope_id', '=', scopeId)
          .where('request_id', 'in', ids)
          .execute();
      }
      await db
        .insertInto('history')
        .values({
          at: now,
          scope_id: scopeId,
          environment: row.environment,
          kind: 'profile_deleted',
          mpid,
          identity_type: null,
          value: null,
          other_mpid: null,
          alias_id: null,
          request_id: null,
          actor: JSON.stringify(actor),
          reason: 'deleted for a data-subject request',
        })
        .execute();
      return true;
    });
  }
}
