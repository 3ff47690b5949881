/**
 * Reconciliation after a pull (SPEC DV-8..DV-11): the server's state wins. The device's store
 * takes every profile the server sent as the server has it (as far as this device may see it),
 * drops profiles it created offline that the server resolved elsewhere, and says what changed in
 * words a person understands: "merged into an existing customer", "that email already belongs to
 * someone else", "the server refused this request". All of it in one atomic write.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import type { ScopeConfig } from '../identity/scope-config.ts';
import type { ProfileProjection, PushErrorCode, SyncRequest } from '../protocol/sync.ts';
import { withoutIdentity, type Namespace, type ProfileRecord } from '../resolver/records.ts';
import type { ExplainTrace } from '../resolver/trace.ts';
import { readLocal, type DeviceDatabase, type GraphDoc } from './collections.ts';
import {
  identityDoc,
  identityDocIds,
  identityHoldersQuery,
  identityKey,
  profileDoc,
  profileId,
  requestLogQuery,
  type RxdbIdentityStore,
} from './rxdb-store.ts';
import { MERGES_DOC, RECONCILED_DOC, type Merges } from './views.ts';

export type Notice =
  | {
      readonly kind: 'merged';
      readonly requestId: string;
      readonly from: string;
      readonly to: string;
      readonly message: string;
    }
  | {
      readonly kind: 'identity_taken';
      readonly requestId: string;
      readonly identityType: IdentityType;
      readonly value: string;
      readonly message: string;
    }
  | { readonly kind: 'failed'; readonly requestId: string; readonly code: string; readonly message: string }
  | {
      readonly kind: 'rejected';
      readonly id: string;
      readonly code: PushErrorCode;
      readonly message: string;
    };

/** What the server's answer to one request means for the person using the device. */
function noticesFor(sync: SyncRequest): Notice[] {
  const server = sync.server;
  if (server === null) return [];
  if (server.status === 'failed') {
    return [
      {
        kind: 'failed',
        requestId: sync.requestId,
        code: server.error?.code ?? 'INTERNAL_ERROR',
        message: `the server refused this ${sync.kind}: ${server.error?.message ?? 'unknown error'}`,
      },
    ];
  }
  const notices: Notice[] = [];
  if (sync.provisionalMpid !== null && server.mpid !== null && server.mpid !== sync.provisionalMpid) {
    notices.push({
      kind: 'merged',
      requestId: sync.requestId,
      from: sync.provisionalMpid,
      to: server.mpid,
      message: sync.createdProvisional
        ? 'merged into an existing customer'
        : 'resolved to another customer by the server',
    });
  }
  const trace = server.trace as ExplainTrace | null;
  for (const skip of trace?.skipped ?? []) {
    if (skip.reason !== 'unique_held_by_other') continue;
    notices.push({
      kind: 'identity_taken',
      requestId: sync.requestId,
      identityType: skip.identityType,
      value: skip.value,
      message: `${skip.identityType} ${skip.value} already belongs to someone else`,
    });
  }
  return notices;
}

export async function reconcile(
  db: DeviceDatabase,
  store: RxdbIdentityStore,
  config: ScopeConfig,
): Promise<Notice[]> {
  const done = (await readLocal<{ seq: number }>(db, RECONCILED_DOC))?.seq ?? 0;
  const requestDocs = await db.graph.find(requestLogQuery(done)).exec();
  const acked: SyncRequest[] = [];
  for (const d of requestDocs) {
    const sync = ((d.toJSON() as GraphDoc).data as { sync: SyncRequest | null }).sync;
    if (sync === null) continue;
    if (sync.server === null) break;
    acked.push(sync);
  }
  const projections = (await db.profiles.find().exec()).map(
    (d) => d.toJSON() as Omit<ProfileProjection, '_deleted'>,
  );
  const known = new Set(projections.map((p) => p.id));
  const writes = new Map<string, GraphDoc | null>();
  /** The identity documents holding a value (a range of ids, DE-6). */
  const holders = async (key: string) =>
    (await db.graph.find(identityHoldersQuery(key)).exec())
      .map((d) => d.toJSON() as GraphDoc)
      .filter((d) => d.key === key);

  const dropped = new Set<string>();
  const drop = async (mpid: string) => {
    dropped.add(mpid);
    const existing = await db.graph.findOne(profileId(mpid)).exec();
    if (existing === null || existing.kind !== 'profile') return;
    const dropping = existing.toJSON() as GraphDoc;
    writes.set(profileId(mpid), { ...dropping, kind: 'dropped' });
    for (const id of identityDocIds(dropping.data as unknown as ProfileRecord)) writes.set(id, null);
  };

  for (const sync of acked) {
    const server = sync.server;
    if (
      sync.createdProvisional &&
      sync.provisionalMpid !== null &&
      server?.mpid !== sync.provisionalMpid &&
      !known.has(sync.provisionalMpid)
    ) {
      await drop(sync.provisionalMpid);
    }
  }
  // A profile the server confirmed but no longer shows this device was deleted (or hidden): drop it.
  const everything = await db.graph.find(requestLogQuery(0)).exec();
  for (const d of everything) {
    const confirmed =
      ((d.toJSON() as GraphDoc).data as { sync: SyncRequest | null }).sync?.server?.mpid ?? null;
    if (confirmed !== null && !known.has(confirmed)) await drop(confirmed);
  }

  const unique = new Set(config.uniqueIdentities);
  for (const projection of projections) {
    const existing = await db.graph.findOne(profileId(projection.id)).exec();
    const local =
      existing?.kind === 'profile'
        ? ((existing.toJSON() as GraphDoc).data as unknown as ProfileRecord)
        : null;
    const profile: ProfileRecord = {
      mpid: projection.id,
      scopeId: projection.scopeId,
      environment: projection.environment,
      identities: projection.identities,
      createdAt: projection.createdAt,
      firstSeenAt: projection.firstSeenAt,
      lastSeenAt: local?.lastSeenAt ?? projection.firstSeenAt,
      orphanedAt: projection.orphanedAt,
    };
    writes.set(profileId(profile.mpid), profileDoc(profile));
    const ns: Namespace = { scopeId: profile.scopeId, environment: profile.environment };
    const wanted = new Map<string, GraphDoc>();
    for (const key in profile.identities) {
      const type = key as IdentityType;
      for (const value of profile.identities[type] ?? []) {
        const d = identityDoc(ns, type, value, profile.mpid, unique.has(type));
        wanted.set(d.id, d);
        if (!unique.has(type)) continue;
        for (const other of await holders(identityKey(ns, type, value))) {
          if (other.mpid === profile.mpid || known.has(other.mpid)) continue;
          writes.set(other.id, null);
          if (dropped.has(other.mpid)) continue;
          const holder = await db.graph.findOne(profileId(other.mpid)).exec();
          if (holder === null || holder.kind !== 'profile') continue;
          const record = (holder.toJSON() as GraphDoc).data as unknown as ProfileRecord;
          const identities = withoutIdentity(record.identities, type, value) ?? record.identities;
          writes.set(holder.primary, profileDoc({ ...record, identities }));
        }
      }
    }
    for (const id of local === null ? [] : identityDocIds(local)) if (!wanted.has(id)) writes.set(id, null);
    for (const [id, d] of wanted) writes.set(id, d);
  }

  await store.write([...writes].map(([id, d]) => ({ id, doc: d })));
  const notices = acked.flatMap(noticesFor);
  await rememberMerges(db, notices);
  const last = acked.at(-1);
  if (last !== undefined) await db.upsertLocal(RECONCILED_DOC, { seq: last.seq });
  return notices;
}

/** Keeps, per profile, the offline MPIDs the server merged into it (the people list shows them). */
async function rememberMerges(db: DeviceDatabase, notices: readonly Notice[]): Promise<void> {
  const merged = notices.flatMap((n) => (n.kind === 'merged' ? [n] : []));
  if (merged.length === 0) return;
  const merges: Record<string, readonly string[]> = { ...((await readLocal<Merges>(db, MERGES_DOC)) ?? {}) };
  for (const { from, to } of merged) {
    const before = merges[to] ?? [];
    merges[to] = [...new Set([...before, ...(merges[from] ?? []), from])];
    delete merges[from];
  }
  await db.upsertLocal(MERGES_DOC, merges);
}
