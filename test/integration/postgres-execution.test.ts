/**
 * How the store executes on PostgreSQL (SPEC PG-1..PG-6): named prepared statements, the config
 * cache checked by version (also against a second store on the same database, standing for a
 * second server), the read-only answer and the round trips of an identify, counted by wrapping
 * the pool's clients, and the retry path under an injected serialisation failure or deadlock.
 */
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DatabaseHandle } from '../../server/db/connect.ts';
import { SNAPSHOT_CALLS_IN_FLIGHT } from '../../server/db/pg-snapshot-reads.ts';
import { TOUCH_CALLS_IN_FLIGHT as IN_FLIGHT } from '../../server/db/pg-touch-batch.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { preparedName } from '../../server/db/sql-statements.ts';
import type { WorkspaceStore } from '../../server/db/workspace-store.ts';
import type { ScopeConfig, ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { identityProgram, type IdentityOutcome } from '../../shared/resolver/identify.ts';
import { store as storeCalls, type Program } from '../../shared/resolver/store-port.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { openTestPostgres, pgSkipReason } from '../helpers/postgres.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';
import { createTestWorkspace } from '../helpers/workspaces.ts';

const CONFIG: ScopeConfigInput = { ...SYNC_CONFIG, scopeId: 'ws1' };
const ACTOR = { kind: 'app' as const, id: 'test' };
const RETURNING = {
  environment: 'production',
  known_identities: { customerid: 'c1', email: 'one@example.com', device_application_stamp: 'das-1' },
};
/** The returning user on a new device: the identify adds a value, more than a last-seen touch. */
const NEW_STAMP = {
  environment: 'production',
  known_identities: { customerid: 'c1', email: 'one@example.com', device_application_stamp: 'das-2' },
};
const isTouch = (text: string) => text.includes('idsync_touch_last_seen');
const isSnapshot = (text: string) => text.includes('idsync_profiles_snapshot');

interface Sent {
  readonly text: string;
  readonly name: string | undefined;
}

/**
 * A pool whose clients record every query (one query is one round trip) and may fail one query
 * once, the way PostgreSQL reports a serialisation failure or a deadlock.
 */
function wrappedPool(pool: pg.Pool) {
  const sent: Sent[] = [];
  /** The texts of the queries answered, in the order their answers arrived. */
  const received: string[] = [];
  /** The reads answered by snapshot calls (PG-14: one call may carry several). */
  const readsAnswered = { count: 0 };
  let failure: {
    readonly when: (text: string, parameters: readonly unknown[]) => boolean;
    readonly code: string;
    readonly once: boolean;
  } | null = null;
  let hook: { readonly when: (text: string) => boolean; readonly action: () => Promise<void> } | null = null;
  const wrap = (client: pg.PoolClient): pg.PoolClient =>
    new Proxy(client, {
      get(target, property) {
        if (property === 'query') {
          return async (query: string | pg.QueryConfig, values?: unknown[]) => {
            const text = typeof query === 'string' ? query : query.text;
            sent.push({ text, name: typeof query === 'string' ? undefined : query.name });
            if (hook?.when(text) === true) {
              const action = hook.action;
              hook = null;
              await action();
            }
            const parameters = (typeof query === 'string' ? values : query.values) ?? [];
            if (failure?.when(text, parameters) === true) {
              const code = failure.code;
              if (failure.once) failure = null;
              throw Object.assign(new Error(`injected ${code}`), { code });
            }
            const result = await target.query(query as string, values);
            received.push(text);
            if (isSnapshot(text)) readsAnswered.count += (parameters[0] as unknown[]).length;
            return result;
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  return {
    pool: { connect: async () => wrap(await pool.connect()) } as unknown as pg.Pool,
    sent,
    received,
    readsAnswered,
    /** The next query whose text matches fails once with this SQLSTATE. */
    failOnce: (code: string, when: (text: string) => boolean) => {
      failure = { code, when, once: true };
    },
    /** Every query whose text and parameters match fails with this SQLSTATE. */
    failEvery: (code: string, when: (text: string, parameters: readonly unknown[]) => boolean) => {
      failure = { code, when, once: false };
    },
    /** Before the next query whose text matches is sent, runs `action` (once). */
    beforeOnce: (when: (text: string) => boolean, action: () => Promise<void>) => {
      hook = { when, action };
    },
  };
}

function storeOn(handle: DatabaseHandle) {
  if (handle.dialect !== 'postgres') throw new Error('PostgreSQL only');
  const wrapped = wrappedPool(handle.pool);
  return { store: new SqlIdentityStore({ ...handle, pool: wrapped.pool }), ...wrapped };
}

/** The program's outcome together with the config it ran with. */
function* withConfigUsed(
  config: ScopeConfig,
  program: Program<IdentityOutcome>,
): Program<{ config: ScopeConfig; outcome: IdentityOutcome }> {
  return { config, outcome: yield* program };
}

let seed = 0;

async function identify(
  store: SqlIdentityStore,
  body: unknown,
  options: { kind?: 'identify' | 'login'; readOnly?: boolean; now?: number } = {},
) {
  const ran = await store.runProgram('ws1', (config) =>
    withConfigUsed(
      config,
      identityProgram(options.kind ?? 'identify', body, {
        config,
        random: seededRandom(++seed),
        now: options.now ?? 1_000,
        actor: ACTOR,
        ...(options.readOnly === true ? { readOnly: true } : {}),
      }),
    ),
  );
  if (ran === null || !ran.outcome.ok) throw new Error(`identify failed: ${JSON.stringify(ran)}`);
  return { config: ran.config, value: ran.outcome.value };
}

const isWrite = (text: string) => /^\s*(insert|update|delete)\b/i.test(text);

describe.skipIf(pgSkipReason !== null)(
  `PostgreSQL execution ${pgSkipReason === null ? '' : `(skipped: ${pgSkipReason})`}`,
  () => {
    let handle: DatabaseHandle;
    let workspaces: WorkspaceStore;

    beforeEach(async () => {
      handle = await openTestPostgres();
      workspaces = await createTestWorkspace(handle, CONFIG);
    });
    /** Held calls (`holdCalls`) are let go after each test, so a failing test does not hang. */
    const heldCalls: (() => void)[] = [];
    afterEach(async () => {
      for (const release of heldCalls.splice(0)) release();
      await handle.close();
    });

    const lastSeenOf = async (mpid: string) =>
      (
        await handle.db
          .selectFrom('profiles')
          .select('last_seen_at')
          .where('mpid', '=', mpid)
          .executeTakeFirst()
      )?.last_seen_at;

    it('[PG-1] every store statement runs as a named prepared statement, one name per text', async () => {
      const { store, sent } = storeOn(handle);
      await identify(store, RETURNING, { kind: 'login' });
      await identify(store, RETURNING, { now: 2_000 });
      const statements = sent.filter((s) => !/^(begin|commit|rollback)$/.test(s.text));
      expect(statements.length).toBeGreaterThan(5);
      for (const s of statements) expect(s.name, s.text).toBe(preparedName(s.text));
      const namesByText = new Map(statements.map((s) => [s.text, s.name]));
      expect(new Set(namesByText.values()).size).toBe(namesByText.size);
    });

    it('[PG-4][PG-5] a returning-user identify that writes nothing is answered in one round trip, outside any transaction', async () => {
      const { store, sent } = storeOn(handle);
      const first = await identify(store, RETURNING, { kind: 'login' });
      sent.length = 0;
      const again = await identify(store, RETURNING, { readOnly: true, now: 2_000 });
      expect(again.value.response.mpid).toBe(first.value.response.mpid);
      expect(sent.length, sent.map((s) => s.text).join('\n')).toBeLessThanOrEqual(5);
      expect(sent.length).toBe(1);
      expect(sent.map((s) => s.text)).not.toContain('begin');
    });

    it('[PG-3][PG-5] a returning-user identify that writes takes at most 5 round trips besides its writes: one lock statement, one read', async () => {
      const { store, sent } = storeOn(handle);
      await identify(store, RETURNING, { kind: 'login' });
      sent.length = 0;
      await identify(store, NEW_STAMP, { now: 2_000 });
      const others = sent.filter((s) => !isWrite(s.text)).map((s) => s.text);
      expect(others.length, others.join('\n')).toBeLessThanOrEqual(5);
      expect(others.filter((t) => t.includes('pg_advisory_xact_lock'))).toHaveLength(1);
      expect(others.filter((t) => /for share/i.test(t))).toHaveLength(1);
    });

    it('[PG-2] the config is read once and then only its version, in statements the request makes anyway', async () => {
      const { store, sent } = storeOn(handle);
      await identify(store, RETURNING, { kind: 'login' });
      sent.length = 0;
      await identify(store, RETURNING, { readOnly: true, now: 2_000 });
      await identify(store, RETURNING, { now: 3_000 });
      expect(sent.filter((s) => /select "config"/.test(s.text))).toEqual([]);
    });

    it('[PG-2] a config change made through another server is applied by the next request, read-only or writing', async () => {
      const { store } = storeOn(handle);
      const before = await identify(store, RETURNING, { kind: 'login' });
      expect(before.config.identityCacheMaxAgeSec).not.toBe(123);
      const changed = await workspaces.updateConfig('ws1', { ...CONFIG, identityCacheMaxAgeSec: 123 }, ACTOR);
      expect(changed.ok).toBe(true);
      const read = await identify(store, RETURNING, { readOnly: true, now: 2_000 });
      expect(read.config.identityCacheMaxAgeSec).toBe(123);
      const changedAgain = await workspaces.updateConfig(
        'ws1',
        { ...CONFIG, identityCacheMaxAgeSec: 456 },
        ACTOR,
      );
      expect(changedAgain.ok).toBe(true);
      const written = await identify(store, RETURNING, { now: 3_000 });
      expect(written.config.identityCacheMaxAgeSec).toBe(456);
    });

    it.each([
      ['the read-only attempt reads its snapshot', isSnapshot, NEW_STAMP],
      ['the write transaction begins', (text: string) => text === 'begin', NEW_STAMP],
      ['the last-seen touch runs', isTouch, RETURNING],
    ])(
      '[PG-2][PG-7] a config change committed just before %s is applied, not the cached config',
      async (_moment, when, body) => {
        const { store, beforeOnce } = storeOn(handle);
        await identify(store, RETURNING, { kind: 'login' });
        beforeOnce(when, async () => {
          const changed = await workspaces.updateConfig(
            'ws1',
            { ...CONFIG, identityCacheMaxAgeSec: 789 },
            ACTOR,
          );
          expect(changed.ok).toBe(true);
        });
        const ran = await identify(store, body, { now: 2_000 });
        expect(ran.config.identityCacheMaxAgeSec).toBe(789);
      },
    );

    it.each([
      [
        'the write transaction begins',
        (text: string) => text === 'begin',
        { device_application_stamp: 'das-9' },
      ],
      ['the last-seen touch runs', isTouch, {}],
    ])(
      '[PG-3][PG-7] a holder that appeared after the read-only attempt, before %s, is locked before its profile is read, and the request lands on it',
      async (_moment, when, more) => {
        const { store, sent, beforeOnce } = storeOn(handle);
        const other = storeOn(handle);
        await identify(store, RETURNING, { kind: 'login' });
        let created: string | undefined;
        beforeOnce(when, async () => {
          const ran = await identify(
            other.store,
            { environment: 'production', known_identities: { customerid: 'c2' } },
            { kind: 'login', now: 1_500 },
          );
          created = ran.value.response.mpid;
        });
        sent.length = 0;
        const body = {
          environment: 'production',
          known_identities: { customerid: 'c2', email: 'one@example.com', ...more },
        };
        const ran = await identify(store, body, { kind: 'login', now: 2_000 });
        expect(created).toBeDefined();
        expect(ran.value.response.mpid).toBe(created);
        const transaction = sent.slice(sent.findIndex((s) => s.text === 'begin')).map((s) => s.text);
        const firstRead = transaction.findIndex(isSnapshot);
        const lockAfter = transaction.findIndex(
          (t, i) => i > firstRead && t.includes('pg_advisory_xact_lock'),
        );
        const secondRead = transaction.findIndex((t, i) => i > lockAfter && isSnapshot(t));
        expect(firstRead).toBeGreaterThan(0);
        expect(lockAfter, transaction.join('\n')).toBeGreaterThan(firstRead);
        expect(secondRead).toBeGreaterThan(lockAfter);
      },
    );

    it('[PG-7][LS-3] a returning-user identify whose only write is its last-seen time takes two round trips, outside any transaction', async () => {
      const { store, sent } = storeOn(handle);
      const first = await identify(store, RETURNING, { kind: 'login' });
      const mpid = first.value.response.mpid;
      sent.length = 0;
      const again = await identify(store, RETURNING, { now: 2_000 });
      expect(again.value.response.mpid).toBe(mpid);
      expect(sent).toHaveLength(2);
      expect(isTouch(sent[1]?.text ?? '')).toBe(true);
      expect(sent.map((s) => s.text)).not.toContain('begin');
      expect(await lastSeenOf(mpid)).toBe(2_000);
    });

    it('[PG-7] a resolution that touches one profile twice writes its later time, as the write transaction would', async () => {
      const { store, sent } = storeOn(handle);
      const first = await identify(store, RETURNING, { kind: 'login' });
      const mpid = first.value.response.mpid;
      const touch = (at: number) => ({
        changes: [{ op: 'updateProfile' as const, mpid, patch: { lastSeenAt: at } }],
        history: [],
        request: null,
      });
      sent.length = 0;
      await store.runProgram('ws1', function* () {
        const ns = { scopeId: 'ws1', environment: 'production' as const };
        yield* storeCalls.loadProfiles(ns, [{ identityType: 'customerid', value: 'c1' }], []);
        yield* storeCalls.commit(touch(2_000));
        yield* storeCalls.commit(touch(3_000));
      });
      expect(sent.map((s) => s.text).filter(isTouch)).toHaveLength(1);
      expect(sent.map((s) => s.text)).not.toContain('begin');
      expect(await lastSeenOf(mpid)).toBe(3_000);
    });

    it('[PG-7] a last-seen touch that finds the profile touched since its read writes nothing, and the write transaction gives the serial answer', async () => {
      const { store, sent, beforeOnce } = storeOn(handle);
      const other = storeOn(handle);
      const first = await identify(store, RETURNING, { kind: 'login' });
      const mpid = first.value.response.mpid;
      beforeOnce(isTouch, async () => {
        await identify(other.store, RETURNING, { now: 3_000 });
      });
      sent.length = 0;
      const again = await identify(store, RETURNING, { now: 2_000 });
      expect(again.value.response.mpid).toBe(mpid);
      expect(sent.map((s) => s.text)).toContain('begin');
      // Serially this request comes after the one at 3,000, and exact last-seen (LS-3) writes its time.
      expect(await lastSeenOf(mpid)).toBe(2_000);
    });

    it.each(['40001', '40P01'])(
      '[PG-6] a %s on the first attempt reruns the transaction, which applies the request exactly once',
      async (code) => {
        const { store, sent, failOnce } = storeOn(handle);
        failOnce(code, (text) => /^insert into "identities"/.test(text));
        const created = await identify(store, RETURNING, { kind: 'login' });
        expect(created.value.created).toBe(true);
        expect(sent.filter((s) => s.text === 'rollback')).toHaveLength(1);
        expect(sent.filter((s) => s.text === 'commit')).toHaveLength(1);
        const { db } = handle;
        const profiles = await db.selectFrom('profiles').select('mpid').execute();
        expect(profiles.map((p) => p.mpid)).toEqual([created.value.response.mpid]);
        const identities = await db.selectFrom('identities').select(['identity_type', 'value']).execute();
        expect(identities).toHaveLength(3);
        const requests = await db.selectFrom('requests').select('request_id').execute();
        expect(requests).toEqual([{ request_id: created.value.requestId }]);
        const history = await db
          .selectFrom('history')
          .select('kind')
          .where('kind', '=', 'profile_created')
          .execute();
        expect(history).toHaveLength(1);
      },
    );

    /** Returning users with profiles of their own, logged in once. */
    const loggedIn = async (store: SqlIdentityStore, count: number) => {
      const users = Array.from({ length: count }, (_, n) => ({
        environment: 'production',
        known_identities: { customerid: `u${n}`, email: `u${n}@example.com` },
      }));
      const mpids: string[] = [];
      for (const user of users)
        mpids.push((await identify(store, user, { kind: 'login' })).value.response.mpid);
      return { users, mpids };
    };

    /**
     * Holds the next `count` calls whose text matches until `release` (also released after each
     * test); `started` resolves when they are held.
     */
    const holdCalls = (
      wrapped: ReturnType<typeof storeOn>,
      when: (text: string) => boolean,
      count: number,
    ) => {
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      heldCalls.push(release);
      const holdNext = (left: number) =>
        wrapped.beforeOnce(when, async () => {
          if (left > 1) holdNext(left - 1);
          await held;
        });
      holdNext(count);
      return {
        release,
        started: () => vi.waitFor(() => expect(wrapped.sent.filter((s) => when(s.text))).toHaveLength(count)),
      };
    };

    /**
     * Holds the next touch calls, as many as a store keeps in flight; `queue` waits until these
     * many snapshots were answered in all (so their requests are waiting to touch: nothing but
     * promise continuations runs between a snapshot's answer and that).
     */
    const holdTouchCalls = (wrapped: ReturnType<typeof storeOn>) => ({
      ...holdCalls(wrapped, isTouch, IN_FLIGHT),
      queue: (snapshots: number) => vi.waitFor(() => expect(wrapped.readsAnswered.count).toBe(snapshots)),
    });

    /**
     * Returning users identifying at 2,000 while touch calls are held: the first `IN_FLIGHT` are the
     * held calls, the rest have read their snapshots and wait to touch. `settledWaiting` counts the
     * waiting ones answered so far; `answers` waits for every answer, once `release` is called.
     */
    const queuedBehindHeldTouches = async (wrapped: ReturnType<typeof storeOn>, count: number) => {
      const { store, sent, received, readsAnswered } = wrapped;
      const { users, mpids } = await loggedIn(store, count);
      sent.length = 0;
      received.length = 0;
      readsAnswered.count = 0;
      const hold = holdTouchCalls(wrapped);
      const firsts = users.slice(0, IN_FLIGHT).map((user) => identify(store, user, { now: 2_000 }));
      await hold.started();
      let settled = 0;
      const waiting = users.slice(IN_FLIGHT).map((user) =>
        identify(store, user, { now: 2_000 }).then((ran) => {
          settled++;
          return ran;
        }),
      );
      await hold.queue(users.length);
      return {
        users,
        mpids,
        release: hold.release,
        settledWaiting: () => settled,
        answers: () => Promise.all([...firsts, ...waiting]),
      };
    };

    const touchesSent = (sent: readonly Sent[]) => sent.filter((s) => isTouch(s.text)).length;
    const begins = (sent: readonly Sent[]) => sent.filter((s) => s.text === 'begin').length;

    it('[PG-10] the last-seen touches of identifies that wait while touch calls are in flight go out as one call, and each is answered only once written', async () => {
      const wrapped = storeOn(handle);
      const { sent } = wrapped;
      const queued = await queuedBehindHeldTouches(wrapped, IN_FLIGHT + 4);
      const { users, mpids } = queued;
      expect(queued.settledWaiting()).toBe(0);
      queued.release();
      const answers = await queued.answers();
      expect(answers.map((a) => a.value.response.mpid)).toEqual(mpids);
      // A snapshot read each (PG-14: some in one call), the held touch calls, then one call for the four that waited.
      expect(wrapped.readsAnswered.count).toBe(users.length);
      const snapshotCalls = sent.filter((s) => isSnapshot(s.text)).length;
      expect(snapshotCalls).toBeLessThanOrEqual(users.length);
      expect(touchesSent(sent)).toBe(IN_FLIGHT + 1);
      expect(sent).toHaveLength(snapshotCalls + IN_FLIGHT + 1);
      expect(begins(sent)).toBe(0);
      for (const mpid of mpids) expect(await lastSeenOf(mpid)).toBe(2_000);
    });

    it('[PG-11] an entry of a touch batch whose data changed since its read runs alone in the write transaction, and the others of its batch are written', async () => {
      const wrapped = storeOn(handle);
      const { sent } = wrapped;
      const other = storeOn(handle);
      const queued = await queuedBehindHeldTouches(wrapped, IN_FLIGHT + 3);
      const { users, mpids } = queued;
      // Another server touches the first waiting user after this one's read: its digest no longer matches.
      await identify(other.store, users[IN_FLIGHT], { now: 3_000 });
      queued.release();
      const answers = await queued.answers();
      expect(answers.map((a) => a.value.response.mpid)).toEqual(mpids);
      expect(touchesSent(sent)).toBe(IN_FLIGHT + 1);
      expect(begins(sent)).toBe(1);
      // Serially that user's identify comes after the other server's (at 3,000) and writes its own time (LS-3).
      for (const mpid of mpids) expect(await lastSeenOf(mpid)).toBe(2_000);
    });

    it.each([
      ['a serialisation failure (40001) is rerun whole, nobody falls back', '40001', 2, 0],
      ['a deadlock (40P01) is rerun whole, nobody falls back', '40P01', 2, 0],
      ['any other error sends each entry alone to the write transaction', '22000', 1, 3],
    ])(
      '[PG-12] a touch batch that fails: %s, and every last-seen time is written once',
      async (_what, code, batchCalls, fallbacks) => {
        const wrapped = storeOn(handle);
        const { sent, failOnce } = wrapped;
        const queued = await queuedBehindHeldTouches(wrapped, IN_FLIGHT + 3);
        const { users, mpids } = queued;
        // The first call after the held ones, the batch of the three that waited, fails once.
        let touches = 0;
        failOnce(code, (text) => isTouch(text) && ++touches === IN_FLIGHT + 1);
        queued.release();
        const answers = await queued.answers();
        expect(answers.map((a) => a.value.response.mpid)).toEqual(mpids);
        expect(touchesSent(sent)).toBe(IN_FLIGHT + batchCalls);
        expect(begins(sent)).toBe(fallbacks);
        for (const mpid of mpids) expect(await lastSeenOf(mpid)).toBe(2_000);
        const history = await handle.db.selectFrom('history').select('kind').execute();
        expect(history.filter((h) => h.kind === 'profile_created')).toHaveLength(users.length);
      },
    );

    it('[PG-10][PG-11] batches of two servers over the same returning users, released together, neither deadlock nor lose a touch: every last-seen time is one its user sent', async () => {
      const servers = [storeOn(handle), storeOn(handle)];
      const [a] = servers;
      if (a === undefined) throw new Error('two stores');
      const { users, mpids } = await loggedIn(a.store, 6);
      const perServer = 20;
      for (const server of servers) {
        server.sent.length = 0;
        server.received.length = 0;
        server.readsAnswered.count = 0;
      }
      const holds = servers.map((server) => holdTouchCalls(server));
      const sentAt = new Map<string, number[]>();
      const run = (server: (typeof servers)[number], n: number, now: number) => {
        const user = n % users.length;
        const times = sentAt.get(mpids[user] ?? '') ?? [];
        sentAt.set(mpids[user] ?? '', [...times, now]);
        return identify(server.store, users[user], { now }).then(
          (ran) => ran.value.response.mpid === mpids[user],
        );
      };
      const firsts = servers.flatMap((server, s) =>
        Array.from({ length: IN_FLIGHT }, (_, n) => run(server, n + s, 10_000 + s * 100 + n)),
      );
      for (const hold of holds) await hold.started();
      const rest = servers.flatMap((server, s) =>
        Array.from({ length: perServer - IN_FLIGHT }, (_, n) => run(server, n + 1 + s, 20_000 + s * 100 + n)),
      );
      for (const hold of holds) await hold.queue(perServer);
      for (const hold of holds) hold.release();
      const answers = await Promise.all([...firsts, ...rest]);
      expect(answers.filter((onItsProfile) => !onItsProfile)).toEqual([]);
      for (const server of servers) expect(touchesSent(server.sent)).toBe(IN_FLIGHT + 1);
      for (const mpid of mpids) expect(sentAt.get(mpid)).toContain(await lastSeenOf(mpid));
      const profiles = await handle.db.selectFrom('profiles').select('mpid').execute();
      expect(profiles).toHaveLength(users.length);
    });

    /** Returning users identifying (read-only) while the snapshot calls in flight are held. */
    const readsBehindHeldCalls = async (
      wrapped: ReturnType<typeof storeOn>,
      waiting: number,
      beforeReads = () => {},
    ) => {
      const { users, mpids } = await loggedIn(wrapped.store, SNAPSHOT_CALLS_IN_FLIGHT + waiting);
      beforeReads();
      wrapped.sent.length = 0;
      wrapped.readsAnswered.count = 0;
      const hold = holdCalls(wrapped, isSnapshot, SNAPSHOT_CALLS_IN_FLIGHT);
      const ask = (user: (typeof users)[number]) =>
        identify(wrapped.store, user, { readOnly: true }).then(
          (ran) => ({ ok: true as const, mpid: ran.value.response.mpid }),
          (error: unknown) => ({ ok: false as const, error }),
        );
      const firsts = users.slice(0, SNAPSHOT_CALLS_IN_FLIGHT).map(ask);
      await hold.started();
      const rest = users.slice(SNAPSHOT_CALLS_IN_FLIGHT).map(ask);
      // The waiting reads are queued once their programs asked for them (no statement shows it).
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(wrapped.sent.filter((s) => isSnapshot(s.text))).toHaveLength(SNAPSHOT_CALLS_IN_FLIGHT);
      hold.release();
      return { users, mpids, answers: await Promise.all([...firsts, ...rest]) };
    };

    it('[PG-14] the reads of identifies that wait while snapshot calls are in flight go out as one call, and each gets the answer it gets alone', async () => {
      const wrapped = storeOn(handle);
      const { mpids, answers } = await readsBehindHeldCalls(wrapped, 4);
      expect(answers).toEqual(mpids.map((mpid) => ({ ok: true, mpid })));
      const calls = wrapped.sent.filter((s) => isSnapshot(s.text));
      expect(calls, 'the held calls, then one call for the four that waited').toHaveLength(
        SNAPSHOT_CALLS_IN_FLIGHT + 1,
      );
      expect(wrapped.readsAnswered.count).toBe(mpids.length);
      expect(
        wrapped.sent.filter((s) => !isSnapshot(s.text)),
        'read-only: nothing but the reads',
      ).toEqual([]);
    });

    it('[PG-14] a snapshot call of several reads that fails is sent again one read per call: only the request whose read fails fails', async () => {
      const wrapped = storeOn(handle);
      const poisoned = `u${SNAPSHOT_CALLS_IN_FLIGHT + 1}`;
      const { mpids, answers } = await readsBehindHeldCalls(wrapped, 3, () =>
        wrapped.failEvery(
          'XX000',
          (text, parameters) => isSnapshot(text) && (parameters[4] as string[]).includes(poisoned),
        ),
      );
      expect(answers.map((a) => a.ok)).toEqual(mpids.map((_, n) => n !== SNAPSHOT_CALLS_IN_FLIGHT + 1));
      for (const [n, answer] of answers.entries()) if (answer.ok) expect(answer.mpid).toBe(mpids[n]);
      const failed = answers[SNAPSHOT_CALLS_IN_FLIGHT + 1];
      expect(failed?.ok === false ? (failed.error as { code?: string }).code : null).toBe('XX000');
      expect(
        wrapped.sent.filter((s) => isSnapshot(s.text)),
        'the held calls, the failed call of three, then one call per read',
      ).toHaveLength(SNAPSHOT_CALLS_IN_FLIGHT + 1 + 3);
    });
  },
);
