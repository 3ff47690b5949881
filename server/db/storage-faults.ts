/**
 * A database that cannot write (SPEC HC-5): a full disk or a failing one. Such a failure is the
 * machine's, not the request's: the request changed nothing (its transaction rolled back) and is
 * answered 503 so clients retry later, and readiness stays down until a probe write succeeds.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { DatabaseHandle } from './connect.ts';

/** PostgreSQL SQLSTATEs: disk_full, io_error. */
const PG_STORAGE_STATES = new Set(['53100', '58030']);

/** Whether a database error means storage is full or failing. */
export function isStorageFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return (
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_IOERR') ||
    code === 'ENOSPC' ||
    PG_STORAGE_STATES.has(code)
  );
}

/** Rolls the probe transaction back once its writes went through. */
class ProbeWritten extends Error {}

/**
 * Remembers that a write failed for lack of storage. While it does, `writable` probes with a write
 * that must allocate fresh pages (a table and 64 KiB of random bytes, rolled back), and forgets the
 * failure once the probe succeeds.
 */
export class StorageHealth {
  private failure: string | null = null;

  constructor(private readonly handle: DatabaseHandle) {}

  failed(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
  }

  /** `null` when the database takes writes, else why not. */
  async writable(): Promise<string | null> {
    if (this.failure === null) return null;
    const blob = this.handle.dialect === 'sqlite' ? 'blob' : 'bytea';
    try {
      await this.handle.db.transaction().execute(async (trx) => {
        await sql.raw(`create table idsync_write_probe (b ${blob})`).execute(trx);
        await sql`insert into idsync_write_probe (b) values (${randomBytes(64 * 1024)})`.execute(trx);
        throw new ProbeWritten();
      });
    } catch (error) {
      if (!(error instanceof ProbeWritten)) return `storage full or failing: ${(error as Error).message}`;
    }
    this.failure = null;
    return null;
  }
}
