/**
 * The graph collection's schema (SPEC DE-6, DE-7), offline, on RxDB memory storage and on the Dexie
 * storage over fake-indexeddb (the browser's path): only the indexes a query needs, on fields only
 * request documents carry, identity values and kinds found through their ids, and a device written
 * under schema version 0 or 1 read alike after the update. And the device's Dexie storage without
 * Dexie's own change tracking (DE-9).
 */
import { randomBytes } from 'node:crypto';
import { indexedDB, IDBKeyRange } from 'fake-indexeddb';
import { firstValueFrom } from 'rxjs';
import {
  createRxDatabase,
  normalizeMangoQuery,
  prepareQuery,
  type MangoQuery,
  type RxJsonSchema,
  type RxStorage,
} from 'rxdb/plugins/core';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EVENTS_SCHEMA,
  openDeviceDatabase,
  PROFILES_SCHEMA,
  readLocal,
  type DeviceCollections,
  type DeviceDatabase,
  type GraphDoc,
} from '../../../shared/device/collections.ts';
import { deviceDexieStorage, requestIndexesDexieStorage } from '../../../shared/device/browser.ts';
import { type DeviceEngine } from '../../../shared/device/engine.ts';
import { canList, GraphDirectory } from '../../../shared/device/graph-directory.ts';
import {
  graphIdLister,
  identityHoldersQuery,
  kindSelector,
  requestLogQuery,
  requestsOfQuery,
  type RequestData,
} from '../../../shared/device/rxdb-store.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';

/** A graph document as versions 0 and 1 stored it: no log fields. */
type GraphDocV1 = Omit<GraphDoc, 'logSeq' | 'logMpid'>;

/** The graph's schema as version 0 of the app released it: six indexes of our own. */
const GRAPH_SCHEMA_V0: RxJsonSchema<GraphDocV1> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 1400 },
    kind: { type: 'string', maxLength: 16 },
    key: { type: 'string', maxLength: 1200 },
    mpid: { type: 'string', maxLength: 24 },
    seq: { type: 'number', minimum: 0, maximum: 1e15, multipleOf: 1 },
    due: { type: 'number', minimum: -1, maximum: 1e16, multipleOf: 1 },
    source: { type: 'string', maxLength: 24 },
    destination: { type: 'string', maxLength: 24 },
    data: { type: 'object' },
  },
  required: ['id', 'kind', 'key', 'mpid', 'seq', 'due', 'source', 'destination', 'data'],
  indexes: [
    ['kind', 'key'],
    ['kind', 'mpid'],
    ['kind', 'seq'],
    ['kind', 'due'],
    ['kind', 'source'],
    ['kind', 'destination'],
  ],
};

/** Version 1: the ids, `[kind, mpid]` and `[kind, seq]`. */
const GRAPH_SCHEMA_V1: RxJsonSchema<GraphDocV1> = {
  ...GRAPH_SCHEMA_V0,
  version: 1,
  indexes: ['id', ['kind', 'mpid'], ['kind', 'seq']],
};

/**
 * The documents of a device as versions 0 and 1 stored them: request documents without their log
 * fields, and each write's history entries in a document of their own.
 */
function asStoredBeforeVersion2(docs: readonly GraphDoc[]): GraphDocV1[] {
  return docs.flatMap((d): GraphDocV1[] => {
    const rest = Object.fromEntries(
      Object.entries(d).filter(([field]) => field !== 'logSeq' && field !== 'logMpid'),
    ) as GraphDocV1;
    if (d.kind !== 'request') return [rest];
    const { history, ...data } = d.data as unknown as RequestData;
    const first = history?.[0];
    const last = history?.at(-1);
    if (first === undefined || last === undefined) return [{ ...rest, data: { ...data } }];
    const id = `h|${String(first.seq).padStart(12, '0')}`;
    return [
      { ...rest, data: { ...data } },
      { ...rest, id, kind: 'history', key: '', mpid: last.mpid, seq: last.seq, data: { entries: history } },
    ];
  });
}

const STORAGES: readonly [string, () => RxStorage<unknown, unknown>][] = [
  ['memory', () => getRxStorageMemory()],
  ['dexie', () => deviceDexieStorage({ indexedDB, IDBKeyRange })],
];

const { engine: engineOn } = deviceEngines('schema');
const open: DeviceDatabase[] = [];

afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
});

async function database(name: string, storage: RxStorage<unknown, unknown>): Promise<DeviceDatabase> {
  const db = await openDeviceDatabase(name, storage);
  open.push(db);
  return db;
}

const mpidOf = (answer: Awaited<ReturnType<DeviceEngine['login']>>) => {
  if (!answer.ok) throw new Error(`local resolution failed: ${answer.error.message}`);
  return answer.value.mpid;
};

describe.each(STORAGES)('device graph schema on %s', (storageName, storage) => {
  const name = () => `schema${storageName}${randomBytes(5).toString('hex')}`;

  it('[DE-6] the graph keeps only the indexes a query needs: ids, and the log in sequence and by MPID', async () => {
    const db = await database(name(), storage());
    expect(db.graph.schema.version).toBe(2);
    expect(db.graph.storageInstance.schema.indexes).toEqual([
      ['_deleted', 'id'],
      ['_deleted', 'logSeq', 'id'],
      ['_deleted', 'logMpid', 'id'],
      ['_meta.lwt', 'id'],
    ]);
  });

  it('[DE-16] every query of the device reads one index range: a kind is a range of ids, the log its own index', async () => {
    const db = await database(name(), storage());
    const planned = (query: MangoQuery<GraphDoc>) => {
      // As RxDB prepares a collection's query for its storage.
      const prepared = db.graph.find(query).getPreparedQuery();
      return { index: prepared.queryPlan.index, range: prepared.queryPlan.startKeys[1] !== undefined };
    };
    expect(planned({ selector: kindSelector('profile') })).toEqual({
      index: ['_deleted', 'id'],
      range: true,
    });
    expect(planned(identityHoldersQuery('unit|production|email|a@example.com'))).toEqual({
      index: ['_deleted', 'id'],
      range: true,
    });
    expect(planned({ selector: { ...kindSelector('alias'), source: 'm' }, index: ['id'] }).index).toEqual([
      '_deleted',
      'id',
    ]);
    expect(planned(requestLogQuery(3)).index).toEqual(['_deleted', 'logSeq', 'id']);
    expect(planned(requestLogQuery(0, 9)).index).toEqual(['_deleted', 'logSeq', 'id']);
    expect(planned(requestsOfQuery('m')).index).toEqual(['_deleted', 'logMpid', 'id']);
  });

  it('[DE-5] an identity call writes its history with its request: profile, identities, request and head', async () => {
    const db = await database(name(), storage());
    const e = await engineOn(db, 5);
    mpidOf(await e.login({ customerid: 'kinds' }));
    const kinds = (await db.graph.find().exec()).map((d) => d.kind).sort();
    expect(kinds).toEqual(['head', 'identity', 'identity', 'profile', 'request']);
    const request = (await db.graph.find(requestLogQuery(0)).exec())[0]?.toJSON() as GraphDoc;
    expect((request.data as unknown as RequestData).history?.length).toBeGreaterThan(0);
    expect(request.logSeq).toBe(1);
    expect(request.logMpid).toBe(request.mpid);
  });

  it('[DE-19] the directory lists every profile and identity key in storage, removed ones included, and nothing else', async () => {
    const db = await database(name(), storage());
    const e = await engineOn(db, 19);
    mpidOf(await e.login({ customerid: 'ab|cd', email: 'gone@example.com' }));
    await e.modify([{ identityType: 'email', oldValue: 'gone@example.com', newValue: null }]);
    await e.nextPerson();
    mpidOf(await e.identify({ email: 'kept@example.com' }));
    // The device's IndexedDB storage lists its keys alone (one getAllKeys); memory storage is queried.
    const original = (db.graph.storageInstance as unknown as { originalStorageInstance: unknown })
      .originalStorageInstance;
    expect(canList(original)).toBe(storageName === 'dexie');
    const directory = await GraphDirectory.read(graphIdLister(db.graph));
    const schema = db.graph.schema.jsonSchema;
    const everything = await db.graph.storageInstance.query(
      prepareQuery(schema, normalizeMangoQuery(schema, { selector: {} })),
    );
    const docs = everything.documents;
    const identities = docs.filter((d) => d.kind === 'identity');
    const profiles = docs.filter((d) => d.kind === 'profile' || d.kind === 'dropped');
    expect(identities.some((d) => d._deleted)).toBe(true);
    expect(directory.size).toEqual({
      profiles: profiles.length,
      keys: new Set(identities.map((d) => d.key)).size,
    });
    for (const d of [...identities, ...profiles]) expect(directory.absent(d.id)).toBe(false);
    for (const d of identities) expect(directory.unheld(d.key)).toBe(false);
    expect(directory.unheld('unit|production|customerid|ab')).toBe(true);
    expect(directory.absent('i|unit|production|customerid|ab|123')).toBe(true);
    expect(directory.absent('p|123')).toBe(true);
    expect(directory.absent('head')).toBe(false);
  });

  it('[DE-6] an identity value is found through its ids: a value that prefixes another finds only its own holder', async () => {
    const db = await database(name(), storage());
    const e = await engineOn(db, 1);
    const longer = mpidOf(await e.login({ customerid: 'ab|cd' }));
    await e.nextPerson();
    const shorter = mpidOf(await e.login({ customerid: 'ab' }));
    expect(shorter).not.toBe(longer);
    await e.nextPerson();
    const reopened = await engineOn(db, 2);
    expect(mpidOf(await reopened.login({ customerid: 'ab' }))).toBe(shorter);
    await reopened.nextPerson();
    expect(mpidOf(await reopened.login({ customerid: 'ab|cd' }))).toBe(longer);
  });

  it.each([
    [0, GRAPH_SCHEMA_V0],
    [1, GRAPH_SCHEMA_V1],
  ] as const)(
    '[DE-7] a device written under schema version %i opens under version 2 with its log, people and current person, and keeps resolving',
    async (_version, schema) => {
      const source = await database(name(), storage());
      const before = await engineOn(source, 3);
      const identified = mpidOf(await before.identify({ email: 'first@example.com' }));
      await before.track('visited');
      const first = mpidOf(await before.login({ customerid: 'first' }));
      await before.nextPerson();
      const second = mpidOf(await before.login({ customerid: 'second', email: 'second@example.com' }));
      await before.modify([{ identityType: 'email', oldValue: 'second@example.com', newValue: null }]);
      await before.nextPerson();
      expect(mpidOf(await before.login({ customerid: 'first' }))).toBe(first);

      // The same device as the earlier version stored it: every graph document under the old schema, and its state.
      const kept = name();
      const old = await createRxDatabase<DeviceCollections>({
        name: kept,
        storage: storage(),
        localDocuments: true,
        multiInstance: false,
      });
      await old.addCollections({
        graph: {
          schema: schema,
          migrationStrategies: schema.version === 0 ? {} : { 1: (d: GraphDoc) => d },
        },
        profiles: { schema: PROFILES_SCHEMA },
        events: { schema: EVENTS_SCHEMA },
      });
      const docs = asStoredBeforeVersion2(
        (await source.graph.find().exec()).map((d) => d.toJSON() as GraphDoc),
      );
      expect(docs.some((d) => d.kind === 'history')).toBe(true);
      await old.graph.bulkInsert(docs);
      await old.insertLocal('device', (await readLocal<Record<string, unknown>>(source, 'device')) ?? {});
      await old.close();

      const migrated = await database(kept, storage());
      expect(migrated.graph.schema.version).toBe(2);
      // Request documents gain their log fields; every other document is kept as it was.
      const withLog = [...docs]
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((d) => (d.kind === 'request' ? { ...d, logSeq: d.seq, logMpid: d.mpid } : d));
      expect((await migrated.graph.find().exec()).map((d) => d.toJSON() as GraphDoc)).toEqual(withLog);
      const after = await engineOn(migrated, 4);
      expect(after.deviceId).toBe(before.deviceId);
      expect(after.das).toBe(before.das);
      expect(await after.requests()).toEqual(await before.requests());
      expect(await after.currentUser()).toEqual(await before.currentUser());
      expect(await after.people()).toEqual(await before.people());
      expect(await firstValueFrom(after.decisions$(first))).toEqual(
        await firstValueFrom(before.decisions$(first)),
      );
      expect((await after.store.dump()).history).toEqual((await before.store.dump()).history);

      await after.nextPerson();
      expect(mpidOf(await after.login({ customerid: 'second' }))).toBe(second);
      await after.nextPerson();
      expect(mpidOf(await after.identify({ email: 'first@example.com' }))).toBe(identified);
      // The email removed from the second person is free again.
      await after.nextPerson();
      expect(mpidOf(await after.login({ email: 'second@example.com' }))).not.toBe(second);
      const log = await after.requests();
      expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
      const history = (await after.store.dump()).history;
      expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
    },
  );
});

describe('device Dexie storage', () => {
  /** How many rows each index of the graph's IndexedDB store holds (Dexie's names), read with raw IndexedDB. */
  async function indexRows(name: string): Promise<Record<string, number>> {
    const idb = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(`rxdb-dexie-${name}--2--graph`);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('open failed'));
    });
    const store = idb.transaction('docs', 'readonly').objectStore('docs');
    const counts: Record<string, number> = {};
    for (const index of [...store.indexNames]) {
      counts[index] = await new Promise<number>((resolve) => {
        const request = store.index(index).count();
        request.onsuccess = () => resolve(request.result);
      });
    }
    idb.close();
    return counts;
  }

  it('[DE-6][DE-17] in IndexedDB only request documents have rows under the log indexes; every document has the id and RxDB rows', async () => {
    const name = `rows${randomBytes(5).toString('hex')}`;
    const db = await database(name, deviceDexieStorage({ indexedDB, IDBKeyRange }));
    const e = await engineOn(db, 12);
    await e.identify({ email: 'rows@example.com' });
    await e.login({ customerid: 'rows' });
    await e.nextPerson();
    const docs = await db.graph.find().exec();
    const requests = docs.filter((d) => d.kind === 'request').length;
    expect(requests).toBe(2);
    expect(await indexRows(name)).toEqual({
      '[_deleted+id]': docs.length,
      '[_deleted+logMpid+id]': requests,
      '[_deleted+logSeq+id]': requests,
      '[_meta.lwt+id]': docs.length,
      '_meta.lwt': docs.length,
    });
  });

  /** Messages Dexie posts to the origin's other pages (its `…storagemutated…` channels) while `task` runs. */
  async function dexieMessages(task: () => Promise<void>): Promise<number> {
    const original = Object.getOwnPropertyDescriptor(BroadcastChannel.prototype, 'postMessage');
    let posted = 0;
    const post = original?.value as (this: BroadcastChannel, message: unknown) => void;
    BroadcastChannel.prototype.postMessage = function (this: BroadcastChannel, message: unknown) {
      if (this.name.includes('storagemutated')) posted += 1;
      post.call(this, message);
    };
    try {
      await task();
    } finally {
      if (original !== undefined) Object.defineProperty(BroadcastChannel.prototype, 'postMessage', original);
    }
    return posted;
  }

  /** Dexie's messages while one person goes through the Field flow on an open device (creating a database posts one). */
  async function fieldFlowMessages(storage: RxStorage<unknown, unknown>): Promise<number> {
    const db = await database(`dexie${randomBytes(5).toString('hex')}`, storage);
    const e = await engineOn(db, 11);
    return dexieMessages(async () => {
      await e.identify({ email: 'quiet@example.com' });
      await e.track('visited');
      await e.login({ customerid: 'quiet' });
      await e.nextPerson();
    });
  }

  it("[DE-9] the device's writes post no Dexie change message (RxDB's own Dexie storage posts one per write)", async () => {
    expect(
      await fieldFlowMessages(requestIndexesDexieStorage({ indexedDB, IDBKeyRange })),
    ).toBeGreaterThanOrEqual(4);
    expect(await fieldFlowMessages(deviceDexieStorage({ indexedDB, IDBKeyRange }))).toBe(0);
  });
});
