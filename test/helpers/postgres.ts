/**
 * Real PostgreSQL for tests. `IDSYNC_TEST_PG_URL` points at a server (`.ci/run` starts one); each
 * test gets a schema of its own, dropped afterwards. Without a reachable server the PostgreSQL
 * suites are skipped, and say so.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../server/db/connect.ts';

export const PG_URL = process.env['IDSYNC_TEST_PG_URL'];

async function probe(): Promise<string | null> {
  if (PG_URL === undefined || PG_URL === '') {
    return 'IDSYNC_TEST_PG_URL is not set (e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres)';
  }
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return `PostgreSQL at IDSYNC_TEST_PG_URL is unreachable: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const pgSkipReason = await probe();
if (pgSkipReason !== null) console.warn(`PostgreSQL suites skipped: ${pgSkipReason}`);

/** A fresh schema and a connection URL that uses it (for servers started by tests). */
export async function createTestSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(PG_URL as string);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: PG_URL });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

/** A migrated database in a fresh schema; `close` drops the schema. */
export async function openTestPostgres(poolSize = 10): Promise<DatabaseHandle> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const handle = await openDatabase({ target: PG_URL as string, searchPath: schema, poolSize });
  return {
    ...handle,
    async close() {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: PG_URL });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

/** The server databases a cross-backend suite runs on: SQLite always, PostgreSQL unless `skip` says why not. */
export const SERVER_BACKENDS = [
  { name: 'SQLite', skip: null },
  { name: 'PostgreSQL', skip: pgSkipReason },
] as const;

export type ServerBackend = (typeof SERVER_BACKENDS)[number]['name'];

/**
 * Where one test's server keeps its data, as `startTestServer` options: SQLite in the server's own
 * temporary file (no option), PostgreSQL in a fresh schema, which `drop` removes.
 */
export async function testDatabase(
  backend: ServerBackend,
): Promise<{ options: { database?: string }; drop: () => Promise<void> }> {
  if (backend === 'SQLite') return { options: {}, drop: () => Promise.resolve() };
  const schema = await createTestSchema();
  return { options: { database: schema.url }, drop: schema.drop };
}
