import { randomBytes } from 'node:crypto';
import { indexedDB, IDBKeyRange } from 'fake-indexeddb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { deviceDexieStorage } from '../../shared/device/browser.ts';
import { openDeviceDatabase } from '../../shared/device/collections.ts';
import { RxdbIdentityStore } from '../../shared/device/rxdb-store.ts';
import type { AdapterFactory } from './adapter.ts';
import { registerScenarioSuite } from './scenarios.ts';
import { registerStoreContract } from './store-contract.ts';

function rxdb(name: string, storage: () => Parameters<typeof openDeviceDatabase>[1]): AdapterFactory {
  return {
    name,
    async create() {
      const db = await openDeviceDatabase(`contract${randomBytes(6).toString('hex')}`, storage());
      return { store: new RxdbIdentityStore(db.graph), close: () => db.remove().then(() => undefined) };
    },
  };
}

const memory = rxdb('rxdb-memory [DV-7]', () => getRxStorageMemory());
// The device's own Dexie storage: RxDB's refuses the graph's request-only indexes (DE-17).
const dexie = rxdb('rxdb-dexie [DV-7]', () => deviceDexieStorage({ indexedDB, IDBKeyRange }));

registerStoreContract(memory);
registerScenarioSuite(memory);
registerStoreContract(dexie);
registerScenarioSuite(dexie);
