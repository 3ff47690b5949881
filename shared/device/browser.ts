/**
 * The device engine's platform parts for browsers and Electron's renderer: the database on
 * IndexedDB (Dexie) shared by every page of the origin, and the Web Locks API to serialise those
 * pages' transactions (DV-14).
 */
import type { DexieSettings, RxStorageInstanceCreationParams } from 'rxdb/plugins/core';
import { RxStorageDexie, type RxStorageInstanceDexie } from 'rxdb/plugins/storage-dexie';
import { openDeviceDatabase, REQUEST_ONLY_FIELDS, type DeviceDatabase } from './collections.ts';
import type { IdListing } from './graph-directory.ts';
import { leasedLock } from './leased-lock.ts';
import type { DeviceLock } from './rxdb-store.ts';

/**
 * RxDB's Dexie storage, with indexes on the graph's request-only fields (DE-6). RxDB refuses an
 * index on a field its schema does not require (DXE1): a document without the field is in no row
 * of that index, so a query through it would miss the document. That is what the graph wants of
 * its log indexes, and every query through them selects request documents, which always carry
 * the fields; so the storage is told they are required, and IndexedDB leaves every other document
 * out of those indexes.
 */
class RequestIndexesDexie extends RxStorageDexie {
  override async createStorageInstance<RxDocType>(
    params: RxStorageInstanceCreationParams<RxDocType, DexieSettings>,
  ) {
    const required: readonly string[] = params.schema.required ?? [];
    const indexed = (params.schema.indexes ?? []).flat();
    const sparse = REQUEST_ONLY_FIELDS.filter(
      (field) => indexed.includes(field) && !required.includes(field),
    );
    const schema =
      sparse.length === 0
        ? params.schema
        : ({ ...params.schema, required: [...required, ...sparse] } as typeof params.schema);
    const instance = await super.createStorageInstance({ ...params, schema });
    return Object.assign(instance, idListing(instance));
  }
}

/** Keys per IndexedDB transaction of a listing: a short read each, so writes are not held up. */
const LIST_CHUNK = 2000;

/**
 * Lists a Dexie table's primary keys in a range from the keys alone, not the documents (the
 * graph's directory, DE-19), `LIST_CHUNK` keys per read transaction.
 */
function idListing<RxDocType>(instance: RxStorageInstanceDexie<RxDocType>): IdListing {
  return {
    async listIds(lower, upper) {
      const { dexieTable } = await instance.internals;
      const ids: string[] = [];
      let from = lower;
      let inclusive = true;
      for (;;) {
        const chunk = (await dexieTable
          .where(':id')
          .between(from, upper, inclusive, false)
          .limit(LIST_CHUNK)
          .primaryKeys()) as string[];
        ids.push(...chunk);
        const last = chunk.at(-1);
        if (chunk.length < LIST_CHUNK || last === undefined) return ids;
        from = last;
        inclusive = false;
      }
    },
  };
}

/** RxDB's Dexie storage with the graph's request-only indexes (see `RequestIndexesDexie`). */
export function requestIndexesDexieStorage(settings: DexieSettings = {}): RxStorageDexie {
  return new RequestIndexesDexie(settings);
}

/**
 * Dexie's storage for the device (DE-9). Dexie tracks every write's keys under every index and
 * posts them to all pages of the origin (a BroadcastChannel message per write transaction) for its
 * `liveQuery`, which nothing here uses: RxDB tells the other pages of a write itself
 * (`multiInstance`). So that middleware is left out, before the database opens.
 */
export function deviceDexieStorage(settings: DexieSettings = {}): RxStorageDexie {
  return requestIndexesDexieStorage({
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
 * A lock held across every page of the origin (Web Locks API), as a lease (DV-19, `leased-lock.ts`):
 * kept between this page's transactions until another page asks for it, the page is hidden, or a
 * minute passes without a transaction. Where the API is missing (very old browsers), pages are not
 * coordinated: the app then asks to be open in one tab only.
 */
export function browserLock(name: string): DeviceLock | null {
  const locks = globalThis.navigator?.locks;
  if (locks === undefined) return null;
  const lockName = `identity-sync:${name}`;
  const page = globalThis.document as Document | undefined;
  return leasedLock({
    locks,
    name: lockName,
    channel: new BroadcastChannel(lockName),
    ...(page === undefined
      ? {}
      : {
          visibility: {
            hidden: () => page.visibilityState === 'hidden',
            onHidden: (listener) => {
              page.addEventListener('visibilitychange', () => {
                if (page.visibilityState === 'hidden') listener();
              });
              globalThis.addEventListener('pagehide', listener);
            },
          },
        }),
  });
}
