/**
 * The in-memory reference store (SPEC ST-*): the executable model every other adapter is checked
 * against. Synchronous underneath, so the resolver can also run on it without awaiting
 * (`transactionSync`), which is what the benchmarks and the simulator use. Asynchronous
 * transactions are serialised by a queue. Every transaction keeps an undo log, so a transaction
 * that throws leaves nothing behind, and a unique violation rolls back the whole commit.
 *
 * Records handed out are never mutated afterwards (writes replace them), so a caller may hold on
 * to what it read.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import type {
  AliasRecord,
  IdentitySet,
  Namespace,
  ProfileRecord,
  StoredRequest,
} from '../resolver/records.ts';
import { serial } from '../util/serial.ts';
import { HistoryLog } from './history-log.ts';
import { JsonPacker } from './packed-json.ts';
import { withIdentity, withoutIdentity } from '../resolver/records.ts';
import {
  StoreConflictError,
  type AsyncStoreTx,
  type IdentityKey,
  type IdentityStore,
  type InspectableStore,
  type StoreChange,
  type StoreDump,
  type StoreOperations,
  type SyncIdentityStore,
  type WriteSet,
} from '../resolver/store-port.ts';

/**
 * One namespace's identity index: type → value → the MPID holding it, or the MPIDs when several
 * records hold it (non-unique types). A lone holder is kept as the string itself: most values have
 * one, and a one-element array would cost 56 bytes more per value (SPEC HM-3).
 */
class IdentityIndex {
  private readonly byType = new Map<IdentityType, Map<string, string | string[]>>();

  /** The MPID holding the value, the MPIDs when several do, or undefined when none does. */
  holders(type: IdentityType, value: string): string | readonly string[] | undefined {
    return this.byType.get(type)?.get(value);
  }

  /** Whether a record other than `mpid` holds the value. */
  heldByOther(type: IdentityType, value: string, mpid: string): boolean {
    const holders = this.byType.get(type)?.get(value);
    if (holders === undefined) return false;
    return typeof holders === 'string' ? holders !== mpid : holders.some((h) => h !== mpid);
  }

  add(type: IdentityType, value: string, mpid: string): void {
    let values = this.byType.get(type);
    if (values === undefined) {
      values = new Map();
      this.byType.set(type, values);
    }
    const holders = values.get(value);
    if (holders === undefined) values.set(value, mpid);
    else if (typeof holders === 'string') values.set(value, [holders, mpid]);
    else holders.push(mpid);
  }

  remove(type: IdentityType, value: string, mpid: string): void {
    const values = this.byType.get(type);
    const holders = values?.get(value);
    if (values === undefined || holders === undefined) return;
    if (typeof holders === 'string') {
      if (holders === mpid) values.delete(value);
      return;
    }
    const at = holders.indexOf(mpid);
    if (at < 0) return;
    holders.splice(at, 1);
    if (holders.length === 1) values.set(value, holders[0] as string);
  }
}

/** A map keyed by (scope, environment), without building a combined key string per call. */
class ByNamespace<T> {
  private readonly scopes = new Map<string, Map<string, T>>();

  constructor(private readonly make: () => T) {}

  get(scopeId: string, environment: string): T {
    let environments = this.scopes.get(scopeId);
    if (environments === undefined) {
      environments = new Map();
      this.scopes.set(scopeId, environments);
    }
    let value = environments.get(environment);
    if (value === undefined) {
      value = this.make();
      environments.set(environment, value);
    }
    return value;
  }
}

const SEP = '\u0001';

/*
 * Stored records are built field by field rather than with object spread: V8 gives every object
 * made by a spread-plus-extra-field its own hidden class, which costs about 400 bytes per record.
 */
function profileWith(
  profile: ProfileRecord,
  identities: IdentitySet,
  times: Pick<ProfileRecord, 'lastSeenAt' | 'firstSeenAt' | 'orphanedAt'>,
): ProfileRecord {
  return {
    mpid: profile.mpid,
    scopeId: profile.scopeId,
    environment: profile.environment,
    identities,
    createdAt: profile.createdAt,
    firstSeenAt: times.firstSeenAt,
    lastSeenAt: times.lastSeenAt,
    orphanedAt: times.orphanedAt,
  };
}

/** A promise of `fn()`'s result; a synchronous throw becomes a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function byRequestThenId(a: AliasRecord, b: AliasRecord): number {
  return a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** How much of each stored request the memory store keeps (LS-9). */
export interface MemoryStoreOptions {
  /**
   * False: requests are kept without their trace (idempotency needs only fingerprint and
   * response; a replay recomputes the trace, LS-2). For stores nobody asks "why" of, such as the
   * what-if replay's. Default true.
   */
  readonly keepTraces?: boolean;
}

export class MemoryIdentityStore implements IdentityStore, SyncIdentityStore, InspectableStore {
  private readonly profiles = new Map<string, ProfileRecord>();
  private readonly indexes = new ByNamespace(() => new IdentityIndex());
  /** Scope → request id → stored request, packed (SPEC HM-1). */
  private readonly requests = new Map<string, Map<string, string>>();
  private readonly packer = new JsonPacker();
  private readonly history = new HistoryLog();
  private readonly aliases = new Map<string, AliasRecord>();
  /** Per namespace: MPID → ids of the aliases where it is source or destination. */
  private readonly aliasesByMpid = new ByNamespace(() => new Map<string, readonly string[]>());
  private undo: (() => void)[] | null = null;
  private readonly queue = serial();
  private readonly keepTraces: boolean;

  constructor(options: MemoryStoreOptions = {}) {
    this.keepTraces = options.keepTraces ?? true;
  }

  private readonly ops: StoreOperations = {
    getRequest: (scopeId, requestId) => this.getRequest(scopeId, requestId),
    loadProfiles: (ns, identities, mpids) => this.loadProfiles(ns, identities, mpids),
    mpidTaken: (mpid) => this.profiles.has(mpid),
    loadAliases: (ns, mpids) => this.loadAliases(ns, mpids),
    dueAliases: (scopeId, now, limit) => this.dueAliases(scopeId, now, limit),
    getAlias: (scopeId, aliasId) => this.aliases.get(scopeId + SEP + aliasId) ?? null,
    commit: (write) => this.commit(write),
  };

  private readonly asyncOps: AsyncStoreTx = {
    getRequest: (...args) => settle(() => this.ops.getRequest(...args)),
    loadProfiles: (...args) => settle(() => this.ops.loadProfiles(...args)),
    mpidTaken: (...args) => settle(() => this.ops.mpidTaken(...args)),
    loadAliases: (...args) => settle(() => this.ops.loadAliases(...args)),
    dueAliases: (...args) => settle(() => this.ops.dueAliases(...args)),
    getAlias: (...args) => settle(() => this.ops.getAlias(...args)),
    commit: (...args) => settle(() => this.ops.commit(...args)),
  };

  transactionSync<T>(fn: (tx: StoreOperations) => T): T {
    if (this.undo !== null) throw new Error('MemoryIdentityStore: transactions do not nest');
    this.undo = [];
    try {
      const result = fn(this.ops);
      this.undo = null;
      return result;
    } catch (error) {
      this.rollback();
      throw error;
    }
  }

  transaction<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.undo = [];
      try {
        const result = await fn(this.asyncOps);
        this.undo = null;
        return result;
      } catch (error) {
        this.rollback();
        throw error;
      }
    };
    return this.queue(run);
  }

  dump(): Promise<StoreDump> {
    return settle(() => this.dumpSync());
  }

  dumpSync(): StoreDump {
    return {
      profiles: [...this.profiles.values()],
      requests: [...this.requests.values()].flatMap((scope) =>
        [...scope.values()].map((packed) => this.packer.unpack(packed) as StoredRequest),
      ),
      history: this.history.entries(),
      aliases: [...this.aliases.values()],
    };
  }

  /** Number of profiles held, orphans included (for benchmarks and the simulator). */
  get profileCount(): number {
    return this.profiles.size;
  }

  private rollback(): void {
    const undo = this.undo ?? [];
    this.undo = null;
    for (let i = undo.length - 1; i >= 0; i--) (undo[i] as () => void)();
  }

  private record(revert: () => void): void {
    if (this.undo === null) throw new Error('MemoryIdentityStore: write outside a transaction');
    this.undo.push(revert);
  }

  private getRequest(scopeId: string, requestId: string): StoredRequest | null {
    const packed = this.requests.get(scopeId)?.get(requestId);
    return packed === undefined ? null : (this.packer.unpack(packed) as StoredRequest);
  }

  private loadProfiles(
    ns: Namespace,
    identities: readonly IdentityKey[],
    mpids: readonly string[],
  ): ProfileRecord[] {
    const index = this.indexes.get(ns.scopeId, ns.environment);
    const out: ProfileRecord[] = [];
    for (const { identityType, value } of identities) {
      const holders = index.holders(identityType, value);
      if (typeof holders === 'string') this.take(ns, holders, out);
      else if (holders !== undefined) for (const mpid of holders) this.take(ns, mpid, out);
    }
    for (const mpid of mpids) this.take(ns, mpid, out);
    return out;
  }

  /** Adds the profile to `out` when it exists in `ns` and is not there yet. */
  private take(ns: Namespace, mpid: string, out: ProfileRecord[]): void {
    for (const existing of out) if (existing.mpid === mpid) return;
    const profile = this.profiles.get(mpid);
    if (profile !== undefined && profile.scopeId === ns.scopeId && profile.environment === ns.environment) {
      out.push(profile);
    }
  }

  private loadAliases(ns: Namespace, mpids: readonly string[]): AliasRecord[] {
    const byMpid = this.aliasesByMpid.get(ns.scopeId, ns.environment);
    const ids = new Set<string>();
    for (const mpid of mpids) for (const id of byMpid.get(mpid) ?? []) ids.add(id);
    return [...ids].map((id) => this.aliases.get(ns.scopeId + SEP + id) as AliasRecord).sort(byRequestThenId);
  }

  private dueAliases(scopeId: string, now: number, limit: number): AliasRecord[] {
    const due: AliasRecord[] = [];
    for (const alias of this.aliases.values()) {
      if (alias.scopeId === scopeId && alias.status === 'pending' && alias.dueAt <= now) due.push(alias);
    }
    return due.sort(byRequestThenId).slice(0, limit);
  }

  private commit(write: WriteSet): void {
    for (const change of write.changes) this.apply(change);
    for (const entry of write.history) {
      this.history.append(entry);
      this.record(() => this.history.pop());
    }
    const request =
      write.request !== null && !this.keepTraces && write.request.trace !== null
        ? { ...write.request, trace: null }
        : write.request;
    if (request !== null) {
      let scope = this.requests.get(request.scopeId);
      if (scope === undefined) {
        scope = new Map();
        this.requests.set(request.scopeId, scope);
      }
      if (scope.has(request.requestId)) throw new Error(`request ${request.requestId} is already stored`);
      const stored = scope;
      stored.set(request.requestId, this.packer.pack(request));
      this.record(() => stored.delete(request.requestId));
    }
  }

  private setProfile(profile: ProfileRecord): void {
    const previous = this.profiles.get(profile.mpid);
    this.profiles.set(profile.mpid, profile);
    this.record(() =>
      previous === undefined ? this.profiles.delete(profile.mpid) : this.profiles.set(profile.mpid, previous),
    );
  }

  private indexAdd(profile: ProfileRecord, type: IdentityType, value: string): void {
    const index = this.indexes.get(profile.scopeId, profile.environment);
    index.add(type, value, profile.mpid);
    this.record(() => index.remove(type, value, profile.mpid));
  }

  private indexRemove(profile: ProfileRecord, type: IdentityType, value: string): void {
    const index = this.indexes.get(profile.scopeId, profile.environment);
    index.remove(type, value, profile.mpid);
    this.record(() => index.add(type, value, profile.mpid));
  }

  private assertUniqueFree(profile: ProfileRecord, type: IdentityType, value: string): void {
    if (this.indexes.get(profile.scopeId, profile.environment).heldByOther(type, value, profile.mpid))
      throw new StoreConflictError(type, value);
  }

  private requireProfile(mpid: string): ProfileRecord {
    const profile = this.profiles.get(mpid);
    if (profile === undefined) throw new Error(`no profile ${mpid}`);
    return profile;
  }

  private apply(change: StoreChange): void {
    switch (change.op) {
      case 'createProfile': {
        const { profile, uniqueTypes } = change;
        if (this.profiles.has(profile.mpid)) throw new Error(`MPID ${profile.mpid} was already issued`);
        for (const type of uniqueTypes) {
          for (const value of profile.identities[type] ?? []) this.assertUniqueFree(profile, type, value);
        }
        this.setProfile(profile);
        for (const key in profile.identities) {
          const type = key as IdentityType;
          for (const value of profile.identities[type] ?? []) this.indexAdd(profile, type, value);
        }
        return;
      }
      case 'addIdentity': {
        const profile = this.requireProfile(change.mpid);
        const identities = withIdentity(profile.identities, change.identityType, change.value);
        if (identities === null) return;
        if (change.unique) this.assertUniqueFree(profile, change.identityType, change.value);
        this.setProfile(profileWith(profile, identities, profile));
        this.indexAdd(profile, change.identityType, change.value);
        return;
      }
      case 'removeIdentity': {
        const profile = this.requireProfile(change.mpid);
        const identities = withoutIdentity(profile.identities, change.identityType, change.value);
        if (identities === null) return;
        this.setProfile(profileWith(profile, identities, profile));
        this.indexRemove(profile, change.identityType, change.value);
        return;
      }
      case 'updateProfile': {
        const profile = this.requireProfile(change.mpid);
        const { patch } = change;
        this.setProfile(
          profileWith(profile, profile.identities, {
            lastSeenAt: patch.lastSeenAt ?? profile.lastSeenAt,
            firstSeenAt: patch.firstSeenAt ?? profile.firstSeenAt,
            orphanedAt: patch.orphanedAt === undefined ? profile.orphanedAt : patch.orphanedAt,
          }),
        );
        return;
      }
      case 'putAlias': {
        const { alias } = change;
        const key = alias.scopeId + SEP + alias.id;
        const previous = this.aliases.get(key);
        this.aliases.set(key, alias);
        this.record(() =>
          previous === undefined ? this.aliases.delete(key) : this.aliases.set(key, previous),
        );
        if (previous !== undefined) return;
        const byMpid = this.aliasesByMpid.get(alias.scopeId, alias.environment);
        for (const mpid of new Set([alias.sourceMpid, alias.destinationMpid])) {
          const list = byMpid.get(mpid) ?? [];
          byMpid.set(mpid, [...list, alias.id]);
          this.record(() => byMpid.set(mpid, list));
        }
        return;
      }
    }
  }
}
