/**
 * The RxDB store adapter (SPEC ST-*): the resolver's port over the device's `graph` collection.
 *
 * Transactions are serialised by a queue in this page and by a lock across pages (DV-14: two tabs
 * or windows of one device share one database, one request log and one sequence). Reads go to the
 * storage itself, never to RxDB's query and document caches, which another tab's writes do not
 * reach at once, or to this page's own cache while the head shows nobody else wrote (DE-2,
 * `page-cache.ts`); within a transaction each document is read at most once and the transaction's
 * own writes overlay what was read. A transaction's writes go to storage in one `bulkWrite` when it
 * ends, which every RxDB storage applies atomically (one IndexedDB transaction on Dexie), so a
 * crash never leaves half a resolution behind. Unique identity values are checked against the
 * index inside the locked transaction.
 *
 * The `head` document (DV-15) is written in that same `bulkWrite`, by every write: the last request
 * sequence, the last history sequence, the request that made the current user, and the device
 * application stamp. Every transaction reads it by id first, so no call scans the log, whatever its
 * length, and its revision tells whether another page wrote since.
 */
import { Subject, type Observable } from 'rxjs';
import {
  createRevision,
  getHeightOfRevision,
  normalizeMangoQuery,
  now as rxNow,
  prepareQuery,
  type MangoQuery,
  type RxCollection,
  type RxDocumentData,
} from 'rxdb/plugins/core';
import type { IdentityType } from '../identity/identity-types.ts';
import type {
  AliasRecord,
  HistoryEntry,
  Namespace,
  ProfileRecord,
  StoredRequest,
} from '../resolver/records.ts';
import { storedResult, withIdentity, withoutIdentity } from '../resolver/records.ts';
import {
  runAsync,
  StoreConflictError,
  type AsyncStoreTx,
  type IdentityKey,
  type IdentityStore,
  type InspectableStore,
  type Program,
  type StoreChange,
  type StoreDump,
  type WriteSet,
} from '../resolver/store-port.ts';
import type { SyncRequest } from '../protocol/sync.ts';
import { serial } from '../util/serial.ts';
import { logFields, type GraphDoc, type GraphKind } from './collections.ts';
import {
  canList,
  GraphDirectory,
  IDENTITY_PREFIX,
  PROFILE_PREFIX,
  SEP,
  TOP,
  type ListIds,
} from './graph-directory.ts';
import { lookupKey, PageCache, type LookupField, type WrittenRow } from './page-cache.ts';

export const profileId = (mpid: string) => `${PROFILE_PREFIX}${mpid}`;
export const identityKey = (ns: Namespace, type: IdentityType, value: string) =>
  `${ns.scopeId}${SEP}${ns.environment}${SEP}${type}${SEP}${value}`;
const identityId = (key: string, mpid: string) => `${IDENTITY_PREFIX}${key}${SEP}${mpid}`;
export const requestDocId = (scopeId: string, requestId: string) => `r${SEP}${scopeId}${SEP}${requestId}`;
const aliasId = (scopeId: string, id: string) => `a${SEP}${scopeId}${SEP}${id}`;
const historyId = (seq: number) => `h${SEP}${String(seq).padStart(12, '0')}`;

export const HEAD_ID = 'head';

/** Every document of a kind has an id that starts with its kind's prefix (the head's is its own). */
const KIND_PREFIX: Readonly<Record<GraphKind, string>> = {
  profile: PROFILE_PREFIX,
  dropped: PROFILE_PREFIX,
  identity: IDENTITY_PREFIX,
  request: `r${SEP}`,
  history: `h${SEP}`,
  alias: `a${SEP}`,
  head: HEAD_ID,
};

/**
 * The documents of a kind, as a range of ids (DE-6): served by the id index, so a scan of a kind
 * reads that kind only (a profile and a dropped profile share their prefix: `kind` tells them apart).
 */
export function kindSelector(kind: GraphKind): { id: { $gte: string; $lt: string }; kind: GraphKind } {
  const prefix = KIND_PREFIX[kind];
  return { id: { $gte: prefix, $lt: prefix + TOP }, kind };
}

/** The request log after sequence `after` (through `through`, if given), in order (DE-6: the `logSeq` index). */
export function requestLogQuery(after: number, through?: number): MangoQuery<GraphDoc> {
  const logSeq = through === undefined ? { $gt: after } : { $gt: after, $lte: through };
  return { selector: { kind: 'request', logSeq }, sort: [{ logSeq: 'asc' }] };
}

/** The requests answered with a person (DE-6: the `logMpid` index). */
export function requestsOfQuery(mpid: string): MangoQuery<GraphDoc> {
  return { selector: { kind: 'request', logMpid: mpid } };
}

/** Device fields recorded with the request a program stores (see `record`). */
export type SyncMeta = Omit<SyncRequest, 'provisionalMpid' | 'createdProvisional' | 'server'>;

export interface RequestData {
  readonly stored: StoredRequest;
  readonly sync: SyncRequest | null;
  /** The history entries of the write that stored the request (DE-5); absent when it had none. */
  readonly history?: readonly HistoryEntry[];
}

function doc(fields: Partial<GraphDoc> & Pick<GraphDoc, 'id' | 'kind' | 'data'>): GraphDoc {
  return { key: '', mpid: '', seq: 0, due: -1, source: '', destination: '', ...fields };
}

export function profileDoc(profile: ProfileRecord): GraphDoc {
  return doc({
    id: profileId(profile.mpid),
    kind: 'profile',
    mpid: profile.mpid,
    data: profile as unknown as Record<string, unknown>,
  });
}

export function identityDoc(
  ns: Namespace,
  type: IdentityType,
  value: string,
  mpid: string,
  unique: boolean,
): GraphDoc {
  const key = identityKey(ns, type, value);
  return doc({ id: identityId(key, mpid), kind: 'identity', key, mpid, data: { unique } });
}

/**
 * The ids of a profile's identity documents: the store writes them in the same write as the
 * profile's identities, so they are the documents of that MPID (no query by MPID is needed).
 */
export function identityDocIds(profile: ProfileRecord): string[] {
  const ns: Namespace = { scopeId: profile.scopeId, environment: profile.environment };
  const ids: string[] = [];
  for (const key in profile.identities) {
    const type = key as IdentityType;
    for (const value of profile.identities[type] ?? [])
      ids.push(identityId(identityKey(ns, type, value), profile.mpid));
  }
  return ids;
}

/** The identity documents that may hold an identity value (their key is filtered by the caller; DE-6). */
export function identityHoldersQuery(key: string): MangoQuery<GraphDoc> {
  return lookupQuery('identity', 'key', key);
}

function aliasDoc(alias: AliasRecord): GraphDoc {
  return doc({
    id: aliasId(alias.scopeId, alias.id),
    kind: 'alias',
    key: `${alias.scopeId}${SEP}${alias.id}`,
    due: alias.status === 'pending' ? alias.dueAt : -1,
    source: alias.sourceMpid,
    destination: alias.destinationMpid,
    data: alias,
  });
}

export function requestDoc(
  stored: StoredRequest,
  sync: SyncRequest | null,
  history: readonly HistoryEntry[] = [],
): GraphDoc {
  const data: RequestData = history.length === 0 ? { stored, sync } : { stored, sync, history };
  const mpid = sync?.server?.mpid ?? storedResult(stored).mpid ?? '';
  const seq = sync?.seq ?? 0;
  return {
    ...doc({
      id: requestDocId(stored.scopeId, stored.requestId),
      kind: 'request',
      key: `${stored.scopeId}${SEP}${stored.requestId}`,
      mpid,
      seq,
      data: data as unknown as Record<string, unknown>,
    }),
    ...logFields(seq, mpid),
  };
}

const asProfile = (d: GraphDoc) => d.data as unknown as ProfileRecord;
const asAlias = (d: GraphDoc) => d.data as unknown as AliasRecord;

/** The device's head (DV-15); see the module docblock. */
export interface Head {
  /** Sequence number of the newest request in the log (0: none yet). */
  readonly seq: number;
  /** Sequence number of the newest history entry. */
  readonly historySeq: number;
  /** Document id of the identify, login or logout that made the current user; `null` before the first. */
  readonly currentRequestDoc: string | null;
  /** The device application stamp sent with identity requests (renewed for each new person, DV-16). */
  readonly das: string;
}

const EMPTY_HEAD: Head = { seq: 0, historySeq: 0, currentRequestDoc: null, das: '' };
const IDENTITY_REQUEST_KINDS: ReadonlySet<string> = new Set(['identify', 'login', 'logout']);

export function headDoc(head: Head): GraphDoc {
  return doc({ id: HEAD_ID, kind: 'head', seq: head.seq, data: head as unknown as Record<string, unknown> });
}

/**
 * Runs `task` while holding the device's lock, so that one device's pages never interleave their
 * transactions (`browserLock` uses the Web Locks API; the default holds nothing beyond this page's
 * own queue). The lock must not be re-entrant: a transaction never takes it twice. `unbroken` is
 * true when this page has held the lock without a break since its previous task under it, so no
 * other page can have written since (DV-19); a lock that cannot tell passes nothing.
 */
export type DeviceLock = <T>(task: (unbroken?: boolean) => Promise<T>) => Promise<T>;
const pageOnly: DeviceLock = (task) => task();

/** What a recording can read, inside the locked transaction, before it says what to record. */
export interface RecordContext {
  readonly head: Head;
  /** A graph document as stored now (with this transaction's writes). */
  readonly byId: (id: string) => Promise<GraphDoc | null>;
}

/** What to record: the device fields of the request and the program that resolves it. */
export interface Recording<R> {
  readonly meta: SyncMeta;
  readonly program: Program<R>;
  readonly scopeId: string;
  /** The request id was generated for this recording just now, so nothing is stored under it yet. */
  readonly fresh?: boolean;
}

/** What a transaction reads as it begins, beside the head (DE-1, DE-8). */
export interface Prefetch {
  /** Documents by id, read with the head in one storage call. */
  readonly ids?: readonly string[];
  /** Identity keys whose holders are looked up at the same time, unless the page cache knows them. */
  readonly identityKeys?: readonly string[];
  /**
   * The MPID the call will likely add `identityKeys` to (this page's current user): its identity
   * documents for those keys are read with the head, removed ones included, so that adding a value
   * needs no other read for the write's previous revision (DE-15). A wrong guess costs nothing more.
   */
  readonly likelyHolder?: string | null;
}

/**
 * One write of this page, once storage committed it (DE-10): every graph document the transaction
 * read or wrote, as storage now holds it. The lock kept storage still while it ran, so these are
 * the stored documents at that moment, with no read of storage.
 */
export interface CommittedWrite {
  /** The head's revision height after the write: every graph write moves it (DE-2, DE-3). */
  readonly height: number;
  /** The documents, by id (`null`: none, or removed). */
  readonly docs: ReadonlyMap<string, GraphDoc | null>;
  /** Ids of the documents this write created. */
  readonly created: ReadonlySet<string>;
}

/** Pending writes of one transaction, by document id (`null` = removed). */
type Overlay = Map<string, GraphDoc | null>;
type Stored = RxDocumentData<GraphDoc>;

/**
 * One transaction's view of the graph: documents read from storage (each at most once, kept with
 * their revision for the write; removed ones too) under the transaction's own pending writes.
 * What the page cache knows is not read again.
 */
class GraphTx {
  readonly overlay: Overlay = new Map();
  private readonly stored = new Map<string, Stored | null>();
  /** `findBy` results from storage, by kind, field and value (storage does not change under the lock). */
  private readonly found = new Map<string, readonly Stored[]>();
  private headValue: Head | null = null;
  syncMeta: SyncMeta | null = null;

  constructor(
    private readonly graph: RxCollection<GraphDoc>,
    private readonly cache: PageCache,
    private readonly listIds: ListIds,
  ) {}

  /**
   * Reads the head (and `prefetch.ids`, in the same storage call) and lets the page cache check it:
   * another page's write since this page's last transaction makes the cache forget everything.
   * Under an unbroken lock (DV-19) nobody else can have written since, so what the cache holds,
   * the head included, is not read again. The holders of `prefetch.identityKeys` the cache does not
   * know are asked at the same time (DE-8): the lock keeps storage still, so what they find holds
   * whatever the head says.
   */
  async begin(prefetch: Prefetch, unbroken: boolean): Promise<void> {
    const keys = [...new Set(prefetch.identityKeys ?? [])];
    const holder = prefetch.likelyHolder ?? null;
    const held = holder === null ? [] : keys.map((key) => identityId(key, holder));
    const ids = [HEAD_ID, ...new Set([...(prefetch.ids ?? []), ...held].filter((id) => id !== HEAD_ID))];
    const asked = keys.filter((key) => this.cache.lookup('identity', 'key', key) === undefined);
    const [, holders] = await Promise.all([
      unbroken && this.cache.current ? this.load(ids) : this.readValidating(ids),
      Promise.all(asked.map((key) => this.lookup('identity', 'key', key))),
    ]);
    asked.forEach((key, i) => this.remember('identity', 'key', key, holders[i] ?? []));
    this.listDirectory();
  }

  /**
   * Lists the graph's directory (DE-19) in the background when the page has none: a long device
   * takes a while to list, and no call waits for it (each asks storage as before until it is in).
   */
  private listDirectory(): void {
    const listing = this.cache.beginListing();
    if (listing === null) return;
    GraphDirectory.read(this.listIds).then(
      (directory) => this.cache.endListing(listing, directory),
      () => this.cache.endListing(listing, null),
    );
  }

  /** Reads `ids` (the head first) from storage and lets the page cache check the head. */
  private async readValidating(ids: readonly string[]): Promise<void> {
    const docs = new Map(
      (await this.graph.storageInstance.findDocumentsById([...ids], true)).map((d) => [d.id, d]),
    );
    this.cache.validate(live(docs.get(HEAD_ID) ?? null) ?? null);
    for (const id of ids) {
      const d = docs.get(id) ?? null;
      this.stored.set(id, d);
      this.cache.rememberDoc(id, d);
    }
  }

  /**
   * Reads into `stored` every id it does not hold yet: from the page cache when it knows the id,
   * else from storage in one call (removed documents included), remembered by the cache.
   */
  private async load(ids: readonly string[]): Promise<void> {
    const missing: string[] = [];
    for (const id of ids) {
      if (this.stored.has(id)) continue;
      const cached = this.cache.doc(id);
      if (cached === undefined) missing.push(id);
      else this.stored.set(id, cached);
    }
    if (missing.length === 0) return;
    for (const id of missing) this.stored.set(id, null);
    for (const d of await this.graph.storageInstance.findDocumentsById(missing, true))
      this.stored.set(d.id, d);
    for (const id of missing) this.cache.rememberDoc(id, this.stored.get(id) ?? null);
  }

  /** The documents with these ids that exist, with the overlay applied. */
  async byIds(ids: readonly string[]): Promise<Map<string, GraphDoc>> {
    await this.load(ids.filter((id) => !this.overlay.has(id)));
    const out = new Map<string, GraphDoc>();
    for (const id of ids) {
      const d = this.overlay.has(id) ? this.overlay.get(id) : live(this.stored.get(id));
      if (d !== undefined && d !== null) out.set(id, d);
    }
    return out;
  }

  async one(id: string): Promise<GraphDoc | null> {
    return (await this.byIds([id])).get(id) ?? null;
  }

  /** Records that no document has this id, not even a removed one (a request id the device just generated). */
  knownAbsent(id: string): void {
    this.stored.set(id, null);
  }

  /** Records that no live document of `kind` has this `field` value (a stamp the device just generated). */
  knownNone(kind: GraphDoc['kind'], field: LookupField, value: string): void {
    this.found.set(lookupKey(kind, field, value), []);
    this.cache.rememberLookup(kind, field, value, []);
  }

  /** Live documents matching a selector in storage (not yet overlaid); each is remembered for the write. */
  async query(query: MangoQuery<GraphDoc>): Promise<Stored[]> {
    const documents = await liveDocuments(this.graph, query);
    for (const d of documents) if (!this.stored.has(d.id)) this.stored.set(d.id, d);
    return documents;
  }

  /** Live documents of a kind whose `field` equals `value`, in storage (DE-6: see `lookupQuery`). */
  private async lookup(kind: GraphDoc['kind'], field: LookupField, value: string): Promise<Stored[]> {
    return (await this.query(lookupQuery(kind, field, value))).filter(
      (d) => d.kind === kind && d[field] === value,
    );
  }

  private remember(kind: GraphDoc['kind'], field: LookupField, value: string, docs: readonly Stored[]): void {
    this.found.set(lookupKey(kind, field, value), docs);
    this.cache.rememberLookup(kind, field, value, docs);
  }

  /**
   * Documents of a kind whose `field` equals one of `values`, with the overlay applied: one exact
   * index range per value (an `$in` would scan everything between the smallest and largest value).
   */
  async findBy(kind: GraphDoc['kind'], field: LookupField, values: readonly string[]): Promise<GraphDoc[]> {
    const distinct = [...new Set(values)];
    const found = await Promise.all(
      distinct.map(async (value) => {
        const cacheKey = lookupKey(kind, field, value);
        const known = this.found.get(cacheKey) ?? this.cache.lookup(kind, field, value);
        if (known !== undefined) {
          this.found.set(cacheKey, known);
          for (const d of known) if (!this.stored.has(d.id)) this.stored.set(d.id, d);
          return known;
        }
        const docs = await this.lookup(kind, field, value);
        this.remember(kind, field, value, docs);
        return docs;
      }),
    );
    const out = new Map<string, GraphDoc>();
    for (const d of found.flat()) if (!this.overlay.has(d.id)) out.set(d.id, d);
    for (const [id, pending] of this.overlay) {
      if (pending !== null && pending.kind === kind && distinct.includes(pending[field]))
        out.set(id, pending);
    }
    return [...out.values()];
  }

  /** Every document read or written, as stored once the write commits (see `CommittedWrite`). */
  snapshot(): Map<string, GraphDoc | null> {
    const docs = new Map<string, GraphDoc | null>();
    for (const [id, d] of this.stored) docs.set(id, live(d) ?? null);
    for (const [id, d] of this.overlay) docs.set(id, d);
    return docs;
  }

  async head(): Promise<Head> {
    if (this.headValue === null) {
      const stored = await this.one(HEAD_ID);
      this.headValue = stored === null ? EMPTY_HEAD : (stored.data as unknown as Head);
    }
    return this.headValue;
  }

  setHead(head: Head): void {
    this.headValue = head;
    this.overlay.set(HEAD_ID, headDoc(head));
  }

  /**
   * The stored revision of each pending write (removed documents included: a write over one needs
   * its revision). Ids this transaction never read are read now, except new history entries: their
   * sequence follows the head's, and history is never removed.
   */
  async previous(): Promise<Map<string, Stored>> {
    const unread = [...this.overlay].flatMap(([id, next]) =>
      this.stored.has(id) || next?.kind === 'history' ? [] : [id],
    );
    await this.load(unread);
    const out = new Map<string, Stored>();
    for (const id of this.overlay.keys()) {
      const d = this.stored.get(id);
      if (d !== undefined && d !== null) out.set(id, d);
    }
    return out;
  }
}

/**
 * The graph's ids under a prefix, removed documents included (DE-19): from the storage's own key
 * listing where it has one (the device's IndexedDB storage), else by a query of the range.
 */
export function graphIdLister(graph: RxCollection<GraphDoc>): ListIds {
  const wrapped = graph.storageInstance as unknown as { originalStorageInstance?: unknown };
  const original = wrapped.originalStorageInstance ?? graph.storageInstance;
  if (canList(original)) return (prefix) => original.listIds(prefix, prefix + TOP);
  return async (prefix) =>
    (await storedDocuments(graph, { selector: { id: { $gte: prefix, $lt: prefix + TOP } } }, true)).map(
      (d) => d.id,
    );
}

/**
 * The documents matching a query, read from the graph's storage itself: plain stored data, none of
 * RxDB's query or document caches. Removed documents stay in storage, flagged, under every index;
 * they are left out unless `removed` asks for them.
 */
async function storedDocuments(
  graph: RxCollection<GraphDoc>,
  query: MangoQuery<GraphDoc>,
  removed: boolean,
): Promise<Stored[]> {
  const schema = graph.schema.jsonSchema;
  const normalized = normalizeMangoQuery(schema, query);
  if (!removed) {
    // As RxDB's own queries do.
    (normalized.selector as Record<string, unknown>)['_deleted'] = { $eq: false };
    normalized.index?.unshift('_deleted');
  }
  const { documents } = await graph.storageInstance.query(prepareQuery(schema, normalized));
  return documents;
}

/** The live documents matching a query, from the graph's storage itself (see `storedDocuments`). */
export function liveDocuments(graph: RxCollection<GraphDoc>, query: MangoQuery<GraphDoc>): Promise<Stored[]> {
  return storedDocuments(graph, query, false);
}

/** A stored document's value for reads: removed documents do not exist. */
const live = (d: Stored | null | undefined): Stored | null | undefined =>
  d === undefined || d === null || !d._deleted ? d : null;

export class RxdbIdentityStore implements IdentityStore, InspectableStore {
  private readonly queue = serial();
  /** What this page knows of the graph between transactions (DE-1, DE-2). */
  readonly cache = new PageCache();
  private readonly listIds: ListIds;
  private readonly committedSubject = new Subject<CommittedWrite>();
  /** Each write of this page, right after storage committed it (DE-10). */
  readonly committed$: Observable<CommittedWrite> = this.committedSubject.asObservable();

  constructor(
    readonly graph: RxCollection<GraphDoc>,
    private readonly lock: DeviceLock = pageOnly,
  ) {
    this.listIds = graphIdLister(graph);
  }

  transaction<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T> {
    return this.locked(async (tx) => fn(this.port(tx)));
  }

  /**
   * Records a device request: `make` reads what it needs (the head, the current user's request)
   * and returns the request's sync fields and its program, or `null` to record nothing. The
   * program's stored request becomes a device request, and the head moves on, in the same write.
   */
  record<R>(
    make: (ctx: RecordContext) => Promise<Recording<R> | null> | Recording<R> | null,
    options: { readonly prefetch?: Prefetch } = {},
  ): Promise<R | null> {
    return this.locked(async (tx) => {
      const recording = await make({
        head: await tx.head(),
        byId: (id) => tx.one(id),
      });
      if (recording === null) return null;
      tx.syncMeta = recording.meta;
      if (recording.fresh === true) tx.knownAbsent(requestDocId(recording.scopeId, recording.meta.requestId));
      return runAsync(recording.program, this.port(tx));
    }, options.prefetch);
  }

  /** Reads the head and documents by id, under the lock, without writing. */
  read<T>(fn: (head: Head, byId: (id: string) => Promise<GraphDoc | null>) => Promise<T>): Promise<T> {
    return this.locked(async (tx) => fn(await tx.head(), (id) => tx.one(id)));
  }

  /** Nobody is current any more, and identity requests carry a new device application stamp (DV-16). */
  renewStamp(das: string, stampKeys: readonly string[] = []): Promise<void> {
    return this.locked(async (tx) => {
      tx.setHead({ ...(await tx.head()), currentRequestDoc: null, das });
      // A stamp generated just now: no identity document holds it yet (`stampKeys`: its identity keys).
      for (const key of stampKeys) tx.knownNone('identity', 'key', key);
    });
  }

  /** Several writes made outside the resolver (reconciliation), in one atomic write. */
  write(docs: readonly { id: string; doc: GraphDoc | null }[]): Promise<void> {
    return this.locked((tx) => {
      for (const d of docs) tx.overlay.set(d.id, d.doc);
      return Promise.resolve();
    });
  }

  /**
   * Writes a head for a device that has none yet: a new database, or one kept before the head
   * existed (its sequences and current request are found once, by scanning).
   */
  ensureHead(das: string): Promise<Head> {
    return this.locked(async (tx) => {
      const stored = await tx.one(HEAD_ID);
      if (stored !== null) return stored.data as unknown as Head;
      const requests = (await tx.query({ selector: kindSelector('request'), index: ['id'] })).map(
        (d) => d.data as unknown as RequestData,
      );
      const history = await tx.query({ selector: kindSelector('history'), index: ['id'] });
      const identity = requests
        .filter(
          (r) =>
            r.sync !== null && IDENTITY_REQUEST_KINDS.has(r.sync.kind) && r.sync.provisionalMpid !== null,
        )
        .sort((a, b) => (b.sync?.seq ?? 0) - (a.sync?.seq ?? 0))[0];
      const current =
        identity === undefined ? null : requestDocId(identity.stored.scopeId, identity.stored.requestId);
      const head: Head = {
        seq: requests.reduce((max, r) => Math.max(max, r.sync?.seq ?? 0), 0),
        historySeq: Math.max(
          history.reduce((max, d) => Math.max(max, d.seq), 0),
          ...requests.map((r) => r.history?.at(-1)?.seq ?? 0),
        ),
        currentRequestDoc: current,
        das,
      };
      tx.setHead(head);
      return head;
    });
  }

  /** Runs `fn` in this page's queue and under the device lock, then writes what it staged. */
  private locked<T>(fn: (tx: GraphTx) => Promise<T>, prefetch: Prefetch = {}): Promise<T> {
    const run = () =>
      this.lock(async (unbroken) => {
        try {
          const tx = new GraphTx(this.graph, this.cache, this.listIds);
          await tx.begin(prefetch, unbroken === true);
          const result = await fn(tx);
          await this.flush(tx);
          return result;
        } catch (error) {
          this.cache.forget();
          throw error;
        }
      });
    return this.queue(run);
  }

  private port(tx: GraphTx): AsyncStoreTx {
    return {
      getRequest: async (scopeId, requestId) => {
        const found = await tx.one(requestDocId(scopeId, requestId));
        return found === null ? null : (found.data as unknown as RequestData).stored;
      },
      loadProfiles: (ns, identities, mpids) => this.loadProfiles(tx, ns, identities, mpids),
      mpidTaken: async (mpid) => (await tx.one(profileId(mpid))) !== null,
      loadAliases: async (ns, mpids) => {
        const docs = [
          ...(await tx.findBy('alias', 'source', mpids)),
          ...(await tx.findBy('alias', 'destination', mpids)),
        ];
        const unique = new Map(docs.map((d) => [d.id, asAlias(d)]));
        return [...unique.values()]
          .filter((a) => a.scopeId === ns.scopeId && a.environment === ns.environment)
          .sort(byRequestTime);
      },
      dueAliases: async (scopeId, now, limit) => {
        const stored = await tx.query({
          selector: { ...kindSelector('alias'), due: { $gte: 0, $lte: now } },
          index: ['id'],
        });
        const docs = new Map<string, GraphDoc>(stored.map((d) => [d.id, d]));
        for (const [id, pending] of tx.overlay) {
          if (pending === null) docs.delete(id);
          else if (pending.kind === 'alias') docs.set(id, pending);
        }
        return [...docs.values()]
          .map(asAlias)
          .filter((a) => a.scopeId === scopeId && a.status === 'pending' && a.dueAt <= now)
          .sort(byRequestTime)
          .slice(0, limit);
      },
      getAlias: async (scopeId, id) => {
        const found = await tx.one(aliasId(scopeId, id));
        return found === null ? null : asAlias(found);
      },
      commit: (write) => this.commit(tx, write),
    };
  }

  private async loadProfiles(
    tx: GraphTx,
    ns: Namespace,
    identities: readonly IdentityKey[],
    mpids: readonly string[],
  ): Promise<ProfileRecord[]> {
    const keys = identities.map((k) => identityKey(ns, k.identityType, k.value));
    const holders = (await tx.findBy('identity', 'key', keys)).sort(
      (a, b) => keys.indexOf(a.key) - keys.indexOf(b.key),
    );
    const wanted: string[] = [];
    for (const h of holders) if (!wanted.includes(h.mpid)) wanted.push(h.mpid);
    for (const mpid of mpids) if (!wanted.includes(mpid)) wanted.push(mpid);
    const found = await tx.byIds(wanted.map(profileId));
    const out: ProfileRecord[] = [];
    for (const mpid of wanted) {
      const d = found.get(profileId(mpid));
      if (d === undefined || d.kind !== 'profile') continue;
      const profile = asProfile(d);
      if (profile.scopeId === ns.scopeId && profile.environment === ns.environment) out.push(profile);
    }
    return out;
  }

  private async commit(tx: GraphTx, write: WriteSet): Promise<void> {
    const profiles = new Map<string, ProfileRecord>();
    const profileOf = async (mpid: string): Promise<ProfileRecord> => {
      const cached = profiles.get(mpid);
      if (cached !== undefined) return cached;
      const found = await tx.one(profileId(mpid));
      if (found === null || found.kind !== 'profile') throw new Error(`no profile ${mpid}`);
      return asProfile(found);
    };
    const ns = (p: ProfileRecord): Namespace => ({ scopeId: p.scopeId, environment: p.environment });
    const assertFree = async (p: ProfileRecord, type: IdentityType, value: string) => {
      const holders = await tx.findBy('identity', 'key', [identityKey(ns(p), type, value)]);
      if (holders.some((h) => h.mpid !== p.mpid)) throw new StoreConflictError(type, value);
    };
    const put = (p: ProfileRecord) => {
      profiles.set(p.mpid, p);
      tx.overlay.set(profileId(p.mpid), profileDoc(p));
    };
    for (const change of write.changes) {
      await this.apply(change, { tx, profileOf, assertFree, put, ns });
    }
    let head = await tx.head();
    const entries: HistoryEntry[] = write.history.map((entry, i) => ({
      seq: head.historySeq + 1 + i,
      ...entry,
    }));
    const first = entries[0];
    const last = entries.at(-1);
    const request = write.request;
    if (first !== undefined && last !== undefined) {
      head = { ...head, historySeq: last.seq };
      // The write's entries go with its request, else in one document of their own (DE-5): each
      // document is one more row under every index.
      const id = historyId(first.seq);
      if (request === null)
        tx.overlay.set(id, doc({ id, kind: 'history', mpid: last.mpid, seq: last.seq, data: { entries } }));
    }
    if (request !== null) {
      const id = requestDocId(request.scopeId, request.requestId);
      if ((await tx.one(id)) !== null) throw new Error(`request ${request.requestId} is already stored`);
      const sync = syncFor(tx.syncMeta, request);
      tx.overlay.set(id, requestDoc(request, sync, entries));
      if (sync !== null) {
        head = {
          ...head,
          seq: sync.seq,
          currentRequestDoc:
            IDENTITY_REQUEST_KINDS.has(sync.kind) && sync.provisionalMpid !== null
              ? id
              : head.currentRequestDoc,
        };
      }
    }
    if (head !== (await tx.head())) tx.setHead(head);
  }

  private async apply(
    change: StoreChange,
    ctx: {
      tx: GraphTx;
      profileOf: (mpid: string) => Promise<ProfileRecord>;
      assertFree: (p: ProfileRecord, type: IdentityType, value: string) => Promise<void>;
      put: (p: ProfileRecord) => void;
      ns: (p: ProfileRecord) => Namespace;
    },
  ): Promise<void> {
    const overlay = ctx.tx.overlay;
    switch (change.op) {
      case 'createProfile': {
        const { profile, uniqueTypes } = change;
        if ((await ctx.tx.one(profileId(profile.mpid))) !== null)
          throw new Error(`MPID ${profile.mpid} was already issued`);
        for (const type of uniqueTypes)
          for (const value of profile.identities[type] ?? []) await ctx.assertFree(profile, type, value);
        ctx.put(profile);
        for (const key in profile.identities) {
          const type = key as IdentityType;
          for (const value of profile.identities[type] ?? []) {
            const d = identityDoc(ctx.ns(profile), type, value, profile.mpid, uniqueTypes.includes(type));
            // Identity documents of an MPID are only ever written with or after its profile
            // document, which is never removed (a dropped profile keeps it): a new MPID has none.
            ctx.tx.knownAbsent(d.id);
            overlay.set(d.id, d);
          }
        }
        return;
      }
      case 'addIdentity': {
        const profile = await ctx.profileOf(change.mpid);
        const identities = withIdentity(profile.identities, change.identityType, change.value);
        if (identities === null) return;
        if (change.unique) await ctx.assertFree(profile, change.identityType, change.value);
        ctx.put({ ...profile, identities });
        const d = identityDoc(
          ctx.ns(profile),
          change.identityType,
          change.value,
          profile.mpid,
          change.unique,
        );
        overlay.set(d.id, d);
        return;
      }
      case 'removeIdentity': {
        const profile = await ctx.profileOf(change.mpid);
        const identities = withoutIdentity(profile.identities, change.identityType, change.value);
        if (identities === null) return;
        ctx.put({ ...profile, identities });
        overlay.set(
          identityId(identityKey(ctx.ns(profile), change.identityType, change.value), profile.mpid),
          null,
        );
        return;
      }
      case 'updateProfile': {
        const profile = await ctx.profileOf(change.mpid);
        ctx.put({
          ...profile,
          lastSeenAt: change.patch.lastSeenAt ?? profile.lastSeenAt,
          firstSeenAt: change.patch.firstSeenAt ?? profile.firstSeenAt,
          orphanedAt: change.patch.orphanedAt === undefined ? profile.orphanedAt : change.patch.orphanedAt,
        });
        return;
      }
      case 'putAlias':
        overlay.set(aliasId(change.alias.scopeId, change.alias.id), aliasDoc(change.alias));
        return;
    }
  }

  /**
   * Writes the overlay in one storage bulkWrite (atomic); a concurrent write makes it throw. Every
   * write rewrites the head too, so that its revision tells every page's cache that the graph
   * changed (DE-2); the page cache then takes what was written.
   */
  private async flush(tx: GraphTx): Promise<void> {
    if (tx.overlay.size === 0) return;
    if (!tx.overlay.has(HEAD_ID) && (await tx.one(HEAD_ID)) !== null) tx.setHead(await tx.head());
    const previous = await tx.previous();
    const token = this.graph.database.token;
    const rows: { previous?: Stored; document: Stored }[] = [];
    for (const [id, next] of tx.overlay) {
      const before = previous.get(id);
      if (next === null && (before === undefined || before._deleted)) continue;
      const body = next ?? (before as Stored);
      const document: Stored = {
        ...body,
        _deleted: next === null,
        _attachments: {},
        _meta: { lwt: rxNow() },
        _rev: '',
      };
      document._rev = createRevision(token, before);
      rows.push(before === undefined ? { document } : { previous: before, document });
    }
    if (rows.length === 0) return;
    const result = await this.graph.storageInstance.bulkWrite(rows, 'identity-sync-resolver');
    const first = result.error[0];
    if (first !== undefined) {
      throw new Error(`the device store rejected a write (${first.status} on ${first.documentId}); retry`);
    }
    const head = rows.find((row) => row.document.id === HEAD_ID)?.document;
    if (head === undefined || head._deleted) {
      this.cache.forget();
      return;
    }
    this.cache.wrote(
      rows.map((row): WrittenRow => ({ previous: row.previous, document: row.document })),
      head._rev,
    );
    if (!this.committedSubject.observed) return;
    const created = new Set<string>();
    for (const row of rows)
      if (!row.document._deleted && (row.previous === undefined || row.previous._deleted))
        created.add(row.document.id);
    this.committedSubject.next({ height: getHeightOfRevision(head._rev), docs: tx.snapshot(), created });
  }

  async dump(): Promise<StoreDump> {
    const all = (await this.graph.find().exec()).map((d) => d.toJSON() as GraphDoc);
    const of = (kind: GraphDoc['kind']) => all.filter((d) => d.kind === kind);
    return {
      profiles: of('profile').map(asProfile),
      requests: of('request').map((d) => (d.data as unknown as RequestData).stored),
      history: [
        ...of('history').flatMap(historyEntries),
        ...of('request').flatMap((d) => (d.data as unknown as RequestData).history ?? []),
      ].sort((a, b) => a.seq - b.seq),
      aliases: of('alias').map(asAlias),
    };
  }
}

/**
 * The history entries a document holds: those of one write (`entries`, DE-5), or one entry (a
 * device written before entries were grouped).
 */
function historyEntries(d: GraphDoc): HistoryEntry[] {
  const data = d.data as { entries?: HistoryEntry[] } & HistoryEntry;
  return data.entries ?? [data];
}

/**
 * The storage query for one lookup (DE-6): the holders of an identity value are the range of ids
 * that start with its key (a longer key sharing the prefix is filtered out by the caller); other
 * lookups (aliases, few on a device) scan their kind's range of ids.
 */
function lookupQuery(kind: GraphDoc['kind'], field: LookupField, value: string): MangoQuery<GraphDoc> {
  if (kind !== 'identity' || field !== 'key')
    return { selector: { ...kindSelector(kind), [field]: value }, index: ['id'] };
  const prefix = identityId(value, '');
  return { selector: { id: { $gte: prefix, $lt: prefix + TOP } }, index: ['id'] };
}

function byRequestTime(a: AliasRecord, b: AliasRecord): number {
  return a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function syncFor(meta: SyncMeta | null, request: StoredRequest): SyncRequest | null {
  if (meta === null || meta.requestId !== request.requestId) return null;
  const result = storedResult(request);
  return {
    ...meta,
    provisionalMpid: result.mpid,
    createdProvisional: result.created,
    server: null,
  };
}
