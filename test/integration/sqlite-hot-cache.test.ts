/**
 * SQLite's in-memory hot read (SPEC HP-6..HP-9): a returning user's identify answered from memory
 * runs no read statement, and what it answers always matches the file, whichever connection
 * changed it: another connection on the same file (a second server, the admin CLI), this
 * connection outside the store (admin queries), or a write undone by a rollback.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerKey } from '../../server/auth/secrets.ts';
import { openDatabase, type DatabaseHandle } from '../../server/db/connect.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { SqliteHotCache } from '../../server/db/sqlite-hot-cache.ts';
import { WorkspaceStore } from '../../server/db/workspace-store.ts';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { identityProgram } from '../../shared/resolver/identify.ts';
import { store as storeCalls, type Program } from '../../shared/resolver/store-port.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';
import { createTestWorkspace } from '../helpers/workspaces.ts';

const CONFIG: ScopeConfigInput = { ...SYNC_CONFIG, scopeId: 'ws1' };
const NS = { scopeId: 'ws1', environment: 'production' as const };
const ACTOR = { kind: 'app' as const, id: 'test' };

/** One server's view of the file: its connection and its store. */
interface Server {
  readonly handle: DatabaseHandle;
  readonly store: SqlIdentityStore;
}

describe('SQLite in-memory hot read (HP-6..HP-9)', () => {
  let dir: string;
  let file: string;
  let a: Server;
  const opened: DatabaseHandle[] = [];

  async function open(): Promise<Server> {
    const handle = await openDatabase({ target: file });
    opened.push(handle);
    return { handle, store: new SqlIdentityStore(handle) };
  }

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hot-cache-'));
    file = path.join(dir, 'idsync.db');
    const handle = await openDatabase({ target: file });
    opened.push(handle);
    await createTestWorkspace(handle, CONFIG);
    a = { handle, store: new SqlIdentityStore(handle) };
  });
  afterEach(async () => {
    for (const handle of opened.splice(0)) await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let seed = 0;
  async function resolve(
    on: Server,
    kind: 'identify' | 'login',
    knownIdentities: Record<string, string>,
    now: number,
  ) {
    const ran = await on.store.runProgram('ws1', (config) =>
      identityProgram(
        kind,
        { environment: 'production', known_identities: knownIdentities },
        { config, random: seededRandom(++seed), actor: ACTOR, now },
      ),
    );
    if (ran === null || !ran.ok) throw new Error(`${kind} failed: ${JSON.stringify(ran)}`);
    return ran.value;
  }

  const load = (on: Server, customerid: string) =>
    on.store.transaction((tx) =>
      tx.loadProfiles(NS, [{ identityType: 'customerid', value: customerid }], []),
    );

  /** Counts the statements `fn` runs on a connection that read (`select`), by text. */
  async function readsDuring(on: Server, fn: () => Promise<unknown>): Promise<string[]> {
    if (on.handle.dialect !== 'sqlite') throw new Error('SQLite only');
    const sqlite = on.handle.sqlite;
    const prepare = sqlite.prepare.bind(sqlite);
    const texts: string[] = [];
    sqlite.prepare = (text: string) => {
      texts.push(text);
      return prepare(text);
    };
    try {
      await fn();
    } finally {
      sqlite.prepare = prepare;
    }
    return texts.filter((t) => /^select\b/i.test(t));
  }

  it('[HP-6] a returning user seen before is answered without a read statement, its last-seen time still written', async () => {
    const login = await resolve(a, 'login', { customerid: 'c1', device_application_stamp: 'das-1' }, 1_000);
    await resolve(a, 'identify', { customerid: 'c1', device_application_stamp: 'das-1' }, 2_000);
    let again = login;
    const reads = await readsDuring(a, async () => {
      again = await resolve(a, 'identify', { customerid: 'c1', device_application_stamp: 'das-1' }, 3_000);
    });
    expect(again.response.mpid).toBe(login.response.mpid);
    expect(reads).toEqual([]);
    const [stored] = await a.handle.db
      .selectFrom('profiles')
      .select('last_seen_at')
      .where('mpid', '=', login.response.mpid)
      .execute();
    expect(stored?.last_seen_at).toBe(3_000);
    expect((await load(a, 'c1'))[0]?.lastSeenAt).toBe(3_000);
  });

  it('[HP-7] a profile deleted by another connection on the same file is not answered from memory', async () => {
    const b = await open();
    const first = await resolve(a, 'login', { customerid: 'c1' }, 1_000);
    await resolve(a, 'identify', { customerid: 'c1' }, 2_000);
    expect(await b.store.deleteProfile('ws1', first.response.mpid, ACTOR, 2_500)).toBe(true);
    const after = await resolve(a, 'identify', { customerid: 'c1' }, 3_000);
    expect(after.created).toBe(true);
    expect(after.response.mpid).not.toBe(first.response.mpid);
  });

  it('[HP-7] a last-seen time and a new identity written by another connection are what the next read returns', async () => {
    const b = await open();
    const first = await resolve(a, 'login', { customerid: 'c1' }, 1_000);
    await resolve(a, 'identify', { customerid: 'c1' }, 2_000);
    await resolve(b, 'login', { customerid: 'c1', email: 'one@example.com' }, 5_000);
    const [record] = await load(a, 'c1');
    expect(record?.mpid).toBe(first.response.mpid);
    expect(record?.lastSeenAt).toBe(5_000);
    expect(record?.identities.email).toEqual(['one@example.com']);
  });

  it('[HP-7] a config change made by another connection is the config the next program runs with', async () => {
    const b = await open();
    const first = await resolve(a, 'login', { customerid: 'c1' }, 1_000);
    const key = ServerKey.fromText(randomBytes(32).toString('base64url'), 'test');
    if (!key.ok) throw new Error(key.error);
    const changed = await new WorkspaceStore(b.handle, key.value).updateConfig(
      'ws1',
      { ...CONFIG, strategy: 'profile_isolation' },
      ACTOR,
    );
    expect(changed.ok).toBe(true);
    const ran = await a.store.runProgram('ws1', (config) => {
      expect(config.strategy).toBe('profile_isolation');
      return identityProgram(
        'identify',
        { environment: 'production', known_identities: { customerid: 'c1' } },
        { config, random: seededRandom(++seed), actor: ACTOR, now: 2_000 },
      );
    });
    expect(ran?.ok && ran.value.response.mpid).toBe(first.response.mpid);
  });

  it('[HP-8] a change this connection makes outside the store (an admin query) is seen by the next read', async () => {
    const first = await resolve(a, 'login', { customerid: 'c1' }, 1_000);
    await resolve(a, 'identify', { customerid: 'c1' }, 2_000);
    await a.handle.db.deleteFrom('identities').where('mpid', '=', first.response.mpid).execute();
    expect(await load(a, 'c1')).toEqual([]);
    await a.handle.db
      .insertInto('identities')
      .values({
        scope_id: 'ws1',
        environment: 'production',
        identity_type: 'customerid',
        value: 'c1',
        mpid: first.response.mpid,
        is_unique: 1,
      })
      .execute();
    expect((await load(a, 'c1')).map((r) => r.mpid)).toEqual([first.response.mpid]);
    await a.handle.db.updateTable('profiles').set({ last_seen_at: 7_000 }).execute();
    expect((await load(a, 'c1'))[0]?.lastSeenAt).toBe(7_000);
  });

  /** A program that writes a last-seen time, then fails. */
  function* touchThenFail(mpid: string): Program<never> {
    yield* storeCalls.commit({
      changes: [{ op: 'updateProfile', mpid, patch: { lastSeenAt: 9_000 } }],
      history: [],
      request: null,
    });
    throw new Error('fails after writing');
  }

  it('[HP-9] a last-seen time written by a program that is then undone is not kept in memory (alone, and in a batch)', async () => {
    const first = await resolve(a, 'login', { customerid: 'c1' }, 1_000);
    await resolve(a, 'identify', { customerid: 'c1' }, 2_000);
    await expect(a.store.runSql(() => a.store.drive(touchThenFail(first.response.mpid)))).rejects.toThrow(
      'fails after writing',
    );
    expect((await load(a, 'c1'))[0]?.lastSeenAt).toBe(2_000);
    const failing = a.store.runSql(() => a.store.drive(touchThenFail(first.response.mpid)));
    const other = resolve(a, 'identify', { customerid: 'c2' }, 2_500);
    await expect(failing).rejects.toThrow('fails after writing');
    await other;
    expect((await load(a, 'c1'))[0]?.lastSeenAt).toBe(2_000);
  });

  it('[HP-6] memory is bounded: a read that would keep more profiles than the bound forgets everything first', async () => {
    const memory = await openDatabase({ target: ':memory:' });
    opened.push(memory);
    if (memory.dialect !== 'sqlite') throw new Error('SQLite only');
    const cache = new SqliteHotCache(memory.sqlite, 2);
    const record = (mpid: string) => ({
      mpid,
      scopeId: 'ws1',
      environment: 'production' as const,
      identities: { customerid: [mpid] },
      createdAt: 1,
      firstSeenAt: 1,
      lastSeenAt: 1,
      orphanedAt: null,
    });
    const fill = (mpid: string, id: number) =>
      cache.fill(
        NS,
        [{ identityType: 'customerid', value: mpid }],
        [{ mpid, identity_id: id, identity_type: 'customerid', value: mpid }],
        new Map([[mpid, record(mpid)]]),
      );
    const known = (mpid: string) => cache.lookup(NS, [{ identityType: 'customerid', value: mpid }], []);
    cache.begin();
    fill('m1', 1);
    fill('m2', 2);
    expect(known('m1')?.map((r) => r.mpid)).toEqual(['m1']);
    fill('m3', 3);
    expect(known('m1')).toBeUndefined();
    expect(known('m3')?.map((r) => r.mpid)).toEqual(['m3']);
    cache.end();
  });
});
