/**
 * How statement runs execute on PostgreSQL (SPEC PG-*): every statement as a named prepared
 * statement on a pooled connection, advisory locks taken once per transaction, whole transactions
 * rerun on serialisation failures, and resolutions that only read answered without a transaction.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { ScopeConfig } from '../../shared/identity/scope-config.ts';
import type { Program, WriteSet } from '../../shared/resolver/store-port.ts';
import type { LastSeenTouch } from './pg-touch-batch.ts';
import { readEntryOf, type ProfilesSnapshot, type SnapshotRead } from './profile-snapshot.ts';
import type { SqlStoreLogic } from './sql-identity-store.ts';
import { preparedName, returnsRows, type SqlRun, type Statement } from './sql-statements.ts';

/** Attempts of a transaction (or a batch of last-seen touches) that fails with a serialisation failure or deadlock. */
export const MAX_ATTEMPTS = 8;

/** True for failures that a rerun of the whole transaction can cure. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40001' || code === '40P01' || code === 'SQLITE_BUSY';
}

/** The statements of one pooled connection, and the advisory locks its transaction holds. */
export class PgSession {
  private readonly held = new Set<string>();

  constructor(private readonly client: pg.PoolClient) {}

  /** Executes a statement run; a failing statement is thrown into the run, which may handle it. */
  async run<R>(sqlRun: SqlRun<R>): Promise<R> {
    let step = sqlRun.next();
    while (!step.done) {
      let result: unknown;
      try {
        result = await this.execute(step.value);
      } catch (error) {
        step = sqlRun.throw(error);
        continue;
      }
      step = sqlRun.next(result);
    }
    return step.value;
  }

  /**
   * Takes these advisory locks and reads the workspace's config version FOR SHARE, in one round
   * trip (`lockAndConfigVersion`); `null` without the workspace.
   */
  async lockAndConfigVersion(
    text: string,
    keys: readonly string[],
    workspaceId: string,
  ): Promise<number | null> {
    const response = await this.query(text, [keys, workspaceId]);
    for (const key of keys) this.held.add(key);
    const row = response.rows[0] as { config_version: number } | undefined;
    return row?.config_version ?? null;
  }

  private async execute(statement: Statement): Promise<unknown> {
    if (statement.kind === 'lock') {
      const fresh = (statement.parameters[0] as readonly string[]).filter((key) => !this.held.has(key));
      if (fresh.length === 0) return 0;
      await this.query(statement.sql, [fresh]);
      for (const key of fresh) this.held.add(key);
      return fresh.length;
    }
    const response = await this.query(statement.sql, statement.parameters);
    return returnsRows(statement) ? response.rows : (response.rowCount ?? 0);
  }

  private query(text: string, values: readonly unknown[]): Promise<pg.QueryResult> {
    return this.client.query({ name: preparedName(text), text, values: values as unknown[] });
  }
}

/** One transaction on a pooled connection, rerun whole (up to 8 attempts) on 40001 / 40P01. */
export async function inPgTransaction<T>(pool: pg.Pool, fn: (session: PgSession) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const result = await fn(new PgSession(client));
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      await sleep(Math.floor(Math.random() * 2 ** attempt * 2));
    } finally {
      client.release();
    }
  }
}

/** One `READ ONLY` transaction on a pooled connection: one snapshot, no write lock, nothing to retry. */
export async function inPgReadTransaction<T>(
  pool: pg.Pool,
  fn: (session: PgSession) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin read only');
    const result = await fn(new PgSession(client));
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Statements on a pooled connection outside any transaction: each one is its own snapshot. */
export async function onPgConnection<T>(pool: pg.Pool, fn: (session: PgSession) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(new PgSession(client));
  } finally {
    client.release();
  }
}

export interface VersionedConfig {
  readonly version: number;
  readonly config: ScopeConfig;
}

export type ReadOnlyAttempt<R> =
  | { readonly outcome: 'answered'; readonly value: R }
  /** Not answered: to run in a write transaction, which takes up front the lock keys learnt on the way. */
  | { readonly outcome: 'in-transaction'; readonly keys: readonly string[] }
  /**
   * Answered with `value` once `touch` is written (PG-7, PG-10); if the touch finds the data
   * changed, not answered, as above.
   */
  | {
      readonly outcome: 'after-touch';
      readonly value: R;
      readonly touch: LastSeenTouch;
      readonly keys: readonly string[];
    };

/** A returning user's last-seen times, when they are all a write set writes (LS-3; none for an empty one); else `null`. */
function lastSeenTouches(write: WriteSet): { mpid: string; at: number }[] | null {
  if (write.history.length > 0 || write.request !== null) return null;
  const touches: { mpid: string; at: number }[] = [];
  for (const change of write.changes) {
    if (change.op !== 'updateProfile') return null;
    const { lastSeenAt, ...rest } = change.patch;
    if (lastSeenAt === undefined || Object.values(rest).some((v) => v !== undefined)) return null;
    touches.push({ mpid: change.mpid, at: lastSeenAt });
  }
  return touches;
}

/**
 * Answers a resolution without a transaction when all it reads is one `loadProfiles` (one
 * statement, hence one snapshot, which also carries the workspace's config version) and it writes
 * nothing (SPEC PG-4): the answer is then the one a serial run at that snapshot gives. When all it
 * writes is last-seen times (a returning user, LS-3), it is answered after the touch routine wrote
 * them (PG-7, sent by the caller in a batch, PG-10): the routine takes the locks the write
 * transaction would, reads again and writes only if it read the same as the attempt, so the answer
 * is the one the write transaction would give. A program that reads anything else first, or more,
 * or writes anything else, or a config version other than the one it ran with, or whose touch
 * found the data changed, is not answered: it runs again in a write transaction (a stored-request
 * check first tells it the request id to lock up front).
 */
export async function answerWithoutTransaction<R>(
  readSnapshot: (read: SnapshotRead) => Promise<ProfilesSnapshot>,
  logic: SqlStoreLogic,
  known: VersionedConfig,
  make: (config: ScopeConfig) => Program<R>,
): Promise<ReadOnlyAttempt<R>> {
  const program = make(known.config);
  let step = program.next();
  if (step.done) return { outcome: 'answered', value: step.value };
  if (step.value.op === 'getRequest') {
    const [scopeId, requestId] = step.value.args;
    return { outcome: 'in-transaction', keys: [logic.requestLockKey(scopeId, requestId)] };
  }
  if (step.value.op !== 'loadProfiles') return { outcome: 'in-transaction', keys: [] };
  const [ns, identities, mpids] = step.value.args;
  const read: SnapshotRead = { ns, identities, mpids };
  const snapshot = await readSnapshot(read);
  const keys = [...logic.valueLockKeys(ns, identities), ...logic.profileLockKeys(snapshot.wanted)];
  if (snapshot.configVersion !== known.version) return { outcome: 'in-transaction', keys };
  /** The last time each profile was seen, by MPID: a later touch of a profile replaces an earlier one. */
  const touched = new Map<string, number>();
  step = program.next(snapshot.records);
  while (!step.done) {
    const call = step.value;
    if (call.op !== 'commit') return { outcome: 'in-transaction', keys };
    const times = lastSeenTouches(call.args[0]);
    if (times === null) return { outcome: 'in-transaction', keys };
    for (const { mpid, at } of times) touched.set(mpid, at);
    step = program.next(undefined);
  }
  if (touched.size === 0) return { outcome: 'answered', value: step.value };
  const touch: LastSeenTouch = { ...readEntryOf(read), keys, digest: snapshot.digest, touched };
  return { outcome: 'after-touch', value: step.value, touch, keys };
}
