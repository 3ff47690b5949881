/**
 * Opens what the app runs on. Nothing here waits for the network.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { browserLock, openBrowserDeviceDatabase } from '../../../shared/device/browser.ts';
import { DeviceEngine } from '../../../shared/device/engine.ts';
import { DeviceSync } from '../../../shared/device/sync.ts';
import { defaultScopeConfig, type ScopeConfig } from '../../../shared/identity/scope-config.ts';
import { randomFromFill } from '../../../shared/util/random.ts';
import { Preferences, type ServerConnection } from '../connection/connection.ts';
import { platform } from '../platform/bridge.ts';
import { SyncController, type NetworkWatch } from '../sync/sync-controller.ts';
import { markStart } from './marks.ts';
import { OpeningEngine, OpeningSyncClient } from './opening-engine.ts';
import type { AppServices } from './services.tsx';

const DATABASE = 'identity-sync';

/**
 * What the app runs on: the device database (IndexedDB, shared safely between tabs), the engine
 * with the workspace config cached from the last connection (or the default workspace's until the
 * first one), and the sync controller. Returns at once, with the database still opening (UP-6):
 * the screens render while it opens, their views fill in and their calls wait until it is;
 * syncing starts once it is open. `opened` settles then (rejects when the database cannot open).
 */
export function startApp(update$: Observable<(() => void) | null>): {
  services: AppServices;
  opened: Promise<void>;
} {
  const openingConfig = defaultScopeConfig('default');
  const opening = openEngine(openingConfig);
  const engine = new OpeningEngine(opening, openingConfig);
  const sealer = platform.credentialSealer;
  const sync = new SyncController({
    status$: engine.status$,
    preferences: new Preferences(localStorage),
    createClient: (connection: ServerConnection) =>
      new OpeningSyncClient(
        engine.opened().then(
          (device) =>
            new DeviceSync(device, {
              baseUrl: connection.serverUrl,
              apiKey: connection.apiKey,
              deviceName: platform.kind === 'desktop' ? 'Identity Sync desktop' : 'Identity Sync web app',
              ...(sealer === null ? {} : { credentials: sealer }),
            }),
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

async function openEngine(config: ScopeConfig): Promise<DeviceEngine> {
  const db = await openBrowserDeviceDatabase(DATABASE);
  markStart('database-open');
  const lock = browserLock(DATABASE);
  const engine = await DeviceEngine.open({
    db,
    config,
    environment: 'production',
    random: randomFromFill((buffer) => crypto.getRandomValues(buffer)),
    clock: { now: () => Date.now() },
    ...(lock === null ? {} : { lock }),
  });
  markStart('engine-open');
  return engine;
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
