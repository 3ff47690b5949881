/**
 * The graph collection's schema (SPEC DE-6, DE-7), offline, on RxDB memory storage and on the Dexie
 * storage over fake-indexeddb (the browser's path): only the indexes a query needs, identity values
 * found through their ids, and a device written under schema version 0 read alike after the update.
 * And the device's Dexie storage without Dexie's own change tracking (DE-9).
 */
import { randomBytes } from 'node:crypto';
import { indexedDB, IDBKeyRange } from 'fake-indexeddb';
import { createRxDatabase, type RxJsonSchema, type RxStorage } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
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
import { deviceDexieStorage } from '../../../shared/device/browser.ts';
import { type DeviceEngine } from '../../../shared/device/engine.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';

/** The graph's schema as version 0 of the app released it: six indexes of our own. */
const GRAPH_SCHEMA_V0: RxJsonSchema<GraphDoc> = {
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

const STORAGES: readonly [string, () => RxStorage<unknown, unknown>][] = [
  ['memory', () => getRxStorageMemory()],
  ['dexie', () => getRxStorageDexie({ indexedDB, IDBKeyRange })],
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

  it('[DE-6] the graph keeps only the indexes a query needs: ids, a kind with its MPIDs, a kind in sequence', async () => {
    const db = await database(name(), storage());
    expect(db.graph.schema.version).toBe(1);
    expect(db.graph.storageInstance.schema.indexes).toEqual([
      ['_deleted', 'id'],
      ['_deleted', 'kind', 'mpid', 'id'],
      ['_deleted', 'kind', 'seq', 'id'],
      ['_meta.lwt', 'id'],
    ]);
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

  it('[DE-7] a device written under schema version 0 opens under version 1 with its log, people and current person, and keeps resolving', async () => {
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

    // The same device as version 0 stored it: every graph document under the old schema, and its state.
    const kept = name();
    const old = await createRxDatabase<DeviceCollections>({
      name: kept,
      storage: storage(),
      localDocuments: true,
      multiInstance: false,
    });
    await old.addCollections({
      graph: { schema: GRAPH_SCHEMA_V0 },
      profiles: { schema: PROFILES_SCHEMA },
      events: { schema: EVENTS_SCHEMA },
    });
    const docs = (await source.graph.find().exec()).map((d) => d.toJSON() as GraphDoc);
    await old.graph.bulkInsert(docs);
    await old.insertLocal('device', (await readLocal<Record<string, unknown>>(source, 'device')) ?? {});
    await old.close();

    const migrated = await database(kept, storage());
    expect(migrated.graph.schema.version).toBe(1);
    expect((await migrated.graph.find().exec()).map((d) => d.toJSON() as GraphDoc)).toEqual(docs);
    const after = await engineOn(migrated, 4);
    expect(after.deviceId).toBe(before.deviceId);
    expect(after.das).toBe(before.das);
    expect(await after.requests()).toEqual(await before.requests());
    expect(await after.currentUser()).toEqual(await before.currentUser());
    expect(await after.people()).toEqual(await before.people());

    await after.nextPerson();
    expect(mpidOf(await after.login({ customerid: 'second' }))).toBe(second);
    await after.nextPerson();
    expect(mpidOf(await after.identify({ email: 'first@example.com' }))).toBe(identified);
    // The email removed from the second person is free again.
    await after.nextPerson();
    expect(mpidOf(await after.login({ email: 'second@example.com' }))).not.toBe(second);
    const log = await after.requests();
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
  });
});

describe('device Dexie storage', () => {
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
    expect(await fieldFlowMessages(getRxStorageDexie({ indexedDB, IDBKeyRange }))).toBeGreaterThanOrEqual(4);
    expect(await fieldFlowMessages(deviceDexieStorage({ indexedDB, IDBKeyRange }))).toBe(0);
  });
});
