/**
 * Component tests run the real app against a real device engine on RxDB memory storage; only the
 * network side is fake: a sync client whose rounds the test resolves or fails, and a network that
 * the test switches on and off.
 */
import { cleanup, render, type RenderResult } from '@testing-library/react';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { BehaviorSubject, of, Subject } from 'rxjs';
import { afterEach } from 'vitest';
import { openDeviceDatabase, type DeviceDatabase } from '../../../shared/device/collections.ts';
import { DeviceEngine } from '../../../shared/device/engine.ts';
import { SyncError } from '../../../shared/device/sync.ts';
import type { Notice } from '../../../shared/device/reconcile.ts';
import { ScopeConfigSchema } from '../../../shared/identity/scope-config.ts';
import { seededRandom } from '../../../shared/util/random.ts';
import { App } from '../../../renderer/src/app/App.tsx';
import type { AppServices } from '../../../renderer/src/app/services.tsx';
import { Preferences, type Connection } from '../../../renderer/src/connection/connection.ts';
import type { SyncPhase } from '../../../shared/device/sync.ts';
import {
  SyncController,
  type NetworkWatch,
  type SyncClient,
} from '../../../renderer/src/sync/sync-controller.ts';

export const CONFIG = ScopeConfigSchema.parse({
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'mobile_number', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
});

const storage = getRxStorageMemory();
let databases = 0;
let now = 1_900_000_000_000;

/** A round the test ends: `resolve()` or `reject(error)`. */
export interface PendingRound {
  resolve(): void;
  reject(error: Error): void;
}

export class FakeSyncClient implements SyncClient {
  readonly phase = new BehaviorSubject<SyncPhase>('idle');
  readonly notices = new Subject<Notice>();
  readonly rounds: PendingRound[] = [];
  connectError: SyncError | null = null;
  connects = 0;

  get phase$() {
    return this.phase.asObservable();
  }

  get notices$() {
    return this.notices.asObservable();
  }

  connect(): Promise<void> {
    this.connects += 1;
    return this.connectError === null ? Promise.resolve() : Promise.reject(this.connectError);
  }

  syncOnce(): Promise<readonly Notice[]> {
    return new Promise((resolve, reject) => {
      this.rounds.push({ resolve: () => resolve([]), reject });
    });
  }

  /** Like the real client, stopping ends a round still running. */
  stop(): Promise<void> {
    for (const round of this.rounds) round.reject(new SyncError('stopped', null));
    return Promise.resolve();
  }
}

export class FakeNetwork implements NetworkWatch {
  private listeners = new Set<(online: boolean) => void>();
  constructor(public online = true) {}

  isOnline(): boolean {
    return this.online;
  }

  watch(onChange: (online: boolean) => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  set(online: boolean): void {
    this.online = online;
    for (const listener of this.listeners) listener(online);
  }
}

export interface Harness {
  readonly db: DeviceDatabase;
  readonly engine: DeviceEngine;
  readonly sync: SyncController;
  readonly client: FakeSyncClient;
  readonly network: FakeNetwork;
  readonly services: AppServices;
  renderApp(hash?: string): RenderResult;
  close(): Promise<void>;
}

export interface HarnessOptions {
  connection?: Connection | null;
  online?: boolean;
  bootstrap?: unknown;
  debounceMs?: number;
}

export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const db = await openDeviceDatabase(`renderer${(databases += 1)}`, storage);
  const engine = await DeviceEngine.open({
    db,
    config: CONFIG,
    environment: 'production',
    random: seededRandom(databases),
    clock: { now: () => (now += 1000) },
  });
  const preferences = new Preferences(localStorage);
  const connection = options.connection === undefined ? ({ kind: 'local' } as const) : options.connection;
  preferences.setConnection(connection);
  const client = new FakeSyncClient();
  const network = new FakeNetwork(options.online ?? true);
  const sync = new SyncController({
    status$: engine.status$,
    preferences,
    createClient: () => client,
    network,
    locks: null,
    fetchBootstrap: () =>
      options.bootstrap === undefined
        ? Promise.reject(new Error('no bootstrap'))
        : Promise.resolve(options.bootstrap),
    now: () => Date.now(),
    intervalMs: 3_600_000,
    debounceMs: options.debounceMs ?? 3_600_000,
  });
  const services: AppServices = {
    engine,
    sync,
    storageOpen$: of(true),
    persistentStorage$: of(true),
    update$: of(null),
  };
  return {
    db,
    engine,
    sync,
    client,
    network,
    services,
    renderApp(hash = '#/') {
      window.location.hash = hash;
      const result = render(<App services={services} />);
      sync.start();
      return result;
    },
    async close() {
      await sync.stop();
      await engine.close();
      await db.close();
    },
  };
}

/** happy-dom lays nothing out: give the people list's scroll box a size so its rows render. */
export function giveElementsASize(): void {
  for (const [property, size] of [
    ['clientHeight', 600],
    ['clientWidth', 800],
  ] as const) {
    Object.defineProperty(HTMLElement.prototype, property, {
      configurable: true,
      get(this: HTMLElement) {
        return this.classList.contains('people-listbox') ? size : 0;
      },
    });
  }
}

export interface HarnessPerTest {
  /** Opens a harness that is closed after the test. */
  readonly open: (options?: HarnessOptions) => Promise<Harness>;
  /** Opens a harness that is closed after the test and renders the app at `hash`. */
  readonly openApp: (options?: HarnessOptions, hash?: string) => Promise<Harness>;
}

/**
 * Call once at a test file's top level: after each test the rendered DOM is unmounted, the
 * harnesses opened through the returned functions are closed and localStorage is cleared.
 */
export function harnessPerTest(): HarnessPerTest {
  const opened: Harness[] = [];
  afterEach(async () => {
    cleanup();
    for (const harness of opened.splice(0)) await harness.close();
    localStorage.clear();
  });
  const open = async (options: HarnessOptions = {}) => {
    const harness = await openHarness(options);
    opened.push(harness);
    return harness;
  };
  return {
    open,
    async openApp(options = {}, hash = '#/') {
      const harness = await open(options);
      harness.renderApp(hash);
      return harness;
    },
  };
}
