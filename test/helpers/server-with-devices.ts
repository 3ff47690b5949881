/**
 * Device sync tests: a real server per test (temp SQLite) with the workspace config they use, and
 * simulated devices opened against it; everything is closed after each test.
 */
import { afterEach, beforeEach } from 'vitest';
import { ScopeConfigSchema, type ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import { SYNC_CONFIG } from './scope-configs.ts';
import { API_KEY, startTestServer, type TestServer } from './server.ts';

export { SYNC_CONFIG };

export interface ServerWithDevices {
  /** This test's server. */
  readonly server: TestServer;
  /** A clock that moves a second on every reading, shared by the test's devices. */
  readonly clock: { now(): number };
  /** A device against this test's server, or against `baseUrl` (an unreachable one, say). */
  device(name: string, seed: number, baseUrl?: string): Promise<SimulatedDevice>;
}

export function serverWithDevices(config: ScopeConfigInput = SYNC_CONFIG): ServerWithDevices {
  let server: TestServer | null = null;
  let devices: SimulatedDevice[] = [];
  let now = 1_800_000_000_000;
  const clock = { now: () => (now += 1000) };
  beforeEach(async () => {
    server = await startTestServer({ config });
    devices = [];
  });
  afterEach(async () => {
    for (const d of devices) await d.close();
    await server?.close();
  });
  const current = (): TestServer => {
    if (server === null) throw new Error('the server starts before each test');
    return server;
  };
  return {
    get server() {
      return current();
    },
    clock,
    async device(name, seed, baseUrl) {
      const d = await openDevice({
        name,
        seed,
        clock,
        config: ScopeConfigSchema.parse(config),
        endpoint: { baseUrl: baseUrl ?? current().url, apiKey: API_KEY },
      });
      devices.push(d);
      return d;
    },
  };
}
