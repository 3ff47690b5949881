/**
 * The store's SQL, defined with Kysely and compiled once per dialect (and per list length for
 * queries with IN lists or UNIONs). Building and compiling a Kysely query costs far more than
 * running a prepared SQLite statement, so the hot path binds parameters to these precompiled
 * texts in the order noted beside each one.
 *
 * Statements are yielded by `SqlRun` generators and executed by a synchronous runner (SQLite,
 * better-sqlite3) or an asynchronous one (PostgreSQL, pg): the store logic is written once.
 * PostgreSQL runs every text here as a named prepared statement (`preparedName`), parsed and
 * planned once per connection (SPEC PG-1).
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Dialect } from './connect.ts';
import type { Database } from './schema.ts';

export interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  /**
   * `rows` returns the selected rows and never writes; `write-rows` writes and returns rows
   * (`INSERT … RETURNING`); `run` returns the number of changed rows; `lock` (PostgreSQL only)
   * takes the advisory locks named by `parameters[0]` that the transaction does not hold yet and
   * returns how many it took (0 without a round trip when it holds them all). SQLite opens a
   * program's savepoint before its first `run` or `write-rows` (`writes`).
   */
  readonly kind: 'rows' | 'write-rows' | 'run' | 'lock';
}

/** Whether a statement may change the database (SQLite opens the program's savepoint before it). */
export function writes(statement: Statement): boolean {
  return statement.kind === 'run' || statement.kind === 'write-rows';
}

/** Whether a statement answers with rows (the others answer with a count). */
export function returnsRows(statement: Statement): boolean {
  return statement.kind === 'rows' || statement.kind === 'write-rows';
}

export type SqlRun<R> = Generator<Statement, R, unknown>;

export function* rows<T>(sql: string, parameters: readonly unknown[]): SqlRun<T[]> {
  return (yield { sql, parameters, kind: 'rows' }) as T[];
}

/** A statement that writes and answers with rows (`INSERT … RETURNING`). */
export function* writeRows<T>(sql: string, parameters: readonly unknown[]): SqlRun<T[]> {
  return (yield { sql, parameters, kind: 'write-rows' }) as T[];
}

export function* run(sql: string, parameters: readonly unknown[]): SqlRun<number> {
  return (yield { sql, parameters, kind: 'run' }) as number;
}

/** Takes these advisory lock keys (PostgreSQL); how many of them were not held before. */
export function* lock(sql: string, keys: readonly string[]): SqlRun<number> {
  return (yield { sql, parameters: [keys], kind: 'lock' }) as number;
}

const preparedNames = new Map<string, string>();

/** `prefix_` and the first `length` hex digits of the text's sha1: one name per text, on every server. */
function hashedName(prefix: string, text: string, length: number): string {
  return `${prefix}_${createHash('sha1').update(text).digest('hex').slice(0, length)}`;
}

/**
 * The name a statement text is prepared under on PostgreSQL: derived from the text, so one name
 * never stands for two texts on a connection, and every server gives a text the same name.
 */
export function preparedName(sqlText: string): string {
  let name = preparedNames.get(sqlText);
  if (name === undefined) {
    name = hashedName('ids', sqlText, 20);
    preparedNames.set(sqlText, name);
  }
  return name;
}

const P = '';

/** PostgreSQL: takes the advisory locks of the keys in the text[] parameter `keys`, in hash order; one row. */
const advisoryLocks = (keys: string) =>
  `select count(pg_advisory_xact_lock(h)) as taken from (select distinct hashtextextended(k, 0) as h from unnest(${keys}::text[]) as k order by h) as l`;

/**
 * PostgreSQL only: the advisory locks in hash order, then the workspace's config version read
 * FOR SHARE (a config change waits for this transaction; one that committed first is seen).
 * (keys[], workspaceId) → config_version (no row without the workspace)
 */
const LOCK_AND_CONFIG_VERSION = `select w.config_version from (${advisoryLocks('$1')}) as locks, workspaces as w where w.id = $2 for share of w`;

/**
 * PostgreSQL only: what `loadProfiles` reads, as CTEs over the expressions given for (scopeId,
 * environment, identityTypes[], values[], mpids[]) ending in `snapshot`: the MPIDs that hold any of the identity
 * values (with the id of the first value each holds), the MPIDs asked for, the live profiles of
 * the namespace among them with their identities, and the workspace's config version. One row per
 * identity (at least one row). Every row is found by key: each value on its own through
 * `identities_lookup` (SPEC PG-8), each wanted profile through its primary key and its identities
 * through `identities_per_profile` (PG-9). `offset 0` keeps each lookup a lookup: without it the
 * planner may turn them into one scan of the workspace's identities or profiles, which it chose
 * while the table's statistics said it was small, and which a generic plan keeps.
 */
const snapshotCtes = (
  scopeId: string,
  environment: string,
  types: string,
  values: string,
  mpids: string,
) => `with holders as (
  select i.mpid, min(i.id) as first
  from unnest(${types}::text[], ${values}::text[]) as k(t, v)
  cross join lateral (
    select id, mpid from identities
    where scope_id = ${scopeId} and environment = ${environment} and identity_type = k.t and value = k.v
    offset 0
  ) as i
  group by i.mpid
), wanted as (
  select mpid, min(first) as first
  from (select mpid, first from holders union all select m, null from unnest(${mpids}::text[]) as m) as w
  group by mpid
), snapshot as (
  select (select config_version from workspaces where id = ${scopeId}) as config_version,
    w.mpid as wanted, w.first as holder_seq,
    p.mpid, p.scope_id, p.environment, p.created_at, p.first_seen_at, p.last_seen_at, p.orphaned_at, p.deleted_at,
    i.id as identity_id, i.identity_type, i.value
  from (select 1) as one
  left join wanted as w on true
  left join lateral (
    select mpid, scope_id, environment, created_at, first_seen_at, last_seen_at, orphaned_at, deleted_at
    from profiles
    where mpid = w.mpid and deleted_at is null and scope_id = ${scopeId} and environment = ${environment}
    offset 0
  ) as p on true
  left join lateral (select id, identity_type, value from identities where mpid = p.mpid offset 0) as i on true
)`;

/**
 * PL/pgSQL for the routines whose entries are reads (PG-7, PG-14), given as (scopeIds[],
 * environments[], identity counts[], identityTypes[], values[], mpid counts[], mpids[]) in their
 * first seven parameters: the variables of one entry's read, and (inside `for e_n in …`) entry
 * `e_n` sliced out of those arrays into them, for `snapshotCtes` over the variables.
 */
const READ_ENTRY_VARIABLES = `  e_scope text;
  e_environment text;
  e_types text[];
  e_values text[];
  e_mpids text[];
  e_identity integer := 1;
  e_mpid integer := 1;`;
const READ_ENTRY_SLICE = `    e_scope := $1[e_n];
    e_environment := $2[e_n];
    e_types := $4[e_identity : e_identity + $3[e_n] - 1];
    e_values := $5[e_identity : e_identity + $3[e_n] - 1];
    e_identity := e_identity + $3[e_n];
    e_mpids := $7[e_mpid : e_mpid + $6[e_n] - 1];
    e_mpid := e_mpid + $6[e_n];`;

/** A digest of every row of `snapshot` in a total order: equal digests, equal reads (SPEC PG-7). */
const SNAPSHOT_DIGEST = `(select md5(string_agg(d::text, ',' order by d.identity_id, d.wanted)) from snapshot as d)`;

/**
 * How the routines plan their statements (SPEC PG-9): once per connection, with generic plans
 * (PL/pgSQL, like a prepared statement sent by node-postgres, would otherwise plan a statement
 * again on every call whenever a plan for the given values looks cheaper: 0.8 ms against 0.2 ms
 * for the snapshot), and never with a sequential scan, so that a plan made while a table was small
 * or had no statistics still finds rows by key once the table has grown. Every table access of
 * the routines is a key lookup.
 */
const ROUTINE_PLANNING = 'set plan_cache_mode = force_generic_plan set enable_seqscan = off';

/** A PostgreSQL routine: its name, its full signature (to find it) and the statement that creates it. */
export interface PgRoutine {
  readonly name: string;
  readonly signature: string;
  readonly create: string;
}

/**
 * A routine named `prefix_` and a hash of everything that defines it after its name, so a change
 * to any part gives it a new name and a server only ever calls the routine its own code defines.
 */
function pgRoutine(prefix: string, parameters: string, definition: string): PgRoutine {
  const rest = `${parameters} ${definition}`;
  const name = hashedName(prefix, rest, 16);
  return { name, signature: name + parameters, create: `create or replace function ${name}${rest}` };
}

/**
 * PostgreSQL only: what `loadProfiles` reads, for a batch of reads in one statement (SPEC PG-14):
 * for each entry in turn its `snapshotCtes` (one snapshot for the whole call: the routine is
 * `stable`, so every query in it reads with the snapshot of the statement that calls it), rows in
 * the order identities were added, each tagged with its entry (from 1) and carrying the digest of
 * its entry's whole read (PG-7). A routine, so that its plans are made once per connection
 * (`ROUTINE_PLANNING`, PG-9). Entries are given as arrays, lists flattened with a count per entry:
 * (scopeIds[], environments[], identity counts[], identityTypes[], values[], mpid counts[], mpids[])
 */
const PROFILES_SNAPSHOT_ROUTINE = pgRoutine(
  'idsync_profiles_snapshot',
  '(text[], text[], integer[], text[], text[], integer[], text[])',
  `returns table (entry integer, config_version integer, wanted text, holder_seq bigint, mpid text,
  scope_id text, environment text, created_at bigint, first_seen_at bigint, last_seen_at bigint,
  orphaned_at bigint, deleted_at bigint, identity_id bigint, identity_type text, value text, digest text)
language plpgsql stable ${ROUTINE_PLANNING} as $routine$
#variable_conflict use_column
declare
${READ_ENTRY_VARIABLES}
begin
  for e_n in 1 .. coalesce(array_length($1, 1), 0) loop
${READ_ENTRY_SLICE}
    return query ${snapshotCtes('e_scope', 'e_environment', 'e_types', 'e_values', 'e_mpids')}
    select e_n, s.*, ${SNAPSHOT_DIGEST} from snapshot as s order by s.identity_id;
  end loop;
end
$routine$`,
);

/**
 * PostgreSQL only: the routine that writes the last-seen times of a batch of returning users'
 * identifies in one statement (SPEC PG-7, PG-10). Run outside a transaction, it is one: it takes
 * the advisory locks the write transactions of all its entries would take, in one hash order (so
 * two batches never wait for each other in a cycle), reads their workspace rows FOR SHARE, then
 * for each entry in turn reads its `snapshot` again (after the locks, and after the entries before
 * it wrote) and writes its last-seen times only when the digest is the one its read-only attempt
 * saw; the digest carries the workspace's config version, so an equal digest also means the
 * config the entry ran with. It answers, per entry, whether it wrote. It commits without waiting
 * for its WAL to reach the disk: a crash of PostgreSQL may lose the last fraction of a second of
 * last-seen times, never a change to the graph. It plans its statements once, looking every row up
 * by key (`ROUTINE_PLANNING`); each touched MPID appears once in an entry's touched MPIDs.
 * Entries are given as arrays, one element per entry, or flattened with a count per entry:
 * (scopeIds[], environments[], identity counts[], identityTypes[], values[], mpid counts[],
 *  mpids[], keys[] (all entries'), digests[], touched counts[], touched mpids[], last-seen times[])
 */
const TOUCH_LAST_SEEN_ROUTINE = pgRoutine(
  'idsync_touch_last_seen_batch',
  '(text[], text[], integer[], text[], text[], integer[], text[], text[], text[], integer[], text[], bigint[])',
  `returns boolean[] language plpgsql volatile ${ROUTINE_PLANNING} as $routine$
declare
  e_written boolean[] := '{}';
${READ_ENTRY_VARIABLES}
  e_touched text[];
  e_times bigint[];
  e_touch integer := 1;
begin
  perform set_config('synchronous_commit', 'off', true);
  perform (${advisoryLocks('$8')});
  perform 1 from workspaces as w where w.id = any($1) for share of w;
  for e_n in 1 .. coalesce(array_length($1, 1), 0) loop
${READ_ENTRY_SLICE}
    e_touched := $11[e_touch : e_touch + $10[e_n] - 1];
    e_times := $12[e_touch : e_touch + $10[e_n] - 1];
    e_touch := e_touch + $10[e_n];
    if (${snapshotCtes('e_scope', 'e_environment', 'e_types', 'e_values', 'e_mpids')} select ${SNAPSHOT_DIGEST}) is not distinct from $9[e_n] then
      update profiles as p set last_seen_at = e_times[array_position(e_touched, p.mpid)] where p.mpid = any(e_touched);
      e_written := e_written || true;
    else
      e_written := e_written || false;
    end if;
  end loop;
  return e_written;
end
$routine$`,
);

/** PostgreSQL only: the routines the store calls, created (if missing) when the database is opened. */
export const PG_ROUTINES: readonly PgRoutine[] = [PROFILES_SNAPSHOT_ROUTINE, TOUCH_LAST_SEEN_ROUTINE];

/** The statements whose text never changes, compiled once. */
function fixedTexts(db: Kysely<Database>, dialect: Dialect) {
  return {
    /** (scopeId, requestId) */
    getRequest: db
      .selectFrom('requests')
      .selectAll()
      .where('scope_id', '=', P)
      .where('request_id', '=', P)
      .compile().sql,
    /** (mpid) */
    mpidTaken: db.selectFrom('profiles').select('mpid').where('mpid', '=', P).compile().sql,
    /** (scopeId, now, limit); PostgreSQL claims the rows with FOR UPDATE SKIP LOCKED */
    dueAliases: (() => {
      const query = db
        .selectFrom('aliases')
        .selectAll()
        .where('scope_id', '=', P)
        .where('status', '=', 'pending')
        .where('due_at', '<=', 0)
        .orderBy('requested_at')
        .orderBy('id')
        .limit(1);
      return (dialect === 'postgres' ? query.forUpdate().skipLocked() : query).compile().sql;
    })(),
    /** (scopeId, aliasId) */
    getAlias: db.selectFrom('aliases').selectAll().where('scope_id', '=', P).where('id', '=', P).compile()
      .sql,
    /** (mpid, scopeId, environment, createdAt, firstSeenAt, lastSeenAt, orphanedAt) */
    insertProfile: db
      .insertInto('profiles')
      .values({
        mpid: P,
        scope_id: P,
        environment: P,
        created_at: 0,
        first_seen_at: 0,
        last_seen_at: 0,
        orphaned_at: 0,
        deleted_at: null,
      })
      .compile().sql,
    /** (scopeId, environment, identityType, value, mpid, isUnique) */
    insertIdentity: db
      .insertInto('identities')
      .values({ scope_id: P, environment: P, identity_type: P, value: P, mpid: P, is_unique: 0 })
      .compile().sql,
    /** (identityType, value, isUnique, mpid): a no-op when the profile already holds the value */
    addIdentity: db
      .insertInto('identities')
      .columns(['scope_id', 'environment', 'identity_type', 'value', 'mpid', 'is_unique'])
      .expression((eb) =>
        eb
          .selectFrom('profiles')
          .select([
            'scope_id',
            'environment',
            eb.val(P).as('identity_type'),
            eb.val(P).as('value'),
            'mpid',
            eb.val(0).as('is_unique'),
          ])
          .where('mpid', '=', P),
      )
      .onConflict((oc) => oc.columns(['mpid', 'identity_type', 'value']).doNothing())
      .compile().sql,
    /** (mpid, identityType, value) */
    removeIdentity: db
      .deleteFrom('identities')
      .where('mpid', '=', P)
      .where('identity_type', '=', P)
      .where('value', '=', P)
      .compile().sql,
    /** the 15 alias columns in schema order, twice (insert, then update on conflict) */
    upsertAlias: (() => {
      const row = {
        scope_id: P,
        id: P,
        environment: P,
        source_mpid: P,
        destination_mpid: P,
        start_ms: 0,
        end_ms: 0,
        scope: P,
        device_application_stamp: P,
        requested_at: 0,
        due_at: 0,
        status: P,
        status_reason: P,
        processed_at: 0,
        previous_destination_first_seen_at: 0,
      };
      return db
        .insertInto('aliases')
        .values(row)
        .onConflict((oc) => oc.columns(['scope_id', 'id']).doUpdateSet(row))
        .compile().sql;
    })(),
    /** (scopeId, requestId, kind, environment, fingerprint, at, actor, mpids, status, response, trace) */
    insertRequest: db
      .insertInto('requests')
      .values({
        scope_id: P,
        request_id: P,
        kind: P,
        environment: P,
        fingerprint: P,
        at: 0,
        actor: P,
        mpids: P,
        status: 0,
        response: P,
        trace: P,
      })
      .compile().sql,
    /** (workspaceId); SQLite (PostgreSQL checks the version with `lockAndConfigVersion`) */
    configVersion: db.selectFrom('workspaces').select('config_version').where('id', '=', P).compile().sql,
    lockAndConfigVersion: LOCK_AND_CONFIG_VERSION,
    /** PostgreSQL only: the `PROFILES_SNAPSHOT_ROUTINE` call, (7 parameters as there, `snapshotParameters`) */
    profilesSnapshot: `select * from ${PROFILES_SNAPSHOT_ROUTINE.name}($1, $2, $3, $4, $5, $6, $7)`,
    /**
     * (before, limit) → rows changed: drops the explain trace of up to `limit` stored requests
     * answered before `before`, oldest first (LS-10; served by the partial index `requests_with_trace`)
     */
    expireTraces: `update requests set trace = 'null' where seq in (select seq from requests where trace <> 'null' and at < ${dialect === 'postgres' ? '$1' : '?'} order by at limit ${dialect === 'postgres' ? '$2' : '?'})`,
    /** PostgreSQL only: the touch routine's call, (12 parameters as there) → touched (one boolean per entry) */
    touchLastSeen: `select ${TOUCH_LAST_SEEN_ROUTINE.name}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) as touched`,
    /** (workspaceId) */
    config: db.selectFrom('workspaces').select(['config', 'config_version']).where('id', '=', P).compile()
      .sql,
    /** PostgreSQL only: (keys[]) transaction-scoped advisory locks, taken in hash order */
    lock: 'select pg_advisory_xact_lock(h) from (select distinct hashtextextended(k, 0) as h from unnest($1::text[]) as k order by h) as locks',
    /** (scopeId, mpid) → environment of a live profile */
    liveProfile: db
      .selectFrom('profiles')
      .select('environment')
      .where('scope_id', '=', P)
      .where('mpid', '=', P)
      .where('deleted_at', 'is', null)
      .compile().sql,
    /** (mpid) */
    deleteIdentitiesOf: db.deleteFrom('identities').where('mpid', '=', P).compile().sql,
    /** (deletedAt, mpid) */
    markDeleted: db.updateTable('profiles').set({ deleted_at: 0 }).where('mpid', '=', P).compile().sql,
    /** (mpid) */
    scrubHistory: db.updateTable('history').set({ value: null }).where('mpid', '=', P).compile().sql,
    /** (scopeId, mpid) → request_id */
    requestsOf: db
      .selectFrom('request_profiles')
      .select('request_id')
      .where('scope_id', '=', P)
      .where('mpid', '=', P)
      .compile().sql,
  };
}

/**
 * A device's stored requests with the trace the identity store keeps for each (`kept_trace`: its
 * `requests` row in the device's workspace), which the stored result then leaves out (DR-8).
 */
function withKeptTrace(db: Kysely<Database>) {
  return db
    .selectFrom('device_requests as r')
    .innerJoin('devices as d', 'd.id', 'r.device_id')
    .leftJoin('requests as q', (join) =>
      join.onRef('q.scope_id', '=', 'd.workspace_id').onRef('q.request_id', '=', 'r.request_id'),
    )
    .selectAll('r')
    .select('q.trace as kept_trace');
}

/** The device replication statements, compiled once. */
function deviceTexts(db: Kysely<Database>, dialect: Dialect) {
  return {
    /** (deviceId) */
    deviceById: db.selectFrom('devices').selectAll().where('id', '=', P).compile().sql,
    /** (deviceId, seq), with the trace the identity store keeps (`kept_trace`, DR-8) */
    deviceRequestAt: withKeptTrace(db).where('r.device_id', '=', P).where('r.seq', '=', 0).compile().sql,
    /** (deviceId); PostgreSQL locks the device row */
    deviceNextSeq: (() => {
      const query = db.selectFrom('devices').select('next_seq').where('id', '=', P);
      return (dialect === 'postgres' ? query.forUpdate() : query).compile().sql;
    })(),
    /** (deviceId, provisionalMpid, limit 1) */
    /** (deviceId, provisionalMpid, 1): the server's answer to the request that first answered the MPID */
    firstAnswerWith: db
      .selectFrom('device_requests')
      .select('canonical_mpid')
      .where('device_id', '=', P)
      .where('provisional_mpid', '=', P)
      .orderBy('seq', 'asc')
      .limit(1)
      .compile().sql,
    /**
     * (deviceId, 'identify', 'login', 'logout', 1): the device's latest identity request, as
     * answered on the device and by the server
     */
    lastIdentityAnswer: db
      .selectFrom('device_requests')
      .select(['provisional_mpid', 'canonical_mpid'])
      .where('device_id', '=', P)
      .where('kind', 'in', ['identify', 'login', 'logout'])
      .orderBy('seq', 'desc')
      .limit(1)
      .compile().sql,
    /** (deviceId, seq, requestId, kind, doc, resolvedBody, provisionalMpid, canonicalMpid, status, result, receivedAt) */
    insertDeviceRequest: db
      .insertInto('device_requests')
      .values({
        device_id: P,
        seq: 0,
        request_id: P,
        kind: P,
        doc: P,
        resolved_body: P,
        provisional_mpid: P,
        canonical_mpid: P,
        status: P,
        result: P,
        received_at: 0,
      })
      .compile().sql,
    /** (nextSeq, lastSeenAt, deviceId) */
    advanceDevice: db
      .updateTable('devices')
      .set({ next_seq: 0, last_seen_at: 0 })
      .where('id', '=', P)
      .compile().sql,
    /** (deviceId, mpid) → a row when the device views the profile (its requests resolved to it) */
    viewOf: db
      .selectFrom('device_views')
      .select('mpid')
      .where('device_id', '=', P)
      .where('mpid', '=', P)
      .compile().sql,
    /** (canonicalMpid) */
    requestsResolvedTo: db
      .selectFrom('device_requests')
      .select(['device_id', 'seq', 'request_id', 'doc'])
      .where('canonical_mpid', '=', P)
      .compile().sql,
    /** (deviceId, requestId) */
    deleteEventsOf: db.deleteFrom('events').where('device_id', '=', P).where('request_id', '=', P).compile()
      .sql,
    /** (doc, resolvedBody, deviceId, seq) */
    scrubRequest: db
      .updateTable('device_requests')
      .set({ doc: P, resolved_body: P })
      .where('device_id', '=', P)
      .where('seq', '=', 0)
      .compile().sql,
    /**
     * (deviceId, 'request', afterRequests, limit, deviceId, 'profile', afterProfiles, limit): both
     * feeds of a device in one statement, each in seq order
     */
    pullFeeds: (() => {
      const feed = (alias: 'r' | 'p') =>
        db
          .selectFrom(
            db
              .selectFrom('change_log')
              .select(['kind', 'seq', 'key'])
              .where('device_id', '=', P)
              .where('kind', '=', P)
              .where('seq', '>', 0)
              .orderBy('seq')
              .limit(1)
              .as(alias),
          )
          .selectAll();
      return feed('r').unionAll(feed('p')).compile().sql;
    })(),
    /** (deviceId, kind, afterSeq, limit) */
    pullFeed: db
      .selectFrom('change_log')
      .select(['seq', 'key'])
      .where('device_id', '=', P)
      .where('kind', '=', P)
      .where('seq', '>', 0)
      .orderBy('seq')
      .limit(1)
      .compile().sql,
  };
}

/** Compiled SQL texts for one dialect. */
export class SqlTexts {
  readonly fixed: ReturnType<typeof fixedTexts>;
  readonly device: ReturnType<typeof deviceTexts>;
  private readonly byArity = new Map<string, string>();

  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {
    this.fixed = fixedTexts(db, dialect);
    this.device = deviceTexts(db, dialect);
  }

  private cached(name: string, n: number, build: (n: number) => { compile(): { sql: string } }): string {
    const key = `${name}/${n}`;
    let text = this.byArity.get(key);
    if (text === undefined) {
      text = build(n).compile().sql;
      this.byArity.set(key, text);
    }
    return text;
  }

  private readonly list = (n: number) => Array.from({ length: n }, () => P);

  /** n × mpid, scopeId, environment */
  profiles(n: number): string {
    return this.cached('profiles', n, (count) =>
      this.db
        .selectFrom('profiles')
        .selectAll()
        .where('mpid', 'in', this.list(count))
        .where('deleted_at', 'is', null)
        .where('scope_id', '=', P)
        .where('environment', '=', P),
    );
  }

  /**
   * SQLite: what `loadProfiles` reads, in one statement (SPEC HP-1): the live profiles of the
   * namespace that hold one of the `n` values or have one of the `m` MPIDs, each with its
   * identities in the order added (`identity_id`; one row with null identity columns for a profile
   * without any). (n × (scopeId, environment, identityType, value), m × mpid, scopeId, environment)
   */
  liveProfilesOf(n: number, m: number): string {
    const key = `liveProfilesOf/${n}/${m}`;
    let text = this.byArity.get(key);
    if (text === undefined) {
      const wanted = [
        ...Array.from(
          { length: n },
          () =>
            'select mpid from identities where scope_id = ? and environment = ? and identity_type = ? and value = ?',
        ),
        ...Array.from({ length: m }, () => 'select ?'),
      ].join(' union all ');
      text =
        'select p.*, i.id as identity_id, i.identity_type, i.value from profiles as p' +
        ' left join identities as i on i.mpid = p.mpid' +
        ` where p.mpid in (${wanted}) and p.deleted_at is null and p.scope_id = ? and p.environment = ?` +
        ' order by i.id';
      this.byArity.set(key, text);
    }
    return text;
  }

  /** n × mpid */
  identitiesOf(n: number): string {
    return this.cached('identitiesOf', n, (count) =>
      this.db
        .selectFrom('identities')
        .select(['mpid', 'identity_type', 'value'])
        .where('mpid', 'in', this.list(count))
        .orderBy('id'),
    );
  }

  /** scopeId, environment, n × mpid, n × mpid */
  aliasesOf(n: number): string {
    return this.cached('aliasesOf', n, (count) =>
      this.db
        .selectFrom('aliases')
        .selectAll()
        .where('scope_id', '=', P)
        .where('environment', '=', P)
        .where((eb) =>
          eb.or([eb('source_mpid', 'in', this.list(count)), eb('destination_mpid', 'in', this.list(count))]),
        )
        .orderBy('requested_at')
        .orderBy('id'),
    );
  }

  /** the patched columns in the order last_seen_at, first_seen_at, orphaned_at (those present), then mpid */
  updateProfile(columns: readonly ('last_seen_at' | 'first_seen_at' | 'orphaned_at')[]): string {
    return this.cached(`updateProfile:${columns.join(',')}`, 0, () =>
      this.db
        .updateTable('profiles')
        .set(Object.fromEntries(columns.map((c) => [c, 0])))
        .where('mpid', '=', P),
    );
  }

  /** n × (at, scopeId, environment, kind, mpid, identityType, value, otherMpid, aliasId, requestId, actor, reason) */
  insertHistory(n: number): string {
    return this.cached('insertHistory', n, (count) =>
      this.db.insertInto('history').values(
        Array.from({ length: count }, () => ({
          at: 0,
          scope_id: P,
          environment: P,
          kind: P,
          mpid: P,
          identity_type: P,
          value: P,
          other_mpid: P,
          alias_id: P,
          request_id: P,
          actor: P,
          reason: P,
        })),
      ),
    );
  }

  /** n × (scopeId, requestId, mpid) */
  insertRequestProfiles(n: number): string {
    return this.cached('insertRequestProfiles', n, (count) =>
      this.db
        .insertInto('request_profiles')
        .values(Array.from({ length: count }, () => ({ scope_id: P, request_id: P, mpid: P }))),
    );
  }

  /** scopeId, n × requestId */
  deleteRequestProfiles(n: number): string {
    return this.cached('deleteRequestProfiles', n, (count) =>
      this.db
        .deleteFrom('request_profiles')
        .where('scope_id', '=', P)
        .where('request_id', 'in', this.list(count)),
    );
  }

  /** deviceId, n × requestId */
  deviceRequestsById(n: number): string {
    return this.cached('deviceRequestsById', n, (count) =>
      withKeptTrace(this.db).where('r.device_id', '=', P).where('r.request_id', 'in', this.list(count)),
    );
  }

  /** n × mpid: profiles in any state (deleted ones too) */
  anyProfiles(n: number): string {
    return this.cached('anyProfiles', n, (count) =>
      this.db.selectFrom('profiles').selectAll().where('mpid', 'in', this.list(count)),
    );
  }

  /** deviceId, n × mpid: the identities of these profiles that the device supplied itself */
  suppliedIdentitiesOf(n: number): string {
    return this.cached('suppliedIdentitiesOf', n, (count) =>
      this.db
        .selectFrom('identities as i')
        .innerJoin('device_supplied as s', (join) =>
          join
            .onRef('s.environment', '=', 'i.environment')
            .onRef('s.identity_type', '=', 'i.identity_type')
            .onRef('s.value', '=', 'i.value'),
        )
        .select(['i.mpid', 'i.identity_type', 'i.value'])
        .where('s.device_id', '=', P)
        .where('i.mpid', 'in', this.list(count))
        .orderBy('i.id'),
    );
  }

  /** n × (deviceId, mpid) → the mpids the device did not view before */
  insertViews(n: number): string {
    return this.cached('insertViews', n, (count) =>
      this.db
        .insertInto('device_views')
        .values(Array.from({ length: count }, () => ({ device_id: P, mpid: P })))
        .onConflict((oc) => oc.columns(['device_id', 'mpid']).doNothing())
        .returning('mpid'),
    );
  }

  /**
   * n × (deviceId, environment, identityType, value) → those the device had not supplied before
   * (environment, identity_type, value)
   */
  insertSupplied(n: number): string {
    return this.cached('insertSupplied', n, (count) =>
      this.db
        .insertInto('device_supplied')
        .values(
          Array.from({ length: count }, () => ({ device_id: P, environment: P, identity_type: P, value: P })),
        )
        .onConflict((oc) => oc.columns(['device_id', 'environment', 'identity_type', 'value']).doNothing())
        .returning(['environment', 'identity_type', 'value']),
    );
  }

  /**
   * ('profile', deviceId, n × (environment, identityType, value)): feed a profile change for every
   * profile the device views that holds one of the values (its projection now shows it)
   */
  feedViewsHolding(n: number): string {
    return this.cached('feedViewsHolding', n, (count) =>
      this.db
        .insertInto('change_log')
        .columns(['device_id', 'kind', 'key'])
        .expression((eb) =>
          eb
            .selectFrom('device_views as v')
            .innerJoin('identities as i', 'i.mpid', 'v.mpid')
            .select(['v.device_id', eb.val(P).as('kind'), 'v.mpid'])
            .where('v.device_id', '=', P)
            .where((w) =>
              w.or(
                Array.from({ length: count }, () =>
                  w.and([w('i.environment', '=', P), w('i.identity_type', '=', P), w('i.value', '=', P)]),
                ),
              ),
            ),
        ),
    );
  }

  /** n × (deviceId, id, requestId, type, name, data, at, receivedAt); duplicates are ignored */
  insertEvents(n: number): string {
    return this.cached('insertEvents', n, (count) =>
      this.db
        .insertInto('events')
        .values(
          Array.from({ length: count }, () => ({
            device_id: P,
            id: P,
            request_id: P,
            type: P,
            name: P,
            data: P,
            at: 0,
            received_at: 0,
          })),
        )
        .onConflict((oc) => oc.columns(['device_id', 'id']).doNothing()),
    );
  }

  /** n × (deviceId, kind, key): change-feed entries, in this order */
  feedRows(n: number): string {
    return this.cached('feedRows', n, (count) =>
      this.db
        .insertInto('change_log')
        .values(Array.from({ length: count }, () => ({ device_id: P, kind: P, key: P }))),
    );
  }

  /** n × mpid: feed a profile change to every device that views one of these profiles */
  feedProfileChanges(n: number): string {
    return this.cached('feedProfileChanges', n, (count) =>
      this.db
        .insertInto('change_log')
        .columns(['device_id', 'kind', 'key'])
        .expression((eb) =>
          eb
            .selectFrom('device_views')
            .select(['device_id', eb.val('profile').as('kind'), 'mpid'])
            .where('mpid', 'in', this.list(count)),
        ),
    );
  }

  /** scopeId, n × requestId */
  deleteRequests(n: number): string {
    return this.cached('deleteRequests', n, (count) =>
      this.db.deleteFrom('requests').where('scope_id', '=', P).where('request_id', 'in', this.list(count)),
    );
  }
}
