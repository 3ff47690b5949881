/**
 * What admins read and repair: profiles found by any identity (eligibility does not apply to
 * admins), a profile's full detail, the history feed, stored requests with their traces, and
 * deletion for data-subject requests.
 */
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import { ENVIRONMENTS, type Environment } from '../../shared/identity/scope-config.ts';
import type {
  Actor,
  AliasRecord,
  HistoryEntry,
  HistoryKind,
  ProfileRecord,
  StoredRequest,
} from '../../shared/resolver/records.ts';
import type { DatabaseHandle } from './connect.ts';
import type { RequestLog } from './request-log.ts';
import { toAlias, toHistoryEntry, toStoredRequest, type SqlIdentityStore } from './sql-identity-store.ts';

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

/**
 * The identity rows holding a value (any environment unless one is given), oldest first. Every
 * environment is named even when none is asked for: the lookup index leads with the scope and the
 * environment, so leaving the environment out would read every identity of the workspace (AA-11).
 */
export function profileSearchQuery(
  db: DatabaseHandle['db'],
  scopeId: string,
  type: IdentityType,
  value: string,
  environment?: Environment,
) {
  let query = db
    .selectFrom('identities')
    .select(['mpid', 'environment'])
    .where('scope_id', '=', scopeId)
    .where('identity_type', '=', type)
    .where('value', '=', value);
  query =
    environment === undefined
      ? query.where('environment', 'in', [...ENVIRONMENTS])
      : query.where('environment', '=', environment);
  return query.orderBy('id');
}

export class ProfileAdmin {
  constructor(
    private readonly handle: DatabaseHandle,
    private readonly store: SqlIdentityStore,
    private readonly requestLog: Pick<RequestLog, 'flush'>,
  ) {}

  /** Live profiles of the workspace holding the value (any environment unless one is given). */
  async search(
    scopeId: string,
    type: IdentityType,
    value: string,
    environment?: Environment,
  ): Promise<ProfileRecord[]> {
    const rows = await profileSearchQuery(this.handle.db, scopeId, type, value, environment).execute();
    const found: ProfileRecord[] = [];
    for (const env of ENVIRONMENTS) {
      const mpids = rows.filter((r) => r.environment === env).map((r) => r.mpid);
      if (mpids.length > 0) found.push(...(await this.store.records(mpids, { scopeId, environment: env })));
    }
    return found;
  }

  /** Every live profile of the workspace, for exports and convergence checks. */
  async all(scopeId: string): Promise<ProfileRecord[]> {
    const rows = await this.handle.db
      .selectFrom('profiles')
      .select(['mpid', 'environment'])
      .where('scope_id', '=', scopeId)
      .where('deleted_at', 'is', null)
      .orderBy('mpid')
      .execute();
    const found: ProfileRecord[] = [];
    for (const env of ENVIRONMENTS) {
      const mpids = rows.filter((r) => r.environment === env).map((r) => r.mpid);
      for (let i = 0; i < mpids.length; i += 500) {
        found.push(...(await this.store.records(mpids.slice(i, i + 500), { scopeId, environment: env })));
      }
    }
    return found;
  }

  /** Every alias request of the workspace, oldest first. */
  async aliases(scopeId: string): Promise<AliasRecord[]> {
    const rows = await this.handle.db
      .selectFrom('aliases')
      .selectAll()
      .where('scope_id', '=', scopeId)
      .orderBy('requested_at')
      .orderBy('id')
      .execute();
    return rows.map(toAlias);
  }

  async detail(scopeId: string, mpid: string, historyLimit = 200): Promise<ProfileDetail | null> {
    const { db } = this.handle;
    const row = await db
      .selectFrom('profiles')
      .select('environment')
      .where('mpid', '=', mpid)
      .where('scope_id', '=', scopeId)
      .executeTakeFirst();
    if (row === undefined) return null;
    const [profile] = await this.store.records([mpid], {
      scopeId,
      environment: row.environment as Environment,
    });
    if (profile === undefined) return null;
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
   * Deletes a profile for a data-subject request (identities, traces and identity values in
   * history), and the bodies of the logged requests answered with it (LS-8): what the log holds
   * is written first, so none of them arrives after the deletion.
   */
  async delete(scopeId: string, mpid: string, actor: Actor, now: number): Promise<boolean> {
    await this.requestLog.flush();
    const deleted = await this.store.deleteProfile(scopeId, mpid, actor, now);
    if (deleted)
      await this.handle.db
        .updateTable('request_log')
        .set({ body: null })
        .where('scope_id', '=', scopeId)
        .where('mpid', '=', mpid)
        .execute();
    return deleted;
  }
}
