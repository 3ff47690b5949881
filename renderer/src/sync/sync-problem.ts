/** What went wrong with a sync or a connection attempt, in words a person can act on. */
import { SyncError } from '../../../shared/device/sync-error.ts';

export type SyncProblemKind =
  | 'unreachable'
  | 'key_refused'
  | 'wrong_workspace'
  | 'not_a_server'
  | 'server_error'
  | 'update_app'
  | 'refused';

export interface SyncProblem {
  readonly kind: SyncProblemKind;
  readonly message: string;
}

export function problemFrom(error: unknown): SyncProblem {
  if (!(error instanceof SyncError)) {
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'refused', message: `Sync stopped with an unexpected problem: ${detail}` };
  }
  const { status } = error;
  if (error.reason === 'SYNC_PROTOCOL_UNSUPPORTED')
    return {
      kind: 'update_app',
      message: `This app cannot sync with this server until it is updated. Update the app (or reload it from the server); everything stays on this device meanwhile. (${error.message})`,
    };
  if (status === null)
    return {
      kind: 'unreachable',
      message:
        'The server cannot be reached. Check the address and your connection; everything stays on this device and syncs later.',
    };
  if (status === 401 || status === 403)
    return {
      kind: 'key_refused',
      message: 'The server did not accept this input key. Check the key with your administrator.',
    };
  if (status === 409 && /workspace/.test(error.message))
    return {
      kind: 'wrong_workspace',
      message:
        'This device holds people of another workspace than this input key belongs to. Use a key of the same workspace.',
    };
  if (status === 404 || status === 405)
    return {
      kind: 'not_a_server',
      message: 'No Identity Sync server answered at this address. Check the address.',
    };
  if (status >= 500)
    return {
      kind: 'server_error',
      message: `The server had a problem (${status}). Nothing is lost; try again in a moment.`,
    };
  return { kind: 'refused', message: `The server refused to sync (${status}): ${error.message}` };
}
