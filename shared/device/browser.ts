/**
 * The device engine's platform parts for browsers and Electron's renderer: the database on
 * IndexedDB (Dexie) shared by every page of the origin, and the Web Locks API to serialise those
 * pages' transactions (DV-14).
 */
import type { DexieSettings } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { openDeviceDatabase, type DeviceDatabase } from './collections.ts';
import type { DeviceLock } from './rxdb-store.ts';

/**
 * Dexie's storage for the device (DE-9). Dexie tracks every write's keys under every index and
 * posts them to all pages of the origin (a BroadcastChannel message per write transaction) for its
 * `liveQuery`, which nothing here uses: RxDB tells the other pages of a write itself
 * (`multiInstance`). So that middleware is left out, before the database opens.
 */
export function deviceDexieStorage(settings: DexieSettings = {}): ReturnType<typeof getRxStorageDexie> {
  return getRxStorageDexie({
    ...settings,
    onCreate: (dexie) => {
      dexie.unuse({ stack: 'dbcore', name: 'Observability' });
    },
  });
}

/** Opens the device database in IndexedDB; every tab and window of the origin opens the same one. */
export function openBrowserDeviceDatabase(name: string): Promise<DeviceDatabase> {
  return openDeviceDatabase(name, deviceDexieStorage(), { multiInstance: true });
}

/**
 * A lock held across every page of the origin (Web Locks API). Where the API is missing (very old
 * browsers), pages are not coordinated: the app then asks to be open in one tab only.
 */
export function browserLock(name: string): DeviceLock | null {
  const locks = globalThis.navigator?.locks;
  if (locks === undefined) return null;
  return <T>(task: () => Promise<T>) =>
    locks.request(`identity-sync:${name}`, { mode: 'exclusive' }, task) as Promise<T>;
}
