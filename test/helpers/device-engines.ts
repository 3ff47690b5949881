/**
 * Device engines for unit tests, offline on RxDB memory storage: each database gets a fresh name
 * and is closed after the test; engines share one stepping clock and take a seed for their random.
 */
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach } from 'vitest';
import { openDeviceDatabase, type DeviceDatabase } from '../../shared/device/collections.ts';
import { DeviceEngine } from '../../shared/device/engine.ts';
import { ScopeConfigSchema, type ScopeConfig } from '../../shared/identity/scope-config.ts';
import { seededRandom } from '../../shared/util/random.ts';
import type { DeviceLock } from '../../shared/device/rxdb-store.ts';
import { serial } from '../../shared/util/serial.ts';
import { SYNC_CONFIG } from './scope-configs.ts';

const CONFIG = ScopeConfigSchema.parse({ ...SYNC_CONFIG, scopeId: 'unit' });

export interface DeviceEngines {
  /** A new, empty device database, closed after the current test. */
  readonly database: () => Promise<DeviceDatabase>;
  /** An engine on `db`; engines meant to share the database pass one `lock`. */
  readonly engine: (db: DeviceDatabase, seed: number, lock?: DeviceLock) => Promise<DeviceEngine>;
}

/**
 * Call once at a test file's top level; `prefix` keeps database names apart between files. The
 * engines run `config` (by default a workspace with unique customer IDs and emails).
 */
export function deviceEngines(prefix: string, config: ScopeConfig = CONFIG): DeviceEngines {
  let now = 1_800_000_000_000;
  const clock = { now: () => (now += 10) };
  const dbs: DeviceDatabase[] = [];
  let counter = 0;

  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.close();
  });

  return {
    async database() {
      const db = await openDeviceDatabase(`${prefix}${process.pid}x${counter++}`, getRxStorageMemory());
      dbs.push(db);
      return db;
    },
    engine(db, seed, lock: DeviceLock = serial()) {
      return DeviceEngine.open({
        db,
        config,
        environment: 'production',
        random: seededRandom(seed),
        clock,
        lock,
      });
    },
  };
}
