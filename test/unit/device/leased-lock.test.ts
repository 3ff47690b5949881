/**
 * The device lock as a lease (SPEC DV-19): a page keeps the Web Lock between its transactions and
 * knows it did; another page's ask, a hidden page or a quiet while makes it let go; a lost message
 * costs time, never a transaction run beside another. On a lock manager and channels faked in one
 * process (`fake-web-locks.ts`), then under two device engines sharing one database.
 */
import { describe, expect, it } from 'vitest';
import { leasedLock } from '../../../shared/device/leased-lock.ts';
import type { DeviceLock } from '../../../shared/device/rxdb-store.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';
import { FakeChannels, FakeLockManager, FakeVisibility } from '../../helpers/fake-web-locks.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pages(count: number, options: { idleMs?: number } = {}) {
  const locks = new FakeLockManager();
  const channels = new FakeChannels();
  const list = Array.from({ length: count }, () => {
    const visibility = new FakeVisibility();
    const lock = leasedLock({
      locks,
      name: 'identity-sync:test',
      channel: channels.open(),
      visibility,
      askEveryMs: 5,
      ...options,
    });
    return { lock, visibility };
  });
  return { locks, channels, pages: list };
}

/** Runs a task under `lock` that records whether it was told the lock was unbroken. */
function record(lock: DeviceLock, seen: boolean[], work: () => Promise<void> = () => Promise.resolve()) {
  return lock(async (unbroken) => {
    seen.push(unbroken === true);
    await work();
  });
}

describe('the device lock as a lease', () => {
  it('[DV-19] a page alone keeps the lock between its transactions, asked for once, and says so', async () => {
    const { locks, pages: list } = pages(1);
    const seen: boolean[] = [];
    for (let n = 0; n < 5; n++) await record(list[0]!.lock, seen);
    expect(seen).toEqual([false, true, true, true, true]);
    expect(locks.requests).toBe(1);
  });

  it("[DV-19] another page's ask is granted when the holder's transaction ends; transactions never overlap", async () => {
    const { pages: list } = pages(2);
    const [a, b] = list as [(typeof list)[0], (typeof list)[0]];
    let inside = 0;
    let most = 0;
    const order: string[] = [];
    const work = (name: string) => async () => {
      inside += 1;
      most = Math.max(most, inside);
      order.push(`${name} in`);
      await sleep(15);
      order.push(`${name} out`);
      inside -= 1;
    };
    const seenA: boolean[] = [];
    const seenB: boolean[] = [];
    await record(a.lock, seenA);
    await Promise.all([record(a.lock, seenA, work('a1')), record(b.lock, seenB, work('b1'))]);
    await record(a.lock, seenA, work('a2'));
    expect(most).toBe(1);
    expect(order).toEqual(['a1 in', 'a1 out', 'b1 in', 'b1 out', 'a2 in', 'a2 out']);
    // a kept the lock into its second transaction; b's ask took it; a had to ask again for its third.
    expect(seenA).toEqual([false, true, false]);
    expect(seenB).toEqual([false]);
  });

  it('[DV-19] lost asks only delay the waiting page: it asks again until the holder lets go', async () => {
    const { channels, pages: list } = pages(2);
    const [a, b] = list as [(typeof list)[0], (typeof list)[0]];
    await record(a.lock, []);
    channels.lose = 3;
    const seen: boolean[] = [];
    await record(b.lock, seen);
    expect(seen).toEqual([false]);
    expect(channels.lose).toBe(0);
  });

  it('[DV-19] a hidden page lets go: at once when idle, at the end of its transaction when busy', async () => {
    const { locks, pages: list } = pages(1);
    const page = list[0]!;
    await record(page.lock, []);
    page.visibility.set(true);
    const seen: boolean[] = [];
    await record(page.lock, seen);
    expect(seen).toEqual([false]);
    expect(locks.requests).toBe(2);
    page.visibility.set(false);
    await record(page.lock, seen);
    await record(page.lock, seen, () => {
      page.visibility.set(true);
      return Promise.resolve();
    });
    page.visibility.set(false);
    await record(page.lock, seen);
    expect(seen).toEqual([false, false, true, false]);
    expect(locks.requests).toBe(4);
  });

  it('[DV-19] a quiet while without a transaction lets the lock go', async () => {
    const { locks, pages: list } = pages(1, { idleMs: 20 });
    const seen: boolean[] = [];
    await record(list[0]!.lock, seen);
    await record(list[0]!.lock, seen);
    await sleep(60);
    await record(list[0]!.lock, seen);
    expect(seen).toEqual([false, true, false]);
    expect(locks.requests).toBe(2);
  });
});

describe('device engines on leases', () => {
  const { database, engine } = deviceEngines('lease');

  it('[DV-14][DV-19] two engines, each on its own lease of one lock, keep one gapless log in each call order', async () => {
    const db = await database();
    const { pages: list } = pages(2);
    const a = await engine(db, 1, list[0]!.lock);
    const b = await engine(db, 2, list[1]!.lock);
    await Promise.all([
      ...Array.from({ length: 30 }, (_, n) => a.login({ customerid: `a${n}` })),
      ...Array.from({ length: 30 }, (_, n) => b.login({ customerid: `b${n}` })),
    ]);
    await a.login({ customerid: 'a-last' });
    const log = await b.requests();
    expect(log.map((r) => r.seq)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
    const customers = log.map((r) => (r.body['known_identities'] as Record<string, string>)['customerid']);
    expect(customers.filter((c) => c?.startsWith('a'))).toEqual([
      ...Array.from({ length: 30 }, (_, n) => `a${n}`),
      'a-last',
    ]);
    const previous = log.map((r) => r.body['previous_mpid']);
    expect(previous.slice(1)).toEqual(log.slice(0, -1).map((r) => r.provisionalMpid));
  });

  it('[DV-19] while a page keeps the lease its calls read nothing they already know, not even the head', async () => {
    const db = await database();
    const { pages: list } = pages(1);
    const e = await engine(db, 3, list[0]!.lock);
    await e.login({ customerid: 'c-1' });
    const storage = db.graph.storageInstance;
    const findDocumentsById = storage.findDocumentsById.bind(storage);
    const asked: string[] = [];
    storage.findDocumentsById = (ids, deleted) => {
      asked.push(...ids);
      return findDocumentsById(ids, deleted);
    };
    try {
      await e.track('store_visit');
      await e.nextPerson();
    } finally {
      storage.findDocumentsById = findDocumentsById;
    }
    expect(asked).toEqual([]);
  });

  it('[DV-19][DE-19] under the lease, capturing a new person asks storage for nothing: each identity call is its write', async () => {
    const db = await database();
    const { pages: list } = pages(1);
    const e = await engine(db, 4, list[0]!.lock);
    await e.identify({ email: 'first@example.com' });
    await e.login({ customerid: 'first' });
    await e.nextPerson();
    const storage = db.graph.storageInstance;
    const original = {
      findDocumentsById: storage.findDocumentsById.bind(storage),
      query: storage.query.bind(storage),
    };
    const asked: string[] = [];
    storage.findDocumentsById = (ids, deleted) => {
      asked.push(`read ${ids.join(',')}`);
      return original.findDocumentsById(ids, deleted);
    };
    storage.query = (prepared) => {
      asked.push(`query ${JSON.stringify(prepared.query.selector)}`);
      return original.query(prepared);
    };
    try {
      const identified = await e.identify({ email: 'second@example.com' });
      const loggedIn = await e.login({ customerid: 'second' });
      expect(identified.ok && loggedIn.ok).toBe(true);
    } finally {
      Object.assign(storage, original);
    }
    expect(asked).toEqual([]);
    // A value someone holds is still read: the first person comes back.
    await e.nextPerson();
    const back = await e.login({ customerid: 'first' });
    const first = (await e.people()).find((p) => p.identities['customerid']?.includes('first'));
    expect(back.ok && back.value.mpid).toBe(first?.mpid);
  });
});
