/**
 * Counts the reads (by id, queries, counts) that collections' storage is asked for, and notes the
 * count each time one of their writes has committed: what a test needs to say "nothing was read
 * between the write and this moment". `restore` puts the storage methods back.
 */
import type { RxCollection, RxStorageInstance } from 'rxdb/plugins/core';

export function watchStorageReads(collections: readonly RxCollection[]) {
  const state = { reads: 0, committed: 0, readsAtCommit: -1 };
  const restores: (() => void)[] = [];
  for (const collection of collections) {
    const storage = collection.storageInstance as RxStorageInstance<object, unknown, unknown>;
    const original = {
      findDocumentsById: storage.findDocumentsById.bind(storage),
      query: storage.query.bind(storage),
      count: storage.count.bind(storage),
      bulkWrite: storage.bulkWrite.bind(storage),
    };
    storage.findDocumentsById = (ids, deleted) => {
      state.reads += 1;
      return original.findDocumentsById(ids, deleted);
    };
    storage.query = (prepared) => {
      state.reads += 1;
      return original.query(prepared);
    };
    storage.count = (prepared) => {
      state.reads += 1;
      return original.count(prepared);
    };
    storage.bulkWrite = async (rows, context) => {
      const result = await original.bulkWrite(rows, context);
      state.committed += 1;
      state.readsAtCommit = state.reads;
      return result;
    };
    restores.push(() => Object.assign(storage, original));
  }
  return { state, restore: () => restores.forEach((restore) => restore()) };
}
