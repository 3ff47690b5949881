/**
 * Named moments of the app's start, as User Timing marks (`performance.mark`), so a benchmark or
 * DevTools can say where the first render's time went: the script starts, the device database is
 * open, the engine is open.
 */
export type StartMark = 'script-start' | 'database-open' | 'engine-open';

export function markStart(name: StartMark): void {
  if (typeof performance !== 'undefined' && typeof performance.mark === 'function')
    performance.mark(`identity-sync:${name}`);
}
