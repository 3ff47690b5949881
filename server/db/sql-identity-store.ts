/**
 * The SQL store adapter (SPEC ST-*) for SQLite and PostgreSQL.
 *
 * The store logic is written once, as `SqlRun` generators that yield precompiled statements
 * (`sql-statements.ts`), and executed two ways:
 * - SQLite: synchronously on better-sqlite3. A resolver program then runs start to finish inside
 *   one `BEGIN IMMEDIATE` transaction without yielding to the event loop, so writers run one at a
 *   time and the order they commit in is the order they ran.
 * - PostgreSQL: asynchronously on a pooled pg client (`pg-session.ts`), READ COMMITTED plus strict
 *   two-phase locking with transaction-scoped advisory locks. Before reading a request id, an
 *   identity value, or a profile, the transaction locks it (values before the profiles that hold
 *   them, each batch in hash order; a lock already held costs no statement). Every write to a value
 *   or a profile happens under the same lock, so conflicting transactions run one after the other
 *   and unrelated ones run in parallel. A deadlock (40P01) or serialisation failure (40001) reruns
 *   the whole transaction; programs are re-runnable by design. A resolution that reads one
 *   snapshot and writes nothing is answered without a transaction (SPEC PG-4).
 *
 * Either way the partial unique index `identities_unique_value` is the last word: two records can
 * never hold one unique value, whatever the code above it does.
 */
import type { Selectable } from 'kysely';
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import { ScopeConfigSchema, type Environment, type ScopeConfig } from '../../shared/identity/scope-config.ts';
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
  StoreConflictError,
  type AsyncStoreTx,
  type IdentityKey,
  type IdentityStore,
  type InspectableStore,
  type Program,
  type StoreChange,
  type StoreDump,
  type WriteSet,
} from '../../shared/resolver/store-port.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import type pg from 'pg';
import type { CachedSqlite, DatabaseHandle } from './connect.ts';
import {
  answerWithoutTransaction,
  inPgReadTransaction,
  inPgTransaction,
  onPgConnection,
  type PgSession,
  type VersionedConfig,
} from './pg-session.ts';
import { SnapshotReads } from './pg-snapshot-reads.ts';
import { TouchBatcher } from './pg-touch-batch.ts';
import {
  snapshotParameters,
  snapshotsFromRows,
  toProfile,
  type ProfilesSnapshot,
  type SnapshotRead,
  type SnapshotRow,
} from './profile-snapshot.ts';
import { hotCacheOf, type SqliteHotCache } from './sqlite-hot-cache.ts';
import type { IdentityStoreObserver, IdentityStorePort } from './identity-store-port.ts';
import type { AliasesTable, HistoryTable, ProfilesTable, RequestsTable } from './schema.ts';
import {
  lock,
  returnsRows,
  rows,
  run,
  SqlTexts,
  writes,
  type SqlRun,
  type Statement,
} from './sql-statements.ts';

const SEP = '\u0001';

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

export function toStoredRequest(row: Omit<Selectable<RequestsTable>, 'seq'>): StoredRequest {
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

export function toAlias(row: AliasesTable): AliasRecord {
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

function aliasParameters(alias: AliasRecord): unknown[] {
  return [
    alias.scopeId,
    alias.id,
    alias.environment,
    alias.sourceMpid,
    alias.destinationMpid,
    alias.startMs,
    alias.endMs,
    alias.scope,
    alias.deviceApplicationStamp,
    alias.requestedAt,
    alias.dueAt,
    alias.status,
    alias.statusReason,
    alias.processedAt,
    alias.previousDestinationFirstSeenAt,
  ];
}

/** A row of `SqlTexts.liveProfilesOf`: a live profile with one of its identities (or none). */
type LiveProfileRow = Selectable<ProfilesTable> & {
  readonly identity_id: number | null;
  readonly identity_type: string | null;
  readonly value: string | null;
};

/** The live profiles in the rows of one `liveProfilesOf` statement, identities in the order added. */
function liveProfilesFound(found: readonly LiveProfileRow[]): Map<string, ProfileRecord> {
  const live = new Map<string, { row: LiveProfileRow; identities: Record<string, string[]> }>();
  for (const row of found) {
    let entry = live.get(row.mpid);
    if (entry === undefined) {
      entry = { row, identities: {} };
      live.set(row.mpid, entry);
    }
    if (row.identity_type === null || row.value === null) continue;
    (entry.identities[row.identity_type] ??= []).push(row.value);
  }
  const records = new Map<string, ProfileRecord>();
  for (const [mpid, entry] of live) records.set(mpid, toProfile(entry.row, entry.identities));
  return records;
}

/**
 * The profiles `loadProfiles` returns, from the rows of one `liveProfilesOf` statement: holders
 * of the values first, in the order of the first of the values each holds (by identity id), then
 * the MPIDs asked for.
 */
function liveProfilesInOrder(
  found: readonly LiveProfileRow[],
  live: ReadonlyMap<string, ProfileRecord>,
  identities: readonly IdentityKey[],
  mpids: readonly string[],
): ProfileRecord[] {
  const asked = new Set(identities.map((k) => `${k.identityType}${SEP}${k.value}`));
  const first = new Map<string, number>();
  for (const row of found) {
    if (row.identity_type === null || row.value === null || row.identity_id === null) continue;
    if (!asked.has(`${row.identity_type}${SEP}${row.value}`)) continue;
    const seen = first.get(row.mpid);
    if (seen === undefined || row.identity_id < seen) first.set(row.mpid, row.identity_id);
  }
  const wanted = [...first].sort((a, b) => a[1] - b[1]).map(([mpid]) => mpid);
  for (const mpid of mpids) if (!wanted.includes(mpid) && live.has(mpid)) wanted.push(mpid);
  return wanted.map((mpid) => live.get(mpid) as ProfileRecord);
}

/** The store's reads and writes as statement generators, shared by both dialects. */
export class SqlStoreLogic {
  private readonly parsedConfigs = new Map<string, { version: number; config: ScopeConfig }>();
  /** Told of commits and deletions inside their transactions (the device log; SPEC SS-7). */
  readonly observers: IdentityStoreObserver[] = [];

  /**
   * @param hot SQLite: what returning identifies read, kept in memory (SPEC HP-6); `null` on
   *   PostgreSQL, or to read every time.
   */
  constructor(
    readonly texts: SqlTexts,
    readonly hot: SqliteHotCache | null = null,
  ) {}

  private get postgres(): boolean {
    return this.texts.dialect === 'postgres';
  }

  /** Runs a resolver program inside this SQL run: every store call becomes statements here. */
  *drive<R>(program: Program<R>): SqlRun<R> {
    let step = program.next();
    while (!step.done) {
      const call = step.value;
      let result: unknown;
      switch (call.op) {
        case 'getRequest':
          result = yield* this.getRequest(...call.args);
          break;
        case 'loadProfiles':
          result = yield* this.loadProfiles(...call.args);
          break;
        case 'mpidTaken':
          result = yield* this.mpidTaken(...call.args);
          break;
        case 'loadAliases':
          result = yield* this.loadAliases(...call.args);
          break;
        case 'dueAliases':
          result = yield* this.dueAliases(...call.args);
          break;
        case 'getAlias':
          result = yield* this.getAlias(...call.args);
          break;
        case 'commit':
          result = yield* this.commit(...call.args);
          break;
      }
      step = program.next(result);
    }
    return step.value;
  }

  /** A workspace's config as of this run, then the program it makes; `null` without the workspace. */
  *withConfig<R>(workspaceId: string, make: (config: ScopeConfig) => Program<R>): SqlRun<R | null> {
    const config = yield* this.readConfig(workspaceId);
    return config === null ? null : yield* this.drive(make(config));
  }

  /** PostgreSQL: takes the advisory locks not held yet and returns how many; SQLite: nothing to lock. */
  *lock(keys: readonly string[]): SqlRun<number> {
    return this.postgres && keys.length > 0 ? yield* lock(this.texts.fixed.lock, keys) : 0;
  }

  requestLockKey(scopeId: string, requestId: string): string {
    return `r${SEP}${scopeId}${SEP}${requestId}`;
  }

  valueLockKeys(ns: Namespace, identities: readonly IdentityKey[]): string[] {
    return identities.map(
      (k) => `i${SEP}${ns.scopeId}${SEP}${ns.environment}${SEP}${k.identityType}${SEP}${k.value}`,
    );
  }

  profileLockKeys(mpids: readonly string[]): string[] {
    return mpids.map((m) => `p${SEP}${m}`);
  }

  /**
   * The workspace's config as of this transaction (PostgreSQL reads the version FOR SHARE, so a
   * config change waits for this transaction and the next one sees the new config). Parsed once
   * per version.
   */
  *readConfig(workspaceId: string): SqlRun<ScopeConfig | null> {
    const version = yield* this.configVersion(workspaceId);
    if (version === null) return null;
    const cached = this.cachedConfig(workspaceId);
    if (cached !== undefined && cached.version === version) return cached.config;
    return (yield* this.loadConfig(workspaceId))?.config ?? null;
  }

  /** The workspace's config version as of this transaction (`null` without the workspace). */
  private *configVersion(workspaceId: string): SqlRun<number | null> {
    if (this.postgres) {
      const [row] = yield* rows<{ config_version: number }>(this.texts.fixed.lockAndConfigVersion, [
        [],
        workspaceId,
      ]);
      return row?.config_version ?? null;
    }
    const known = this.hot?.configVersion(workspaceId);
    if (known !== undefined) return known;
    const [row] = yield* rows<{ config_version: number }>(this.texts.fixed.configVersion, [workspaceId]);
    if (row === undefined) return null;
    this.hot?.rememberConfigVersion(workspaceId, row.config_version);
    return row.config_version;
  }

  /** The last config parsed for a workspace, with its version (it may have changed since). */
  cachedConfig(workspaceId: string): VersionedConfig | undefined {
    return this.parsedConfigs.get(workspaceId);
  }

  /** Reads and parses the workspace's config, and caches it unless a newer version is cached. */
  *loadConfig(workspaceId: string): SqlRun<VersionedConfig | null> {
    const [full] = yield* rows<{ config: string; config_version: number }>(this.texts.fixed.config, [
      workspaceId,
    ]);
    if (full === undefined) return null;
    const loaded = {
      version: full.config_version,
      config: ScopeConfigSchema.parse(JSON.parse(full.config)),
    };
    const cached = this.parsedConfigs.get(workspaceId);
    if (cached === undefined || cached.version < loaded.version) this.parsedConfigs.set(workspaceId, loaded);
    return loaded;
  }

  *getRequest(scopeId: string, requestId: string): SqlRun<StoredRequest | null> {
    yield* this.lock([this.requestLockKey(scopeId, requestId)]);
    const [row] = yield* rows<Selectable<RequestsTable>>(this.texts.fixed.getRequest, [scopeId, requestId]);
    return row === undefined ? null : toStoredRequest(row);
  }

  *loadProfiles(
    ns: Namespace,
    identities: readonly IdentityKey[],
    mpids: readonly string[],
  ): SqlRun<ProfileRecord[]> {
    yield* this.lock(this.valueLockKeys(ns, identities));
    if (this.postgres) {
      for (;;) {
        const snapshot = yield* this.profilesSnapshot({ ns, identities, mpids });
        // Profiles are locked before they are read: a holder not locked yet is locked, then all read again.
        if ((yield* this.lock(this.profileLockKeys(snapshot.wanted))) === 0) return snapshot.records;
      }
    }
    if (identities.length === 0 && mpids.length === 0) return [];
    const known = this.hot?.lookup(ns, identities, mpids);
    if (known !== undefined) return known;
    const parameters: unknown[] = [];
    for (const k of identities) parameters.push(ns.scopeId, ns.environment, k.identityType, k.value);
    parameters.push(...mpids, ns.scopeId, ns.environment);
    const found = yield* rows<LiveProfileRow>(
      this.texts.liveProfilesOf(identities.length, mpids.length),
      parameters,
    );
    const live = liveProfilesFound(found);
    this.hot?.fill(ns, identities, found, live);
    return liveProfilesInOrder(found, live, identities, mpids);
  }

  /** PostgreSQL: what `loadProfiles` reads, in one statement (one snapshot, no locks taken). */
  *profilesSnapshot(read: SnapshotRead): SqlRun<ProfilesSnapshot> {
    const found = yield* rows<SnapshotRow>(this.texts.fixed.profilesSnapshot, snapshotParameters([read]));
    return snapshotsFromRows([read], found)[0] as ProfilesSnapshot;
  }

  /** Live records of the namespace with these MPIDs, in the given order, identities in the order added. */
  *records(mpids: readonly string[], ns: Namespace): SqlRun<ProfileRecord[]> {
    if (mpids.length === 0) return [];
    const profileRows = yield* rows<Selectable<ProfilesTable>>(this.texts.profiles(mpids.length), [
      ...mpids,
      ns.scopeId,
      ns.environment,
    ]);
    if (profileRows.length === 0) return [];
    const found = profileRows.map((r) => r.mpid);
    const identityRows = yield* rows<{ mpid: string; identity_type: string; value: string }>(
      this.texts.identitiesOf(found.length),
      found,
    );
    const byMpid = new Map<string, Record<string, string[]>>();
    for (const row of identityRows) {
      let set = byMpid.get(row.mpid);
      if (set === undefined) {
        set = {};
        byMpid.set(row.mpid, set);
      }
      (set[row.identity_type] ??= []).push(row.value);
    }
    const records = profileRows.map((row) => toProfile(row, (byMpid.get(row.mpid) ?? {}) as IdentitySet));
    return records.sort((a, b) => mpids.indexOf(a.mpid) - mpids.indexOf(b.mpid));
  }

  *mpidTaken(mpid: string): SqlRun<boolean> {
    return (yield* rows(this.texts.fixed.mpidTaken, [mpid])).length > 0;
  }

  *loadAliases(ns: Namespace, mpids: readonly string[]): SqlRun<AliasRecord[]> {
    if (mpids.length === 0) return [];
    yield* this.lock(this.profileLockKeys(mpids));
    const found = yield* rows<AliasesTable>(this.texts.aliasesOf(mpids.length), [
      ns.scopeId,
      ns.environment,
      ...mpids,
      ...mpids,
    ]);
    return found.map(toAlias);
  }

  *dueAliases(scopeId: string, now: number, limit: number): SqlRun<AliasRecord[]> {
    return (yield* rows<AliasesTable>(this.texts.fixed.dueAliases, [scopeId, 'pending', now, limit])).map(
      toAlias,
    );
  }

  *getAlias(scopeId: string, aliasId: string): SqlRun<AliasRecord | null> {
    const [row] = yield* rows<AliasesTable>(this.texts.fixed.getAlias, [scopeId, aliasId]);
    return row === undefined ? null : toAlias(row);
  }

  *commit(write: WriteSet): SqlRun<void> {
    for (const change of write.changes) yield* this.apply(change);
    for (const observer of this.observers) yield* observer.committed(write);
    if (write.history.length > 0) {
      const parameters: unknown[] = [];
      for (const h of write.history) {
        parameters.push(
          h.at,
          h.scopeId,
          h.environment,
          h.kind,
          h.mpid,
          h.identityType,
          h.value,
          h.otherMpid,
          h.aliasId,
          h.requestId,
          JSON.stringify(h.actor),
          h.reason,
        );
      }
      yield* run(this.texts.insertHistory(write.history.length), parameters);
    }
    const request = write.request;
    if (request === null) return;
    yield* run(this.texts.fixed.insertRequest, [
      request.scopeId,
      request.requestId,
      request.kind,
      request.environment,
      request.fingerprint,
      request.at,
      JSON.stringify(request.actor),
      JSON.stringify(request.mpids),
      request.status,
      JSON.stringify(request.response ?? null),
      JSON.stringify(request.trace),
    ]);
    const mpids = [...new Set(request.mpids)];
    if (mpids.length > 0) {
      yield* run(
        this.texts.insertRequestProfiles(mpids.length),
        mpids.flatMap((mpid) => [request.scopeId, request.requestId, mpid]),
      );
    }
  }

  private *apply(change: StoreChange): SqlRun<void> {
    switch (change.op) {
      case 'createProfile': {
        const { profile, uniqueTypes } = change;
        yield* run(this.texts.fixed.insertProfile, [
          profile.mpid,
          profile.scopeId,
          profile.environment,
          profile.createdAt,
          profile.firstSeenAt,
          profile.lastSeenAt,
          profile.orphanedAt,
          null,
        ]);
        for (const key in profile.identities) {
          const type = key as IdentityType;
          for (const value of profile.identities[type] ?? []) {
            const parameters = [
              profile.scopeId,
              profile.environment,
              type,
              value,
              profile.mpid,
              uniqueTypes.includes(type) ? 1 : 0,
            ];
            yield* guarded(run(this.texts.fixed.insertIdentity, parameters), type, value);
          }
        }
        return;
      }
      case 'addIdentity':
        yield* guarded(
          run(this.texts.fixed.addIdentity, [
            change.identityType,
            change.value,
            change.unique ? 1 : 0,
            change.mpid,
          ]),
          change.identityType,
          change.value,
        );
        return;
      case 'removeIdentity':
        yield* run(this.texts.fixed.removeIdentity, [change.mpid, change.identityType, change.value]);
        return;
      case 'updateProfile': {
        const { patch } = change;
        const set = [
          ['last_seen_at', patch.lastSeenAt],
          ['first_seen_at', patch.firstSeenAt],
          ['orphaned_at', patch.orphanedAt],
        ] as const;
        const present = set.filter(([, value]) => value !== undefined);
        const columns = present.map(([column]) => column);
        const parameters = present.map(([, value]) => value);
        if (columns.length === 0) return;
        const before = this.hot?.profile(change.mpid);
        const changed = yield* run(this.texts.updateProfile(columns), [...parameters, change.mpid]);
        // The row's trigger made the cache forget it; its new times are known (HP-7).
        if (before !== undefined && changed === 1) this.hot?.patched(before, patch);
        return;
      }
      case 'putAlias': {
        const parameters = aliasParameters(change.alias);
        yield* run(this.texts.fixed.upsertAlias, [...parameters, ...parameters]);
        return;
      }
    }
  }

  /**
   * Deletes a profile for a data-subject request: its identities go, identity values are scrubbed
   * from its history, and stored requests that touched it (their traces name its identities) are
   * removed; observers then scrub what they hold of it (SS-7). The MPID stays reserved, and a
   * `profile_deleted` entry records who deleted it.
   */
  *deleteProfile(scopeId: string, mpid: string, actor: Actor, now: number): SqlRun<boolean> {
    yield* this.lock(this.profileLockKeys([mpid]));
    const [row] = yield* rows<{ environment: string }>(this.texts.fixed.liveProfile, [scopeId, mpid]);
    if (row === undefined) return false;
    yield* run(this.texts.fixed.deleteIdentitiesOf, [mpid]);
    yield* run(this.texts.fixed.markDeleted, [now, mpid]);
    yield* run(this.texts.fixed.scrubHistory, [null, mpid]);
    const touched = (yield* rows<{ request_id: string }>(this.texts.fixed.requestsOf, [scopeId, mpid])).map(
      (r) => r.request_id,
    );
    if (touched.length > 0) {
      yield* run(this.texts.deleteRequestProfiles(touched.length), [scopeId, ...touched]);
      yield* run(this.texts.deleteRequests(touched.length), [scopeId, ...touched]);
    }
    for (const observer of this.observers) yield* observer.profileDeleted(mpid);
    yield* run(this.texts.insertHistory(1), [
      now,
      scopeId,
      row.environment,
      'profile_deleted',
      mpid,
      null,
      null,
      null,
      null,
      null,
      JSON.stringify(actor),
      'deleted for a data-subject request',
    ]);
    return true;
  }
}

/** Runs a statement, reporting a unique-index rejection as the port's conflict. */
function* guarded(statement: SqlRun<number>, type: IdentityType, value: string): SqlRun<number> {
  try {
    return yield* statement;
  } catch (error) {
    throw asConflict(error, type, value);
  }
}

/** Runs statements on SQLite; `beforeWrite` is called once, before the first statement that writes. */
function executeSync<R>(sqlRun: SqlRun<R>, sqlite: CachedSqlite, beforeWrite?: () => void): R {
  let step = sqlRun.next();
  let wrote = false;
  while (!step.done) {
    const statement: Statement = step.value;
    let result: unknown;
    try {
      if (!wrote && writes(statement)) {
        wrote = true;
        beforeWrite?.();
      }
      const prepared = sqlite.prepare(statement.sql);
      result = returnsRows(statement)
        ? prepared.all(statement.parameters)
        : prepared.run(statement.parameters).changes;
    } catch (error) {
      step = sqlRun.throw(error);
      continue;
    }
    step = sqlRun.next(result);
  }
  return step.value;
}

/**
 * Group commit for SQLite. Programs submitted while a commit is pending run together in one
 * `BEGIN IMMEDIATE` transaction, each inside its own savepoint (a program that throws is rolled
 * back alone), and every caller is answered only after the shared COMMIT. Under load this spreads
 * the cost of a commit over the whole batch; an idle server commits each program on its own.
 * A program's savepoint is opened just before its first write (a job calls `beforeWrite`): a
 * program that only reads has nothing to roll back and costs no savepoint statements (SPEC HP-2);
 * a program alone in its batch runs none either: the transaction is its savepoint (DR-7).
 */
class GroupCommit {
  private queue: {
    job: (beforeWrite: () => void) => unknown;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private scheduled = false;

  constructor(
    private readonly sqlite: CachedSqlite,
    private readonly turn: <T>(fn: () => T) => Promise<T>,
    private readonly hot: SqliteHotCache,
    private readonly maxBatch = 64,
  ) {}

  submit<T>(job: (beforeWrite: () => void) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await this.turn(() => {
        const sql = (text: string) => this.sqlite.prepare(text).run([]);
        sql('begin immediate');
        // A program alone in its batch is undone by rolling the transaction back (DR-7).
        const alone = batch.length === 1;
        try {
          this.hot.begin();
          for (const item of batch) {
            let savepoint = false;
            const beforeWrite = () => {
              if (alone) return;
              sql('savepoint program');
              savepoint = true;
            };
            try {
              outcomes.push({ ok: true, value: item.job(beforeWrite) });
              if (savepoint) sql('release program');
            } catch (error) {
              // SQLite undoes the whole transaction on some errors (a full disk, IO errors): then
              // every program of the batch is undone too, and all of them fail with that error.
              if (alone || !this.sqlite.raw.inTransaction) throw error;
              if (savepoint) {
                sql('rollback to program');
                sql('release program');
                this.hot.rolledBack();
              }
              outcomes.push({ ok: false, error });
            }
          }
          sql('commit');
        } catch (error) {
          if (this.sqlite.raw.inTransaction) sql('rollback');
          this.hot.rolledBack();
          throw error;
        } finally {
          this.hot.end();
        }
      });
      batch.forEach((item, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok === true) item.resolve(outcome.value);
        else item.reject(outcome?.error);
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      this.scheduled = false;
      this.schedule();
    }
  }
}

export class SqlIdentityStore implements IdentityStore, InspectableStore, IdentityStorePort {
  private readonly logic: SqlStoreLogic;
  private readonly groupCommit: GroupCommit | null;
  /** PostgreSQL: this store's last-seen touches, written in batches (PG-10). */
  private readonly touches: TouchBatcher | null;
  /** PostgreSQL: this store's read-only attempts' snapshot reads, sent together (PG-14). */
  private readonly reads: SnapshotReads | null;

  /** SQLite: what returning identifies read, in memory (SPEC HP-6); shared by the connection's stores. */
  private readonly hot: SqliteHotCache | null;

  constructor(private readonly handle: DatabaseHandle) {
    this.hot = handle.dialect === 'sqlite' ? hotCacheOf(handle.sqlite) : null;
    this.logic = new SqlStoreLogic(new SqlTexts(handle.db, handle.dialect), this.hot);
    this.groupCommit =
      handle.dialect === 'sqlite'
        ? new GroupCommit(handle.sqlite, (fn) => this.sqliteTurn(fn), this.hot as SqliteHotCache)
        : null;
    this.touches =
      handle.dialect === 'postgres'
        ? new TouchBatcher(handle.pool, this.logic.texts.fixed.touchLastSeen)
        : null;
    this.reads =
      handle.dialect === 'postgres'
        ? new SnapshotReads(handle.pool, this.logic.texts.fixed.profilesSnapshot)
        : null;
  }

  transaction<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T> {
    const logic = this.logic;
    return this.withTransaction((execute) =>
      fn({
        getRequest: (...args) => execute(logic.getRequest(...args)),
        loadProfiles: (...args) => execute(logic.loadProfiles(...args)),
        mpidTaken: (...args) => execute(logic.mpidTaken(...args)),
        loadAliases: (...args) => execute(logic.loadAliases(...args)),
        dueAliases: (...args) => execute(logic.dueAliases(...args)),
        getAlias: (...args) => execute(logic.getAlias(...args)),
        commit: (...args) => execute(logic.commit(...args)),
      }),
    );
  }

  /**
   * Runs a resolver program for a workspace with the config as of the transaction itself, so a
   * config change and the resolutions around it never interleave. `null` when there is no such
   * workspace. On SQLite the whole program runs synchronously inside one transaction.
   */
  runProgram<R>(workspaceId: string, make: (config: ScopeConfig) => Program<R>): Promise<R | null> {
    if (this.handle.dialect === 'postgres')
      return this.runProgramPostgres(this.handle.pool, workspaceId, make);
    return this.runSql(() => this.logic.withConfig(workspaceId, make));
  }

  /**
   * PostgreSQL (SPEC PG-2..PG-4): the config comes from the cache, checked against the version in
   * the same snapshot as the reads (read-only answer) or read FOR SHARE together with the locks
   * learnt from that attempt (write transaction), so a stale config is never applied.
   */
  private async runProgramPostgres<R>(
    pool: pg.Pool,
    workspaceId: string,
    make: (config: ScopeConfig) => Program<R>,
  ): Promise<R | null> {
    const known =
      this.logic.cachedConfig(workspaceId) ??
      (await onPgConnection(pool, (session) => session.run(this.logic.loadConfig(workspaceId))));
    if (known === null) return null;
    const attempt = await answerWithoutTransaction(
      (read) => (this.reads as SnapshotReads).read(read),
      this.logic,
      known,
      make,
    );
    if (attempt.outcome === 'answered') return attempt.value;
    if (attempt.outcome === 'after-touch' && (await (this.touches as TouchBatcher).submit(attempt.touch)))
      return attempt.value;
    return inPgTransaction(pool, async (session: PgSession) => {
      const text = this.logic.texts.fixed.lockAndConfigVersion;
      const version = await session.lockAndConfigVersion(text, attempt.keys, workspaceId);
      if (version === null) return null;
      const cached = this.logic.cachedConfig(workspaceId);
      const current =
        cached?.version === version ? cached : await session.run(this.logic.loadConfig(workspaceId));
      return current === null ? null : session.run(this.logic.drive(make(current.config)));
    });
  }

  /**
   * Runs statements in one transaction: on SQLite synchronously, sharing a group commit; on
   * PostgreSQL on a pooled client, retried whole on serialisation failures.
   */
  runSql<R>(make: () => SqlRun<R>): Promise<R> {
    const handle = this.handle;
    if (handle.dialect === 'sqlite') {
      return (this.groupCommit as GroupCommit).submit((beforeWrite) =>
        executeSync(make(), handle.sqlite, beforeWrite),
      );
    }
    return this.withTransaction((execute) => execute(make()));
  }

  config(workspaceId: string): SqlRun<ScopeConfig | null> {
    return this.logic.readConfig(workspaceId);
  }

  drive<R>(program: Program<R>): SqlRun<R> {
    return this.logic.drive(program);
  }

  lock(keys: readonly string[]): SqlRun<number> {
    return this.logic.lock(keys);
  }

  observe(observer: IdentityStoreObserver): void {
    this.logic.observers.push(observer);
  }

  /**
   * Runs statements that only read, in one read transaction that never takes the write lock: on
   * SQLite a deferred transaction outside the group commit (on its connection, between other
   * transactions), on PostgreSQL a `READ ONLY` transaction. For pulls, which must not queue behind
   * writers (SPEC S2-9).
   */
  runRead<R>(make: () => SqlRun<R>): Promise<R> {
    const handle = this.handle;
    if (handle.dialect === 'sqlite') {
      return this.sqliteTurn(() => {
        handle.sqlite.exec('begin deferred');
        try {
          return executeSync(make(), handle.sqlite);
        } finally {
          handle.sqlite.exec('commit');
        }
      });
    }
    return inPgReadTransaction(handle.pool, (session) => session.run(make()));
  }

  /** Drops the traces of up to `limit` stored requests answered before `before` (LS-10); how many. */
  expireTraces(before: number, limit: number): Promise<number> {
    return this.runSql(() => run(this.logic.texts.fixed.expireTraces, [before, limit]));
  }

  /** Deletes a profile for a data-subject request (see `SqlStoreLogic.deleteProfile`). */
  deleteProfile(scopeId: string, mpid: string, actor: Actor, now: number): Promise<boolean> {
    return this.withTransaction((execute) => execute(this.logic.deleteProfile(scopeId, mpid, actor, now)));
  }

  /**
   * SQLite has one connection, shared with Kysely (admin queries and their transactions). Taking
   * Kysely's connection for our turn keeps our transactions and theirs from interleaving.
   */
  private sqliteTurn<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.handle.db.connection().execute(async () => fn());
  }

  /** One transaction, retried whole on serialisation failures (PostgreSQL). */
  private async withTransaction<T>(
    fn: (execute: <R>(sqlRun: SqlRun<R>) => Promise<R>) => Promise<T>,
  ): Promise<T> {
    const handle = this.handle;
    if (handle.dialect === 'sqlite') {
      const execute = <R>(sqlRun: SqlRun<R>) =>
        new Promise<R>((resolve) => resolve(executeSync(sqlRun, handle.sqlite)));
      const hot = this.hot as SqliteHotCache;
      return this.sqliteTurn(async () => {
        handle.sqlite.exec('begin immediate');
        try {
          hot.begin();
          const result = await fn(execute);
          handle.sqlite.exec('commit');
          return result;
        } catch (error) {
          if (handle.sqlite.raw.inTransaction) handle.sqlite.exec('rollback');
          hot.rolledBack();
          throw error;
        } finally {
          hot.end();
        }
      });
    }
    return inPgTransaction(handle.pool, (session) => fn((sqlRun) => session.run(sqlRun)));
  }

  async dump(): Promise<StoreDump> {
    const { db } = this.handle;
    const live = await db
      .selectFrom('profiles')
      .select(['mpid', 'scope_id', 'environment'])
      .where('deleted_at', 'is', null)
      .orderBy('mpid')
      .execute();
    const profiles: ProfileRecord[] = [];
    for (const p of live) {
      const [record] = await this.withTransaction((execute) =>
        execute(
          this.logic.records([p.mpid], { scopeId: p.scope_id, environment: p.environment as Environment }),
        ),
      );
      if (record !== undefined) profiles.push(record);
    }
    const requests = (await db.selectFrom('requests').selectAll().orderBy('seq').execute()).map(
      toStoredRequest,
    );
    const history = (await db.selectFrom('history').selectAll().orderBy('seq').execute()).map(toHistoryEntry);
    const aliases = (await db.selectFrom('aliases').selectAll().execute()).map(toAlias);
    return { profiles, requests, history, aliases };
  }

  /** Live records with these MPIDs in one namespace (admin reads). */
  records(mpids: readonly string[], ns: Namespace): Promise<ProfileRecord[]> {
    return this.withTransaction((execute) => execute(this.logic.records(mpids, ns)));
  }
}
