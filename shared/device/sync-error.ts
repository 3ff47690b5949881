/**
 * The sync's error, in a module of its own: the app's screens tell its kinds apart without loading
 * the sync's code (RxDB replication, the protocol's schemas), which the app loads after its first
 * render (UP-9).
 */
import type { ErrorCode } from '../protocol/errors.ts';

/** The server could not be reached, or answered with an error the device cannot fix by retrying now. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    message: string,
    readonly status: number | null,
    /** The server's precise error code, when it sent one. */
    readonly reason: ErrorCode | null = null,
  ) {
    super(message);
  }
}
