/**
 * A simulation world: one server (started in this process, or a live one at a URL), a workspace
 * created for the run through the admin API, and any number of simulated devices that go offline,
 * come back, restart and sync. Everything the checks read from the server comes through the admin
 * API, so the same world runs against an in-process or a live server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import type { RxStorage } from 'rxdb/plugins/core';
import type { Notice } from '../shared/device/reconcile.ts';
import { SyncError } from '../shared/device/sync.ts';
import type { Environment, ScopeConfig } from '../shared/identity/scope-config.ts';
import type { ProfileProjection } from '../shared/protocol/sync.ts';
import type { AliasRecord, ProfileRecord } from '../shared/resolver/records.ts';
import type { ReplayEntry } from '../server/db/device-store.ts';
import { startServer, type RunningServer } from '../server/server.ts';
import { openDevice, type SimulatedDevice } from './devices.ts';

export interface LiveServer {
  readonly url: string;
  readonly adminToken: string;
}

export interface WorldOptions {
  readonly config: ScopeConfig;
  readonly seed: number;
  /** A live server; without one the world starts its own on a temporary SQLite file. */
  readonly live?: LiveServer;
  /** Fetch used by devices (fault injection in the fuzzer). */
  readonly fetch?: typeof fetch;
}

const ADMIN_TOKEN = 'simulation-admin-token-000000';

export interface WorkspaceExport {
  readonly profiles: ProfileRecord[];
  readonly deviceRequests: ReplayEntry[];
  readonly aliases: AliasRecord[];
  /** Events and attribute changes held by the server, per device id. */
  readonly eventCounts: Record<string, number>;
  /** The server's last-seen resolution (LS-3), which a serial replay must resolve with too. */
  readonly lastSeenResolutionMs: number;
}

class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

interface DeviceSlot {
  /** Open database and engine, or null while closed to stay under RxDB's collection limit. */
  device: SimulatedDevice | null;
  databaseName: string | null;
  online: boolean;
  readonly environment: Environment;
  readonly seed: number;
  readonly notices: Notice[];
  /** How often the device has been opened (each open draws from a fresh seeded random source). */
  opens: number;
  lastUsed: number;
}

/**
 * RxDB's open-source build allows 13 open collections per process and a device has 3, so at most
 * 4 devices are open at once; the least recently used one is closed (its memory-storage data
 * stays) and reopened when needed, which is indistinguishable from the app being quit and started.
 */
const MAX_OPEN_DEVICES = 4;

export class World {
  private server: RunningServer | null = null;
  private dataDir: string | null = null;
  private port = 0;
  readonly devices = new Map<string, DeviceSlot>();
  private readonly storage: RxStorage<unknown, unknown> = getRxStorageMemory();
  private offset = 0;
  private tick = 0;
  readonly clock = { now: () => Date.now() + this.offset };
  private apiKey = '';
  workspaceId = '';
  private url = '';
  private adminToken = ADMIN_TOKEN;
  /** False while the in-process server is stopped. */
  serverUp = true;

  private constructor(private readonly options: WorldOptions) {}

  static async create(options: WorldOptions): Promise<World> {
    const world = new World(options);
    await world.boot();
    return world;
  }

  get baseUrl(): string {
    return this.url;
  }

  private async boot(): Promise<void> {
    if (this.options.live !== undefined) {
      this.url = this.options.live.url.replace(/\/$/, '');
      this.adminToken = this.options.live.adminToken;
    } else {
      this.dataDir = mkdtempSync(path.join(tmpdir(), 'idsync-sim-'));
      await this.startLocal();
    }
    this.workspaceId = `${this.options.config.scopeId.slice(0, 40)}-${this.options.seed.toString(36)}-${Date.now().toString(36)}`;
    const created = await this.admin('POST', '/workspaces', {
      ...this.options.config,
      scopeId: this.workspaceId,
    });
    if (created.status !== 201)
      throw new SimulationError(`could not create the simulation workspace: ${JSON.stringify(created.body)}`);
    const input = await this.admin('POST', `/workspaces/${this.workspaceId}/inputs`, {
      name: 'simulated devices',
      allowKeyOnly: true,
    });
    this.apiKey = (input.body as { key: string }).key;
  }

  private async startLocal(): Promise<void> {
    const dataDir = this.dataDir as string;
    this.server = await startServer(
      {
        port: this.port,
        dataDir,
        logLevel: 'silent',
        adminToken: ADMIN_TOKEN,
        rateLimitPerSecond: 0,
        aliasPollMs: 20,
      },
      { clock: this.clock, metricsWithProcess: false },
    );
    this.url = this.server.url;
    this.port = Number(new URL(this.url).port);
  }

  /** Stops the in-process server (devices find it unreachable until `startServerAgain`). */
  async stopServer(): Promise<void> {
    if (this.server === null) throw new SimulationError('only an in-process server can be stopped');
    if (!this.serverUp) return;
    await this.server.close();
    this.serverUp = false;
  }

  /** Starts the in-process server again on the same database and port. */
  async startServerAgain(): Promise<void> {
    if (this.serverUp) return;
    await this.startLocal();
    this.serverUp = true;
  }

  async restartServer(): Promise<void> {
    await this.stopServer();
    await this.startServerAgain();
  }

  async admin(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.url}/admin/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  addDevice(name: string, environment: Environment, seed: number): void {
    this.devices.set(name, {
      device: null,
      databaseName: null,
      online: true,
      environment,
      seed,
      notices: [],
      opens: 0,
      lastUsed: 0,
    });
  }

  slot(name: string): DeviceSlot {
    const slot = this.devices.get(name);
    if (slot === undefined) throw new SimulationError(`unknown device ${name}`);
    return slot;
  }

  /** The devices open now, without opening any (reading them leaves the run unchanged). */
  *openDevices(): Generator<[string, SimulatedDevice]> {
    for (const [name, slot] of this.devices) if (slot.device !== null) yield [name, slot.device];
  }

  /** The device, opened (closing the least recently used one if too many are open). */
  async use(name: string): Promise<SimulatedDevice> {
    const slot = this.slot(name);
    this.tick += 1;
    slot.lastUsed = this.tick;
    if (slot.device !== null) return slot.device;
    const open = [...this.devices.values()].filter((s) => s.device !== null);
    if (open.length >= MAX_OPEN_DEVICES) {
      const oldest = open.reduce((a, b) => (a.lastUsed <= b.lastUsed ? a : b));
      await oldest.device?.close();
      oldest.device = null;
    }
    const device = await openDevice({
      name,
      seed: slot.seed + slot.opens * 1_000_003,
      clock: this.clock,
      config: { ...this.options.config, scopeId: this.workspaceId },
      environment: slot.environment,
      storage: this.storage,
      endpoint: {
        baseUrl: this.url,
        apiKey: this.apiKey,
        ...(this.options.fetch === undefined ? {} : { fetch: this.options.fetch }),
      },
      ...(slot.databaseName === null ? {} : { databaseName: slot.databaseName }),
    });
    device.sync.notices$.subscribe((notice) => slot.notices.push(notice));
    slot.opens += 1;
    slot.databaseName = device.databaseName;
    slot.device = device;
    return device;
  }

  /** Closes the device (as if its process ended); the next use opens it again from its database. */
  async restartDevice(name: string): Promise<void> {
    const slot = this.slot(name);
    await slot.device?.close();
    slot.device = null;
    await this.use(name);
  }

  advance(ms: number): void {
    this.offset += ms;
  }

  /** One sync round for an online device; an unreachable server leaves it as it was. */
  async sync(name: string): Promise<'synced' | 'offline' | 'unreachable'> {
    const slot = this.slot(name);
    if (!slot.online) return 'offline';
    const device = await this.use(name);
    try {
      await device.sync.syncOnce();
      return 'synced';
    } catch (error) {
      if (error instanceof SyncError) return 'unreachable';
      throw error;
    }
  }

  async export(): Promise<WorkspaceExport> {
    const answer = await this.admin('GET', `/workspaces/${this.workspaceId}/export`);
    if (answer.status !== 200) throw new SimulationError(`export failed: ${JSON.stringify(answer.body)}`);
    return answer.body as WorkspaceExport;
  }

  /** Waits until the server has processed every alias that is due (D6 applies them in the background). */
  async settleAliases(timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const now = this.clock.now();
      const due = (await this.export()).aliases.filter((a) => a.status === 'pending' && a.dueAt <= now);
      if (due.length === 0) return;
      if (performance.now() > deadline)
        throw new SimulationError(`${due.length} due aliases were not processed within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async serverView(name: string): Promise<ProfileProjection[]> {
    const device = await this.use(name);
    const answer = await this.admin(
      'GET',
      `/workspaces/${this.workspaceId}/devices/${device.engine.deviceId}/view`,
    );
    return (answer.body as { profiles: ProfileProjection[] }).profiles;
  }

  async profileDetail(mpid: string): Promise<{
    profile: ProfileRecord;
    events: { name: string }[];
    attributes: Record<string, unknown>;
  } | null> {
    const answer = await this.admin('GET', `/workspaces/${this.workspaceId}/profiles/${mpid}`);
    return answer.status === 200
      ? (answer.body as {
          profile: ProfileRecord;
          events: { name: string }[];
          attributes: Record<string, unknown>;
        })
      : null;
  }

  async close(): Promise<void> {
    for (const slot of this.devices.values()) await slot.device?.close();
    this.devices.clear();
    if (this.server !== null && this.serverUp) await this.server.close();
    if (this.dataDir !== null) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
