/**
 * Starts opening the device database as the very first thing the app's script does: `main.tsx`
 * imports this module before React, Mantine and the screens, so IndexedDB opens while those
 * modules are still being evaluated (UP-4), and the Field screen renders without waiting for it
 * (UP-6). Until the app renders, index.html shows its own "opening" state, which needs no script.
 */
import { BehaviorSubject } from 'rxjs';
import { markStart } from './marks.ts';
import { startApp } from './start-app.ts';

markStart('script-start');

/** Set when a new version of the app is installed and waiting (the service worker's registration). */
export const update$ = new BehaviorSubject<(() => void) | null>(null);

export const { services, opened } = startApp(update$);
