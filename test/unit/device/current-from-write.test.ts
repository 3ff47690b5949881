/**
 * The current user and the current person follow this page's identity writes from the documents
 * those writes held (SPEC DE-10..DE-12), offline, on RxDB memory storage: no storage read between
 * the write committing and the new person showing, while other pages' writes and the server's
 * answers still arrive through storage.
 */
import { firstValueFrom, filter, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { LIVE_QUERY_DELAY_MS } from '../../../shared/device/collections.ts';
import type { DeviceEngine } from '../../../shared/device/engine.ts';
import { serial } from '../../../shared/util/serial.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';
import { watchStorageReads } from '../../helpers/storage-reads.ts';

const { database, engine } = deviceEngines('screen');

/** The first value of `source` that `pass` accepts. */
function next<T>(source: Observable<T>, pass: (value: T) => boolean): Promise<T> {
  return firstValueFrom(source.pipe(filter(pass)));
}

/** Lets storage's live queries, which wait LIVE_QUERY_DELAY_MS (DE-13), catch up with the writes made so far (no assertion on time). */
async function settled(e: DeviceEngine): Promise<void> {
  await e.currentUser();
  await new Promise((resolve) => setTimeout(resolve, 2 * LIVE_QUERY_DELAY_MS + 30));
}

/** The MPIDs the current user and the current person emit, as they emit them. */
function emissions(e: DeviceEngine) {
  const users: (string | null)[] = [];
  const people: (string | null)[] = [];
  const subs = [
    e.currentUser$.subscribe((u) => users.push(u?.mpid ?? null)),
    e.currentPerson$.subscribe((p) => people.push(p?.mpid ?? null)),
  ];
  return { users, people, subs };
}

describe('current user and person from the write', () => {
  it("[DE-10] a person this page's login creates shows with no storage read after the write committed, and not before it", async () => {
    const db = await database();
    const e = await engine(db, 1);
    const first = await e.login({ customerid: 'first' });
    if (!first.ok) throw new Error('local resolution failed');
    const shown: { mpid: string | null; reads: number; committed: number }[] = [];
    const watch = watchStorageReads([db.graph]);
    const sub = e.currentPerson$.subscribe((p) =>
      shown.push({ mpid: p?.mpid ?? null, reads: watch.state.reads, committed: watch.state.committed }),
    );
    await next(e.currentPerson$, (p) => p?.mpid === first.value.mpid);
    await settled(e);
    const second = await e.login({ customerid: 'second' });
    if (!second.ok) throw new Error('local resolution failed');
    expect(second.value.created).toBe(true);
    await next(e.currentPerson$, (p) => p?.mpid === second.value.mpid);
    sub.unsubscribe();
    watch.restore();
    const shownAt = shown.find((s) => s.mpid === second.value.mpid);
    expect(shownAt?.committed).toBeGreaterThan(0);
    expect((shownAt?.reads ?? Number.NaN) - watch.state.readsAtCommit).toBe(0);
  });

  it("[DE-10] a returning person shows from the write with no storage read while the people list follows the server's profiles", async () => {
    const db = await database();
    const e = await engine(db, 8);
    const returning = await e.login({ customerid: 'returning' });
    if (!returning.ok) throw new Error('local resolution failed');
    await e.login({ customerid: 'other' });
    const watch = watchStorageReads([db.graph]);
    const shown: { mpid: string | null; reads: number; committed: number }[] = [];
    const subs = [
      e.people$.subscribe(() => undefined),
      e.currentPerson$.subscribe((p) =>
        shown.push({ mpid: p?.mpid ?? null, reads: watch.state.reads, committed: watch.state.committed }),
      ),
    ];
    await settled(e);
    const again = await e.login({ customerid: 'returning' });
    if (!again.ok) throw new Error('local resolution failed');
    expect(again.value).toMatchObject({ mpid: returning.value.mpid, created: false });
    await next(e.currentPerson$, (p) => p?.mpid === returning.value.mpid);
    for (const s of subs) s.unsubscribe();
    watch.restore();
    const shownAt = shown.find((s) => s.mpid === returning.value.mpid);
    expect(shownAt?.committed).toBeGreaterThan(0);
    expect(shownAt?.reads).toBe(watch.state.readsAtCommit);
  });

  it("[DE-10] the current user follows this page's identity call and next person with no storage read after the write", async () => {
    const db = await database();
    const e = await engine(db, 2);
    await e.login({ customerid: 'a' });
    const users: { mpid: string | null; reads: number }[] = [];
    const watch = watchStorageReads([db.graph]);
    const sub = e.currentUser$.subscribe((u) =>
      users.push({ mpid: u?.mpid ?? null, reads: watch.state.reads }),
    );
    await settled(e);
    const b = await e.login({ customerid: 'b' });
    if (!b.ok) throw new Error('local resolution failed');
    const atLogin = users.find((u) => u.mpid === b.value.mpid);
    expect(atLogin?.reads).toBe(watch.state.readsAtCommit);
    await e.nextPerson();
    expect(users.at(-1)).toEqual({ mpid: null, reads: watch.state.readsAtCommit });
    sub.unsubscribe();
    watch.restore();
  });

  it("[DE-11] another page's login and next person reach this page's current user and current person", async () => {
    const db = await database();
    const lock = serial();
    const a = await engine(db, 3, lock);
    const b = await engine(db, 4, lock);
    const mine = await a.login({ customerid: 'mine' });
    if (!mine.ok) throw new Error('local resolution failed');
    await next(a.currentPerson$, (p) => p?.mpid === mine.value.mpid);
    const theirs = await b.login({ customerid: 'theirs', email: 'theirs@example.com' });
    if (!theirs.ok) throw new Error('local resolution failed');
    const person = await next(a.currentPerson$, (p) => p?.mpid === theirs.value.mpid);
    expect(person?.identities).toMatchObject({ customerid: ['theirs'], email: ['theirs@example.com'] });
    expect((await next(a.currentUser$, (u) => u?.mpid === theirs.value.mpid))?.requestId).toBe(
      theirs.value.requestId,
    );
    await b.nextPerson();
    expect(await next(a.currentPerson$, (p) => p === null)).toBeNull();
    const log = await a.requests();
    expect(log.map((r) => r.seq)).toEqual([1, 2]);
  });

  it("[DE-11] the server's view of a person (a profile it sent) turns the current person from recorded to confirmed", async () => {
    const db = await database();
    const e = await engine(db, 5);
    const answer = await e.login({ customerid: 'served' });
    if (!answer.ok) throw new Error('local resolution failed');
    const recorded = await next(e.currentPerson$, (p) => p?.mpid === answer.value.mpid);
    expect(recorded?.state).toBe('recorded');
    await db.profiles.insert({
      id: answer.value.mpid,
      scopeId: 'unit',
      environment: 'production',
      identities: { customerid: ['served'] },
      createdAt: 1,
      firstSeenAt: 1,
      orphanedAt: null,
    });
    const confirmed = await next(e.currentPerson$, (p) => p?.state === 'confirmed');
    expect(confirmed?.mpid).toBe(answer.value.mpid);
  });

  it('[DE-12] one login emits the new user and the new person once each, and storage catching up emits nothing more', async () => {
    const db = await database();
    const e = await engine(db, 6);
    await e.login({ customerid: 'one' });
    const { users, people, subs } = emissions(e);
    await settled(e);
    const before = { users: users.length, people: people.length };
    const two = await e.login({ customerid: 'two' });
    if (!two.ok) throw new Error('local resolution failed');
    await settled(e);
    for (const s of subs) s.unsubscribe();
    expect(users.slice(before.users)).toEqual([two.value.mpid]);
    expect(people.slice(before.people)).toEqual([two.value.mpid]);
  });

  it('[DE-11] back-to-back logins: once the later person shows, the earlier never shows again', async () => {
    const db = await database();
    const e = await engine(db, 7);
    await e.login({ customerid: 'zero' });
    const { users, people, subs } = emissions(e);
    await settled(e);
    const answers = await Promise.all(['p1', 'p2', 'p3'].map((customerid) => e.login({ customerid })));
    await settled(e);
    for (const s of subs) s.unsubscribe();
    const mpids = answers.map((a) => (a.ok ? a.value.mpid : ''));
    const last = mpids[2] ?? '';
    for (const seen of [users, people]) {
      expect(seen.at(-1)).toBe(last);
      expect(seen.slice(seen.indexOf(last))).toEqual([last]);
    }
  });
});
