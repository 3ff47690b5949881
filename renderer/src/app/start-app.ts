/**
 * Opens what the app runs on. Nothing here waits for the network.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { defaultScopeConfig } from '../../../shared/identity/scope-config.ts';
import { Preferences, type ServerConnection } from '../connection/connection.ts';
import { SyncController, type NetworkWatch } from '../sync/sync-controller.ts';
import type * as DeviceCodeModule from './device-code.ts';
import { OpeningEngine, OpeningSyncClient } from './opening-engine.ts';
import type { AppServices } from './services.tsx';

/** The device engine's code, a chunk of its own (UP-9): `device-code.ts`. */
export type DeviceCode = typeof DeviceCodeModule;

/**
 * What the app runs on: the device database (IndexedDB, shared safely between tabs), the engine
 * with the workspace config cached from the last connection (or the default workspace's until the
 * first one), and the sync controller. Returns at once, with the database still opening (UP-6):
 * the screens render while it opens, their views fill in and their calls wait until it is;
 * syncing starts once it is open. The engine's code comes with `deviceCode` (UP-9); the database
 * opens as soon as it is there. `opened` settles once it is open (rejects when the database, or
 * the code, cannot be had).
 */
export function startApp(
  update$: Observable<(() => void) | null>,
  deviceCode: Promise<DeviceCode>,
): {
  services: AppServices;
  opened: Promise<void>;
} {
  const openingConfig = defaultScopeConfig('default');
  const opening = deviceCode.then((code) => code.openEngine(openingConfig));
  const engine = new OpeningEngine(opening, openingConfig);
  const sync = new SyncController({
    status$: engine.status$,
    preferences: new Preferences(localStorage),
    createClient: (connection: ServerConnection) =>
      new OpeningSyncClient(
        Promise.all([deviceCode, engine.opened()]).then(([code, device]) =>
          code.deviceSync(device, connection),
        ),
      ),
    network: browserNetwork,
    locks: typeof navigator.locks === 'undefined' ? null : navigator.locks,
    fetchBootstrap,
    now: () => Date.now(),
  });
  const opened = opening.then(() => sync.start());
  return {
    services: {
      engine,
      sync,
      storageOpen$: engine.open$,
      persistentStorage$: persistentStorage(),
      update$,
    },
    opened,
  };
}

const browserNetwork: NetworkWatch = {
  isOnline: () => navigator.onLine,
  watch(onChange) {
    const online = () => onChange(true);
    const offline = () => onChange(false);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
    };
  },
};

/** `./bootstrap.json` beside the app (the central server serves it under /app/). */
async function fetchBootstrap(): Promise<unknown> {
  if (!/^https?:$/.test(location.protocol)) throw new Error('not served over http');
  const response = await fetch(new URL('./bootstrap.json', location.href), { cache: 'no-store' });
  if (!response.ok) throw new Error(`bootstrap.json answered ${response.status}`);
  return (await response.json()) as unknown;
}

/** Asks once for persistent storage, so the browser does not evict people recorded offline. */
function persistentStorage(): Observable<boolean | null> {
  const persisted = new BehaviorSubject<boolean | null>(null);
  const storage = typeof navigator.storage === 'undefined' ? null : navigator.storage;
  if (storage !== null && typeof storage.persist === 'function') {
    storage.persist().then(
      (granted) => persisted.next(granted),
      () => persisted.next(null),
    );
  }
  return persisted;
}
