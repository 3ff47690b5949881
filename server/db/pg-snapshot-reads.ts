/**
 * The reads of concurrent read-only attempts, sent together (SPEC PG-14): a group call for
 * PostgreSQL's snapshot routine (PG-4, PG-9). A read is sent at once when fewer than
 * `SNAPSHOT_CALLS_IN_FLIGHT` calls are in flight; reads that arrive meanwhile wait and then go
 * out together as one routine call, one statement whose one snapshot they all read. Each read
 * gets its own entry's rows and digest.
 */
import type pg from 'pg';
import { GroupCall } from './group-call.ts';
import { onPgConnection } from './pg-session.ts';
import {
  snapshotParameters,
  snapshotsFromRows,
  type ProfilesSnapshot,
  type SnapshotRead,
  type SnapshotRow,
} from './profile-snapshot.ts';
import { rows } from './sql-statements.ts';

/** Snapshot calls a store keeps in flight at once. */
export const SNAPSHOT_CALLS_IN_FLIGHT = 2;

/** Reads per routine call at most. */
const MAX_BATCH = 64;

/**
 * Collects reads and sends them with one routine call per batch. A batch of several reads that
 * fails is sent again one read per call, so a read that fails fails its own request alone.
 */
export class SnapshotReads {
  private readonly calls = new GroupCall<SnapshotRead, PromiseSettledResult<ProfilesSnapshot>>(
    SNAPSHOT_CALLS_IN_FLIGHT,
    MAX_BATCH,
    async (reads) => {
      try {
        return (await this.call(reads)).map((value) => ({ status: 'fulfilled', value }));
      } catch (error) {
        if (reads.length === 1) return [{ status: 'rejected', reason: error }];
        return Promise.allSettled(
          reads.map(async (read) => (await this.call([read]))[0] as ProfilesSnapshot),
        );
      }
    },
  );

  constructor(
    private readonly pool: pg.Pool,
    private readonly text: string,
  ) {}

  async read(read: SnapshotRead): Promise<ProfilesSnapshot> {
    const outcome = await this.calls.submit(read);
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  }

  private async call(reads: readonly SnapshotRead[]): Promise<ProfilesSnapshot[]> {
    const found = await onPgConnection(this.pool, (session) =>
      session.run(rows<SnapshotRow>(this.text, snapshotParameters(reads))),
    );
    return snapshotsFromRows(reads, found);
  }
}
