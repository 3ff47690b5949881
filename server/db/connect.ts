/**
 * Opening the database: an embedded SQLite file (the default; a data folder is created on first
 * start; WAL mode) or PostgreSQL via a connection URL. Both come back as one Kysely instance plus
 * the dialect, migrated to the current schema.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { Checkpointer } from './checkpointer.ts';
import { migrate } from './migrations.ts';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

interface HandleBase {
  readonly db: Kysely<Database>;
  /** Where the data lives, for logs: a file path, ":memory:" or the URL without its password. */
  readonly location: string;
  close(): Promise<void>;
}

/** SQLite also exposes its connection (with cached statements) for synchronous transactions. */
export type DatabaseHandle =
  | (HandleBase & { readonly dialect: 'sqlite'; readonly sqlite: CachedSqlite })
  | (HandleBase & { readonly dialect: 'postgres'; readonly pool: pg.Pool });

/**
 * The better-sqlite3 connection with a statement cache: `prepare` compiles each SQL text once.
 * Every statement the server runs goes through `prepare` (once per execution) or `exec`, so
 * `statements` counts them (SPEC DR-1: exposed at /metrics as `idsync_sql_statements_total`).
 */
export interface CachedSqlite extends SqliteDatabase {
  readonly raw: BetterSqlite3.Database;
  prepare(sqlText: string): BetterSqlite3.Statement & SqliteStatement;
  /** Runs a statement without parameters or rows (transaction control). */
  exec(sqlText: string): void;
  /** Statements prepared for execution or executed so far on this connection. */
  readonly statements: number;
}

// int8 columns (times, sequence numbers) are safe integers: read them as numbers, not strings.
pg.types.setTypeParser(20, (value: string) => Number(value));

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares per query. Caching the
 * compiled statements by SQL text removes that cost from every request.
 */
function withStatementCache(database: BetterSqlite3.Database, limit = 500): CachedSqlite {
  const cache = new Map<string, BetterSqlite3.Statement & SqliteStatement>();
  let statements = 0;
  return {
    raw: database,
    close: () => database.close(),
    get statements() {
      return statements;
    },
    exec(sqlText: string) {
      statements++;
      database.exec(sqlText);
    },
    prepare(sqlText: string) {
      statements++;
      let statement = cache.get(sqlText);
      if (statement === undefined) {
        statement = database.prepare(sqlText);
        if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
        cache.set(sqlText, statement);
      }
      return statement;
    },
  };
}

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//.test(target);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export interface OpenOptions {
  /** A SQLite file path, ":memory:", or a postgres:// URL. */
  readonly target: string;
  readonly now?: () => number;
  /** PostgreSQL only: the schema to use (tests isolate themselves in a schema of their own). */
  readonly searchPath?: string;
  /** PostgreSQL only: connections in the pool; `defaultPgPoolSize()` when unset. */
  readonly poolSize?: number | undefined;
}

/**
 * The PostgreSQL pool's size unless the operator sets one: two connections per CPU core of this
 * machine (one running while another waits on the network or a lock), at least 4 so that the
 * background work (request log, alias worker, touch batches) always finds one beside requests.
 * A pool far above the cores that run the queries only adds backends that wait and switch.
 */
export function defaultPgPoolSize(): number {
  return Math.max(4, 2 * availableParallelism());
}

/**
 * Creates the SQLite file readable by this user alone (identity values are personal data) before
 * SQLite opens it; SQLite gives its WAL and shared-memory files the database file's mode. An
 * existing file keeps the mode its operator gave it.
 */
function createPrivateFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  const now = options.now ?? Date.now;
  if (isPostgresUrl(options.target)) {
    const pool = new pg.Pool({
      connectionString: options.target,
      max: options.poolSize ?? defaultPgPoolSize(),
      ...(options.searchPath === undefined ? {} : { options: `-c search_path=${options.searchPath}` }),
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const handle: DatabaseHandle = {
      db,
      dialect: 'postgres',
      pool,
      location: redact(options.target),
      close: () => db.destroy(),
    };
    try {
      await migrate(db, 'postgres', now);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return handle;
  }
  if (options.target !== ':memory:') createPrivateFile(path.resolve(options.target));
  const sqlite = new BetterSqlite3(options.target);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a crash of this process (not a power cut).
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const file = options.target === ':memory:' ? null : path.resolve(options.target);
  if (file !== null) sqlite.pragma('wal_autocheckpoint = 0');
  const cached = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  const checkpointer = file === null ? null : new Checkpointer(file);
  const handle: DatabaseHandle = {
    db,
    dialect: 'sqlite',
    sqlite: cached,
    location: options.target,
    async close() {
      await checkpointer?.close();
      if (file !== null && sqlite.open) sqlite.pragma('wal_checkpoint(TRUNCATE)');
      await db.destroy();
    },
  };
  try {
    await migrate(db, 'sqlite', now);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}
