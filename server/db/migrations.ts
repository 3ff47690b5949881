/**
 * Forward-only, numbered migrations. Each runs once, in order, inside a transaction, and is
 * recorded in `schema_migrations`. A database that already has a version this server does not
 * know is refused rather than touched. Never edit a released migration: add the next number.
 * On PostgreSQL the routines the store calls are installed after the migrations (`installRoutines`).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { Dialect } from './connect.ts';
import { PG_ROUTINES } from './sql-statements.ts';

interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Kysely<Database>, dialect: Dialect): Promise<void>;
}

/** An auto-incrementing 64-bit sequence column (history order, request order, identity order). */
function sequenceType(dialect: Dialect) {
  return dialect === 'postgres' ? sql`bigserial` : sql`integer`;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'identity graph, requests, history, aliases, workspaces and credentials',
    async up(db, dialect) {
      const seq = sequenceType(dialect);
      const autoIncrement = dialect === 'sqlite';
      await db.schema
        .createTable('workspaces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('config_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('workspace_config_history')
        .addColumn('seq', seq, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('inputs')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_box', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('allow_key_only', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('admin_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('profiles')
        .addColumn('mpid', 'text', (c) => c.primaryKey())
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('orphaned_at', 'bigint')
        .addColumn('deleted_at', 'bigint')
        .execute();
      await db.schema
        .createTable('identities')
        .addColumn('id', seq, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('identity_type', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('mpid', 'text', (c) => c.notNull().references('profiles.mpid'))
        .addColumn('is_unique', 'integer', (c) => c.notNull())
        .addUniqueConstraint('identities_per_profile', ['mpid', 'identity_type', 'value'])
        .execute();
      await db.schema
        .createIndex('identities_lookup')
        .on('identities')
        .columns(['scope_id', 'environment', 'identity_type', 'value'])
        .execute();
      // The database itself guarantees that a unique identity value has one holder per namespace.
      await db.schema
        .createIndex('identities_unique_value')
        .unique()
        .on('identities')
        .columns(['scope_id', 'environment', 'identity_type', 'value'])
        .where(sql.ref('is_unique'), '=', 1)
        .execute();
      await db.schema
        .createTable('requests')
        .addColumn('seq', seq, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('mpids', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .addColumn('trace', 'text', (c) => c.notNull())
        .addUniqueConstraint('requests_by_id', ['scope_id', 'request_id'])
        .execute();
      await db.schema
        .createTable('request_profiles')
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('mpid', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('request_profiles_pk', ['mpid', 'scope_id', 'request_id'])
        .execute();
      await db.schema
        .createTable('history')
        .addColumn('seq', seq, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('mpid', 'text', (c) => c.notNull())
        .addColumn('identity_type', 'text')
        .addColumn('value', 'text')
        .addColumn('other_mpid', 'text')
        .addColumn('alias_id', 'text')
        .addColumn('request_id', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('history_by_profile').on('history').columns(['mpid', 'seq']).execute();
      await db.schema.createIndex('history_by_scope').on('history').columns(['scope_id', 'seq']).execute();
      await db.schema
        .createTable('aliases')
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('source_mpid', 'text', (c) => c.notNull())
        .addColumn('destination_mpid', 'text', (c) => c.notNull())
        .addColumn('start_ms', 'bigint', (c) => c.notNull())
        .addColumn('end_ms', 'bigint', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('device_application_stamp', 'text')
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('processed_at', 'bigint')
        .addColumn('previous_destination_first_seen_at', 'bigint')
        .addPrimaryKeyConstraint('aliases_pk', ['scope_id', 'id'])
        .execute();
      await db.schema
        .createIndex('aliases_due')
        .on('aliases')
        .columns(['scope_id', 'status', 'due_at'])
        .execute();
      await db.schema.createIndex('aliases_by_source').on('aliases').columns(['source_mpid']).execute();
      await db.schema
        .createIndex('aliases_by_destination')
        .on('aliases')
        .columns(['destination_mpid'])
        .execute();
    },
  },
  {
    version: 2,
    name: 'devices: registrations, replayed requests, views, supplied identities, change feed, events',
    async up(db, dialect) {
      const seq = sequenceType(dialect);
      const autoIncrement = dialect === 'sqlite';
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('input_key', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('das', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('next_seq', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('device_requests')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addColumn('resolved_body', 'text', (c) => c.notNull())
        .addColumn('provisional_mpid', 'text')
        .addColumn('canonical_mpid', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_requests_pk', ['device_id', 'seq'])
        .addUniqueConstraint('device_requests_by_id', ['device_id', 'request_id'])
        .execute();
      await db.schema
        .createIndex('device_requests_canonical')
        .on('device_requests')
        .columns(['canonical_mpid'])
        .execute();
      await db.schema
        .createIndex('device_requests_provisional')
        .on('device_requests')
        .columns(['device_id', 'provisional_mpid'])
        .execute();
      await db.schema
        .createTable('device_views')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('mpid', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_views_pk', ['device_id', 'mpid'])
        .execute();
      await db.schema.createIndex('device_views_by_profile').on('device_views').columns(['mpid']).execute();
      await db.schema
        .createTable('device_supplied')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('identity_type', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_supplied_pk', ['device_id', 'environment', 'identity_type', 'value'])
        .execute();
      await db.schema
        .createTable('change_log')
        .addColumn('seq', seq, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('change_log_by_device')
        .on('change_log')
        .columns(['device_id', 'kind', 'seq'])
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('events_pk', ['device_id', 'id'])
        .execute();
      await db.schema
        .createIndex('events_by_request')
        .on('events')
        .columns(['device_id', 'request_id'])
        .execute();
    },
  },
  {
    version: 3,
    name: 'inputs: sync-only keys (the app key opens the device sync API only)',
    async up(db) {
      await db.schema
        .alterTable('inputs')
        .addColumn('sync_only', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db
        .updateTable('inputs')
        .set({ sync_only: 1 })
        .where('name', '=', 'Field app')
        .where('allow_key_only', '=', 1)
        .execute();
    },
  },
  {
    version: 4,
    name: 'admin console: indexes for windowed stats and device request records',
    async up(db) {
      await db.schema.createIndex('requests_by_time').on('requests').columns(['scope_id', 'at']).execute();
      await db.schema
        .createIndex('history_by_kind_time')
        .on('history')
        .columns(['scope_id', 'kind', 'at'])
        .execute();
      await db.schema
        .createIndex('device_requests_by_status')
        .on('device_requests')
        .columns(['device_id', 'status', 'received_at'])
        .execute();
      await db.schema
        .createIndex('devices_by_workspace')
        .on('devices')
        .columns(['workspace_id', 'last_seen_at'])
        .execute();
    },
  },
  {
    version: 5,
    name: 'request log: every accepted request, compact, for what-if replay and the dashboard (LS-6)',
    async up(db, dialect) {
      const seq = sequenceType(dialect);
      const autoIncrement = dialect === 'sqlite';
      await db.schema
        .createTable('request_log')
        .addColumn('seq', seq, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text')
        .addColumn('device_seq', 'bigint')
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('body', 'text')
        .addColumn('mpid', 'text')
        .addColumn('created', 'integer', (c) => c.notNull())
        .addColumn('branch', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createIndex('request_log_by_scope')
        .on('request_log')
        .columns(['scope_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('request_log_by_time')
        .on('request_log')
        .columns(['scope_id', 'at'])
        .execute();
    },
  },
  {
    version: 6,
    name: 'stored requests that still keep their trace, by time, for trace retention (LS-10)',
    async up(db) {
      await db.schema
        .createIndex('requests_with_trace')
        .on('requests')
        .column('at')
        .where(sql.ref('trace'), '<>', 'null')
        .execute();
    },
  },
];

const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

class DatabaseTooNewError extends Error {
  override readonly name = 'DatabaseTooNewError';
  constructor(readonly found: number) {
    super(
      `the database is at schema version ${found}, newer than this server's ${SCHEMA_VERSION}; upgrade the server`,
    );
  }
}

/** Applies every pending migration; returns the versions applied. */
export async function migrate(db: Kysely<Database>, dialect: Dialect, now: () => number): Promise<number[]> {
  await db.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
  const applied = new Set(
    (await db.selectFrom('schema_migrations').select('version').execute()).map((r) => r.version),
  );
  const newest = Math.max(0, ...applied);
  if (newest > SCHEMA_VERSION) throw new DatabaseTooNewError(newest);
  const done: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await db.transaction().execute(async (trx) => {
      await migration.up(trx, dialect);
      await trx
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: now() })
        .execute();
    });
    done.push(migration.version);
  }
  if (dialect === 'postgres') await installRoutines(db);
  return done;
}

/**
 * Creates the PostgreSQL routines this server calls that the schema lacks (SPEC PG-7). A routine's
 * name is derived from its text, so servers of different versions each find their own; servers
 * starting together install them one at a time.
 */
async function installRoutines(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended('idsync routines', 0))`.execute(trx);
    for (const routine of PG_ROUTINES) {
      const found = await sql<{
        found: boolean;
      }>`select to_regprocedure(${routine.signature}) is not null as found`.execute(trx);
      if (found.rows[0]?.found !== true) await sql.raw(routine.create).execute(trx);
    }
  });
}
