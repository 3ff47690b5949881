/**
 * Profile rows as records, and PostgreSQL's snapshot routine (SPEC PG-4, PG-9, PG-14) as reads:
 * its parameters for a batch of reads and each read's snapshot from the rows of one call.
 */
import type { Selectable } from 'kysely';
import type { Environment } from '../../shared/identity/scope-config.ts';
import type { IdentitySet, Namespace, ProfileRecord } from '../../shared/resolver/records.ts';
import type { IdentityKey } from '../../shared/resolver/store-port.ts';
import type { ProfilesTable } from './schema.ts';

export function toProfile(row: Selectable<ProfilesTable>, identities: IdentitySet): ProfileRecord {
  return {
    mpid: row.mpid,
    scopeId: row.scope_id,
    environment: row.environment as Environment,
    identities,
    createdAt: row.created_at,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    orphanedAt: row.orphaned_at,
  };
}

/** One read of what `loadProfiles` reads: an entry of a snapshot routine call. */
export interface SnapshotRead {
  readonly ns: Namespace;
  readonly identities: readonly IdentityKey[];
  readonly mpids: readonly string[];
}

/** What one read of the snapshot routine saw. */
export interface ProfilesSnapshot {
  /** The workspace's config version in the same snapshot (`null` without the workspace). */
  readonly configVersion: number | null;
  /** Holders of the values (first value held first), then the MPIDs asked for: the profiles to lock. */
  readonly wanted: readonly string[];
  /** The live profiles of the namespace among `wanted`, in that order. */
  readonly records: ProfileRecord[];
  /** A digest of everything the read saw (PG-7: a later read with the same digest read the same). */
  readonly digest: string;
}

export type SnapshotRow = Omit<Selectable<ProfilesTable>, 'mpid'> & {
  readonly entry: number;
  readonly config_version: number | null;
  readonly wanted: string | null;
  readonly holder_seq: number | null;
  readonly mpid: string | null;
  readonly identity_type: string | null;
  readonly value: string | null;
  readonly digest: string | null;
};

/** One entry's read as the routines whose entries are reads take it (PG-7, PG-14). */
export interface ReadEntry {
  readonly scopeId: string;
  readonly environment: string;
  readonly identityTypes: readonly string[];
  readonly values: readonly string[];
  readonly mpids: readonly string[];
}

/**
 * The first seven parameters of those routines: per-entry arrays, and lists flattened with a
 * count per entry (`READ_ENTRY_SLICE` in sql-statements.ts takes them apart).
 */
export function readEntryParameters(entries: readonly ReadEntry[]): unknown[] {
  return [
    entries.map((e) => e.scopeId),
    entries.map((e) => e.environment),
    entries.map((e) => e.identityTypes.length),
    entries.flatMap((e) => e.identityTypes),
    entries.flatMap((e) => e.values),
    entries.map((e) => e.mpids.length),
    entries.flatMap((e) => e.mpids),
  ];
}

/** A read as the routines take it. */
export function readEntryOf(read: SnapshotRead): ReadEntry {
  return {
    scopeId: read.ns.scopeId,
    environment: read.ns.environment,
    identityTypes: read.identities.map((k) => k.identityType),
    values: read.identities.map((k) => k.value),
    mpids: read.mpids,
  };
}

/** The snapshot routine's parameters for a batch of reads. */
export function snapshotParameters(reads: readonly SnapshotRead[]): unknown[] {
  return readEntryParameters(reads.map(readEntryOf));
}

/** Each read's snapshot, in the reads' order, from the rows of the one call that read them all. */
export function snapshotsFromRows(
  reads: readonly SnapshotRead[],
  found: readonly SnapshotRow[],
): ProfilesSnapshot[] {
  const byEntry = reads.map((): SnapshotRow[] => []);
  for (const row of found) byEntry[row.entry - 1]?.push(row);
  return reads.map((read, i) => snapshotOf(read.mpids, byEntry[i] ?? []));
}

/** One read's snapshot from its rows (at least one row per read). */
function snapshotOf(mpids: readonly string[], found: readonly SnapshotRow[]): ProfilesSnapshot {
  const holders = new Map<string, number>();
  const live = new Map<string, { row: SnapshotRow; identities: Record<string, string[]> }>();
  for (const row of found) {
    if (row.wanted !== null && row.holder_seq !== null) holders.set(row.wanted, row.holder_seq);
    if (row.mpid === null) continue;
    let entry = live.get(row.mpid);
    if (entry === undefined) {
      entry = { row, identities: {} };
      live.set(row.mpid, entry);
    }
    if (row.identity_type !== null && row.value !== null)
      (entry.identities[row.identity_type] ??= []).push(row.value);
  }
  const wanted = [...holders].sort((a, b) => a[1] - b[1]).map(([mpid]) => mpid);
  for (const mpid of mpids) if (!wanted.includes(mpid)) wanted.push(mpid);
  const records: ProfileRecord[] = [];
  for (const mpid of wanted) {
    const entry = live.get(mpid);
    if (entry !== undefined)
      records.push(toProfile(entry.row as Selectable<ProfilesTable>, entry.identities));
  }
  const first = found[0];
  return { configVersion: first?.config_version ?? null, wanted, records, digest: first?.digest ?? '' };
}
