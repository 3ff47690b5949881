/**
 * The SQLite identify hot path (SPEC HP-1, HP-2): the statements one returning-user identify runs
 * when its profiles are not in memory yet (HP-6 covers those that are),
 * counted by wrapping the connection's prepared statements, and the group commit's savepoints,
 * opened only by programs that write and still undoing a failed program alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../server/db/connect.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { rows, run } from '../../server/db/sql-statements.ts';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { identityProgram } from '../../shared/resolver/identify.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';
import { createTestWorkspace } from '../helpers/workspaces.ts';

const CONFIG: ScopeConfigInput = { ...SYNC_CONFIG, scopeId: 'ws1' };
const ACTOR = { kind: 'app' as const, id: 'test' };
const known = (n: number) => ({
  customerid: `c${n}`,
  email: `u${n}@example.com`,
  device_application_stamp: `das-${n}`,
});

describe('SQLite identify hot path (HP-1, HP-2)', () => {
  let handle: DatabaseHandle;
  let store: SqlIdentityStore;
  /** Every statement executed on the connection since the last `sent.length = 0`. */
  const sent: string[] = [];

  beforeEach(async () => {
    handle = await openDatabase({ target: ':memory:' });
    if (handle.dialect !== 'sqlite') throw new Error('SQLite only');
    const sqlite = handle.sqlite;
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = (text: string) => {
      const statement = prepare(text);
      return new Proxy(statement, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property);
          if ((property === 'all' || property === 'run') && typeof value === 'function')
            return (...args: unknown[]) => {
              sent.push(text);
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
    };
    await createTestWorkspace(handle, CONFIG);
    store = new SqlIdentityStore(handle);
  });
  afterEach(async () => handle.close());

  let seed = 0;
  async function resolve(
    kind: 'identify' | 'login',
    knownIdentities: Record<string, string>,
    options: { now: number; lastSeenResolutionMs?: number },
  ) {
    const ran = await store.runProgram('ws1', (config) =>
      identityProgram(
        kind,
        { environment: 'production', known_identities: knownIdentities },
        { config, random: seededRandom(++seed), actor: ACTOR, ...options },
      ),
    );
    if (ran === null || !ran.ok) throw new Error(`${kind} failed: ${JSON.stringify(ran)}`);
    return ran.value;
  }

  const transactionControl = (text: string) => /^(begin|commit|rollback|savepoint|release)\b/i.test(text);
  const writes = (text: string) => /^(insert|update|delete)\b/i.test(text);

  it('[HP-1] a returning-user identify not answered from memory reads its profiles with identities in one statement, and writes its last-seen time', async () => {
    for (let n = 0; n < 3; n++) await resolve('login', known(n), { now: 1_000 });
    sent.length = 0;
    const answered = await resolve(
      'identify',
      { customerid: 'c1', device_application_stamp: 'das-1' },
      {
        now: 2_000,
      },
    );
    expect(answered.created).toBe(false);
    const statements = sent.filter((t) => !transactionControl(t));
    // The config version was read by the logins and is kept in memory (HP-6); their identities
    // were written since, so the profiles are read again.
    expect(statements.filter((t) => !writes(t))).toEqual([expect.stringMatching(/^select p\.\*/)]);
    expect(statements.filter(writes)).toEqual([
      expect.stringMatching(/^update "profiles" set "last_seen_at"/),
    ]);
  });

  it('[HP-1] the one read returns the holders first (in the order of the first value each holds), identities in the order added', async () => {
    await resolve('login', { customerid: 'c1', email: 'one@example.com' }, { now: 1_000 });
    await resolve('identify', { device_application_stamp: 'das-x' }, { now: 1_000 });
    const holderOfStamp = await resolve('identify', { device_application_stamp: 'das-x' }, { now: 1_000 });
    const records = await store.transaction((tx) =>
      tx.loadProfiles(
        { scopeId: 'ws1', environment: 'production' },
        [
          { identityType: 'device_application_stamp', value: 'das-x' },
          { identityType: 'customerid', value: 'c1' },
        ],
        [],
      ),
    );
    const mpids = records.map((r) => r.mpid);
    const loginMpid = records.find((r) => r.identities.customerid !== undefined);
    expect(mpids).toEqual([loginMpid?.mpid, holderOfStamp.response.mpid]);
    expect(Object.keys(loginMpid?.identities ?? {})).toEqual(['customerid', 'email']);
  });

  it('[HP-2] with a last-seen window, a returning user seen again within it only reads: no write, no savepoint', async () => {
    await resolve('login', known(1), { now: 1_000, lastSeenResolutionMs: 60_000 });
    sent.length = 0;
    await resolve('identify', { customerid: 'c1' }, { now: 2_000, lastSeenResolutionMs: 60_000 });
    expect(sent.filter((t) => /^(savepoint|release|rollback)\b/i.test(t))).toEqual([]);
    expect(sent.filter((t) => !transactionControl(t))).toEqual([expect.stringMatching(/^select p\.\*/)]);
    expect(sent.filter(writes)).toEqual([]);
  });

  it('[HP-2] in one group commit, a program that fails after writing is undone alone; one that fails after reading needs no undo', async () => {
    const a = await resolve('login', known(1), { now: 1_000 });
    const b = await resolve('login', known(2), { now: 1_000 });
    sent.length = 0;
    const touch = 'update "profiles" set "last_seen_at" = ? where "mpid" = ?';
    const lastSeen = async (mpid: string) =>
      (
        await handle.db
          .selectFrom('profiles')
          .select('last_seen_at')
          .where('mpid', '=', mpid)
          .executeTakeFirstOrThrow()
      ).last_seen_at;
    const failing = store.runSql(function* () {
      yield* run(touch, [5_000, a.response.mpid]);
      throw new Error('fails after writing');
    });
    const readOnlyFailing = store.runSql(function* () {
      yield* rows('select 1', []);
      throw new Error('fails after reading');
    });
    const succeeding = store.runSql(function* () {
      return yield* run(touch, [6_000, b.response.mpid]);
    });
    await expect(failing).rejects.toThrow('fails after writing');
    await expect(readOnlyFailing).rejects.toThrow('fails after reading');
    expect(await succeeding).toBe(1);
    expect(await lastSeen(a.response.mpid)).toBe(1_000);
    expect(await lastSeen(b.response.mpid)).toBe(6_000);
    expect(sent.filter((t) => /^savepoint\b/i.test(t))).toHaveLength(2);
  });
});
