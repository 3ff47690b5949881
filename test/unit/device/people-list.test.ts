/**
 * The people list follows the graph's change events after one read (SPEC UP-14, DV-6, DV-17),
 * offline on RxDB memory storage: writes change it without a storage read, it lists what a query
 * of the live profiles lists in the list's order, a write made while its first read runs is not
 * missed, and an event older than what it holds of a profile (another page's, late) is not taken.
 */
import {
  getHeightOfRevision,
  type RxChangeEvent,
  type RxCollection,
  type RxDocumentData,
} from 'rxdb/plugins/core';
import { filter, firstValueFrom, Subject, type Observable } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import {
  LIVE_QUERY_DELAY_MS,
  type DeviceDatabase,
  type GraphDoc,
} from '../../../shared/device/collections.ts';
import { liveProfiles, type ProfileDocs } from '../../../shared/device/live-profiles.ts';
import type { DeviceEngine, PersonView } from '../../../shared/device/engine.ts';
import { newestFirst } from '../../../shared/device/ordered-people.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';

const { database, engine } = deviceEngines('people-list');

/** Lets the list catch up with the writes made so far (no assertion on time). */
const settled = () => new Promise((resolve) => setTimeout(resolve, 2 * LIVE_QUERY_DELAY_MS + 30));

function next<T>(source: Observable<T>, pass: (value: T) => boolean): Promise<T> {
  return firstValueFrom(source.pipe(filter(pass)));
}

/**
 * Counts the graph's storage queries for every profile (the list's kind of read; the identity
 * calls read by id, identity key or key range).
 */
function watchProfileQueries(db: DeviceDatabase) {
  const storage = db.graph.storageInstance;
  const query = storage.query.bind(storage);
  const watch = { count: 0, restore: () => void (storage.query = query) };
  storage.query = (prepared) => {
    if ((prepared.query.selector as { kind?: unknown }).kind === 'profile') watch.count += 1;
    return query(prepared);
  };
  return watch;
}

/** People on the device before the list is followed. */
const PEOPLE = 150;

/** Counts sorts of arrays of at least `length` elements (a sort of the whole list) until `stop`. */
function watchLongSorts(length: number) {
  const sort = vi.spyOn(Array.prototype, 'sort');
  return {
    stop(): number {
      const count = sort.mock.contexts.filter((array) => (array as unknown[]).length >= length).length;
      sort.mockRestore();
      return count;
    },
  };
}

/** The live profiles by a query of storage, in the list's order. */
async function queried(e: DeviceEngine): Promise<string[]> {
  return (await e.people()).sort(newestFirst).map((p) => p.mpid);
}

/** Identify, login (returning customers too), logout and next person, mixed. */
async function mixedCalls(e: DeviceEngine, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const customerid = `c${i % 4}`;
    if (i % 5 === 0) await e.identify({ email: `p${i}@example.com` });
    else if (i % 5 === 1) await e.login({ customerid });
    else if (i % 5 === 2) await e.logout();
    else if (i % 5 === 3) await e.login({ customerid, email: `p${i}@example.com` });
    else await e.nextPerson();
  }
}

describe('the people list follows the changes (UP-14)', () => {
  it('[UP-14][DV-6] after its first read the list changes with no storage read and no sort of everyone, and lists what a query of the profiles lists', async () => {
    const db: DeviceDatabase = await database();
    const e = await engine(db, 1);
    for (let i = 0; i < PEOPLE; i++) await e.login({ customerid: `p${i}` });
    await mixedCalls(e, 6);
    let latest: readonly PersonView[] | null = null;
    const sub = e.people$.subscribe((people) => (latest = people));
    await settled();
    expect(latest).not.toBeNull();
    const listReads = watchProfileQueries(db);
    const sorts = watchLongSorts(PEOPLE);
    await mixedCalls(e, 25);
    const last = await e.login({ customerid: 'last' });
    if (!last.ok) throw new Error('local resolution failed');
    await settled();
    listReads.restore();
    const longSorts = sorts.stop();
    sub.unsubscribe();
    expect(listReads.count).toBe(0);
    // Nobody sorted everyone again: each write moved the people it changed (UP-14).
    expect(longSorts).toBe(0);
    const listed = (latest as readonly PersonView[] | null)?.map((p) => p.mpid);
    expect(listed).toEqual(await queried(e));
    expect(new Set(listed).size).toBeGreaterThan(3);
    const current = (latest as readonly PersonView[] | null)?.filter((p) => p.current);
    expect(current?.map((p) => p.mpid)).toEqual([last.value.mpid]);
  });

  it('[UP-14] a person written while the list makes its first read is listed', async () => {
    const db = await database();
    const e = await engine(db, 2);
    await e.login({ customerid: 'before' });
    const storage = db.graph.storageInstance;
    const query = storage.query.bind(storage);
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstRead = true;
    storage.query = async (prepared) => {
      const result = await query(prepared);
      if (firstRead) {
        firstRead = false;
        await held;
      }
      return result;
    };
    const sub = e.people$.subscribe(() => undefined);
    while (firstRead) await new Promise((resolve) => setTimeout(resolve, 1));
    const during = await e.login({ customerid: 'during' });
    if (!during.ok) throw new Error('local resolution failed');
    release();
    const people = await next(e.people$, (p) => p.some((person) => person.mpid === during.value.mpid));
    storage.query = query;
    sub.unsubscribe();
    expect(people.map((p) => p.mpid)).toEqual(await queried(e));
  });

  it('[UP-14][DV-8] an event older than what the list holds of a profile is not taken, a dropped profile leaves and does not come back', async () => {
    const db = await database();
    const e = await engine(db, 3);
    const login = await e.login({ customerid: 'kept' });
    if (!login.ok) throw new Error('local resolution failed');
    // The real collection, with change events the test sends (another page's, arriving late).
    const events = new Subject<RxChangeEvent<GraphDoc>>();
    const graph = Object.create(db.graph, { $: { value: events } }) as RxCollection<GraphDoc>;
    const seen: ProfileDocs[] = [];
    const sub = liveProfiles(graph).subscribe((p) => seen.push(p));
    await vi.waitFor(() => expect(seen.length).toBe(1));
    const profiles = seen[0] as ProfileDocs;
    profiles.takeChanged();
    const held = profiles.docs.get(login.value.mpid) as RxDocumentData<GraphDoc>;
    const height = getHeightOfRevision(held._rev);
    const event = (rev: number, change: Partial<GraphDoc>): RxChangeEvent<GraphDoc> => ({
      operation: 'UPDATE',
      documentId: held.id,
      isLocal: false,
      documentData: { ...held, ...change, _rev: `${rev}-test` },
      previousDocumentData: held,
    });
    events.next(event(height - 1, { data: { ...held.data, lastSeenAt: 1 } }));
    expect(profiles.docs.get(login.value.mpid)).toBe(held);
    events.next(event(height + 1, { kind: 'dropped' }));
    expect(profiles.docs.has(login.value.mpid)).toBe(false);
    events.next(event(height, {}));
    expect(profiles.docs.has(login.value.mpid)).toBe(false);
    expect([...(profiles.takeChanged() ?? [])]).toEqual([login.value.mpid]);
    sub.unsubscribe();
  });
});
