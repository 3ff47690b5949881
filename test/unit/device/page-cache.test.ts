/**
 * Device engine storage (SPEC DE-1..DE-4), offline, on RxDB memory storage: what an identity call
 * asks of storage, counted per storage call, and the page cache that makes it so (validated by
 * the head, forgotten when another page writes, bounded).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RxDocumentData, RxStorageInstance } from 'rxdb/plugins/core';
import { describe, expect, it } from 'vitest';
import type { DeviceDatabase, GraphDoc } from '../../../shared/device/collections.ts';
import type { DeviceEngine } from '../../../shared/device/engine.ts';
import { defaultScopeConfig } from '../../../shared/identity/scope-config.ts';
import { GraphDirectory } from '../../../shared/device/graph-directory.ts';
import { PageCache } from '../../../shared/device/page-cache.ts';
import { serial } from '../../../shared/util/serial.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';

const { database, engine } = deviceEngines('cache');
const defaultWorkspace = deviceEngines('cache-default', defaultScopeConfig('default'));

interface Calls {
  findDocumentsById: number;
  query: number;
  bulkWrite: number;
}

/** Counts the graph's storage calls while `task` runs (each is one IndexedDB transaction on Dexie). */
async function storageCalls(db: DeviceDatabase, task: () => Promise<unknown>): Promise<Calls> {
  const storage = db.graph.storageInstance as RxStorageInstance<GraphDoc, unknown, unknown>;
  const findDocumentsById = storage.findDocumentsById.bind(storage);
  const query = storage.query.bind(storage);
  const bulkWrite = storage.bulkWrite.bind(storage);
  const calls: Calls = { findDocumentsById: 0, query: 0, bulkWrite: 0 };
  storage.findDocumentsById = (ids, deleted) => {
    calls.findDocumentsById += 1;
    return findDocumentsById(ids, deleted);
  };
  storage.query = (prepared) => {
    calls.query += 1;
    return query(prepared);
  };
  storage.bulkWrite = (rows, context) => {
    calls.bulkWrite += 1;
    return bulkWrite(rows, context);
  };
  try {
    await task();
  } finally {
    Object.assign(storage, { findDocumentsById, query, bulkWrite });
  }
  return calls;
}

/** The order in which the graph's storage calls started and ended while `task` ran. */
async function storageOrder(db: DeviceDatabase, task: () => Promise<unknown>): Promise<string[]> {
  const storage = db.graph.storageInstance as RxStorageInstance<GraphDoc, unknown, unknown>;
  const original = {
    findDocumentsById: storage.findDocumentsById.bind(storage),
    query: storage.query.bind(storage),
    bulkWrite: storage.bulkWrite.bind(storage),
  };
  const order: string[] = [];
  const traced =
    <A extends unknown[], R>(name: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      order.push(`start ${name}`);
      const result = await call(...args);
      order.push(`end ${name}`);
      return result;
    };
  storage.findDocumentsById = traced('findDocumentsById', original.findDocumentsById);
  storage.query = traced('query', original.query);
  storage.bulkWrite = traced('bulkWrite', original.bulkWrite);
  try {
    await task();
  } finally {
    Object.assign(storage, original);
  }
  return order;
}

/** A graph document as storage keeps it, for the page cache's own tests. */
function storedDoc(id: string, kind: GraphDoc['kind'], key: string, rev: string): RxDocumentData<GraphDoc> {
  return {
    id,
    kind,
    key,
    mpid: kind === 'profile' ? id : '',
    seq: 0,
    due: -1,
    source: '',
    destination: '',
    data: {},
    _deleted: false,
    _attachments: {},
    _meta: { lwt: 1 },
    _rev: rev,
  };
}

/** The Field flow for one person, with the storage calls of each step. */
async function person(db: DeviceDatabase, e: DeviceEngine, n: number) {
  const identify = await storageCalls(db, () => e.identify({ email: `p${n}@example.com` }));
  await e.track('visited');
  const login = await storageCalls(db, () => e.login({ customerid: `c${n}` }));
  const next = await storageCalls(db, () => e.nextPerson());
  return { identify, login, next };
}

describe('device engine storage', () => {
  it('[DE-1][DE-19] an identity call of new values is one read (the head) and one write, with 3 or 200 people', async () => {
    const db = await database();
    const e = await engine(db, 1);
    const expected = {
      // identify by a new email after "next person": the directory knows the email and the MPID it may issue are free
      identify: { findDocumentsById: 1, query: 0, bulkWrite: 1 },
      // login with a new customer ID: the current person, their request and stamp are this page's own writes
      login: { findDocumentsById: 1, query: 0, bulkWrite: 1 },
      next: { findDocumentsById: 1, query: 0, bulkWrite: 1 },
    };
    for (let n = 0; n < 3; n++) await person(db, e, n);
    expect(await person(db, e, 3)).toEqual(expected);
    for (let n = 4; n < 200; n++) await person(db, e, n);
    expect(await person(db, e, 200)).toEqual(expected);
    const log = await e.requests();
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
  });

  it('[DE-8][DE-19] an identity call asks the lookups of values held on the device together with the head: one round of reads, then the holders; new values are not asked', async () => {
    const db = await database();
    await person(db, await engine(db, 8), 0);
    // Another page: it knows nothing of the values person 0 holds, only that they are held.
    const e = await engine(db, 9);
    const order = await storageOrder(db, () => e.login({ customerid: 'c0', email: 'p0@example.com' }));
    const reads = ['findDocumentsById', 'query', 'query'];
    expect(order.slice(0, 3)).toEqual(reads.map((name) => `start ${name}`));
    expect([...order.slice(3, 6)].sort()).toEqual(reads.map((name) => `end ${name}`).sort());
    // Then the holders' profiles, then the write.
    expect(order.slice(6)).toEqual([
      'start findDocumentsById',
      'end findDocumentsById',
      'start bulkWrite',
      'end bulkWrite',
    ]);
    await e.nextPerson();
    const next = await storageOrder(db, () => e.login({ customerid: 'new', email: 'new@example.com' }));
    expect(next).toEqual([
      'start findDocumentsById',
      'end findDocumentsById',
      'start bulkWrite',
      'end bulkWrite',
    ]);
  });

  it('[DE-15] a login that adds its customer ID to the person identified before reads with the head the identity document it writes: one round of reads, then the write', async () => {
    // The default workspace: a login keeps the anonymous or identified person and adds the customer ID.
    const db = await defaultWorkspace.database();
    const e = await defaultWorkspace.engine(db, 15);
    const identified = await e.identify({ email: 'kept@example.com' });
    const login = await storageCalls(db, () => e.login({ customerid: 'added' }));
    const loggedIn = await e.login({ customerid: 'added' });
    expect(identified.ok && loggedIn.ok && loggedIn.value.mpid === identified.value.mpid).toBe(true);
    expect(login).toEqual({ findDocumentsById: 1, query: 1, bulkWrite: 1 });
    // A value removed from the person and given back: the removed document is read with the head, and
    // the write over it carries its revision.
    await e.modify([{ identityType: 'customerid', oldValue: 'added', newValue: null }]);
    const back = await storageCalls(db, () => e.login({ customerid: 'added' }));
    expect(back).toMatchObject({ findDocumentsById: 1, bulkWrite: 1 });
    const people = await e.people();
    expect(people.find((p) => identified.ok && p.mpid === identified.value.mpid)?.identities).toMatchObject({
      customerid: ['added'],
      email: ['kept@example.com'],
    });
  });

  it('[DE-8] a value this page knew as free, taken since by another page, is looked up again once the head shows the write', async () => {
    const db = await database();
    const lock = serial();
    const a = await engine(db, 9, lock);
    const b = await engine(db, 10, lock);
    // b's logout looks "shared" up (nobody holds it) and its cache keeps that.
    await b.logout({ customerid: 'shared' });
    const first = await a.login({ customerid: 'shared' });
    await a.nextPerson();
    const again = await b.login({ customerid: 'shared' });
    if (!first.ok || !again.ok) throw new Error('local resolution failed');
    expect(again.value.mpid).toBe(first.value.mpid);
  });

  it('[DE-2] a write from another page makes the cache forget: a change that page made to the current person is kept', async () => {
    const db = await database();
    const lock = serial();
    const a = await engine(db, 2, lock);
    const b = await engine(db, 3, lock);
    const first = await a.identify({ email: 'shared@example.com' });
    if (!first.ok) throw new Error('local resolution failed');
    // The other page adds a customer ID to the same current person (a new revision of the profile
    // this page has cached).
    const added = await b.modify([{ identityType: 'customerid', oldValue: null, newValue: 'from-b' }]);
    expect(added.ok).toBe(true);
    const changed = await a.modify([
      { identityType: 'email', oldValue: 'shared@example.com', newValue: 'moved@example.com' },
    ]);
    expect(changed.ok).toBe(true);
    const profile = (await a.people()).find((p) => p.mpid === first.value.mpid);
    expect(profile?.identities).toMatchObject({ customerid: ['from-b'], email: ['moved@example.com'] });
    const log = await a.requests();
    expect(log.map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('[DE-2] after another page writes, the next call reads again what this page had cached', async () => {
    const db = await database();
    const lock = serial();
    const a = await engine(db, 4, lock);
    const b = await engine(db, 5, lock);
    await a.identify({ email: 'x@example.com' });
    const cached = await storageCalls(db, () => a.currentUser());
    expect(cached).toEqual({ findDocumentsById: 1, query: 0, bulkWrite: 0 });
    // The other page changes the current person, not which request made them current.
    await b.modify([{ identityType: 'customerid', oldValue: null, newValue: 'from-b' }]);
    const after = await storageCalls(db, () => a.currentUser());
    expect(after.findDocumentsById).toBe(2);
  });

  it('[DE-3] only the store writes the graph, so every write moves the head', () => {
    const root = path.resolve(import.meta.dirname, '../../../shared/device');
    const writers = readdirSync(root)
      .filter((f) => f.endsWith('.ts') && f !== 'rxdb-store.ts')
      .filter((f) =>
        /graph\s*\.\s*((insert|bulkInsert|upsert|bulkUpsert|incrementalUpsert|bulkRemove)\s*\(|storageInstance\b)/.test(
          readFileSync(path.join(root, f), 'utf8'),
        ),
      );
    expect(writers).toEqual([]);
  });

  it('[DE-5] an identity call writes one document per profile, identity and request (its history entries inside), and the head', async () => {
    const db = await database();
    const e = await engine(db, 6);
    const storage = db.graph.storageInstance as RxStorageInstance<GraphDoc, unknown, unknown>;
    const bulkWrite = storage.bulkWrite.bind(storage);
    const written: string[][] = [];
    storage.bulkWrite = (rows, context) => {
      written.push(rows.map((r) => r.document.kind));
      return bulkWrite(rows, context);
    };
    await e.identify({ email: 'one@example.com' });
    storage.bulkWrite = bulkWrite;
    expect(written).toEqual([['profile', 'identity', 'identity', 'request', 'head']]);
    const history = (await e.store.dump()).history;
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3]);
  });

  it('[DE-5] history kept one entry per document (before DE-5) is still read, in order, with the grouped one', async () => {
    const db = await database();
    const e = await engine(db, 7);
    await e.identify({ email: 'first@example.com' });
    const [one] = (await e.store.dump()).history;
    if (one === undefined) throw new Error('no history');
    await e.store.write([
      {
        id: 'h|000000000000',
        doc: {
          id: 'h|000000000000',
          kind: 'history',
          key: '',
          mpid: one.mpid,
          seq: 0,
          due: -1,
          source: '',
          destination: '',
          data: { ...one, seq: 0 },
        },
      },
    ]);
    expect((await e.store.dump()).history.map((h) => h.seq)).toEqual([0, 1, 2, 3]);
  });

  it('[DE-4] the page cache keeps at most its capacity of documents and lookups, the least recently used dropped first', () => {
    const cache = new PageCache(3);
    const doc = (id: string, rev: string) => storedDoc(id, 'profile', '', rev);
    cache.validate(doc('head', '1-a'));
    for (const id of ['p1', 'p2', 'p3']) cache.rememberDoc(id, doc(id, '1-a'));
    expect(cache.doc('p1')?._rev).toBe('1-a');
    cache.rememberDoc('p4', null);
    expect(cache.size.docs).toBe(3);
    expect(cache.doc('p2')).toBeUndefined();
    expect(cache.doc('p1')).not.toBeUndefined();
    for (let n = 0; n < 10; n++) cache.rememberLookup('identity', 'key', `k${n}`, []);
    expect(cache.size.lookups).toBe(3);
    cache.validate(doc('head', '2-b'));
    expect(cache.doc('p1')).toBeUndefined();
    expect(cache.size).toEqual({ docs: 0, lookups: 0 });
  });

  it("[DE-19] a directory listed beside the transactions takes this page's writes made meanwhile, and is not taken once the page forgot", async () => {
    const KEY = 'unit|production|email|new@example.com';
    const listed = (ids: readonly string[]) =>
      GraphDirectory.read((prefix) => Promise.resolve(ids.filter((id) => id.startsWith(prefix))));
    const cache = new PageCache();
    cache.validate(storedDoc('head', 'head', '', '1-a'));
    const listing = cache.beginListing();
    if (listing === null) throw new Error('no listing began');
    expect(cache.beginListing()).toBeNull();
    // While the listing runs, this page writes a holder of a new value and a new profile.
    cache.wrote(
      [
        { previous: undefined, document: storedDoc(`i|${KEY}|m1`, 'identity', KEY, '1-b') },
        { previous: undefined, document: storedDoc('p|m1', 'profile', '', '1-b') },
      ],
      '2-b',
    );
    // The listing's snapshot was taken before those writes.
    cache.endListing(listing, await listed(['p|m0', 'i|unit|production|email|old@example.com|m0']));
    expect(cache.lookup('identity', 'key', KEY)).not.toEqual([]);
    expect(cache.doc('p|m1')).not.toBeNull();
    expect(cache.lookup('identity', 'key', 'unit|production|email|free@example.com')).toEqual([]);
    expect(cache.doc('p|m2')).toBeNull();

    // Another page wrote while a listing ran: the page forgets, and that listing is not taken.
    cache.forget();
    cache.validate(storedDoc('head', 'head', '', '3-c'));
    const stale = cache.beginListing();
    if (stale === null) throw new Error('no listing began');
    cache.forget();
    cache.validate(storedDoc('head', 'head', '', '4-d'));
    cache.endListing(stale, await listed([]));
    expect(cache.lookup('identity', 'key', 'unit|production|email|free@example.com')).toBeUndefined();
    expect(cache.doc('p|m2')).toBeUndefined();
  });
});
