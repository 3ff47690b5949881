/**
 * The plans PostgreSQL runs a returning user's identify with (SPEC PG-8, PG-9): the snapshot and
 * last-seen routines use generic plans, made once per connection, that find every row by key
 * whatever the tables' statistics were when the plan was made; and no statement of the identify
 * is planned again on each execution. The routines' plans are read from auto_explain, which the
 * session loads and which reports each plan to the client.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../server/db/connect.ts';
import { touchBatchParameters } from '../../server/db/pg-touch-batch.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { preparedName, SqlTexts } from '../../server/db/sql-statements.ts';
import { identityProgram } from '../../shared/resolver/identify.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { openTestPostgres, PG_URL, pgSkipReason } from '../helpers/postgres.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';
import { createTestWorkspace } from '../helpers/workspaces.ts';

const ACTOR = { kind: 'app' as const, id: 'test' };

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Index Cond'?: string;
  readonly 'Recheck Cond'?: string;
  readonly Plans?: readonly PlanNode[];
}

/** A table read: the relation, how, through which index and on which condition. */
interface TableRead {
  readonly relation: string;
  readonly node: string;
  readonly index: string | undefined;
  readonly condition: string | undefined;
}

/** Every read of a table in a plan (a bitmap heap scan reads through its bitmap index scan). */
function tableReads(node: PlanNode, into: TableRead[] = []): TableRead[] {
  const relation = node['Relation Name'];
  if (relation !== undefined && node['Node Type'] !== 'ModifyTable') {
    const bitmap = node.Plans?.find((child) => child['Node Type'] === 'Bitmap Index Scan');
    into.push({
      relation,
      node: node['Node Type'],
      index: node['Index Name'] ?? bitmap?.['Index Name'],
      condition: node['Index Cond'] ?? bitmap?.['Index Cond'],
    });
  }
  for (const child of node.Plans ?? []) tableReads(child, into);
  return into;
}

/** How each table may be read: by which index, on which key (generic plans show `$n`, not values). */
const KEY_LOOKUPS: readonly { relation: string; index: string; condition: RegExp }[] = [
  {
    relation: 'identities',
    index: 'identities_lookup',
    condition: /scope_id = \$\d+\) AND \(environment = \$\d+\) AND \(identity_type = .*\) AND \(value = /,
  },
  { relation: 'identities', index: 'identities_per_profile', condition: /^\(mpid = / },
  { relation: 'profiles', index: 'profiles_pkey', condition: /^\(mpid = / },
  { relation: 'workspaces', index: 'workspaces_pkey', condition: /^\(id = (\$\d+|ANY \(\$\d+\))\)$/ },
];

const isKeyLookup = (read: TableRead) =>
  read.node !== 'Seq Scan' &&
  KEY_LOOKUPS.some(
    (k) => k.relation === read.relation && k.index === read.index && k.condition.test(read.condition ?? ''),
  );

describe.skipIf(pgSkipReason !== null)(
  `PostgreSQL plans ${pgSkipReason === null ? '' : `(skipped: ${pgSkipReason})`}`,
  () => {
    let handle: DatabaseHandle;
    let schema: string;

    beforeEach(async () => {
      handle = await openTestPostgres();
      await createTestWorkspace(handle, { ...SYNC_CONFIG, scopeId: 'ws1' });
      const found = await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db);
      schema = found.rows[0]?.schema ?? '';
      // The table states below are the test's own: autovacuum must not gather statistics meanwhile.
      for (const table of ['workspaces', 'profiles', 'identities'])
        await sql`alter table ${sql.table(table)} set (autovacuum_enabled = false)`.execute(handle.db);
    });
    afterEach(async () => handle.close());

    /** `count` profiles from `first` on, with three identities each, written without gathering statistics. */
    const addProfiles = async (first: number, count: number) => {
      const last = first + count - 1;
      await sql`insert into profiles (mpid, scope_id, environment, created_at, first_seen_at, last_seen_at)
        select 'm' || n, 'ws1', 'production', 1, 1, 1 from generate_series(${first}::int, ${last}::int) as n`.execute(
        handle.db,
      );
      await sql`insert into identities (scope_id, environment, identity_type, value, mpid, is_unique)
        select 'ws1', 'production', t, t || n, 'm' || n, 0
        from generate_series(${first}::int, ${last}::int) as n,
          unnest(array['customerid', 'email', 'device_application_stamp']) as t`.execute(handle.db);
    };
    const analyze = () => sql`analyze profiles, identities, workspaces`.execute(handle.db);

    /**
     * On a new connection (no plan made yet), a returning user's read-only attempt, the write
     * transaction's snapshot and a last-seen touch, sent as the server sends them; the plans of
     * every statement the routines ran, as auto_explain reported them.
     */
    const plansOfAnIdentify = async (): Promise<PlanNode[]> => {
      const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const plans: PlanNode[] = [];
        client.on('notice', (notice) => {
          const json = notice.message?.split('plan:\n')[1];
          if (json !== undefined) plans.push((JSON.parse(json) as { Plan: PlanNode }).Plan);
        });
        await client.query(`load 'auto_explain'`);
        await client.query(`set auto_explain.log_min_duration = 0`);
        await client.query(`set auto_explain.log_nested_statements = on`);
        await client.query(`set auto_explain.log_format = json`);
        await client.query(`set client_min_messages = log`);
        const texts = new SqlTexts(handle.db, 'postgres').fixed;
        const send = (text: string, values: unknown[]) =>
          client.query({ name: preparedName(text), text, values });
        const keys = [
          ['customerid', 'device_application_stamp'],
          ['customerid2', 'device_application_stamp2'],
        ];
        const [types = [], values = []] = keys;
        const read = await send(texts.profilesSnapshot, [
          ['ws1'],
          ['production'],
          [2],
          types,
          values,
          [0],
          [],
        ]);
        // A batch of two reads (PG-14), the second also asking for a profile by MPID.
        await send(texts.profilesSnapshot, [
          ['ws1', 'ws1'],
          ['production', 'production'],
          [2, 2],
          [...types, ...types],
          [...values, ...values],
          [0, 1],
          ['m3'],
        ]);
        const digest = (read.rows[0] as { digest: string }).digest;
        // A batch of two touches (PG-10), the second of a returning user whose snapshot is empty.
        const touched = await send(
          texts.touchLastSeen,
          touchBatchParameters([
            {
              scopeId: 'ws1',
              environment: 'production',
              identityTypes: keys[0] ?? [],
              values: keys[1] ?? [],
              mpids: [],
              keys: ['lock-key'],
              digest,
              touched: new Map([['m2', 5]]),
            },
            {
              scopeId: 'ws1',
              environment: 'production',
              identityTypes: ['customerid'],
              values: ['nobody'],
              mpids: [],
              keys: ['other-key'],
              digest: 'not the digest',
              touched: new Map([['m1', 5]]),
            },
          ]),
        );
        expect(touched.rows).toEqual([{ touched: [true, false] }]);
        return plans;
      } finally {
        await client.end();
      }
    };

    it.each([
      ['empty tables that never had statistics', () => Promise.resolve()],
      [
        'three profiles, analysed',
        async () => {
          await addProfiles(1, 3);
          await analyze();
        },
      ],
      [
        '3,000 profiles written since the statistics of three',
        async () => {
          await addProfiles(1, 3);
          await analyze();
          await addProfiles(4, 2_997);
        },
      ],
      [
        '3,000 profiles, analysed',
        async () => {
          await addProfiles(1, 3_000);
          await analyze();
        },
      ],
    ])(
      '[PG-8][PG-9] the snapshot and last-seen routines run generic plans that read every row by key, made on %s',
      async (_state, prepare) => {
        await prepare();
        const reads = (await plansOfAnIdentify()).flatMap((plan) => tableReads(plan));
        expect(reads.filter((read) => !isKeyLookup(read))).toEqual([]);
        for (const lookup of KEY_LOOKUPS) expect(reads.map((read) => read.index)).toContain(lookup.index);
        expect(reads.filter((read) => read.relation === 'profiles').length).toBeGreaterThanOrEqual(3);
      },
    );

    it('[PG-9] no statement of a returning-user identify is planned again on each execution', async () => {
      if (handle.dialect !== 'postgres') throw new Error('PostgreSQL only');
      // Every statement on one connection, whose prepared statements the test then reads.
      const client = await handle.pool.connect();
      try {
        const pinned = new Proxy(client, {
          get(target, property) {
            if (property === 'release') return () => undefined;
            const value: unknown = Reflect.get(target, property);
            return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
          },
        });
        const pool = { connect: () => Promise.resolve(pinned) } as unknown as pg.Pool;
        const store = new SqlIdentityStore({ ...handle, pool });
        let seed = 0;
        const identify = async (kind: 'login' | 'identify', now: number, readOnly = false) => {
          const body = {
            environment: 'production',
            known_identities: { customerid: 'c1', email: 'one@example.com', device_application_stamp: 'd1' },
          };
          const ran = await store.runProgram('ws1', (config) =>
            identityProgram(kind, body, {
              config,
              random: seededRandom(++seed),
              now,
              actor: ACTOR,
              ...(readOnly ? { readOnly } : {}),
            }),
          );
          expect(ran?.ok).toBe(true);
        };
        await identify('login', 1_000);
        // Returning users: six that touch their last-seen time, six that write nothing.
        for (let n = 1; n <= 12; n++) await identify('identify', 1_000 + n, n % 2 === 0);
        const prepared = await client.query<{ statement: string; custom_plans: string }>(
          `select statement, custom_plans from pg_prepared_statements where name like 'ids\\_%'`,
        );
        const snapshots = prepared.rows.filter((row) => row.statement.includes('idsync_profiles_snapshot'));
        const touches = prepared.rows.filter((row) => row.statement.includes('idsync_touch_last_seen'));
        expect(snapshots.length).toBeGreaterThan(0);
        expect(touches).toHaveLength(1);
        // PostgreSQL plans a prepared statement for its values five times before it considers its generic plan.
        for (const row of prepared.rows)
          expect(Number(row.custom_plans), row.statement).toBeLessThanOrEqual(5);
      } finally {
        client.release();
      }
    });
  },
);
