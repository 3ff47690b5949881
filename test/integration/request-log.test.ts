import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../server/db/connect.ts';
import { RequestLog, type RequestLogRow } from '../../server/db/request-log.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

function row(scope: string, n: number): RequestLogRow {
  return {
    scope_id: scope,
    at: 1_000 + n,
    source: 'api',
    device_id: null,
    device_seq: null,
    request_id: `${scope}-${n}`,
    kind: 'identify',
    environment: 'production',
    body: JSON.stringify({ environment: 'production', known_identities: { customerid: `c${n}` } }),
    mpid: String(100 + n),
    created: 0,
    branch: 'known_user',
    error: null,
  };
}

describe('request log (LS-6, LS-7)', () => {
  let handle: DatabaseHandle;
  const errors: unknown[] = [];
  beforeEach(async () => {
    handle = await openDatabase({ target: ':memory:' });
    errors.length = 0;
  });
  afterEach(async () => {
    await handle.close();
  });

  const logged = async (scope: string) =>
    (
      await handle.db
        .selectFrom('request_log')
        .select('request_id')
        .where('scope_id', '=', scope)
        .orderBy('seq')
        .execute()
    ).map((r) => r.request_id);

  it('[LS-6] appending writes nothing until a flush; a flush writes everything in append order', async () => {
    const log = new RequestLog(handle, { flushMs: 60_000, flushRows: 1000, retainRows: 100 }, (e) =>
      errors.push(e),
    );
    for (let n = 0; n < 5; n++) log.append(row('ws', n));
    expect(await logged('ws')).toEqual([]);
    await log.flush();
    expect(await logged('ws')).toEqual(['ws-0', 'ws-1', 'ws-2', 'ws-3', 'ws-4']);
    await log.close();
    expect(errors).toEqual([]);
  });

  it('[LS-6] the buffer is written on its own once it holds flushRows rows', async () => {
    const log = new RequestLog(handle, { flushMs: 60_000, flushRows: 3, retainRows: 100 }, (e) =>
      errors.push(e),
    );
    for (let n = 0; n < 3; n++) log.append(row('ws', n));
    await expect.poll(() => logged('ws')).toEqual(['ws-0', 'ws-1', 'ws-2']);
    await log.close();
  });

  it('[LS-7] each workspace keeps its newest retainRows rows; other workspaces are not touched', async () => {
    const log = new RequestLog(handle, { flushMs: 60_000, flushRows: 1000, retainRows: 3 }, (e) =>
      errors.push(e),
    );
    for (let n = 0; n < 2; n++) log.append(row('other', n));
    await log.flush();
    for (let n = 0; n < 5; n++) log.append(row('ws', n));
    await log.flush();
    expect(await logged('ws')).toEqual(['ws-2', 'ws-3', 'ws-4']);
    expect(await logged('other')).toEqual(['other-0', 'other-1']);
    await log.close();
  });

  it('[HP-3] batches of any size are written in append order with at most nine INSERT texts, all rows intact', async () => {
    if (handle.dialect !== 'sqlite') throw new Error('SQLite only');
    const texts = new Set<string>();
    const sqlite = handle.sqlite;
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = (text: string) => {
      if (/^insert into "request_log"/.test(text)) texts.add(text);
      return prepare(text);
    };
    const log = new RequestLog(handle, { flushMs: 60_000, flushRows: 10_000, retainRows: 10_000 }, (e) =>
      errors.push(e),
    );
    let n = 0;
    const expected: string[] = [];
    for (const size of [1, 2, 3, 7, 100, 255, 256, 257, 500, 511, 37]) {
      for (let i = 0; i < size; i++, n++) {
        log.append(row('ws', n));
        expected.push(`ws-${n}`);
      }
      await log.flush();
    }
    expect(await logged('ws')).toEqual(expected);
    const stored = await handle.db
      .selectFrom('request_log')
      .selectAll()
      .where('request_id', '=', 'ws-300')
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ seq: expect.any(Number), ...row('ws', 300) });
    expect(texts.size).toBeLessThanOrEqual(9);
    await log.close();
    expect(errors).toEqual([]);
  });

  it('[HP-5] once a workspace is full, a flush reads only as many of its rows as it adds, and the newest retainRows stay', async () => {
    if (handle.dialect !== 'sqlite') throw new Error('SQLite only');
    const offsets: unknown[] = [];
    const sqlite = handle.sqlite;
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = (text: string) => {
      const statement = prepare(text);
      if (!/^select "seq" from "request_log".* offset \?$/.test(text)) return statement;
      const all = statement.all.bind(statement);
      return Object.assign(Object.create(statement) as typeof statement, {
        all: (parameters: unknown[]) => {
          offsets.push(parameters.at(-1));
          return all(parameters);
        },
      });
    };
    const log = new RequestLog(handle, { flushMs: 60_000, flushRows: 10_000, retainRows: 50 }, (e) =>
      errors.push(e),
    );
    let n = 0;
    for (const size of [30, 40, 5, 5, 60, 1]) {
      for (let i = 0; i < size; i++, n++) log.append(row('ws', n));
      await log.flush();
    }
    expect(await logged('ws')).toEqual(Array.from({ length: 50 }, (_, i) => `ws-${n - 50 + i}`));
    // Counting back 49 rows until the workspace is found full (after the second flush), then the rows added.
    expect(offsets).toEqual([49, 49, 5, 5, 60, 1]);
    await log.close();
    expect(errors).toEqual([]);
  });

  it('[LS-6] a batch is written all or nothing; a failed write is reported, never thrown at the request path', async () => {
    const log = new RequestLog(handle, { flushMs: 60_000, flushRows: 1000, retainRows: 100 }, (e) =>
      errors.push(e),
    );
    log.append({ ...row('ws', 0), kind: null as unknown as string });
    log.append(row('ws', 1));
    await log.flush();
    expect(errors).toHaveLength(1);
    expect(await logged('ws')).toEqual([]);
    await log.close();
  });
});

describe('request log over HTTP (LS-6, HP-11)', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({ requestLogFlushMs: 20 });
  });
  afterEach(async () => {
    await server.close();
  });

  /** The bodies the log holds, by request kind, once it holds `count` rows. */
  async function loggedBodies(count: number): Promise<{ kind: string; body: string | null }[]> {
    const read = () => {
      const db = new BetterSqlite3(server.databaseFile, { readonly: true, fileMustExist: true });
      try {
        return db.prepare('select kind, body from request_log order by seq').all() as {
          kind: string;
          body: string | null;
        }[];
      } finally {
        db.close();
      }
    };
    await expect.poll(() => read().length).toBe(count);
    return read();
  }

  it('[LS-6][HP-11] an identify body is stored as the text received (gzip decoded), a modify with its MPID around the parsed body', async () => {
    const sent =
      '{\n  "environment": "production",\n  "known_identities": { "customerid": "hp11-a", "email": "hp11@example.com" }\n}';
    const identified = await call<{ mpid: string }>(server.url, '/v1/identify', sent);
    expect(identified.status).toBe(200);
    const gzipped = '{ "environment" : "production", "known_identities" : { "customerid" : "hp11-b" } }';
    expect((await call(server.url, '/v1/login', gzipped, { gzip: true })).status).toBe(200);
    const modify = {
      environment: 'production',
      identity_changes: [{ identity_type: 'other', old_value: null, new_value: 'hp11-other' }],
    };
    const modified = await call(
      server.url,
      `/v1/${identified.body.mpid}/modify`,
      ` ${JSON.stringify(modify)} `,
    );
    expect(modified.status).toBe(200);
    expect(await loggedBodies(3)).toEqual([
      { kind: 'identify', body: sent },
      { kind: 'login', body: gzipped },
      { kind: 'modify', body: JSON.stringify({ mpid: identified.body.mpid, body: modify }) },
    ]);
  });
});
