import type { SyncPhase } from '../../../../shared/device/sync.ts';
import type { SyncState } from '../../sync/sync-controller.ts';

const PHASES: Record<SyncPhase, string> = {
  idle: 'Syncing…',
  connecting: 'Syncing: connecting to the server…',
  pushing: 'Syncing: sending what was recorded here…',
  pulling: "Syncing: getting the server's answers…",
  reconciling: 'Syncing: updating this device…',
};

const PHASE_STEP: Record<SyncPhase, number> = {
  idle: 0,
  connecting: 1,
  pushing: 2,
  pulling: 3,
  reconciling: 4,
};

/** The one-line state of sync, as the status region announces it. */
export function syncStatusText(state: SyncState): string {
  if (state.connection === null || state.connection.kind === 'local')
    return 'Local only: not connected to a server';
  if (state.workOffline) return 'Working offline';
  if (state.syncing) return PHASES[state.phase];
  if (!state.online) return 'Offline';
  if (!state.reachable) return 'Offline: the server cannot be reached';
  return 'Online';
}

/** How far a round has got, in percent (for the progress bar). */
export function syncProgress(phase: SyncPhase): number {
  return (PHASE_STEP[phase] / 4) * 100;
}

/** What the server has not heard of yet; without a server, what is kept on this device only. */
export function pendingText(pendingRequests: number, pendingEvents: number, connected: boolean): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const both = `${plural(pendingRequests, 'request', 'requests')} and ${plural(pendingEvents, 'event', 'events')}`;
  if (!connected)
    return pendingRequests + pendingEvents === 0 ? 'Nothing recorded yet' : `${both} kept on this device`;
  return pendingRequests + pendingEvents === 0 ? 'Nothing waiting to sync' : `${both} waiting to sync`;
}
