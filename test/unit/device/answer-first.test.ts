/**
 * An identity call answers before the screens' other views do their work (SPEC DE-13, DE-14,
 * UP-13), offline on RxDB memory storage: between the write committing and the call's answer the
 * people list is not rebuilt and no storage read starts; the list and storage catch up afterwards.
 */
import { filter, firstValueFrom, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { LIVE_QUERY_DELAY_MS } from '../../../shared/device/collections.ts';
import type { PersonView } from '../../../shared/device/engine.ts';
import { deviceEngines } from '../../helpers/device-engines.ts';
import { watchStorageReads } from '../../helpers/storage-reads.ts';

const { database, engine } = deviceEngines('answer-first');

function next<T>(source: Observable<T>, pass: (value: T) => boolean): Promise<T> {
  return firstValueFrom(source.pipe(filter(pass)));
}

/** Lets every delayed live query catch up with the writes made so far (no assertion on time). */
const settled = () => new Promise((resolve) => setTimeout(resolve, 2 * LIVE_QUERY_DELAY_MS + 30));

const listed = (people: readonly PersonView[] | null, mpid: string) =>
  people?.some((p) => p.mpid === mpid && p.current) === true;

describe('the answer first, the lists after', () => {
  it('[UP-13][DE-13] a login answers before the people list is rebuilt, and the list then shows the new person as current', async () => {
    const db = await database();
    const e = await engine(db, 1);
    for (const customerid of ['a', 'b', 'c']) await e.login({ customerid });
    const lists: (readonly PersonView[])[] = [];
    const sub = e.people$.subscribe((people) => lists.push(people));
    await settled();
    const before = lists.length;
    const answer = await e.login({ customerid: 'd' });
    if (!answer.ok) throw new Error('local resolution failed');
    expect(lists.length).toBe(before);
    const people = await next(e.people$, (p) => listed(p, answer.value.mpid));
    expect(people.map((p) => p.mpid)).toContain(answer.value.mpid);
    sub.unsubscribe();
  });

  it("[DE-14] no storage read starts between a login's commit and its answer while the screens' views are followed", async () => {
    const db = await database();
    const e = await engine(db, 2);
    const first = await e.login({ customerid: 'first' });
    if (!first.ok) throw new Error('local resolution failed');
    const subs = [
      e.people$.subscribe(() => undefined),
      e.currentPerson$.subscribe(() => undefined),
      e.status$.subscribe(() => undefined),
    ];
    await settled();
    const watch = watchStorageReads([db.graph, db.profiles, db.events]);
    const second = await e.login({ customerid: 'second' });
    if (!second.ok) throw new Error('local resolution failed');
    const readsAtAnswer = watch.state.reads;
    const shown = await next(e.currentPerson$, (p) => p?.mpid === second.value.mpid);
    await settled();
    for (const s of subs) s.unsubscribe();
    watch.restore();
    expect(readsAtAnswer).toBe(watch.state.readsAtCommit);
    expect(shown?.identities).toEqual({ customerid: ['second'] });
  });
});
