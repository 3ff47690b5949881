/**
 * SQLite: what a returning user's identify reads, kept in memory (SPEC HP-6..HP-9).
 *
 * Three maps: the live holders of an identity value in a namespace (each with the id of the
 * identity row, which orders holders), the live profile records by MPID, and the workspaces'
 * config versions. They are filled from the statements the store runs anyway (`liveProfilesOf`,
 * `configVersion`) and answered from only inside a write transaction of this connection, after
 * `begin`, so the whole argument is about what can change the file while we trust a map:
 *
 * - Another connection (the admin CLI, a second server): it can only commit while we do not hold
 *   the write lock. `begin` reads `PRAGMA data_version`, which changes exactly when another
 *   connection committed since our last look; when it has, every map is cleared. Until our COMMIT
 *   nobody else can commit, so the maps stay true for the whole transaction.
 * - This connection (our programs, the request log, admin queries through Kysely, migrations):
 *   every row written to `identities`, `profiles` or a workspace's config version fires a TEMP
 *   trigger (temp triggers see this connection's changes only) that calls back into this object
 *   and forgets what the row touched. Forgetting is always safe, so no write path has to know
 *   about the cache, and a rolled-back write leaves nothing wrong behind.
 * - Write-through is used for one thing: a last-seen update the store itself runs puts the record
 *   back with its new times (else every identify would forget its own profile). What was written
 *   inside a transaction that then rolls back (whole or to a program's savepoint) is not known to
 *   be true any more: `rolledBack` clears every map.
 *
 * Outside a transaction run through `begin`/`end` the cache neither answers nor fills: a deferred
 * read transaction's snapshot may be older than the maps.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { CachedSqlite } from './connect.ts';
import type { Namespace, ProfileRecord } from '../../shared/resolver/records.ts';
import type { IdentityKey, ProfilePatch } from '../../shared/resolver/store-port.ts';

const SEP = '\u0001';

/** One identity row holding a value: the profile and the row's id (holders are ordered by it). */
interface Holder {
  readonly mpid: string;
  readonly id: number;
}

/** A row of `liveProfilesOf`, as far as the cache needs it. */
export interface LiveIdentityRow {
  readonly mpid: string;
  readonly identity_id: number | null;
  readonly identity_type: string | null;
  readonly value: string | null;
}

function valueKey(scopeId: string, environment: string, type: string, value: string): string {
  return `${scopeId}${SEP}${environment}${SEP}${type}${SEP}${value}`;
}

/**
 * Creates the TEMP triggers that report this connection's writes to `cache`. Temp triggers live
 * in the connection, not the file: other connections and older servers never see them.
 */
function installTriggers(raw: BetterSqlite3.Database, cache: SqliteHotCache): void {
  raw.function('idsync_hot_identity', (scopeId, environment, type, value, mpid) => {
    cache.identityChanged(String(scopeId), String(environment), String(type), String(value), String(mpid));
    return null;
  });
  raw.function('idsync_hot_profile', (mpid, sameKeys) => {
    cache.profileChanged(String(mpid), sameKeys === 1);
    return null;
  });
  raw.function('idsync_hot_workspace', (id) => {
    cache.workspaceChanged(String(id));
    return null;
  });
  const identity = (row: 'old' | 'new') =>
    `select idsync_hot_identity(${row}.scope_id, ${row}.environment, ${row}.identity_type, ${row}.value, ${row}.mpid);`;
  raw.exec(`
    create temp trigger if not exists idsync_hot_identity_insert after insert on main.identities
      begin ${identity('new')} end;
    create temp trigger if not exists idsync_hot_identity_delete after delete on main.identities
      begin ${identity('old')} end;
    create temp trigger if not exists idsync_hot_identity_update after update on main.identities
      begin ${identity('old')} ${identity('new')} end;
    create temp trigger if not exists idsync_hot_profile_update after update on main.profiles
      begin select idsync_hot_profile(old.mpid, old.mpid is new.mpid and old.scope_id is new.scope_id
        and old.environment is new.environment and old.deleted_at is new.deleted_at);
        select idsync_hot_profile(new.mpid, 0) where old.mpid is not new.mpid; end;
    create temp trigger if not exists idsync_hot_profile_delete after delete on main.profiles
      begin select idsync_hot_profile(old.mpid, 0); end;
    create temp trigger if not exists idsync_hot_workspace_update after update of id, config_version on main.workspaces
      begin select idsync_hot_workspace(old.id); end;
    create temp trigger if not exists idsync_hot_workspace_delete after delete on main.workspaces
      begin select idsync_hot_workspace(old.id); end;
  `);
}

export class SqliteHotCache {
  private readonly holders = new Map<string, readonly Holder[]>();
  private readonly profiles = new Map<string, ProfileRecord>();
  private readonly configVersions = new Map<string, number>();
  private dataVersion: unknown = undefined;
  private active = false;

  /**
   * @param maxProfiles memory bound: when a fill would keep more profiles than this, every map is
   *   cleared first (always safe; a server's returning users fill it again).
   */
  constructor(
    private readonly sqlite: CachedSqlite,
    private readonly maxProfiles = 200_000,
  ) {
    installTriggers(sqlite.raw, this);
  }

  /** Called right after `begin immediate`: trusts the maps only if no other connection committed. */
  begin(): void {
    const version: unknown = this.sqlite.prepare('pragma data_version').pluck().get();
    if (version !== this.dataVersion) {
      this.clear();
      this.dataVersion = version;
    }
    this.active = true;
  }

  /** The transaction ended (committed or not; `rolledBack` has cleared what a rollback undid). */
  end(): void {
    this.active = false;
  }

  /** Some writes of this transaction were undone: nothing written since `begin` is known true. */
  rolledBack(): void {
    this.clear();
  }

  /**
   * The live profiles of `ns` holding any of `identities`, then those named in `mpids`, in
   * `liveProfilesOf`'s order (SPEC HP-1); `undefined` when the maps cannot answer all of it.
   */
  lookup(
    ns: Namespace,
    identities: readonly IdentityKey[],
    mpids: readonly string[],
  ): ProfileRecord[] | undefined {
    if (!this.active) return undefined;
    const first = new Map<string, number>();
    for (const k of identities) {
      const held = this.holders.get(valueKey(ns.scopeId, ns.environment, k.identityType, k.value));
      if (held === undefined) return undefined;
      for (const h of held) {
        const seen = first.get(h.mpid);
        if (seen === undefined || h.id < seen) first.set(h.mpid, h.id);
      }
    }
    const order = first.size > 1 ? [...first].sort((a, b) => a[1] - b[1]).map(([m]) => m) : [...first.keys()];
    const records: ProfileRecord[] = [];
    for (const mpid of order) {
      const record = this.profiles.get(mpid);
      if (record === undefined) return undefined;
      records.push(record);
    }
    for (const mpid of mpids) {
      if (first.has(mpid) || records.some((r) => r.mpid === mpid)) continue;
      const record = this.profiles.get(mpid);
      if (record === undefined) return undefined;
      if (record.scopeId === ns.scopeId && record.environment === ns.environment) records.push(record);
    }
    return records;
  }

  /**
   * Remembers what one `liveProfilesOf` statement read: every live profile of `ns` it returned
   * (`records`) and, for each value asked, its live holders in `ns` among `rows` (complete: the
   * statement returns every live holder of every value asked, with all its identities).
   */
  fill(
    ns: Namespace,
    identities: readonly IdentityKey[],
    rows: readonly LiveIdentityRow[],
    records: ReadonlyMap<string, ProfileRecord>,
  ): void {
    if (!this.active) return;
    if (this.profiles.size + records.size > this.maxProfiles) this.clear();
    for (const [mpid, record] of records) this.profiles.set(mpid, record);
    for (const k of identities) {
      const held: Holder[] = [];
      for (const row of rows) {
        if (row.identity_id !== null && row.identity_type === k.identityType && row.value === k.value)
          held.push({ mpid: row.mpid, id: row.identity_id });
      }
      this.holders.set(valueKey(ns.scopeId, ns.environment, k.identityType, k.value), held);
    }
  }

  /** The cached record of a live profile, while the cache is in use. */
  profile(mpid: string): ProfileRecord | undefined {
    return this.active ? this.profiles.get(mpid) : undefined;
  }

  /**
   * Write-through after the store updated a profile's times with one statement that changed its
   * row: `before` (read before that statement) with the new times.
   */
  patched(before: ProfileRecord, patch: ProfilePatch): void {
    if (!this.active) return;
    this.profiles.set(before.mpid, {
      ...before,
      lastSeenAt: patch.lastSeenAt ?? before.lastSeenAt,
      firstSeenAt: patch.firstSeenAt ?? before.firstSeenAt,
      orphanedAt: patch.orphanedAt === undefined ? before.orphanedAt : patch.orphanedAt,
    });
  }

  configVersion(workspaceId: string): number | undefined {
    return this.active ? this.configVersions.get(workspaceId) : undefined;
  }

  rememberConfigVersion(workspaceId: string, version: number): void {
    if (this.active) this.configVersions.set(workspaceId, version);
  }

  /** Trigger: an identity row was inserted, deleted or changed (old and new both reported). */
  identityChanged(scopeId: string, environment: string, type: string, value: string, mpid: string): void {
    this.holders.delete(valueKey(scopeId, environment, type, value));
    this.profiles.delete(mpid);
  }

  /**
   * Trigger: a profile row changed. Unless only its times changed (`sameKeys`), whether it is a
   * live holder in its namespace may have changed too, which the holder lists cannot be searched
   * for: they are all forgotten (deletions are rare).
   */
  profileChanged(mpid: string, sameKeys: boolean): void {
    this.profiles.delete(mpid);
    if (!sameKeys) this.holders.clear();
  }

  workspaceChanged(id: string): void {
    this.configVersions.delete(id);
  }

  private clear(): void {
    this.holders.clear();
    this.profiles.clear();
    this.configVersions.clear();
  }
}

const caches = new WeakMap<CachedSqlite, SqliteHotCache>();

/** The one cache of a connection (its triggers are per connection), created on first use. */
export function hotCacheOf(sqlite: CachedSqlite): SqliteHotCache {
  let cache = caches.get(sqlite);
  if (cache === undefined) {
    cache = new SqliteHotCache(sqlite);
    caches.set(sqlite, cache);
  }
  return cache;
}
