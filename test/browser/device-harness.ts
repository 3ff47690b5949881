/**
 * The device engine in a real browser page, for end-to-end tests and benchmarks: `shared/device`
 * bundled for the browser (see `harness-server.ts`), opened on IndexedDB with the cross-page lock
 * exactly as the app opens it, and driven through `window.harness` (see `harness-api.ts`).
 *
 * The page's query string picks the database (`db`, default `identity-sync-harness`) and the
 * workspace config (`config`: `field`, profile conversion with customer ID and email as unique
 * login identities; or `app`, the app's own default config).
 *
 * To say what a call costs, the page counts every IndexedDB transaction of the origin (by wrapping
 * `IDBDatabase.prototype.transaction` before anything opens), the graph collection's storage calls,
 * and the time spent waiting for the Web Lock.
 */
import { createRxDatabase, type RxCollection, type RxStorageInstance } from 'rxdb/plugins/core';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { filter, firstValueFrom, map, timeout, type Observable } from 'rxjs';
import { z } from 'zod';
import { browserLock, openBrowserDeviceDatabase } from '../../shared/device/browser.ts';
import { GRAPH_SCHEMA, type DeviceDatabase, type GraphDoc } from '../../shared/device/collections.ts';
import { answeredMpid, DeviceEngine } from '../../shared/device/engine.ts';
import { GraphDirectory } from '../../shared/device/graph-directory.ts';
import { graphIdLister, type DeviceLock } from '../../shared/device/rxdb-store.ts';
import {
  defaultScopeConfig,
  ScopeConfigSchema,
  type ScopeConfig,
} from '../../shared/identity/scope-config.ts';
import { randomFromFill } from '../../shared/util/random.ts';
import type {
  CallProfile,
  FloorTimes,
  Harness,
  HarnessAnswer,
  HarnessConfigName,
  HarnessLogEntry,
  FlowTimes,
  LiveWait,
  StorageTrace,
} from './harness-api.ts';

const ParamsSchema = z.object({
  db: z.string().min(1).max(100).default('identity-sync-harness'),
  config: z.enum(['field', 'app']).default('field'),
});

const CONFIGS: Record<HarnessConfigName, () => ScopeConfig> = {
  field: () =>
    ScopeConfigSchema.parse({
      scopeId: 'default',
      strategy: 'profile_conversion',
      identityPriority: ['customerid', 'email', 'device_application_stamp'],
      loginIdentities: ['customerid', 'email'],
      uniqueIdentities: ['customerid', 'email'],
    }),
  app: () => defaultScopeConfig('default'),
};

/** Counters the profile reads; every one only ever grows. */
const counters = {
  idbTransactions: 0,
  idbReadwrite: 0,
  findDocumentsById: 0,
  query: 0,
  bulkWrite: 0,
  documentsRead: 0,
  storageRounds: 0,
  lockWaitMs: 0,
  locks: 0,
  findDocumentsByIdMs: 0,
  queryMs: 0,
  bulkWriteMs: 0,
};
type Counters = typeof counters;

function countIndexedDbTransactions(): void {
  const prototype = IDBDatabase.prototype;
  const original = Object.getOwnPropertyDescriptor(prototype, 'transaction')?.value as (
    this: IDBDatabase,
    ...args: Parameters<IDBDatabase['transaction']>
  ) => IDBTransaction;
  prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    counters.idbTransactions += 1;
    if (args[1] === 'readwrite') counters.idbReadwrite += 1;
    return original.apply(this, args);
  };
}

/** Graph storage calls in flight now: a call that starts when there are none opens a storage round. */
let inFlight = 0;

/** Runs one graph storage call, counting the round it belongs to; resolves with its result and ms. */
async function storageCall<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  if (inFlight === 0) counters.storageRounds += 1;
  inFlight += 1;
  const started = performance.now();
  try {
    const result = await call();
    return { result, ms: performance.now() - started };
  } finally {
    inFlight -= 1;
  }
}

function countGraphStorage(db: DeviceDatabase): void {
  const storage = db.graph.storageInstance as RxStorageInstance<GraphDoc, unknown, unknown>;
  const findDocumentsById = storage.findDocumentsById.bind(storage);
  const query = storage.query.bind(storage);
  const bulkWrite = storage.bulkWrite.bind(storage);
  storage.findDocumentsById = async (ids, deleted) => {
    counters.findDocumentsById += 1;
    const { result, ms } = await storageCall(() => findDocumentsById(ids, deleted));
    counters.findDocumentsByIdMs += ms;
    counters.documentsRead += result.length;
    return result;
  };
  storage.query = async (prepared) => {
    counters.query += 1;
    const { result, ms } = await storageCall(() => query(prepared));
    counters.queryMs += ms;
    counters.documentsRead += result.documents.length;
    return result;
  };
  storage.bulkWrite = async (rows, context) => {
    counters.bulkWrite += 1;
    const { result, ms } = await storageCall(() => bulkWrite(rows, context));
    counters.bulkWriteMs += ms;
    return result;
  };
}

function timedLock(lock: DeviceLock): DeviceLock {
  return (task) => {
    const asked = performance.now();
    return lock((unbroken) => {
      counters.lockWaitMs += performance.now() - asked;
      counters.locks += 1;
      return task(unbroken);
    });
  };
}

async function answer(
  call: () => Promise<{ ok: true; value: { mpid: string } } | { ok: false; error: { message: string } }>,
): Promise<HarnessAnswer> {
  const started = performance.now();
  const result = await call();
  const ms = performance.now() - started;
  return result.ok
    ? { ok: true, mpid: result.value.mpid, error: null, ms }
    : { ok: false, mpid: null, error: result.error.message, ms };
}

async function timed(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

function waitFor<T>(source: Observable<T>, value: (t: T) => number | null, timeoutMs: number) {
  const started = performance.now();
  return firstValueFrom(
    source.pipe(
      map(value),
      filter((v): v is number => v !== null),
      map((v): LiveWait => ({ ms: performance.now() - started, value: v })),
      timeout(timeoutMs),
    ),
  );
}

function logEntry(sync: Awaited<ReturnType<DeviceEngine['requests']>>[number]): HarnessLogEntry {
  const identities = { ...((sync.body['known_identities'] ?? {}) as Record<string, string>) };
  delete identities['device_application_stamp'];
  return {
    seq: sync.seq,
    kind: sync.kind,
    requestId: sync.requestId,
    previousMpid: (sync.body['previous_mpid'] as string | null | undefined) ?? null,
    answer: answeredMpid(sync),
    identities,
  };
}

interface FloorDoc {
  id: string;
  n: number;
}

/** A database and collection of their own, on the same storage as the device (Dexie). */
async function openFloorCollection(name: string): Promise<RxCollection<FloorDoc>> {
  const db = await createRxDatabase<{ floor: RxCollection<FloorDoc> }>({
    name: `${name}-floor`,
    storage: getRxStorageDexie(),
    multiInstance: false,
  });
  await db.addCollections({
    floor: {
      schema: {
        version: 0,
        primaryKey: 'id',
        type: 'object',
        properties: { id: { type: 'string', maxLength: 64 }, n: { type: 'number' } },
        required: ['id', 'n'],
      },
    },
  });
  return db.floor;
}

function openRawDatabase(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(`${name}-raw`, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('docs', { keyPath: 'id' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'));
  });
}

/** The IndexedDB database RxDB's Dexie storage keeps the graph collection in (one per schema version). */
function openDeviceGraphDatabase(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(`rxdb-dexie-${name}--${GRAPH_SCHEMA.version}--graph`);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'));
  });
}

function rawGet(db: IDBDatabase, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('docs', 'readonly');
    tx.objectStore('docs').get(id);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB get failed'));
  });
}

function rawPut(db: IDBDatabase, doc: FloorDoc): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('docs', 'readwrite');
    tx.objectStore('docs').put(doc);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB put failed'));
  });
}

function trace(before: Counters): StorageTrace {
  return {
    findDocumentsById: {
      count: counters.findDocumentsById - before.findDocumentsById,
      ms: counters.findDocumentsByIdMs - before.findDocumentsByIdMs,
    },
    query: { count: counters.query - before.query, ms: counters.queryMs - before.queryMs },
    bulkWrite: {
      count: counters.bulkWrite - before.bulkWrite,
      ms: counters.bulkWriteMs - before.bulkWriteMs,
    },
    lock: { count: counters.locks - before.locks, ms: counters.lockWaitMs - before.lockWaitMs },
  };
}

function delta(before: Counters): Omit<CallProfile, 'call' | 'ms'> {
  return {
    idbTransactions: counters.idbTransactions - before.idbTransactions,
    idbReadwrite: counters.idbReadwrite - before.idbReadwrite,
    findDocumentsById: counters.findDocumentsById - before.findDocumentsById,
    query: counters.query - before.query,
    bulkWrite: counters.bulkWrite - before.bulkWrite,
    documentsRead: counters.documentsRead - before.documentsRead,
    storageRounds: counters.storageRounds - before.storageRounds,
    lockWaitMs: counters.lockWaitMs - before.lockWaitMs,
    locks: counters.locks - before.locks,
  };
}

/** How many times `floor` lists the directory (it reads every profile and identity key). */
const DIRECTORY_SAMPLES = 5;

async function start(): Promise<Harness> {
  const params = ParamsSchema.parse(Object.fromEntries(new URLSearchParams(location.search)));
  countIndexedDbTransactions();
  const db = await openBrowserDeviceDatabase(params.db);
  countGraphStorage(db);
  const lock = browserLock(params.db);
  const engine = await DeviceEngine.open({
    db,
    config: CONFIGS[params.config](),
    environment: 'production',
    random: randomFromFill((buffer) => crypto.getRandomValues(buffer)),
    clock: { now: () => Date.now() },
    ...(lock === null ? {} : { lock: timedLock(lock) }),
  });
  let floorRun = 0;
  const harness: Harness = {
    database: params.db,
    config: params.config,
    login: (identities) => answer(() => engine.login(identities)),
    identify: (identities) => answer(() => engine.identify(identities)),
    nextPerson: () => timed(() => engine.nextPerson()),
    track: (name) => timed(() => engine.track(name)),
    loginAll: (list) => Promise.all(list.map((identities) => answer(() => engine.login(identities)))),
    requests: async () => (await engine.requests()).map(logEntry),
    waitForPerson: (mpid, timeoutMs) =>
      waitFor(
        engine.people$,
        (people) => (people.some((p) => p.mpid === mpid) ? people.length : null),
        timeoutMs,
      ),
    waitForPendingRequests: (count, timeoutMs) =>
      waitFor(
        engine.status$,
        (status) => (status.pendingRequests >= count ? status.pendingRequests : null),
        timeoutMs,
      ),
    async fieldFlow(prefix, from, count): Promise<FlowTimes> {
      const times = {
        identify: [] as number[],
        login: [] as number[],
        track: [] as number[],
        nextPerson: [] as number[],
      };
      const before = { ...counters };
      for (let i = from; i < from + count; i++) {
        const identify = await answer(() => engine.identify({ email: `${prefix}-${i}@example.com` }));
        if (!identify.ok) throw new Error(`identify ${i} failed: ${identify.error ?? ''}`);
        times.identify.push(identify.ms);
        times.track.push(await timed(() => engine.track('visited')));
        const login = await answer(() => engine.login({ customerid: `${prefix}-c${i}` }));
        if (!login.ok) throw new Error(`login ${i} failed: ${login.error ?? ''}`);
        times.login.push(login.ms);
        times.nextPerson.push(await timed(() => engine.nextPerson()));
      }
      return { ...times, storage: trace(before) };
    },
    async identityCalls(prefix, from, count) {
      const times: number[] = [];
      const call = async (name: string, task: () => ReturnType<DeviceEngine['login']>) => {
        const result = await answer(task);
        if (!result.ok) throw new Error(`${name} failed: ${result.error ?? ''}`);
        times.push(result.ms);
      };
      for (let i = from; i < from + count; i++) {
        await call('identify', () => engine.identify({ email: `${prefix}-${i}@example.com` }));
        await call('login', () => engine.login({ customerid: `${prefix}-c${i}` }));
        await call('logout', () => engine.logout());
      }
      return times;
    },
    async floor(count) {
      const collection = await openFloorCollection(params.db);
      const raw = await openRawDatabase(params.db);
      const device = await openDeviceGraphDatabase(params.db);
      const times: FloorTimes = { rxdbInsert: [], idbPut: [], deviceGet: [], directoryListing: [] };
      const run = floorRun++;
      for (let n = 0; n < count; n++) {
        const id = `floor-${run}-${n}`;
        times.rxdbInsert.push(await timed(() => collection.insert({ id, n })));
        times.idbPut.push(await timed(() => rawPut(raw, { id, n })));
        times.deviceGet.push(await timed(() => rawGet(device, 'head')));
        if (n < DIRECTORY_SAMPLES)
          times.directoryListing.push(await timed(() => GraphDirectory.read(graphIdLister(db.graph))));
      }
      raw.close();
      device.close();
      await collection.database.close();
      return times;
    },
    async profile(prefix) {
      const measure = async (
        call: CallProfile['call'],
        task: () => Promise<unknown>,
      ): Promise<CallProfile> => {
        const before = { ...counters };
        const ms = await timed(task);
        return { call, ms, ...delta(before) };
      };
      return [
        await measure('identify', () => engine.identify({ email: `${prefix}@example.com` })),
        await measure('track', () => engine.track('visited')),
        await measure('login', () => engine.login({ customerid: `${prefix}-c` })),
        await measure('nextPerson', () => engine.nextPerson()),
      ];
    },
  };
  return harness;
}

start().then(
  (harness) => {
    window.harness = harness;
  },
  (error: unknown) => {
    window.harnessError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  },
);
