/**
 * Faults of the machine under the server (SPEC HC-5, HC-6): a full disk answers 503 with the
 * catalogue body and changes nothing, and readiness reports it until a write succeeds again; the
 * files holding personal data are readable by the server's user alone.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../server/db/connect.ts';
import { isStorageFailure } from '../../server/db/storage-faults.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import { createTestSchema, pgSkipReason } from '../helpers/postgres.ts';

let servers: TestServer[] = [];
let folders: string[] = [];
afterEach(async () => {
  for (const server of servers) await server.close();
  servers = [];
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  folders = [];
});

/** A server and the handle of its own database connection (where SQLite's page cap lives). */
async function serveWithHandle(options: Parameters<typeof startTestServer>[0] = {}) {
  let opened: DatabaseHandle | null = null;
  const server = await startTestServer(options, {
    onDatabaseOpen: (handle) => {
      opened = handle;
    },
  });
  servers.push(server);
  if (opened === null) throw new Error('the server did not report its database');
  return { t: server, handle: opened as DatabaseHandle };
}

/** Every row of every table, in a stable order: equal dumps mean nothing changed. */
function dumpSqlite(handle: DatabaseHandle): string {
  if (handle.dialect !== 'sqlite') throw new Error('SQLite only');
  const raw = handle.sqlite.raw;
  const tables = raw.prepare("select name from sqlite_master where type = 'table' order by name").all() as {
    name: string;
  }[];
  return JSON.stringify(
    tables.map(({ name }) => [name, raw.prepare(`select * from "${name}" order by rowid`).all()]),
  );
}

const login = (n: number) => ({
  environment: 'production',
  known_identities: {
    customerid: `customer-${n}-${'x'.repeat(900)}`,
    email: `p${n}-${'y'.repeat(900)}@x.io`,
  },
});

async function readyz(base: string) {
  const response = await fetch(`${base}/readyz`);
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('a full disk', () => {
  it('[HC-5] SQLite full: 503 UNAVAILABLE, nothing changed, not ready until a write succeeds', async () => {
    const { t, handle } = await serveWithHandle();
    if (handle.dialect !== 'sqlite') throw new Error('SQLite expected');
    expect((await call(t.url, '/v1/login', login(0))).status).toBe(200);
    const pages = handle.sqlite.raw.pragma('page_count', { simple: true }) as number;
    handle.sqlite.raw.pragma(`max_page_count = ${pages}`);

    let failed = null;
    let before = '';
    for (let n = 1; n <= 50 && failed === null; n++) {
      // The request log is written in batches (LS-6): the dump sees every answered login's row.
      await t.server.flushRequestLog();
      before = dumpSqlite(handle);
      const answer = await call<{ errors: { reason: string; message: string }[] }>(
        t.url,
        '/v1/login',
        login(n),
      );
      if (answer.status !== 200) failed = answer;
    }
    expect(failed?.status).toBe(503);
    expect(failed?.body.errors[0]).toMatchObject({ reason: 'UNAVAILABLE' });
    expect(failed?.body.errors[0]?.message).toMatch(/storage/);
    expect(dumpSqlite(handle)).toBe(before);
    expect((await readyz(t.url)).status).toBe(503);

    handle.sqlite.raw.pragma('max_page_count = 1073741823');
    expect(await readyz(t.url)).toEqual({ status: 200, body: { status: 'ready', database: 'sqlite' } });
    expect((await call(t.url, '/v1/login', login(99))).status).toBe(200);
  });

  it('[HC-5] PostgreSQL disk full (53100), out-of-space and SQLite IO errors are storage failures', () => {
    const diskFull = new pg.DatabaseError('could not extend file', 0, 'error');
    diskFull.code = '53100';
    expect(isStorageFailure(diskFull)).toBe(true);
    expect(isStorageFailure(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }))).toBe(
      true,
    );
    expect(isStorageFailure(Object.assign(new Error('full'), { code: 'SQLITE_FULL' }))).toBe(true);
    expect(isStorageFailure(Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toBe(true);
    const unique = new pg.DatabaseError('duplicate key', 0, 'error');
    unique.code = '23505';
    expect(isStorageFailure(unique)).toBe(false);
    expect(isStorageFailure(new Error('boom'))).toBe(false);
  });

  it.skipIf(pgSkipReason !== null)(
    '[HC-5] PostgreSQL: a write failing with 53100 answers 503 UNAVAILABLE and changes nothing',
    async () => {
      const schema = await createTestSchema();
      try {
        const { t } = await serveWithHandle({ database: schema.url });
        expect((await call(t.url, '/v1/login', login(0))).status).toBe(200);
        const client = new pg.Client({ connectionString: schema.url });
        await client.connect();
        try {
          await client.query(`create function disk_full() returns trigger language plpgsql as $$
            begin raise exception 'could not extend file' using errcode = '53100'; end $$`);
          await client.query(
            'create trigger disk_full before insert on requests for each row execute function disk_full()',
          );
          const tables = ['requests', 'profiles', 'identities', 'history', 'aliases'];
          const count = async () =>
            (
              await client.query<{ rows: string }>(
                `select ${tables.map((name) => `(select count(*) from ${name})`).join(" || '/' || ")} as rows`,
              )
            ).rows[0]?.rows;
          const before = await count();
          const answer = await call<{ errors: { reason: string }[] }>(t.url, '/v1/login', login(1));
          expect(answer.status).toBe(503);
          expect(answer.body.errors[0]).toMatchObject({ reason: 'UNAVAILABLE' });
          expect(await count()).toEqual(before);
        } finally {
          await client.end();
        }
      } finally {
        for (const server of servers) await server.close();
        servers = [];
        await schema.drop();
      }
    },
  );
});

describe('file modes', () => {
  it('[HC-6] the data directory is created 0700; the database, its WAL and SHM 0600', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'idsync-modes-'));
    folders.push(parent);
    const dataDir = path.join(parent, 'data');
    const t = await startTestServer({ dataDir });
    servers.push(t);
    expect((await call(t.url, '/v1/login', login(0))).status).toBe(200);
    const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);
    expect(mode(dataDir)).toBe('700');
    const database = path.join(dataDir, 'identity-sync.sqlite');
    expect([database, `${database}-wal`, `${database}-shm`].map(mode)).toEqual(['600', '600', '600']);
  });
});
