/**
 * The device head, the cross-page lock and the next person (SPEC DV-14..DV-16), offline, on RxDB
 * memory storage: what an identity call reads stays the same however long the log grows, and two
 * engines sharing one database and one lock keep one gapless log.
 */
import type { RxStorageInstance } from 'rxdb/plugins/core';
import { describe, expect, it } from 'vitest';
import type { DeviceDatabase, GraphDoc } from '../../../shared/device/collections.ts';
import { serial } from '../../../shared/util/serial.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';

const { database, engine } = deviceEngines('head');

/** Counts the graph documents the storage hands out (by id and by query) while `task` runs. */
async function documentsRead(db: DeviceDatabase, task: () => Promise<unknown>): Promise<number> {
  const storage = db.graph.storageInstance as RxStorageInstance<GraphDoc, unknown, unknown>;
  const findDocumentsById = storage.findDocumentsById.bind(storage);
  const query = storage.query.bind(storage);
  let read = 0;
  storage.findDocumentsById = async (ids, deleted) => {
    const docs = await findDocumentsById(ids, deleted);
    read += docs.length;
    return docs;
  };
  storage.query = async (prepared) => {
    const result = await query(prepared);
    read += result.documents.length;
    return result;
  };
  try {
    await task();
  } finally {
    storage.findDocumentsById = findDocumentsById;
    storage.query = query;
  }
  return read;
}

describe('device head, lock and next person', () => {
  it('[DV-15] an identity call reads the same number of documents with 5 or 300 people on the device', async () => {
    const db = await database();
    const e = await engine(db, 1);
    const capture = async (n: number) => {
      await e.login({ customerid: `c${n}`, email: `p${n}@example.com` });
      await e.nextPerson();
    };
    for (let n = 0; n < 5; n++) await capture(n);
    const early = await documentsRead(db, () => e.login({ customerid: 'early', email: 'early@example.com' }));
    await e.nextPerson();
    for (let n = 5; n < 300; n++) await capture(n);
    const late = await documentsRead(db, () => e.login({ customerid: 'late', email: 'late@example.com' }));
    expect(late).toBe(early);
    expect(early).toBeLessThan(20);
    const log = await e.requests();
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
  });

  it('[DV-14] two engines on one database and one lock keep one gapless log, in the order each asked', async () => {
    const db = await database();
    const lock = serial();
    const a = await engine(db, 1, lock);
    const b = await engine(db, 2, lock);
    await Promise.all([
      ...Array.from({ length: 40 }, (_, n) => a.login({ customerid: `a${n}` })),
      ...Array.from({ length: 40 }, (_, n) => b.login({ customerid: `b${n}` })),
    ]);
    const log = await a.requests();
    expect(log).toHaveLength(80);
    expect(log.map((r) => r.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    const order = (prefix: string) =>
      log
        .map((r) => (r.body['known_identities'] as Record<string, string>)['customerid'] ?? '')
        .filter((c) => c.startsWith(prefix));
    expect(order('a')).toEqual(Array.from({ length: 40 }, (_, n) => `a${n}`));
    expect(order('b')).toEqual(Array.from({ length: 40 }, (_, n) => `b${n}`));
    const previous = log.map((r) => r.body['previous_mpid']);
    expect(previous.slice(1)).toEqual(log.slice(0, -1).map((r) => r.provisionalMpid));
  });

  it('[DV-16] the next person: nobody is current, a new stamp, no request and no empty profile; never the previous person', async () => {
    const db = await database();
    const e = await engine(db, 3);
    const first = await e.identify({});
    const stamp = e.das;
    await e.nextPerson();
    expect(await e.currentUser()).toBeNull();
    expect(e.das).not.toBe(stamp);
    expect(await e.requests()).toHaveLength(1);
    expect((await e.people()).map((p) => p.mpid)).toEqual(first.ok ? [first.value.mpid] : []);
    const reopened = await engine(db, 4);
    expect(reopened.das).toBe(e.das);
    expect(await reopened.currentUser()).toBeNull();
    const again = await reopened.identify({});
    if (!first.ok || !again.ok) throw new Error('local resolution failed');
    expect(again.value.mpid).not.toBe(first.value.mpid);
    const log = await reopened.requests();
    expect(log.map((r) => r.body['previous_mpid'])).toEqual([null, null]);
    expect(
      log.map((r) => (r.body['known_identities'] as Record<string, string>)['device_application_stamp']),
    ).toEqual([stamp, e.das]);
  });

  it('[DV-15] a database kept before the head existed gets one from its log on open', async () => {
    const db = await database();
    const e = await engine(db, 5);
    const login = await e.login({ customerid: 'kept' });
    if (!login.ok) throw new Error('local resolution failed');
    const head = await db.graph.findOne('head').exec();
    await head?.remove();
    const reopened = await engine(db, 6);
    expect((await reopened.currentUser())?.mpid).toBe(login.value.mpid);
    await reopened.identify({ email: 'x@example.com' });
    expect((await reopened.requests()).map((r) => r.seq)).toEqual([1, 2]);
  });
});
