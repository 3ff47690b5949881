/**
 * Trace retention (SPEC LS-10): past `--trace-retention-days` a stored request loses its explain
 * trace and keeps what idempotency needs; its history stays. Over HTTP on SQLite, and the store's
 * batched expiry on every SQL dialect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../server/db/connect.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { expireTraces } from '../../server/db/trace-retention.ts';
import { ManualClock } from '../helpers/clock.ts';
import { openTestPostgres, pgSkipReason } from '../helpers/postgres.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';
import { ADMIN_TOKEN, call, startTestServer, type TestServer } from '../helpers/server.ts';

const DAY = 86_400_000;

interface Stored {
  readonly request_id: string;
  readonly trace: unknown;
}

async function admin<T>(t: TestServer, route: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${t.url}/admin/v1/workspaces/default${route}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return { status: response.status, body: (await response.json()) as T };
}

const login = (t: TestServer, customer: string, requestId: string) =>
  call<{ mpid: string }>(t.url, '/v1/login', {
    environment: 'production',
    request_id: requestId,
    known_identities: { customerid: customer, email: `${customer}@example.com` },
  });

describe('trace retention over HTTP (LS-10)', () => {
  const clock = new ManualClock();
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: SYNC_CONFIG, traceRetentionDays: 30 }, { clock });
  });
  afterAll(async () => t.close());

  it('[LS-10] a request older than the retention loses its trace, answers its replay the same and keeps its history', async () => {
    const old = await login(t, 'c-old', 'r-old');
    expect(old.status).toBe(200);
    clock.advance(31 * DAY);
    const recent = await login(t, 'c-new', 'r-new');
    expect(recent.status).toBe(200);
    const historyBefore = await admin<{ entries: unknown[] }>(t, `/history?mpid=${old.body.mpid}`);
    expect((await admin<Stored>(t, '/requests/r-old')).body.trace).not.toBeNull();

    await t.server.expireTraces();

    expect((await admin<Stored>(t, '/requests/r-old')).body.trace).toBeNull();
    expect((await admin<Stored>(t, '/requests/r-new')).body.trace).not.toBeNull();
    const replay = await login(t, 'c-old', 'r-old');
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(old.text);
    const profiles = await admin<{ profiles: unknown[] }>(
      t,
      '/profiles?identity_type=customerid&value=c-old',
    );
    expect(profiles.body.profiles).toHaveLength(1);
    const historyAfter = await admin<{ entries: unknown[] }>(t, `/history?mpid=${old.body.mpid}`);
    expect(historyAfter.body.entries.length).toBeGreaterThan(0);
    expect(historyAfter.body.entries).toEqual(historyBefore.body.entries);
  });
});

describe('trace retention off (LS-10)', () => {
  const clock = new ManualClock();
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: SYNC_CONFIG }, { clock });
  });
  afterAll(async () => t.close());

  it('[LS-10] with the default of 0 days every trace is kept', async () => {
    expect((await login(t, 'c-kept', 'r-kept')).status).toBe(200);
    clock.advance(3_650 * DAY);
    await t.server.expireTraces();
    expect((await admin<Stored>(t, '/requests/r-kept')).body.trace).not.toBeNull();
  });
});

function expiresInBatches(open: () => Promise<DatabaseHandle>) {
  return async () => {
    const handle = await open();
    try {
      const store = new SqlIdentityStore(handle);
      const trace = JSON.stringify({ branch: 'created' });
      const rows = Array.from({ length: 25 }, (_, n) => ({
        scope_id: 'ws1',
        request_id: `r${n}`,
        kind: 'login',
        environment: 'production',
        fingerprint: 'f',
        at: n < 20 ? 1_000 + n : 5_000 + n,
        actor: '{}',
        mpids: '[]',
        status: 200,
        response: '{}',
        trace: n === 3 ? 'null' : trace,
      }));
      await handle.db.insertInto('requests').values(rows).execute();
      expect(await expireTraces(store, 5_000, 7)).toBe(19);
      const kept = await handle.db
        .selectFrom('requests')
        .select(['request_id', 'trace'])
        .orderBy('at')
        .execute();
      expect(kept.filter((r) => r.trace !== 'null').map((r) => r.request_id)).toEqual(
        Array.from({ length: 5 }, (_, n) => `r${20 + n}`),
      );
      expect(await expireTraces(store, 5_000, 7)).toBe(0);
    } finally {
      await handle.close();
    }
  };
}

describe('trace expiry in the store (LS-10)', () => {
  it(
    '[LS-10] SQLite: traces before the cut-off go, oldest first, batch by batch; later ones stay',
    expiresInBatches(() => openDatabase({ target: ':memory:' })),
  );
  it.skipIf(pgSkipReason !== null)(
    '[LS-10] PostgreSQL: traces before the cut-off go, oldest first, batch by batch; later ones stay',
    expiresInBatches(openTestPostgres),
  );
});
