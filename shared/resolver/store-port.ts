/**
 * The store port (SPEC ST-1..ST-9). The resolver is pure decision logic; everything it needs from
 * storage is the handful of reads below plus one atomic `commit` of an ordered write set. A
 * resolution is written as a *program*: a generator that yields store calls and receives their
 * results. The same program runs against an asynchronous store (RxDB, SQL: `runInTransaction`)
 * and against a synchronous one (the in-memory reference store: `runInTransactionSync`), so there
 * is exactly one implementation of every rule. Programs are re-runnable, which lets an adapter
 * retry a whole transaction after a serialisation failure.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import type { AliasRecord, NewHistoryEntry, Namespace, ProfileRecord, StoredRequest } from './records.ts';

/** One identity value in one namespace. */
export interface IdentityKey {
  readonly identityType: IdentityType;
  readonly value: string;
}

export type ProfilePatch = Partial<Pick<ProfileRecord, 'lastSeenAt' | 'firstSeenAt' | 'orphanedAt'>>;

/**
 * One change to the graph. Adapters apply the changes of a write set in order, all or nothing.
 * `unique: true` asks the store to guarantee that no other record in the namespace holds the value
 * (SQL adapters: a unique index); a violation aborts the whole commit with `StoreConflictError`.
 */
export type StoreChange =
  | {
      readonly op: 'createProfile';
      readonly profile: ProfileRecord;
      readonly uniqueTypes: readonly IdentityType[];
    }
  | {
      readonly op: 'addIdentity';
      readonly mpid: string;
      readonly identityType: IdentityType;
      readonly value: string;
      readonly unique: boolean;
    }
  | {
      readonly op: 'removeIdentity';
      readonly mpid: string;
      readonly identityType: IdentityType;
      readonly value: string;
    }
  | { readonly op: 'updateProfile'; readonly mpid: string; readonly patch: ProfilePatch }
  | { readonly op: 'putAlias'; readonly alias: AliasRecord };

export interface WriteSet {
  readonly changes: readonly StoreChange[];
  readonly history: readonly NewHistoryEntry[];
  /** The request to remember for idempotency and for its explain trace. */
  readonly request: StoredRequest | null;
}

/** The reads and the commit, in their synchronous form. */
export interface StoreOperations {
  /** The stored request with this id in this scope, if any (SPEC IP-1). */
  getRequest(scopeId: string, requestId: string): StoredRequest | null;
  /** Every record in `ns` holding any of `identities`, plus the records named in `mpids`. No duplicates. */
  loadProfiles(ns: Namespace, identities: readonly IdentityKey[], mpids: readonly string[]): ProfileRecord[];
  /** True when the MPID was ever issued, in any scope (MPIDs are never reused, MP-3). */
  mpidTaken(mpid: string): boolean;
  /** Every alias in `ns` whose source or destination is one of `mpids`, oldest first. */
  loadAliases(ns: Namespace, mpids: readonly string[]): AliasRecord[];
  /** Pending aliases of the scope with `dueAt <= now`, oldest request first, at most `limit`. */
  dueAliases(scopeId: string, now: number, limit: number): AliasRecord[];
  getAlias(scopeId: string, aliasId: string): AliasRecord | null;
  /** Applies the write set atomically; throws `StoreConflictError` (and applies nothing) on a unique violation. */
  commit(write: WriteSet): void;
}

export type SyncStoreTx = StoreOperations;
export type AsyncStoreTx = {
  [K in keyof StoreOperations]: (
    ...args: Parameters<StoreOperations[K]>
  ) => Promise<ReturnType<StoreOperations[K]>>;
};

export interface IdentityStore {
  /**
   * Runs `fn` in one serialisable transaction. If `fn` throws, nothing it committed remains. An
   * adapter may call `fn` again after a serialisation failure, so `fn` must be re-runnable.
   */
  transaction<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T>;
}

export interface SyncIdentityStore {
  transactionSync<T>(fn: (tx: SyncStoreTx) => T): T;
}

/** A unique identity value would be held by two records. The commit applied nothing. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  constructor(
    readonly identityType: IdentityType,
    readonly value: string,
  ) {
    super(`unique identity ${identityType} is already held by another profile`);
  }
}

type StoreCall = {
  [K in keyof StoreOperations]: { readonly op: K; readonly args: Parameters<StoreOperations[K]> };
}[keyof StoreOperations];

/** A resolution: yields store calls, receives their results, returns its outcome. */
export type Program<R> = Generator<StoreCall, R, unknown>;

function* call<K extends keyof StoreOperations>(
  op: K,
  ...args: Parameters<StoreOperations[K]>
): Generator<StoreCall, ReturnType<StoreOperations[K]>, unknown> {
  const request = { op, args } as StoreCall;
  return (yield request) as ReturnType<StoreOperations[K]>;
}

/** The typed store calls a program can make (`const rec = yield* store.getRequest(...)`). */
export const store = {
  getRequest: (scopeId: string, requestId: string) => call('getRequest', scopeId, requestId),
  loadProfiles: (ns: Namespace, identities: readonly IdentityKey[], mpids: readonly string[]) =>
    call('loadProfiles', ns, identities, mpids),
  mpidTaken: (mpid: string) => call('mpidTaken', mpid),
  loadAliases: (ns: Namespace, mpids: readonly string[]) => call('loadAliases', ns, mpids),
  dueAliases: (scopeId: string, now: number, limit: number) => call('dueAliases', scopeId, now, limit),
  getAlias: (scopeId: string, aliasId: string) => call('getAlias', scopeId, aliasId),
  commit: (write: WriteSet) => call('commit', write),
};

function invoke(tx: StoreOperations | AsyncStoreTx, request: StoreCall): unknown {
  switch (request.op) {
    case 'getRequest':
      return tx.getRequest(...request.args);
    case 'loadProfiles':
      return tx.loadProfiles(...request.args);
    case 'mpidTaken':
      return tx.mpidTaken(...request.args);
    case 'loadAliases':
      return tx.loadAliases(...request.args);
    case 'dueAliases':
      return tx.dueAliases(...request.args);
    case 'getAlias':
      return tx.getAlias(...request.args);
    case 'commit':
      return tx.commit(...request.args);
  }
}

export function runSync<R>(program: Program<R>, tx: SyncStoreTx): R {
  let step = program.next();
  while (!step.done) step = program.next(invoke(tx, step.value));
  return step.value;
}

export async function runAsync<R>(program: Program<R>, tx: AsyncStoreTx): Promise<R> {
  let step = program.next();
  while (!step.done) step = program.next(await invoke(tx, step.value));
  return step.value;
}

export function runInTransaction<R>(target: IdentityStore, makeProgram: () => Program<R>): Promise<R> {
  return target.transaction((tx) => runAsync(makeProgram(), tx));
}

export function runInTransactionSync<R>(target: SyncIdentityStore, makeProgram: () => Program<R>): R {
  return target.transactionSync((tx) => runSync(makeProgram(), tx));
}

/** Everything a store holds, in a canonical order: for tests, convergence checks and exports. */
export interface StoreDump {
  readonly profiles: readonly ProfileRecord[];
  readonly requests: readonly StoredRequest[];
  readonly history: readonly (NewHistoryEntry & { readonly seq: number })[];
  readonly aliases: readonly AliasRecord[];
}

export interface InspectableStore {
  dump(): Promise<StoreDump>;
}

/** Sorts a dump's parts so that two stores with the same content give equal dumps. */
export function canonicalDump(dump: StoreDump): StoreDump {
  const sortIdentities = (p: ProfileRecord): ProfileRecord => {
    const identities: Record<string, readonly string[]> = {};
    for (const key of Object.keys(p.identities).sort()) {
      const values = p.identities[key as IdentityType];
      if (values !== undefined && values.length > 0) identities[key] = [...values].sort();
    }
    return { ...p, identities };
  };
  const by =
    <T>(key: (t: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  return {
    profiles: dump.profiles.map(sortIdentities).sort(by((p) => p.mpid)),
    requests: [...dump.requests].sort(by((r) => `${r.scopeId}\u0000${r.requestId}`)),
    history: [...dump.history].sort((a, b) => a.seq - b.seq),
    aliases: [...dump.aliases].sort(by((a) => `${a.scopeId}\u0000${a.id}`)),
  };
}
