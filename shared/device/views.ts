/**
 * What the app shows, as live views over the device database (SPEC DV-17): the people captured on
 * this device with their sync state, the current person, a person's activity and the server's
 * decisions about them, and what is still waiting to be synced. Every view is an observable that
 * follows the database, including writes made by other pages of the same device.
 */
import {
  asyncScheduler,
  auditTime,
  combineLatest,
  defer,
  distinctUntilChanged,
  finalize,
  map,
  of,
  shareReplay,
  startWith,
  subscribeOn,
  switchMap,
  tap,
  type Observable,
} from 'rxjs';
import type { IdentityType } from '../identity/identity-types.ts';
import type { ErrorCode } from '../protocol/errors.ts';
import type { SyncedRequestKind, SyncRequest } from '../protocol/sync.ts';
import type { ProfileRecord } from '../resolver/records.ts';
import { isRxDocument, type RxDocument } from 'rxdb/plugins/core';
import { LIVE_QUERY_DELAY_MS, type DeviceDatabase, type GraphDoc } from './collections.ts';
import { liveProfiles } from './live-profiles.ts';
import { OrderedPeople } from './ordered-people.ts';
import type { CurrentUser } from './engine.ts';
import {
  HEAD_ID,
  profileId,
  requestsOfQuery,
  type CommittedWrite,
  type Head,
  type RequestData,
} from './rxdb-store.ts';

/** Local documents the views read; reconciliation and sync write them. */
export const MERGES_DOC = 'merges';
export const RECONCILED_DOC = 'reconciled';
export const EVENTS_SYNCED_DOC = 'events-synced';

/** The current user, with the write of this page it comes from (`null`: from storage; DE-10). */
export interface CurrentSource {
  readonly user: CurrentUser | null;
  readonly write: CommittedWrite | null;
}

/** Offline MPIDs the server merged into another profile, by the profile they became. */
export type Merges = Readonly<Record<string, readonly string[]>>;

/**
 * `recorded`: only this device knows the person so far; `confirmed`: the server holds them as
 * shown; `merged`: the server resolved one or more offline records into this person.
 */
export type PersonState = 'recorded' | 'confirmed' | 'merged';

export interface PersonView {
  readonly mpid: string;
  /** The person's identities, without the device application stamp. */
  readonly identities: Partial<Record<IdentityType, readonly string[]>>;
  /** Holds one of the workspace's login identities. */
  readonly known: boolean;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly state: PersonState;
  readonly mergedFrom: readonly string[];
  readonly current: boolean;
}

export interface ActivityView {
  readonly id: string;
  readonly type: 'event' | 'attribute';
  readonly name: string;
  readonly data: Record<string, unknown>;
  readonly at: number;
}

export interface DecisionView {
  readonly requestId: string;
  readonly kind: SyncedRequestKind;
  readonly createdAt: number;
  readonly provisionalMpid: string | null;
  readonly serverMpid: string | null;
  /** `waiting`: not yet replayed by the server. */
  readonly status: 'waiting' | 'applied' | 'failed';
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  /** The server's explain trace once replayed, else the device's own. */
  readonly trace: unknown;
}

export interface DeviceStatus {
  /** Identity requests the server has not answered yet. */
  readonly pendingRequests: number;
  /** Events and attribute changes not yet sent. */
  readonly pendingEvents: number;
}

const DAS: IdentityType = 'device_application_stamp';

function withoutStamp(
  identities: Partial<Record<IdentityType, readonly string[]>>,
): Partial<Record<IdentityType, readonly string[]>> {
  const out: Partial<Record<IdentityType, readonly string[]>> = {};
  for (const key in identities) {
    const type = key as IdentityType;
    const values = identities[type];
    if (type !== DAS && values !== undefined && values.length > 0) out[type] = values;
  }
  return out;
}

function localData<T>(db: DeviceDatabase, id: string): Observable<T | null> {
  return db.getLocal$<T>(id).pipe(map((doc) => (doc === null ? null : (doc.toJSON().data as T))));
}

function decisionFrom(sync: SyncRequest, stored: RequestData['stored']): DecisionView {
  const server = sync.server;
  return {
    requestId: sync.requestId,
    kind: sync.kind,
    createdAt: sync.createdAt,
    provisionalMpid: sync.provisionalMpid,
    serverMpid: server?.mpid ?? null,
    status: server === null ? 'waiting' : server.status,
    error: server?.error ?? null,
    trace: server === null ? stored.trace : server.trace,
  };
}

const NO_MERGES: readonly string[] = [];

/** Equal views (the same document as stored, whether read from storage or held by a write) render alike. */
function samePerson(a: PersonView | null, b: PersonView | null): boolean {
  return (
    a === b ||
    (a !== null &&
      b !== null &&
      a.mpid === b.mpid &&
      a.known === b.known &&
      a.firstSeenAt === b.firstSeenAt &&
      a.lastSeenAt === b.lastSeenAt &&
      a.state === b.state &&
      a.current === b.current &&
      a.mergedFrom.join() === b.mergedFrom.join() &&
      JSON.stringify(a.identities) === JSON.stringify(b.identities))
  );
}

/** The views of the documents that are listed (live profiles that are not orphaned). */
function* listed(
  docs: Iterable<GraphDoc>,
  viewOf: (doc: GraphDoc) => PersonView | null,
): Iterable<PersonView> {
  for (const doc of docs) {
    const view = viewOf(doc);
    if (view !== null) yield view;
  }
}

/**
 * Person views by document: a profile document that did not change (the live profiles keep the
 * same document object, as RxDB does for its documents) with the same sync state gives the same
 * view object, so listing everyone anew after a sync makes views only for those who changed, and
 * unchanged rows need not render again.
 */
class PersonViewCache {
  private readonly views = new WeakMap<object, PersonView>();

  constructor(private readonly loginTypes: () => readonly IdentityType[]) {}

  of(
    doc: RxDocument<GraphDoc> | GraphDoc,
    confirmed: boolean,
    merges: Merges,
    current: string | null,
  ): PersonView | null {
    const mergedFrom = merges[doc.mpid] ?? NO_MERGES;
    const state: PersonState = !confirmed ? 'recorded' : mergedFrom.length > 0 ? 'merged' : 'confirmed';
    const isCurrent = doc.mpid === current;
    const cached = this.views.get(doc);
    if (
      cached !== undefined &&
      cached.state === state &&
      cached.mergedFrom === mergedFrom &&
      cached.current === isCurrent
    ) {
      return cached;
    }
    const data = isRxDocument(doc) ? ((doc as RxDocument<GraphDoc>).toJSON() as GraphDoc) : doc;
    if (data.kind !== 'profile') return null;
    const p = data.data as unknown as ProfileRecord;
    if (p.orphanedAt !== null) return null;
    const login = this.loginTypes();
    const view: PersonView = {
      mpid: p.mpid,
      identities: withoutStamp(p.identities),
      known: login.some((type) => (p.identities[type]?.length ?? 0) > 0),
      firstSeenAt: p.firstSeenAt,
      lastSeenAt: p.lastSeenAt,
      state,
      mergedFrom,
      current: isCurrent,
    };
    this.views.set(doc, view);
    return view;
  }
}

export class DeviceViews {
  readonly merges$: Observable<Merges>;
  readonly people$: Observable<readonly PersonView[]>;
  readonly currentPerson$: Observable<PersonView | null>;
  readonly status$: Observable<DeviceStatus>;

  constructor(
    private readonly db: DeviceDatabase,
    current$: Observable<CurrentSource>,
    loginTypes: () => readonly IdentityType[],
  ) {
    const share = <T>(source: Observable<T>) => source.pipe(shareReplay({ bufferSize: 1, refCount: true }));
    this.merges$ = share(localData<Merges>(db, MERGES_DOC).pipe(map((m) => m ?? {})));
    // The MPIDs the server sent, as the live query last saw them while anything follows it (the
    // people list does): what a write of this page cannot tell about a person it did not create.
    let confirmedNow: ReadonlySet<string> | undefined;
    const confirmed$ = share(
      db.profiles.find().$.pipe(
        map((docs): ReadonlySet<string> => new Set(docs.map((d) => d.primary))),
        tap((set) => (confirmedNow = set)),
        finalize(() => (confirmedNow = undefined)),
      ),
    );
    const currentMpid$ = current$.pipe(
      map((c) => c.user?.mpid ?? null),
      distinctUntilChanged(),
    );
    const views = new PersonViewCache(loginTypes);
    // The list is updated once for all that changed within LIVE_QUERY_DELAY_MS (UP-13): a login
    // changes the current MPID inside its write and the profiles after it, and the list's work
    // never runs inside the write, before the call answers. Profiles that changed move in the
    // ordered list; a change of the server's profiles or of the merges (a sync) lists everyone
    // anew (UP-14).
    this.people$ = share(
      defer(() => {
        const people = new OrderedPeople<PersonView>();
        let last: { confirmed: ReadonlySet<string>; merges: Merges; current: string | null } | null = null;
        return combineLatest([liveProfiles(db.graph), confirmed$, this.merges$, currentMpid$]).pipe(
          auditTime(LIVE_QUERY_DELAY_MS),
          map(([profiles, confirmed, merges, current]) => {
            const viewOf = (doc: GraphDoc) => views.of(doc, confirmed.has(doc.mpid), merges, current);
            const changed = profiles.takeChanged();
            if (changed === null || last === null || confirmed !== last.confirmed || merges !== last.merges) {
              people.reset(listed(profiles.docs.values(), viewOf));
            } else {
              if (current !== last.current)
                for (const mpid of [last.current, current]) if (mpid !== null) changed.add(mpid);
              for (const mpid of changed) {
                const doc = profiles.docs.get(mpid);
                people.set(mpid, doc === undefined ? null : viewOf(doc));
              }
            }
            last = { confirmed, merges, current };
            return people.list();
          }),
          distinctUntilChanged(),
        );
      }),
    );
    // The current person from its own documents, not from the whole list: it shows as soon as an
    // identity call is written, however many people the device holds. A person this page's write
    // holds starts from that document (DE-10: no query before it shows) if whether the server
    // holds them is known without one: a person the write created cannot be, and for the others
    // the followed projection tells. Storage follows, for other pages' writes and the server's
    // answers (DE-11).
    const person$ = current$.pipe(
      distinctUntilChanged((a, b) => a.user?.mpid === b.user?.mpid),
      switchMap(({ user, write }) => {
        if (user === null) return of(null);
        const id = profileId(user.mpid);
        const stored$ = combineLatest([db.graph.findOne(id).$, db.profiles.findOne(user.mpid).$]).pipe(
          map(([doc, projection]) => (doc === null ? null : { doc, confirmed: projection !== null })),
        );
        const written = write?.docs.get(id);
        if (written === undefined || written === null || write === null) return stored$;
        const confirmed = write.created.has(id) ? false : confirmedNow?.has(user.mpid);
        if (confirmed === undefined) return stored$;
        // Storage is followed from a moment later (DE-14): its queries start outside the write,
        // and they read what storage holds then, so nothing written meanwhile is missed.
        return stored$.pipe(
          subscribeOn(asyncScheduler, LIVE_QUERY_DELAY_MS),
          startWith({ doc: written, confirmed }),
        );
      }),
    );
    this.currentPerson$ = share(
      combineLatest([person$, this.merges$]).pipe(
        map(([person, merges]) =>
          person === null ? null : views.of(person.doc, person.confirmed, merges, person.doc.mpid),
        ),
        distinctUntilChanged(samePerson),
      ),
    );
    const head$ = db.graph
      .findOne(HEAD_ID)
      .$.pipe(map((doc) => (doc === null ? 0 : (doc.toJSON().data as unknown as Head).seq)));
    const reconciled$ = localData<{ seq: number }>(db, RECONCILED_DOC).pipe(map((r) => r?.seq ?? 0));
    const pendingEvents$ = localData<{ at: number }>(db, EVENTS_SYNCED_DOC).pipe(
      map((e) => e?.at ?? -1),
      distinctUntilChanged(),
      switchMap((at) => db.events.count({ selector: { at: { $gt: at } } }).$),
    );
    this.status$ = share(
      combineLatest([head$, reconciled$, pendingEvents$]).pipe(
        map(([seq, reconciled, pendingEvents]) => ({
          pendingRequests: Math.max(0, seq - reconciled),
          pendingEvents,
        })),
        distinctUntilChanged(
          (a, b) => a.pendingRequests === b.pendingRequests && a.pendingEvents === b.pendingEvents,
        ),
      ),
    );
  }

  /** The identity requests answered with this person (or an offline record merged into them), newest first. */
  decisions$(mpid: string): Observable<readonly DecisionView[]> {
    return this.requestsOf$(mpid).pipe(
      map((docs) =>
        docs
          .flatMap((d) => {
            const data = d.data as unknown as RequestData;
            return data.sync === null ? [] : [decisionFrom(data.sync, data.stored)];
          })
          .sort((a, b) => b.createdAt - a.createdAt),
      ),
    );
  }

  /** The person's events and attribute changes, newest first (the latest 500). */
  activity$(mpid: string): Observable<readonly ActivityView[]> {
    return this.requestsOf$(mpid).pipe(
      map((docs) => docs.flatMap((d) => (d.data as unknown as RequestData).sync?.requestId ?? [])),
      switchMap((ids) =>
        ids.length === 0
          ? of([])
          : combineLatest(ids.map((requestId) => this.db.events.find({ selector: { requestId } }).$)),
      ),
      map((lists) =>
        lists
          .flat()
          .map((d) => {
            const e = d.toJSON();
            return { id: e.id, type: e.type, name: e.name, data: e.data, at: e.at };
          })
          .sort((a, b) => b.at - a.at)
          .slice(0, 500),
      ),
    );
  }

  private requestsOf$(mpid: string): Observable<GraphDoc[]> {
    return this.merges$.pipe(
      map((merges) => [mpid, ...(merges[mpid] ?? [])]),
      distinctUntilChanged((a, b) => a.join() === b.join()),
      switchMap((mpids) => combineLatest(mpids.map((m) => this.db.graph.find(requestsOfQuery(m)).$))),
      map((lists) => lists.flat().map((d) => d.toJSON() as GraphDoc)),
    );
  }
}
