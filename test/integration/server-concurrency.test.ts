/**
 * Concurrency over real HTTP, on SQLite and on PostgreSQL (SPEC ST-9, CC-1..CC-3): 50 simulated
 * devices send 200 concurrent logins whose customer IDs and emails overlap. No unique value may
 * ever be held by two profiles, every request gets exactly one answer, and the final graph must
 * equal a serial replay of the same requests, in the order the server recorded them, through the
 * reference resolver on the in-memory store. On PostgreSQL also with two servers sharing one
 * database, the requests spread over both (SPEC PG-3).
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import type { IdentityResponse } from '../../shared/protocol/idsync.ts';
import { MemoryIdentityStore } from '../../shared/memory-store/memory-store.ts';
import { identityProgram } from '../../shared/resolver/identify.ts';
import { canonicalDump, runInTransactionSync } from '../../shared/resolver/store-port.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import { seededRandom } from '../../shared/util/random.ts';
import type { Database as Schema } from '../../server/db/schema.ts';
import { API_KEY, startTestServer, type TestServer } from '../helpers/server.ts';
import { createTestSchema, PG_URL, pgSkipReason } from '../helpers/postgres.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';

const DEVICES = 50;
const PER_DEVICE = 4;
const CUSTOMERS = 12;

interface Sent {
  readonly requestId: string;
  readonly body: { environment: 'production'; request_id: string; known_identities: Record<string, string> };
}

/** Overlapping logins: shared customers, and some emails claimed by two customers. */
function workload(seed: number): Sent[] {
  const random = seededRandom(seed);
  const sent: Sent[] = [];
  for (let device = 0; device < DEVICES; device++) {
    for (let n = 0; n < PER_DEVICE; n++) {
      const customer = random.nextUint32() % CUSTOMERS;
      const emailOwner = random.nextUint32() % 4 === 0 ? (customer + 1) % CUSTOMERS : customer;
      const identities: Record<string, string> = { device_application_stamp: `das-${device}` };
      const shape = random.nextUint32() % 3;
      if (shape !== 1) identities['customerid'] = `cust-${customer}`;
      if (shape !== 2) identities['email'] = `person${emailOwner}@example.com`;
      const requestId = `conc-${device}-${n}`;
      sent.push({
        requestId,
        body: { environment: 'production', request_id: requestId, known_identities: identities },
      });
    }
  }
  return sent;
}

interface RecordedRequest {
  readonly request_id: string;
  readonly at: number;
  readonly response: string;
  readonly trace: string;
}

function runScenario(
  name: string,
  open: () => Promise<{ urls: readonly string[]; db: Kysely<Schema>; close: () => Promise<void> }>,
) {
  describe(`${name}: 200 concurrent logins from 50 devices`, () => {
    let env: Awaited<ReturnType<typeof open>>;
    beforeAll(async () => {
      env = await open();
    });
    afterAll(async () => env.close());

    it('[CC-1][CC-2][CC-3][ST-3][ST-9] unique values stay unique, every request is answered once, and the graph equals a serial replay', async () => {
      const sent = workload(7);
      const answers = await Promise.all(
        sent.map(async ({ body }, index) => {
          const response = await fetch(`${env.urls[index % env.urls.length] ?? ''}/v1/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-mp-key': API_KEY },
            body: JSON.stringify(body),
          });
          return { status: response.status, body: (await response.json()) as IdentityResponse };
        }),
      );
      expect(answers.map((a) => a.status)).toEqual(sent.map(() => 200));

      const { db } = env;
      const shared = await db
        .selectFrom('identities')
        .select(['identity_type', 'value'])
        .where('identity_type', 'in', ['customerid', 'email'])
        .groupBy(['identity_type', 'value'])
        .having((eb) => eb.fn.countAll(), '>', 1)
        .execute();
      expect(shared, 'no unique value is held by two profiles').toEqual([]);

      const recorded = (await db
        .selectFrom('requests')
        .select(['request_id', 'at', 'response', 'trace'])
        .orderBy('seq')
        .execute()) as RecordedRequest[];
      expect(recorded.map((r) => r.request_id).sort()).toEqual(sent.map((s) => s.requestId).sort());
      for (const [index, answer] of answers.entries()) {
        const stored = recorded.find((r) => r.request_id === sent[index]?.requestId);
        expect(JSON.parse(stored?.response ?? 'null'), 'the answer is the recorded result').toEqual(
          answer.body,
        );
      }

      // Serial replay in the recorded order, on the reference store, with the same MPIDs and times.
      const config = ScopeConfigSchema.parse(SYNC_CONFIG);
      const memory = new MemoryIdentityStore();
      const bodies = new Map(sent.map((s) => [s.requestId, s.body]));
      for (const request of recorded) {
        // A request that changed nothing keeps no trace (LS-1): it created nothing.
        const trace = JSON.parse(request.trace) as ExplainTrace | null;
        const replayed = runInTransactionSync(memory, () =>
          identityProgram('login', bodies.get(request.request_id), {
            config,
            random: seededRandom(1),
            now: request.at,
            actor: { kind: 'app', id: API_KEY },
            ...(trace !== null && trace.result.created && trace.result.mpid !== null
              ? { preferredMpid: trace.result.mpid }
              : {}),
          }),
        );
        if (!replayed.ok)
          expect.fail(`replay of ${request.request_id} failed: ${replayed.error.error.message}`);
        expect(replayed.value.response, `replay of ${request.request_id}`).toEqual(
          JSON.parse(request.response),
        );
      }
      const serverProfiles = await db
        .selectFrom('identities')
        .select(['mpid', 'identity_type', 'value'])
        .execute();
      const graph = (rows: { mpid: string; identity_type: string; value: string }[]) =>
        rows.map((r) => `${r.mpid} ${r.identity_type}=${r.value}`).sort();
      const replayedRows = canonicalDump(memory.dumpSync()).profiles.flatMap((p) =>
        Object.entries(p.identities).flatMap(([type, values]) =>
          (values ?? []).map((value) => ({ mpid: p.mpid, identity_type: type, value })),
        ),
      );
      expect(graph(serverProfiles)).toEqual(graph(replayedRows));
      const customersWithProfiles = new Set(
        serverProfiles.filter((r) => r.identity_type === 'customerid').map((r) => r.value),
      );
      expect(
        customersWithProfiles.size,
        'the workload really shared customers between devices',
      ).toBeLessThanOrEqual(CUSTOMERS);
      expect(
        new Set(answers.map((a) => a.body.mpid)).size,
        'requests converged on shared profiles',
      ).toBeLessThan(sent.length / 2);
    });
  });
}

runScenario('SQLite', async () => {
  const server = await startTestServer({ config: SYNC_CONFIG, logLevel: 'silent' });
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: new Database(server.databaseFile, { readonly: true }) }),
  });
  return {
    urls: [server.url],
    db,
    async close() {
      await db.destroy();
      await server.close();
    },
  };
});

describe.skipIf(pgSkipReason !== null)(
  `PostgreSQL ${pgSkipReason === null ? '' : `(skipped: ${pgSkipReason})`}`,
  () => {
    const onPostgres = (servers: number, pgPoolSize?: number) => async () => {
      const schema = await createTestSchema();
      const started: TestServer[] = [];
      // Servers sharing a database share its server key (the input secrets are sealed with it).
      const serverKey = randomBytes(32).toString('base64url');
      for (let n = 0; n < servers; n++)
        started.push(
          await startTestServer({
            config: SYNC_CONFIG,
            database: schema.url,
            serverKey,
            ...(pgPoolSize === undefined ? {} : { pgPoolSize }),
          }),
        );
      const db = new Kysely<Schema>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: schema.url, max: 2 }) }),
      });
      return {
        urls: started.map((server) => server.url),
        db,
        async close() {
          await db.destroy();
          for (const server of started) await server.close();
          await schema.drop();
        },
      };
    };
    runScenario('PostgreSQL', onPostgres(1));
    runScenario('[PG-3] PostgreSQL, two servers on one database', onPostgres(2));
    runScenario('[PG-13] PostgreSQL, a pool of one connection', onPostgres(1, 1));

    it('[PG-13] a server keeps at most --pg-pool-size connections, however many requests wait; unset, two per core and at least 4', async () => {
      const schema = await createTestSchema();
      const applicationName = `pool-${randomBytes(4).toString('hex')}`;
      const url = new URL(schema.url);
      url.searchParams.set('application_name', applicationName);
      let defaultPool: number | undefined;
      const serverKey = randomBytes(32).toString('base64url');
      const sized = await startTestServer({
        config: SYNC_CONFIG,
        database: url.toString(),
        serverKey,
        pgPoolSize: 2,
      });
      const unsized = await startTestServer(
        { config: SYNC_CONFIG, database: schema.url, serverKey },
        {
          onDatabaseOpen: (handle) =>
            (defaultPool = handle.dialect === 'postgres' ? handle.pool.options.max : 0),
        },
      );
      const watcher = new pg.Client({ connectionString: PG_URL });
      await watcher.connect();
      try {
        const seen: number[] = [];
        let running = true;
        const watching = (async () => {
          while (running) {
            const { rows } = await watcher.query<{ n: string }>(
              'select count(*) as n from pg_stat_activity where application_name = $1',
              [applicationName],
            );
            seen.push(Number(rows[0]?.n));
          }
        })();
        const statuses = await Promise.all(
          Array.from({ length: 60 }, async (_, n) => {
            const response = await fetch(`${sized.url}/v1/login`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-mp-key': API_KEY },
              body: JSON.stringify({
                environment: 'production',
                known_identities: { customerid: `pool-${n}`, device_application_stamp: `pool-das-${n}` },
              }),
            });
            return response.status;
          }),
        );
        running = false;
        await watching;
        expect(statuses).toEqual(statuses.map(() => 200));
        expect(Math.max(...seen), `connections seen in ${seen.length} looks`).toBe(2);
        expect(defaultPool).toBe(Math.max(4, 2 * availableParallelism()));
      } finally {
        await watcher.end();
        await sized.close();
        await unsized.close();
        await schema.drop();
      }
    });
  },
);
