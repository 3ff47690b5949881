/**
 * The seam between the two stores of `server/db` (SPEC SS-6, SS-7): the identity store (profiles,
 * identities, aliases, stored requests, history; `sql-identity-store.ts`) and the device log
 * (devices, their request logs, views, change feeds and events; `device-*.ts`).
 *
 * The device log sees the identity store only through `IdentityStorePort`: it runs its statements
 * in identity-store transactions (so a replayed request, its resolution and its log entry commit
 * together) and drives resolver programs inside them. The identity store knows the device log only
 * as an `IdentityStoreObserver` it calls, inside the same transaction, after a resolution committed
 * and after a profile was deleted. Neither imports the other's module.
 */
import type { ScopeConfig } from '../../shared/identity/scope-config.ts';
import type { Program, WriteSet } from '../../shared/resolver/store-port.ts';
import type { SqlRun } from './sql-statements.ts';

/**
 * Told of identity-store changes inside the transaction that makes them; whatever it yields
 * commits (or rolls back) with them. It must not call back into the store.
 */
export interface IdentityStoreObserver {
  /**
   * A resolution's graph changes were written (`write.changes`; history and request follow). A
   * write set of last-seen times alone is not announced on PostgreSQL, where the touch routine
   * writes it (SPEC PG-7): an observer must have nothing to do for it (devices are not sent them).
   */
  committed(write: WriteSet): SqlRun<void>;
  /** A profile was deleted for a data-subject request: its identities are gone, its MPID stays. */
  profileDeleted(mpid: string): SqlRun<void>;
}

/** What the device log may use of the identity store. */
export interface IdentityStorePort {
  /** Runs statements in one identity-store transaction (shared group commit on SQLite). */
  runSql<R>(make: () => SqlRun<R>): Promise<R>;
  /** Runs statements that only read, in one read transaction outside the group commit (SPEC S2-9). */
  runRead<R>(make: () => SqlRun<R>): Promise<R>;
  /** Runs a resolver program for a workspace in its own transaction; `null` without the workspace. */
  runProgram<R>(workspaceId: string, make: (config: ScopeConfig) => Program<R>): Promise<R | null>;
  /**
   * Inside a run: the workspace's config as of the run, `null` without the workspace. It holds for
   * the rest of the run (a config change waits for the run, or the run sees it), so programs of
   * one run may share it.
   */
  config(workspaceId: string): SqlRun<ScopeConfig | null>;
  /** Inside a run: runs a resolver program, every store call as statements of the run. */
  drive<R>(program: Program<R>): SqlRun<R>;
  /** Inside a run: transaction-scoped locks on these keys (PostgreSQL; nothing on SQLite); answers how many were newly taken. */
  lock(keys: readonly string[]): SqlRun<number>;
  /** Registers the observer; it is told of every later change. */
  observe(observer: IdentityStoreObserver): void;
}
