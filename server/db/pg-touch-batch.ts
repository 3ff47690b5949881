/**
 * Last-seen touches of concurrent requests, written together (SPEC PG-10..PG-12): a group commit
 * for PostgreSQL's touch routine (PG-7). A touch is sent at once when no call is in flight;
 * touches submitted while one is wait for it to return and then go out together as one routine
 * call, one transaction and one asynchronous commit. Each entry keeps its own digest check and
 * outcome.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { GroupCall } from './group-call.ts';
import { isRetryable, MAX_ATTEMPTS, onPgConnection } from './pg-session.ts';
import { readEntryParameters, type ReadEntry } from './profile-snapshot.ts';
import { rows } from './sql-statements.ts';

/** One request's last-seen touch: what its read-only attempt read, and the times it writes. */
export interface LastSeenTouch extends ReadEntry {
  /** The advisory lock keys its write transaction would take (identity values, profiles read). */
  readonly keys: readonly string[];
  /** The digest of its read-only attempt's read (it carries the config version the program ran with). */
  readonly digest: string;
  /** Last-seen time by MPID, each MPID once. */
  readonly touched: ReadonlyMap<string, number>;
}

/**
 * Touch calls a store keeps in flight at once. Two halve the wait of a touch that arrives during a
 * call, for more round trips (1.33 per identify against 1.18–1.20) and no gain measured in
 * throughput, CPU per identify or p99 (docs/performance.md, session 17).
 */
export const TOUCH_CALLS_IN_FLIGHT = 1;

/** Touches per routine call at most. */
const MAX_BATCH = 256;

/** The routine's parameters for a batch: per-entry arrays, and lists flattened with a count per entry. */
export function touchBatchParameters(touches: readonly LastSeenTouch[]): unknown[] {
  const keys = new Set<string>();
  for (const t of touches) for (const key of t.keys) keys.add(key);
  return [
    ...readEntryParameters(touches),
    [...keys],
    touches.map((t) => t.digest),
    touches.map((t) => t.touched.size),
    touches.flatMap((t) => [...t.touched.keys()]),
    touches.flatMap((t) => [...t.touched.values()]),
  ];
}

/**
 * Collects touches and writes them with one routine call per batch, at most
 * `TOUCH_CALLS_IN_FLIGHT` batches in flight. `submit` answers `true` once the touch is written, `false` when its entry found its data
 * changed (its request then runs in the write transaction). A batch that fails with a
 * serialisation failure or deadlock wrote nothing and is rerun whole (PG-6's attempts and
 * back-off); one that fails otherwise, or keeps failing, answers `false` for every entry, so each
 * request runs alone in its write transaction, where only a request that fails there fails.
 */
export class TouchBatcher {
  private readonly calls = new GroupCall<LastSeenTouch, boolean>(
    TOUCH_CALLS_IN_FLIGHT,
    MAX_BATCH,
    async (touches) => {
      const written = await this.write(touches);
      return touches.map((_, i) => written[i] === true);
    },
  );

  constructor(
    private readonly pool: pg.Pool,
    private readonly text: string,
  ) {}

  submit(touch: LastSeenTouch): Promise<boolean> {
    return this.calls.submit(touch);
  }

  /** Whether each touch was written; all `false` when the batch could not be written. */
  private async write(touches: readonly LastSeenTouch[]): Promise<readonly boolean[]> {
    const parameters = touchBatchParameters(touches);
    for (let attempt = 1; ; attempt++) {
      try {
        const [row] = await onPgConnection(this.pool, (session) =>
          session.run(rows<{ touched: boolean[] }>(this.text, parameters)),
        );
        return row?.touched ?? [];
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) return [];
        await sleep(Math.floor(Math.random() * 2 ** attempt * 2));
      }
    }
  }
}
