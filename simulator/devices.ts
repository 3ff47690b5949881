/**
 * Simulated devices: an RxDB database (memory storage unless told otherwise), a device engine
 * with the simulation's clock and a seeded random source, and its sync client pointed at a server.
 * A device closed and reopened with the same database name and storage finds its data again
 * (a restart).
 */
import { randomBytes } from 'node:crypto';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import type { RxStorage } from 'rxdb/plugins/core';
import { openDeviceDatabase, type DeviceDatabase } from '../shared/device/collections.ts';
import { DeviceEngine } from '../shared/device/engine.ts';
import { DeviceSync, type SyncEndpoint } from '../shared/device/sync.ts';
import type { Environment, ScopeConfig } from '../shared/identity/scope-config.ts';
import type { Clock } from '../shared/resolver/context.ts';
import { seededRandom } from '../shared/util/random.ts';

export interface SimulatedDevice {
  readonly name: string;
  readonly databaseName: string;
  readonly db: DeviceDatabase;
  readonly engine: DeviceEngine;
  readonly sync: DeviceSync;
  close(): Promise<void>;
}

export interface DeviceOptions {
  readonly name: string;
  readonly config: ScopeConfig;
  readonly endpoint: SyncEndpoint;
  readonly clock: Clock;
  readonly seed: number;
  readonly environment?: Environment;
  readonly storage?: RxStorage<unknown, unknown>;
  /** Reopen an existing device database instead of creating a fresh one. */
  readonly databaseName?: string;
}

export async function openDevice(
  options: DeviceOptions,
): Promise<SimulatedDevice & { databaseName: string }> {
  const databaseName = options.databaseName ?? `device${randomBytes(6).toString('hex')}`;
  const db = await openDeviceDatabase(databaseName, options.storage ?? getRxStorageMemory());
  const engine = await DeviceEngine.open({
    db,
    config: options.config,
    environment: options.environment ?? 'production',
    random: seededRandom(options.seed),
    clock: options.clock,
    deviceId: `device-${options.name}-${options.seed}`,
  });
  const sync = new DeviceSync(engine, { ...options.endpoint, deviceName: options.name });
  return {
    name: options.name,
    databaseName,
    db,
    engine,
    sync,
    async close() {
      await sync.stop();
      await engine.close();
      await db.close();
    },
  };
}
