/**
 * The device engine's code — `shared/device` with RxDB, Dexie and the protocol's schemas, about
 * half of the app's script work before its first render — as a chunk of its own (UP-9): index.html
 * fetches it beside the app's chunk, and `opening.ts` evaluates it once the first screen is
 * painted, then opens the device database with it at once.
 */
import { browserLock, openBrowserDeviceDatabase } from '../../../shared/device/browser.ts';
import { DeviceEngine } from '../../../shared/device/engine.ts';
import { DeviceSync } from '../../../shared/device/sync.ts';
import type { ScopeConfig } from '../../../shared/identity/scope-config.ts';
import { randomFromFill } from '../../../shared/util/random.ts';
import type { ServerConnection } from '../connection/connection.ts';
import { platform } from '../platform/bridge.ts';
import { markStart } from './marks.ts';

const DATABASE = 'identity-sync';

/** Opens the device database (IndexedDB, shared safely between tabs) and the engine on it. */
export async function openEngine(config: ScopeConfig): Promise<DeviceEngine> {
  markStart('device-code');
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

/** The device's replication with the server of a connection. */
export function deviceSync(device: DeviceEngine, connection: ServerConnection): DeviceSync {
  const sealer = platform.credentialSealer;
  return new DeviceSync(device, {
    baseUrl: connection.serverUrl,
    apiKey: connection.apiKey,
    deviceName: platform.kind === 'desktop' ? 'Identity Sync desktop' : 'Identity Sync web app',
    ...(sealer === null ? {} : { credentials: sealer }),
  });
}
