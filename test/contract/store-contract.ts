/**
 * The store port's own rules (SPEC ST-1..ST-10), registered against a store adapter. Together with
 * the scenario suite this is what every adapter (memory, RxDB, SQLite, PostgreSQL) must pass.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import type { Environment } from '../../shared/identity/scope-config.ts';
import type {
  AliasRecord,
  NewHistoryEntry,
  ProfileRecord,
  StoredRequest,
} from '../../shared/resolver/records.ts';
import {
  StoreConflictError,
  canonicalDump,
  type StoreChange,
  type WriteSet,
} from '../../shared/resolver/store-port.ts';
import type { TestStore } from '../helpers/harness.ts';
import type { AdapterFactory } from './adapter.ts';

const NS = { scopeId: 'ws1', environment: 'production' as Environment };

function profile(
  mpid: string,
  identities: Partial<Record<IdentityType, string[]>>,
  overrides: Partial<ProfileRecord> = {},
): ProfileRecord {
  return {
    mpid,
    scopeId: 'ws1',
    environment: 'production',
    identities,
    createdAt: 1000,
    firstSeenAt: 1000,
    lastSeenAt: 1000,
    orphanedAt: null,
    ...overrides,
  };
}

function create(p: ProfileRecord, uniqueTypes: IdentityType[] = ['customerid', 'email']): StoreChange {
  return { op: 'createProfile', profile: p, uniqueTypes };
}

function write(changes: StoreChange[], extra: Partial<WriteSet> = {}): WriteSet {
  return { changes, history: [], request: null, ...extra };
}

function historyEntry(mpid: string, reason: string): NewHistoryEntry {
  return {
    at: 5,
    scopeId: 'ws1',
    environment: 'production',
    kind: 'identity_added',
    mpid,
    identityType: 'email',
    value: 'a@x.com',
    otherMpid: null,
    aliasId: null,
    requestId: 'r1',
    actor: { kind: 'system', id: 'test' },
    reason,
  };
}

function storedRequest(requestId: string, mpid: string): StoredRequest {
  return {
    scopeId: 'ws1',
    requestId,
    kind: 'identify',
    environment: 'production',
    fingerprint: 'f1',
    at: 7,
    actor: { kind: 'app', id: 'key1' },
    mpids: [mpid],
    status: 200,
    response: { mpid },
    trace: {
      version: 1,
      kind: 'identify',
      requestId,
      strategy: 'profile_conversion',
      identities: [],
      previousMpid: null,
      lookups: [],
      situation: 'N0',
      branch: 'new_anonymous',
      writes: [],
      skipped: [],
      result: { mpid, created: true },
      notes: [],
    },
  };
}

function alias(id: string, overrides: Partial<AliasRecord> = {}): AliasRecord {
  return {
    id,
    scopeId: 'ws1',
    environment: 'production',
    sourceMpid: '11',
    destinationMpid: '22',
    startMs: 0,
    endMs: 100,
    scope: 'device',
    deviceApplicationStamp: null,
    requestedAt: 10,
    dueAt: 10,
    status: 'pending',
    statusReason: null,
    processedAt: null,
    previousDestinationFirstSeenAt: null,
    ...overrides,
  };
}

const sortedMpids = (records: readonly ProfileRecord[]) => records.map((r) => r.mpid).sort();

export function registerStoreContract(factory: AdapterFactory): void {
  describe(`store port contract on ${factory.name}`, () => {
    let store: TestStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      const created = await factory.create();
      store = created.store;
      close = created.close;
    });
    afterEach(() => close());

    const commit = (w: WriteSet) => store.transaction((tx) => tx.commit(w));
    const dump = async () => canonicalDump(await store.dump());

    it('[ST-1] loadProfiles returns the holders of any requested value and the named MPIDs, once each, from one namespace', async () => {
      await commit(
        write([
          create(profile('11', { email: ['a@x.com'], ios_idfv: ['d1'] })),
          create(profile('22', { ios_idfv: ['d1'] })),
          create(profile('33', { customerid: ['c3'] })),
          create(profile('44', { ios_idfv: ['d1'] }, { environment: 'development' })),
          create(profile('55', { ios_idfv: ['d1'] }, { scopeId: 'ws2' })),
        ]),
      );
      const loaded = await store.transaction((tx) =>
        tx.loadProfiles(
          NS,
          [
            { identityType: 'email', value: 'a@x.com' },
            { identityType: 'ios_idfv', value: 'd1' },
          ],
          ['11', '33', '44', '99'],
        ),
      );
      expect(sortedMpids(loaded)).toEqual(['11', '22', '33']);
      expect(loaded.find((p) => p.mpid === '11')).toEqual(
        profile('11', { email: ['a@x.com'], ios_idfv: ['d1'] }),
      );
      const dev = await store.transaction((tx) =>
        tx.loadProfiles(
          { scopeId: 'ws1', environment: 'development' },
          [{ identityType: 'ios_idfv', value: 'd1' }],
          [],
        ),
      );
      expect(sortedMpids(dev)).toEqual(['44']);
    });

    it('[ST-2] commit applies its changes in order: a unique value can move within one commit', async () => {
      await commit(
        write([create(profile('11', { email: ['a@x.com'] })), create(profile('22', { customerid: ['c2'] }))]),
      );
      await commit(
        write([
          { op: 'removeIdentity', mpid: '11', identityType: 'email', value: 'a@x.com' },
          { op: 'addIdentity', mpid: '22', identityType: 'email', value: 'a@x.com', unique: true },
          { op: 'updateProfile', mpid: '11', patch: { orphanedAt: 9 } },
          { op: 'updateProfile', mpid: '22', patch: { lastSeenAt: 8, firstSeenAt: 2 } },
        ]),
      );
      const state = await dump();
      expect(state.profiles).toEqual([
        profile('11', {}, { orphanedAt: 9 }),
        profile('22', { customerid: ['c2'], email: ['a@x.com'] }, { lastSeenAt: 8, firstSeenAt: 2 }),
      ]);
    });

    it('[ST-3] a unique value held by another record aborts the whole commit (add and create)', async () => {
      await commit(
        write([create(profile('11', { email: ['a@x.com'] })), create(profile('22', { customerid: ['c2'] }))]),
      );
      const before = await dump();
      const addClash = write(
        [
          { op: 'addIdentity', mpid: '22', identityType: 'ios_idfv', value: 'd9', unique: false },
          { op: 'addIdentity', mpid: '22', identityType: 'email', value: 'a@x.com', unique: true },
        ],
        { history: [historyEntry('22', 'clash')], request: storedRequest('r-clash', '22') },
      );
      await expect(commit(addClash)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await dump()).toEqual(before);
      await expect(commit(write([create(profile('33', { email: ['a@x.com'] }))]))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
      expect(await dump()).toEqual(before);
      await commit(write([create(profile('44', { email: ['a@x.com'] }), [])]));
      expect((await dump()).profiles.map((p) => p.mpid)).toEqual(['11', '22', '44']);
    });

    it('[ST-3] uniqueness is per namespace', async () => {
      await commit(write([create(profile('11', { email: ['a@x.com'] }))]));
      await commit(write([create(profile('22', { email: ['a@x.com'] }, { environment: 'development' }))]));
      await commit(write([create(profile('33', { email: ['a@x.com'] }, { scopeId: 'ws2' }))]));
      expect((await dump()).profiles).toHaveLength(3);
    });

    it('[ST-4] a transaction whose function throws leaves nothing behind', async () => {
      const before = await dump();
      await expect(
        store.transaction(async (tx) => {
          await tx.commit(
            write([create(profile('11', { email: ['a@x.com'] }))], { history: [historyEntry('11', 'x')] }),
          );
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await dump()).toEqual(before);
      expect(await store.transaction((tx) => tx.mpidTaken('11'))).toBe(false);
    });

    it('[ST-5] mpidTaken is true for every MPID ever created, in any namespace, orphans included', async () => {
      await commit(write([create(profile('11', {}, { scopeId: 'ws2', orphanedAt: 3 }))]));
      expect(await store.transaction((tx) => tx.mpidTaken('11'))).toBe(true);
      expect(await store.transaction((tx) => tx.mpidTaken('12'))).toBe(false);
      await expect(commit(write([create(profile('11', {}))]))).rejects.toThrow();
    });

    it('[ST-6] stored requests are found by scope and id; an id cannot be stored twice', async () => {
      await commit(write([create(profile('11', {}))], { request: storedRequest('r1', '11') }));
      expect(await store.transaction((tx) => tx.getRequest('ws1', 'r1'))).toEqual(storedRequest('r1', '11'));
      expect(await store.transaction((tx) => tx.getRequest('ws2', 'r1'))).toBeNull();
      expect(await store.transaction((tx) => tx.getRequest('ws1', 'r2'))).toBeNull();
      const before = await dump();
      await expect(commit(write([], { request: storedRequest('r1', '11') }))).rejects.toThrow();
      expect(await dump()).toEqual(before);
    });

    it('[ST-6][LS-1] a request stored without its trace (it changed nothing) comes back without one', async () => {
      await commit(write([create(profile('11', {}))]));
      const lean: StoredRequest = { ...storedRequest('r1', '11'), trace: null };
      await commit(write([], { request: lean }));
      expect(await store.transaction((tx) => tx.getRequest('ws1', 'r1'))).toEqual(lean);
    });

    it('[ST-7] history entries get strictly increasing seq in commit order', async () => {
      await commit(
        write([create(profile('11', {}))], {
          history: [historyEntry('11', 'first'), historyEntry('11', 'second')],
        }),
      );
      await commit(write([], { history: [historyEntry('11', 'third')] }));
      const history = (await dump()).history;
      expect(history.map((h) => h.reason)).toEqual(['first', 'second', 'third']);
      for (let i = 1; i < history.length; i++) {
        expect((history[i] as { seq: number }).seq).toBeGreaterThan((history[i - 1] as { seq: number }).seq);
      }
      expect(history[0]).toMatchObject(historyEntry('11', 'first'));
    });

    it('[ST-8] aliases: loadAliases by MPID oldest first, dueAliases pending and due, putAlias upserts', async () => {
      await commit(
        write([
          { op: 'putAlias', alias: alias('a2', { requestedAt: 20, dueAt: 20 }) },
          { op: 'putAlias', alias: alias('a1', { requestedAt: 10, dueAt: 50 }) },
          {
            op: 'putAlias',
            alias: alias('a3', {
              sourceMpid: '33',
              destinationMpid: '44',
              requestedAt: 5,
              dueAt: 5,
              status: 'applied',
            }),
          },
          { op: 'putAlias', alias: alias('a4', { environment: 'development' }) },
          { op: 'putAlias', alias: alias('a5', { scopeId: 'ws2' }) },
        ]),
      );
      const touching = await store.transaction((tx) => tx.loadAliases(NS, ['22']));
      expect(touching.map((a) => a.id)).toEqual(['a1', 'a2']);
      expect((await store.transaction((tx) => tx.loadAliases(NS, ['44']))).map((a) => a.id)).toEqual(['a3']);
      expect((await store.transaction((tx) => tx.dueAliases('ws1', 30, 10))).map((a) => a.id)).toEqual([
        'a4',
        'a2',
      ]);
      expect((await store.transaction((tx) => tx.dueAliases('ws1', 60, 1))).map((a) => a.id)).toEqual(['a1']);
      await commit(
        write([{ op: 'putAlias', alias: alias('a1', { requestedAt: 10, dueAt: 50, status: 'applied' }) }]),
      );
      expect(await store.transaction((tx) => tx.getAlias('ws1', 'a1'))).toEqual(
        alias('a1', { requestedAt: 10, dueAt: 50, status: 'applied' }),
      );
      expect(await store.transaction((tx) => tx.getAlias('ws2', 'a1'))).toBeNull();
      expect((await store.transaction((tx) => tx.dueAliases('ws1', 60, 10))).map((a) => a.id)).toEqual([
        'a4',
        'a2',
      ]);
    });

    it('[ST-9] concurrent transactions are serialisable: read-then-write increments are never lost', async () => {
      await commit(write([create(profile('11', {}, { lastSeenAt: 0 }))]));
      const bump = () =>
        store.transaction(async (tx) => {
          const [current] = await tx.loadProfiles(NS, [], ['11']);
          await tx.commit(
            write([
              { op: 'updateProfile', mpid: '11', patch: { lastSeenAt: (current?.lastSeenAt ?? 0) + 1 } },
            ]),
          );
        });
      await Promise.all(Array.from({ length: 20 }, bump));
      expect((await dump()).profiles[0]?.lastSeenAt).toBe(20);
    });

    it('[ST-10] removing a value the record lacks and adding one it holds change nothing', async () => {
      await commit(write([create(profile('11', { email: ['a@x.com'] }))]));
      const before = await dump();
      await commit(
        write([
          { op: 'removeIdentity', mpid: '11', identityType: 'email', value: 'b@x.com' },
          { op: 'addIdentity', mpid: '11', identityType: 'email', value: 'a@x.com', unique: true },
        ]),
      );
      expect(await dump()).toEqual(before);
    });
  });
}
