/**
 * Named moments of the app's start, as User Timing marks (`performance.mark`), so a benchmark or
 * DevTools can say where the first render's time went: the script starts, the device engine's
 * code is evaluated (after the first render is painted, UP-9), the device database is open, the
 * engine is open.
 */
export type StartMark = 'script-start' | 'device-code' | 'database-open' | 'engine-open';

export function markStart(name: StartMark): void {
  if (typeof performance !== 'undefined' && typeof performance.mark === 'function')
    performance.mark(`identity-sync:${name}`);
}

/**
 * The form has the engine's answer to an identity call (UP-8): with the click and the new MPID on
 * screen, a benchmark splits identify-to-screen into the engine's call and the rendering after it.
 * One mark, replaced at each call, so a kiosk's day of logins keeps nothing.
 */
export function markIdentityAnswer(): void {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  performance.clearMarks(IDENTITY_ANSWER_MARK);
  performance.mark(IDENTITY_ANSWER_MARK);
}

export const IDENTITY_ANSWER_MARK = 'identity-sync:identity-answer';
