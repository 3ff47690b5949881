/**
 * The device engine's platform parts for browsers and Electron's renderer: the database on
 * IndexedDB (Dexie) shared by every page of the origin, and the Web Locks API to serialise those
 * pages' transactions (DV-14).
 */
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { openDeviceDatabase, type DeviceDatabase } from './collections.ts';
import type { DeviceLock } from './rxdb-store.ts';

/** Opens the device database in IndexedDB; every tab and window of the origin opens the same one. */
export function openBrowserDeviceDatabase(name: string): Promise<DeviceDatabase> {
  return openDeviceDatabase(name, getRxStorageDexie(), { multiInstance: true });
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
