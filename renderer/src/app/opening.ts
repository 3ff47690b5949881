/**
 * The app's start, the first module its script evaluates (`main.tsx` imports it before React,
 * Mantine and the screens). The Field screen renders without the device engine (UP-6), and the
 * engine's code — RxDB, Dexie, the protocol's schemas — is not evaluated before the screen's first
 * render is painted (UP-9): index.html fetches its chunk beside the app's, and once `main.tsx`
 * reports the first commit and the frame after it is painted, the chunk is evaluated and opens the
 * device database at once. Until the app renders, index.html shows its own "opening" state, which
 * needs no script (UP-4).
 */
import { BehaviorSubject } from 'rxjs';
import { markStart } from './marks.ts';
import { startApp } from './start-app.ts';

markStart('script-start');

/** Set when a new version of the app is installed and waiting (the service worker's registration). */
export const update$ = new BehaviorSubject<(() => void) | null>(null);

let committed: () => void = () => undefined;
const firstCommit = new Promise<void>((resolve) => {
  committed = resolve;
});

/** Tells the start that React has committed the app's first render (called by `main.tsx`). */
export function firstRenderCommitted(): void {
  committed();
}

export const { services, opened } = startApp(
  update$,
  firstCommit.then(afterNextPaint).then(() => import('./device-code.ts')),
);

/**
 * Settles after the next frame is painted: a task queued from an animation frame callback runs
 * after that frame. A hidden page paints no frame (animation frames wait until it is shown), so
 * there it settles at once.
 */
function afterNextPaint(): Promise<void> {
  return new Promise((resolve) => {
    const next = () => setTimeout(resolve, 0);
    if (document.visibilityState === 'hidden') next();
    else requestAnimationFrame(next);
  });
}
