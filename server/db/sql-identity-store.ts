/**
 * The SQL store adapter (SPEC ST-*) for SQLite and PostgreSQL, over Kysely.
 *
 * Serialisability:
 * - SQLite: every transaction is `BEGIN IMMEDIATE` on the single connection, so writers run one at
 *   a time and the order they commit in is the order they ran.
 * - PostgreSQL: READ COMMITTED plus strict two-phase locking with transaction-scoped advisory
 *   locks. Before reading a request id, an identity value, or a profile, the transaction locks it
 *   (values before the profiles that hold them, each batch in hash order). Every write to a value or
 *   a profile happens under the same lock, so conflicting transactions run one after the other and
 *   unrelated ones run in parallel. A deadlock (40P01) or serialisation failure (40001) reruns the
 *   whole transaction; programs are re-runnable by design.
 *
 * Either way the partial unique index `identities_unique_value` is the last word: two records can
 * never hold one unique value, whatever the code above it does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import type { Environment } from '../../shared/identity/scope-config.ts';
import type {
  Actor,
  AliasRecord,
  AliasStatus,
  HistoryEntry,
  HistoryKind,
  IdentitySet,
  Namespace,
  ProfileRecord,
  RequestKind,
  StoredRequest,
} from '../../shared/resolver/records.ts';
import {
  runAsync,
  StoreConflictError,
  type AsyncStoreTx,
  type Program,
  type IdentityKey,
  type IdentityStore,
  type InspectableStore,
  type StoreChange,
  type StoreDump,
  type WriteSet,
} from '../../shared/resolver/store-port.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import type { ScopeConfig } from '../../shared/identity/scope-config.ts';
import type { DatabaseHandle, Dialect } from './connect.ts';
import { ConfigCache } from './workspace-store.ts';
import type { AliasesTable, Database, HistoryTable, ProfilesTable, RequestsTable } from './schema.ts';

const SEP = '\u0001';
const MAX_ATTEMPTS = 8;

/** True for failures that a rerun of the whole transaction can cure. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40001' || code === '40P01' || code === 'SQLITE_BUSY';
}

/** The unique-value index rejected a write: report it as the port's conflict. */
function asConflict(error: unknown, type: IdentityType, value: string): unknown {
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  const sqliteUnique =
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    typeof e.message === 'string' &&
    e.message.includes('identities.scope_id');
  const postgresUnique = e.code === '23505' && e.constraint === 'identities_unique_value';
  return sqliteUnique || postgresUnique ? new StoreConflictError(type, value) : error;
}

export function toProfile(row: Selectable<ProfilesTable>, identities: IdentitySet): ProfileRecord {
  return {
    mpid: row.mpid,
    scopeId: row.scope_id,
    environment: row.environment as Environment,
    identities,
    createdAt: row.created_at,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    orphanedAt: row.orphaned_at,
  };
}

export function toStoredRequest(row: Selectable<RequestsTable>): StoredRequest {
  return {
    scopeId: row.scope_id,
    requestId: row.request_id,
    kind: row.kind as RequestKind,
    environment: row.environment as Environment,
    fingerprint: row.fingerprint,
    at: row.at,
    actor: JSON.parse(row.actor) as Actor,
    mpids: JSON.parse(row.mpids) as string[],
    status: row.status,
    response: JSON.parse(row.response) as unknown,
    trace: JSON.parse(row.trace) as ExplainTrace,
  };
}

export function toHistoryEntry(row: Selectable<HistoryTable>): HistoryEntry {
  return {
    seq: row.seq,
    at: row.at,
    scopeId: row.scope_id,
    environment: row.environment as Environment,
    kind: row.kind as HistoryKind,
    mpid: row.mpid,
    identityType: row.identity_type as IdentityType | null,
    value: row.value,
    otherMpid: row.other_mpid,
    aliasId: row.alias_id,
    requestId: row.request_id,
    actor: JSON.parse(row.actor) as Actor,
    reason: row.reason,
  };
}

export function toAlias(row: Selectable<AliasesTable>): AliasRecord {
  return {
    id: row.id,
    scopeId: row.scope_id,
    environment: row.environment as Environment,
    sourceMpid: row.source_mpid,
    destinationMpid: row.destination_mpid,
    startMs: row.start_ms,
    endMs: row.end_ms,
    scope: row.scope as AliasRecord['scope'],
    deviceApplicationStamp: row.device_application_stamp,
    requestedAt: row.requested_at,
    dueAt: row.due_at,
    status: row.status as AliasStatus,
    statusReason: row.status_reason,
    processedAt: row.processed_at,
    previousDestinationFirstSeenAt: row.previous_destination_first_seen_at,
  };
}

function aliasRow(alias: AliasRecord): AliasesTable {
  return {
    scope_id: alias.scopeId,
    id: alias.id,
    environment: alias.environment,
    source_mpid: alias.sourceMpid,
    destination_mpid: alias.destinationMpid,
    start_ms: alias.startMs,
    end_ms: alias.endMs,
    scope: alias.scope,
    device_application_stamp: alias.deviceApplicationStamp,
    requested_at: alias.requestedAt,
    due_at: alias.dueAt,
    status: alias.status,
    status_reason: alias.statusReason,
    processed_at: alias.processedAt,
    previous_destination_first_seen_at: alias.previousDestinationFirstSeenAt,
  };
}

/** Loads full records (with identities, in the order they were added) for the given MPIDs. */
export async function loadRecords(
  db: Kysely<Database>,
  mpids: readonly string[],
  ns: Namespace | null,
): Promise<ProfileRecord[]> {
  if (mpids.length === 0) return [];
  let query = db
    .selectFrom('profiles')
    .selectAll()
    .where('mpid', 'in', mpids)
    .where('deleted_at', 'is', null);
  if (ns !== null) query = query.where('scope_id', '=', ns.scopeId).where('environment', '=', ns.environment);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const identityRows = await db
    .selectFrom('identities')
    .select(['mpid', 'identity_type', 'value'])
    .where(
      'mpid',
      'in',
      rows.map((r) => r.mpid),
    )
    .orderBy('id')
    .execute();
  const byMpid = new Map<string, Record<string, string[]>>();
  for (const row of identityRows) {
    let set = byMpid.get(row.mpid);
    if (set === undefined) {
      set = {};
      byMpid.set(row.mpid, set);
    }
    (set[row.identity_type] ??= []).push(row.value);
  }
  const position = new Map(mpids.map((m, i) => [m, i]));
  return rows
    .map((row) => toProfile(row, (byMpid.get(row.mpid) ?? {}) as IdentitySet))
    .sort((a, b) => (position.get(a.mpid) ?? 0) - (position.get(b.mpid) ?? 0));
}

export class SqlTransaction implements AsyncStoreTx {
  constructor(
    readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /** Locks profiles for writes made outside the resolver (admin deletion). */
  lockProfiles(mpids: readonly string[]): Promise<void> {
    return this.lock(mpids.map((m) => `p${SEP}${m}`));
  }

  /** PostgreSQL: take transaction-scoped advisory locks, in hash order within the batch. */
  private async lock(keys: readonly string[]): Promise<void> {
    if (this.dialect !== 'postgres' || keys.length === 0) return;
    await sql`select pg_advisory_xact_lock(h) from (select distinct hashtextextended(k, 0) as h from unnest(${keys}::text[]) as k order by h) as locks`.execute(
      this.db,
    );
  }

  async getRequest(scopeId: string, requestId: string): Promise<StoredRequest | null> {
    await this.lock([`r${SEP}${scopeId}${SEP}${requestId}`]);
    const row = await this.db
      .selectFrom('requests')
      .selectAll()
      .where('scope_id', '=', scopeId)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return row === undefined ? null : toStoredRequest(row);
  }

  async loadProfiles(
    ns: Namespace,
    identities: readonly IdentityKey[],
    mpids: readonly string[],
  ): Promise<ProfileRecord[]> {
    await this.lock(
      identities.map(
        (k) => `i${SEP}${ns.scopeId}${SEP}${ns.environment}${SEP}${k.identityType}${SEP}${k.value}`,
      ),
    );
    const wanted: string[] = [];
    if (identities.length > 0) {
      // One index lookup per value, glued with UNION ALL: an OR of (type, value) pairs would make
      // SQLite scan the whole namespace.
      const lookup = (k: IdentityKey) =>
        this.db
          .selectFrom('identities')
          .select(['id', 'mpid'])
          .where('scope_id', '=', ns.scopeId)
          .where('environment', '=', ns.environment)
          .where('identity_type', '=', k.identityType)
          .where('value', '=', k.value);
      const [first, ...rest] = identities as [IdentityKey, ...IdentityKey[]];
      let query = lookup(first);
      for (const key of rest) query = query.unionAll(lookup(key));
      const holders = await query.orderBy('id').execute();
      for (const { mpid } of holders) if (!wanted.includes(mpid)) wanted.push(mpid);
    }
    for (const mpid of mpids) if (!wanted.includes(mpid)) wanted.push(mpid);
    await this.lock(wanted.map((m) => `p${SEP}${m}`));
    return loadRecords(this.db, wanted, ns);
  }

  async mpidTaken(mpid: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('profiles')
      .select('mpid')
      .where('mpid', '=', mpid)
      .executeTakeFirst();
    return row !== undefined;
  }

  async loadAliases(ns: Namespace, mpids: readonly string[]): Promise<AliasRecord[]> {
    if (mpids.length === 0) return [];
    await this.lock(mpids.map((m) => `p${SEP}${m}`));
    const rows = await this.db
      .selectFrom('aliases')
      .selectAll()
      .where('scope_id', '=', ns.scopeId)
      .where('environment', '=', ns.environment)
      .where((eb) => eb.or([eb('source_mpid', 'in', mpids), eb('destination_mpid', 'in', mpids)]))
      .orderBy('requested_at')
      .orderBy('id')
      .execute();
    return rows.map(toAlias);
  }

  async dueAliases(scopeId: string, now: number, limit: number): Promise<AliasRecord[]> {
    let query = this.db
      .selectFrom('aliases')
      .selectAll()
      .where('scope_id', '=', scopeId)
      .where('status', '=', 'pending')
      .where('due_at', '<=', now)
      .orderBy('requested_at')
      .orderBy('id')
      .limit(limit);
    if (this.dialect === 'postgres') query = query.forUpdate().skipLocked();
    return (await query.execute()).map(toAlias);
  }

  async getAlias(scopeId: string, aliasId: string): Promise<AliasRecord | null> {
    const row = await this.db
      .selectFrom('aliases')
      .selectAll()
      .where('scope_id', '=', scopeId)
      .where('id', '=', aliasId)
      .executeTakeFirst();
    return row === undefined ? null : toAlias(row);
  }

  async commit(write: WriteSet): Promise<void> {
    for (const change of write.changes) await this.apply(change);
    if (write.history.length > 0) {
      await this.db
        .insertInto('history')
        .values(
          write.history.map((h) => ({
            at: h.at,
            scope_id: h.scopeId,
            environment: h.environment,
            kind: h.kind,
            mpid: h.mpid,
            identity_type: h.identityType,
            value: h.value,
            other_mpid: h.otherMpid,
            alias_id: h.aliasId,
            request_id: h.requestId,
            actor: JSON.stringify(h.actor),
            reason: h.reason,
          })),
        )
        .execute();
    }
    const request = write.request;
    if (request !== null) {
      await this.db
        .insertInto('requests')
        .values({
          scope_id: request.scopeId,
          request_id: request.requestId,
          kind: request.kind,
          environment: request.environment,
          fingerprint: request.fingerprint,
          at: request.at,
          actor: JSON.stringify(request.actor),
          mpids: JSON.stringify(request.mpids),
          status: request.status,
          response: JSON.stringify(request.response ?? null),
          trace: JSON.stringify(request.trace),
        })
        .execute();
      const mpids = [...new Set(request.mpids)];
      if (mpids.length > 0) {
        await this.db
          .insertInto('request_profiles')
          .values(mpids.map((mpid) => ({ scope_id: request.scopeId, request_id: request.requestId, mpid })))
          .execute();
      }
    }
  }

  private async apply(change: StoreChange): Promise<void> {
    switch (change.op) {
      case 'createProfile': {
        const { profile, uniqueTypes } = change;
        await this.db
          .insertInto('profiles')
          .values({
            mpid: profile.mpid,
            scope_id: profile.scopeId,
            environment: profile.environment,
            created_at: profile.createdAt,
            first_seen_at: profile.firstSeenAt,
            last_seen_at: profile.lastSeenAt,
            orphaned_at: profile.orphanedAt,
            deleted_at: null,
          })
          .execute();
        const rows: { type: IdentityType; value: string }[] = [];
        for (const key in profile.identities) {
          const type = key as IdentityType;
          for (const value of profile.identities[type] ?? []) rows.push({ type, value });
        }
        for (const { type, value } of rows) {
          try {
            await this.db
              .insertInto('identities')
              .values({
                scope_id: profile.scopeId,
                environment: profile.environment,
                identity_type: type,
                value,
                mpid: profile.mpid,
                is_unique: uniqueTypes.includes(type) ? 1 : 0,
              })
              .execute();
          } catch (error) {
            throw asConflict(error, type, value);
          }
        }
        return;
      }
      case 'addIdentity': {
        try {
          await this.db
            .insertInto('identities')
            .columns(['scope_id', 'environment', 'identity_type', 'value', 'mpid', 'is_unique'])
            .expression((eb) =>
              eb
                .selectFrom('profiles')
                .select([
                  'scope_id',
                  'environment',
                  eb.val(change.identityType).as('identity_type'),
                  eb.val(change.value).as('value'),
                  'mpid',
                  eb.val(change.unique ? 1 : 0).as('is_unique'),
                ])
                .where('mpid', '=', change.mpid),
            )
            .onConflict((oc) => oc.columns(['mpid', 'identity_type', 'value']).doNothing())
            .execute();
        } catch (error) {
          throw asConflict(error, change.identityType, change.value);
        }
        return;
      }
      case 'removeIdentity':
        await this.db
          .deleteFrom('identities')
          .where('mpid', '=', change.mpid)
          .where('identity_type', '=', change.identityType)
          .where('value', '=', change.value)
          .execute();
        return;
      case 'updateProfile': {
        const { patch } = change;
        await this.db
          .updateTable('profiles')
          .set({
            ...(patch.lastSeenAt === undefined ? {} : { last_seen_at: patch.lastSeenAt }),
            ...(patch.firstSeenAt === undefined ? {} : { first_seen_at: patch.firstSeenAt }),
            ...(patch.orphanedAt === undefined ? {} : { orphaned_at: patch.orphanedAt }),
          })
          .where('mpid', '=', change.mpid)
          .execute();
        return;
      }
      case 'putAlias': {
        const row = aliasRow(change.alias);
        await this.db
          .insertInto('aliases')
          .values(row)
          .onConflict((oc) => oc.columns(['scope_id', 'id']).doUpdateSet(row))
          .execute();
        return;
      }
    }
  }
}

export class SqlIdentityStore implements IdentityStore, InspectableStore {
  private readonly configs = new ConfigCache();

  constructor(private readonly handle: DatabaseHandle) {}

  transaction<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T> {
    return this.exclusive(fn);
  }

  /**
   * Runs a resolver program for a workspace with the config as of the transaction itself, so a
   * config change and the resolutions around it never interleave. `null` when there is no such
   * workspace.
   */
  runProgram<R>(workspaceId: string, make: (config: ScopeConfig) => Program<R>): Promise<R | null> {
    return this.exclusive(async (tx) => {
      const config = await this.configs.read(tx.db, this.handle.dialect === 'postgres', workspaceId);
      return config === null ? null : runAsync(make(config), tx);
    });
  }

  /** A transaction with the SQL handle exposed, retried whole on serialisation failures. */
  async exclusive<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
        await sleep(Math.floor(Math.random() * 2 ** attempt * 2));
      }
    }
  }

  private once<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const { db, dialect } = this.handle;
    if (dialect === 'postgres')
      return db.transaction().execute((trx) => fn(new SqlTransaction(trx, dialect)));
    return db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn(new SqlTransaction(conn, dialect));
        await sql`commit`.execute(conn);
        return result;
      } catch (error) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
  }

  async dump(): Promise<StoreDump> {
    const { db } = this.handle;
    const live = await db
      .selectFrom('profiles')
      .select('mpid')
      .where('deleted_at', 'is', null)
      .orderBy('mpid')
      .execute();
    const profiles = await loadRecords(
      db,
      live.map((r) => r.mpid),
      null,
    );
    const requests = (await db.selectFrom('requests').selectAll().orderBy('seq').execute()).map(
      toStoredRequest,
    );
    const history = (await db.selectFrom('history').selectAll().orderBy('seq').execute()).map(toHistoryEntry);
    const aliases = (await db.selectFrom('aliases').selectAll().execute()).map(toAlias);
    return { profiles, requests, history, aliases };
  }
}
