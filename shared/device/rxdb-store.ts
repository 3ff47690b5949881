/**
 * The RxDB store adapter (SPEC ST-*): the resolver's port over the device's `graph` collection.
 *
 * Transactions are serialised by a queue; reads see committed state plus the transaction's own
 * commits; a transaction's writes go to storage in one `bulkWrite` when it ends, which every RxDB
 * storage applies atomically (one IndexedDB transaction on Dexie), so a crash never leaves half a
 * resolution behind. Unique identity values are checked against the index inside the serialised
 * transaction.
 */
import { createRevision, now as rxNow, type RxCollection, type RxDocumentData } from 'rxdb/plugins/core';
import type { IdentityType } from '../identity/identity-types.ts';
import type {
  AliasRecord,
  HistoryEntry,
  Namespace,
  NewHistoryEntry,
  ProfileRecord,
  StoredRequest,
} from '../resolver/records.ts';
import { withIdentity, withoutIdentity } from '../resolver/records.ts';
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
import type { GraphDoc } from './collections.ts';

const SEP = '|';
export const profileId = (mpid: string) => `p${SEP}${mpid}`;
export const identityKey = (ns: Namespace, type: IdentityType, value: string) =>
  `${ns.scopeId}${SEP}${ns.environment}${SEP}${type}${SEP}${value}`;
const identityId = (key: string, mpid: string) => `i${SEP}${key}${SEP}${mpid}`;
export const requestDocId = (scopeId: string, requestId: string) => `r${SEP}${scopeId}${SEP}${requestId}`;
const aliasId = (scopeId: string, id: string) => `a${SEP}${scopeId}${SEP}${id}`;
const historyId = (seq: number) => `h${SEP}${String(seq).padStart(12, '0')}`;

/** Device fields recorded with the request a program stores (see `runWithSync`). */
export type SyncMeta = Omit<SyncRequest, 'provisionalMpid' | 'createdProvisional' | 'server'>;

export interface RequestData {
  readonly stored: StoredRequest;
  readonly sync: SyncRequest | null;
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

export function requestDoc(stored: StoredRequest, sync: SyncRequest | null): GraphDoc {
  const data: RequestData = { stored, sync };
  return doc({
    id: requestDocId(stored.scopeId, stored.requestId),
    kind: 'request',
    key: `${stored.scopeId}${SEP}${stored.requestId}`,
    mpid: sync?.server?.mpid ?? stored.trace.result.mpid ?? '',
    seq: sync?.seq ?? 0,
    data: data as unknown as Record<string, unknown>,
  });
}

const asProfile = (d: GraphDoc) => d.data as unknown as ProfileRecord;
const asAlias = (d: GraphDoc) => d.data as unknown as AliasRecord;

/** Pending writes of one transaction, by document id (`null` = removed). */
type Overlay = Map<string, GraphDoc | null>;

export class RxdbIdentityStore implements IdentityStore, InspectableStore {
  private queue: Promise<unknown> = Promise.resolve();
  private syncMeta: SyncMeta | null = null;

  constructor(readonly graph: RxCollection<GraphDoc>) {}

  transaction<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T> {
    const run = () => this.once(fn);
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs a program whose stored request becomes a device request with these sync fields. */
  runWithSync<R>(meta: SyncMeta, make: () => Program<R>): Promise<R> {
    return this.transaction(async (tx) => {
      this.syncMeta = meta;
      try {
        return await runAsync(make(), tx);
      } finally {
        this.syncMeta = null;
      }
    });
  }

  /** Several writes made outside the resolver (reconciliation), in one atomic write. */
  write(docs: readonly { id: string; doc: GraphDoc | null }[]): Promise<void> {
    return this.transaction(async () => {
      const overlay: Overlay = new Map(docs.map((d) => [d.id, d.doc]));
      await this.flush(overlay);
    });
  }

  private async once<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T> {
    const overlay: Overlay = new Map();
    const result = await fn(this.txOver(overlay));
    await this.flush(overlay);
    return result;
  }

  private async byIds(ids: readonly string[], overlay: Overlay): Promise<Map<string, GraphDoc>> {
    const out = new Map<string, GraphDoc>();
    const missing = ids.filter((id) => !overlay.has(id));
    if (missing.length > 0) {
      const found = await this.graph.findByIds(missing).exec();
      for (const [id, d] of found) out.set(id, d.toJSON());
    }
    for (const id of ids) {
      const pending = overlay.get(id);
      if (pending !== undefined && pending !== null) out.set(id, pending);
    }
    return out;
  }

  /** Documents of a kind matching `field ∈ values`, with the overlay applied. */
  private async findBy(
    kind: GraphDoc['kind'],
    field: 'key' | 'mpid' | 'source' | 'destination',
    values: readonly string[],
    overlay: Overlay,
  ) {
    const stored =
      values.length === 0
        ? []
        : await this.graph.find({ selector: { kind, [field]: { $in: [...values] } } }).exec();
    const out = new Map<string, GraphDoc>();
    for (const d of stored) {
      const data = d.toJSON() as GraphDoc;
      if (!overlay.has(data.id)) out.set(data.id, data);
    }
    for (const [id, pending] of overlay) {
      if (pending !== null && pending.kind === kind && values.includes(pending[field])) out.set(id, pending);
    }
    return [...out.values()];
  }

  private txOver(overlay: Overlay): AsyncStoreTx {
    return {
      getRequest: async (scopeId, requestId) => {
        const found = (await this.byIds([requestDocId(scopeId, requestId)], overlay)).values().next().value;
        return found === undefined ? null : (found.data as unknown as RequestData).stored;
      },
      loadProfiles: (ns, identities, mpids) => this.loadProfiles(ns, identities, mpids, overlay),
      mpidTaken: async (mpid) => (await this.byIds([profileId(mpid)], overlay)).size > 0,
      loadAliases: async (ns, mpids) => {
        const docs = [
          ...(await this.findBy('alias', 'source', mpids, overlay)),
          ...(await this.findBy('alias', 'destination', mpids, overlay)),
        ];
        const unique = new Map(docs.map((d) => [d.id, asAlias(d)]));
        return [...unique.values()]
          .filter((a) => a.scopeId === ns.scopeId && a.environment === ns.environment)
          .sort((a, b) => a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      },
      dueAliases: async (scopeId, now, limit) => {
        const stored = await this.graph
          .find({ selector: { kind: 'alias', due: { $gte: 0, $lte: now } } })
          .exec();
        const docs = new Map(stored.map((d) => [d.primary, d.toJSON() as GraphDoc]));
        for (const [id, pending] of overlay) {
          if (pending === null) docs.delete(id);
          else if (pending.kind === 'alias') docs.set(id, pending);
        }
        return [...docs.values()]
          .map(asAlias)
          .filter((a) => a.scopeId === scopeId && a.status === 'pending' && a.dueAt <= now)
          .sort((a, b) => a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .slice(0, limit);
      },
      getAlias: async (scopeId, id) => {
        const found = (await this.byIds([aliasId(scopeId, id)], overlay)).values().next().value;
        return found === undefined ? null : asAlias(found);
      },
      commit: (write) => this.commit(write, overlay),
    };
  }

  private async loadProfiles(
    ns: Namespace,
    identities: readonly IdentityKey[],
    mpids: readonly string[],
    overlay: Overlay,
  ): Promise<ProfileRecord[]> {
    const keys = identities.map((k) => identityKey(ns, k.identityType, k.value));
    const holders = (await this.findBy('identity', 'key', keys, overlay)).sort(
      (a, b) => keys.indexOf(a.key) - keys.indexOf(b.key),
    );
    const wanted: string[] = [];
    for (const h of holders) if (!wanted.includes(h.mpid)) wanted.push(h.mpid);
    for (const mpid of mpids) if (!wanted.includes(mpid)) wanted.push(mpid);
    const found = await this.byIds(wanted.map(profileId), overlay);
    const out: ProfileRecord[] = [];
    for (const mpid of wanted) {
      const d = found.get(profileId(mpid));
      if (d === undefined || d.kind !== 'profile') continue;
      const profile = asProfile(d);
      if (profile.scopeId === ns.scopeId && profile.environment === ns.environment) out.push(profile);
    }
    return out;
  }

  private async commit(write: WriteSet, overlay: Overlay): Promise<void> {
    const profiles = new Map<string, ProfileRecord>();
    const profileOf = async (mpid: string): Promise<ProfileRecord> => {
      const cached = profiles.get(mpid);
      if (cached !== undefined) return cached;
      const found = (await this.byIds([profileId(mpid)], overlay)).get(profileId(mpid));
      if (found === undefined || found.kind !== 'profile') throw new Error(`no profile ${mpid}`);
      return asProfile(found);
    };
    const ns = (p: ProfileRecord): Namespace => ({ scopeId: p.scopeId, environment: p.environment });
    const assertFree = async (p: ProfileRecord, type: IdentityType, value: string) => {
      const holders = await this.findBy('identity', 'key', [identityKey(ns(p), type, value)], overlay);
      if (holders.some((h) => h.mpid !== p.mpid)) throw new StoreConflictError(type, value);
    };
    const put = (p: ProfileRecord) => {
      profiles.set(p.mpid, p);
      overlay.set(profileId(p.mpid), profileDoc(p));
    };
    for (const change of write.changes) {
      await this.apply(change, { profileOf, assertFree, put, ns, overlay });
    }
    if (write.history.length > 0) {
      let seq = await this.lastHistorySeq(overlay);
      for (const entry of write.history) {
        seq++;
        const full: HistoryEntry = { seq, ...entry };
        overlay.set(
          historyId(seq),
          doc({
            id: historyId(seq),
            kind: 'history',
            mpid: entry.mpid,
            seq,
            data: full,
          }),
        );
      }
    }
    const request = write.request;
    if (request !== null) {
      const id = requestDocId(request.scopeId, request.requestId);
      if ((await this.byIds([id], overlay)).size > 0)
        throw new Error(`request ${request.requestId} is already stored`);
      overlay.set(id, requestDoc(request, this.syncFor(request)));
    }
  }

  private syncFor(request: StoredRequest): SyncRequest | null {
    const meta = this.syncMeta;
    if (meta === null || meta.requestId !== request.requestId) return null;
    return {
      ...meta,
      provisionalMpid: request.trace.result.mpid,
      createdProvisional: request.trace.result.created,
      server: null,
    };
  }

  private async lastHistorySeq(overlay: Overlay): Promise<number> {
    let last = 0;
    for (const [, pending] of overlay) if (pending?.kind === 'history') last = Math.max(last, pending.seq);
    const newest = await this.graph
      .findOne({ selector: { kind: 'history' }, sort: [{ kind: 'desc' }, { seq: 'desc' }] })
      .exec();
    return Math.max(last, newest?.seq ?? 0);
  }

  private async apply(
    change: StoreChange,
    ctx: {
      profileOf: (mpid: string) => Promise<ProfileRecord>;
      assertFree: (p: ProfileRecord, type: IdentityType, value: string) => Promise<void>;
      put: (p: ProfileRecord) => void;
      ns: (p: ProfileRecord) => Namespace;
      overlay: Overlay;
    },
  ): Promise<void> {
    switch (change.op) {
      case 'createProfile': {
        const { profile, uniqueTypes } = change;
        if ((await this.byIds([profileId(profile.mpid)], ctx.overlay)).size > 0)
          throw new Error(`MPID ${profile.mpid} was already issued`);
        for (const type of uniqueTypes)
          for (const value of profile.identities[type] ?? []) await ctx.assertFree(profile, type, value);
        ctx.put(profile);
        for (const key in profile.identities) {
          const type = key as IdentityType;
          for (const value of profile.identities[type] ?? []) {
            const d = identityDoc(ctx.ns(profile), type, value, profile.mpid, uniqueTypes.includes(type));
            ctx.overlay.set(d.id, d);
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
        ctx.overlay.set(d.id, d);
        return;
      }
      case 'removeIdentity': {
        const profile = await ctx.profileOf(change.mpid);
        const identities = withoutIdentity(profile.identities, change.identityType, change.value);
        if (identities === null) return;
        ctx.put({ ...profile, identities });
        ctx.overlay.set(
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
        ctx.overlay.set(aliasId(change.alias.scopeId, change.alias.id), aliasDoc(change.alias));
        return;
    }
  }

  /** Writes the overlay in one storage bulkWrite (atomic); a concurrent write makes it throw. */
  private async flush(overlay: Overlay): Promise<void> {
    if (overlay.size === 0) return;
    const ids = [...overlay.keys()];
    const previous = new Map<string, RxDocumentData<GraphDoc>>();
    for (const d of await this.graph.storageInstance.findDocumentsById(ids, true)) previous.set(d.id, d);
    const token = this.graph.database.token;
    const rows = [];
    for (const [id, next] of overlay) {
      const before = previous.get(id);
      if (next === null && (before === undefined || before._deleted)) continue;
      const body = next ?? (before as RxDocumentData<GraphDoc>);
      const document: RxDocumentData<GraphDoc> = {
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
    if (result.error.length > 0) {
      const first = result.error[0];
      throw new Error(
        `the device store rejected a write (${first?.status ?? '?'} on ${first?.documentId ?? '?'}); retry`,
      );
    }
  }

  async dump(): Promise<StoreDump> {
    const all = (await this.graph.find().exec()).map((d) => d.toJSON() as GraphDoc);
    const of = (kind: GraphDoc['kind']) => all.filter((d) => d.kind === kind);
    return {
      profiles: of('profile').map(asProfile),
      requests: of('request').map((d) => (d.data as unknown as RequestData).stored),
      history: of('history').map((d) => d.data as unknown as NewHistoryEntry & { seq: number }),
      aliases: of('alias').map(asAlias),
    };
  }
}
