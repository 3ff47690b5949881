/**
 * When and how the app syncs. Identity calls never wait for it: the engine answers locally and
 * this controller replicates in the background — when the browser comes online, a moment after
 * local changes, every 30 s, and at once after a login — unless the user chose to work offline or
 * to stay local-only. One round runs at a time, across tabs too (Web Locks). An unreachable
 * server is the ordinary offline state, not an error: automatic rounds stay quiet about it.
 */
import {
  BehaviorSubject,
  debounceTime,
  distinctUntilChanged,
  filter,
  map,
  Subject,
  type Observable,
  type Subscription,
} from 'rxjs';
import type { Notice } from '../../../shared/device/reconcile.ts';
import { AppBootstrapSchema } from '../../../shared/protocol/app-bootstrap.ts';
import type { SyncPhase } from '../../../shared/device/sync.ts';
import { err, ok, type Result } from '../../../shared/util/result.ts';
import {
  ServerUrlSchema,
  type Connection,
  type Preferences,
  type ServerConnection,
} from '../connection/connection.ts';
import { problemFrom, type SyncProblem } from './sync-problem.ts';

/** The part of `DeviceSync` the controller drives (a fake in component tests). */
export interface SyncClient {
  connect(): Promise<void>;
  syncOnce(): Promise<readonly Notice[]>;
  readonly notices$: Observable<Notice>;
  readonly phase$: Observable<SyncPhase>;
  stop(): Promise<void>;
}

export interface SyncState {
  readonly connection: Connection | null;
  /** The browser says it has a network. */
  readonly online: boolean;
  /** False after the server could not be reached, until a round gets through. */
  readonly reachable: boolean;
  readonly workOffline: boolean;
  readonly syncing: boolean;
  readonly phase: SyncPhase;
  readonly lastSyncAt: number | null;
  readonly problem: SyncProblem | null;
}

export interface NetworkWatch {
  isOnline(): boolean;
  /** Calls back with the new state on every change; returns the unsubscribe. */
  watch(onChange: (online: boolean) => void): () => void;
}

export interface SyncControllerOptions {
  readonly status$: Observable<{ readonly pendingRequests: number; readonly pendingEvents: number }>;
  readonly preferences: Preferences;
  readonly createClient: (connection: ServerConnection) => SyncClient;
  readonly network: NetworkWatch;
  readonly locks: Pick<LockManager, 'request'> | null;
  /** Reads `./bootstrap.json`; rejects when there is none. */
  readonly fetchBootstrap: () => Promise<unknown>;
  readonly now: () => number;
  readonly intervalMs?: number;
  readonly debounceMs?: number;
}

const LOCK = 'identity-sync:sync';
const MAX_NOTICES = 200;

export class SyncController {
  private readonly state: BehaviorSubject<SyncState>;
  private readonly noticeList = new BehaviorSubject<readonly Notice[]>([]);
  private readonly noticeAdded = new Subject<Notice>();
  private client: SyncClient | null = null;
  private clientSubscriptions: Subscription[] = [];
  private running: Promise<void> | null = null;
  private stops: (() => void)[] = [];

  constructor(private readonly options: SyncControllerOptions) {
    this.state = new BehaviorSubject(this.initialState());
  }

  get state$(): Observable<SyncState> {
    return this.state;
  }

  /** Every notice of this session, newest first. */
  get notices$(): Observable<readonly Notice[]> {
    return this.noticeList;
  }

  /** Each notice once, as it arrives. */
  get noticeAdded$(): Observable<Notice> {
    return this.noticeAdded;
  }

  get current(): SyncState {
    return this.state.value;
  }

  /** Starts automatic syncing. */
  start(): void {
    const connection = this.state.value.connection;
    if (connection?.kind === 'server') this.useClient(this.options.createClient(connection));
    this.stops.push(
      this.options.network.watch((online) => {
        this.patch({ online });
        if (online) void this.auto();
      }),
    );
    const timer = setInterval(() => void this.auto(), this.options.intervalMs ?? 30_000);
    this.stops.push(() => clearInterval(timer));
    const changes = this.options.status$
      .pipe(
        map((s) => s.pendingRequests + s.pendingEvents),
        distinctUntilChanged(),
        filter((pending) => pending > 0),
        debounceTime(this.options.debounceMs ?? 2_000),
      )
      .subscribe(() => void this.auto());
    this.stops.push(() => changes.unsubscribe());
    void this.auto();
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    await this.dropClient();
  }

  /** "Sync now": runs even if the last automatic round found the server unreachable. */
  syncNow(): Promise<void> {
    return this.round('manual');
  }

  /** A login was recorded: the server should hear of it at once. */
  afterLogin(): Promise<void> {
    return this.auto();
  }

  setWorkOffline(workOffline: boolean): void {
    this.options.preferences.setWorkOffline(workOffline);
    this.patch({ workOffline, problem: null });
    if (!workOffline) void this.auto();
  }

  /** Connects to a server; kept only once the server accepted the key and sent its config. */
  async connect(
    serverUrl: string,
    apiKey: string,
    workspaceName: string | null = null,
  ): Promise<Result<void, SyncProblem>> {
    const connection: ServerConnection = { kind: 'server', serverUrl, apiKey, workspaceName };
    const client = this.options.createClient(connection);
    this.patch({ syncing: true, phase: 'connecting', problem: null });
    try {
      await client.connect();
    } catch (error) {
      await client.stop();
      const problem = problemFrom(error);
      this.patch({ syncing: false, phase: 'idle' });
      return err(problem);
    }
    await this.dropClient();
    this.options.preferences.setConnection(connection);
    this.patch({ connection, syncing: false, phase: 'idle', reachable: true });
    this.useClient(client);
    void this.auto();
    return ok(undefined);
  }

  /** Works without a server; a server can be connected later in settings. */
  async stayLocal(): Promise<void> {
    await this.dropClient();
    const connection: Connection = { kind: 'local' };
    this.options.preferences.setConnection(connection);
    this.patch({ connection, problem: null, syncing: false, phase: 'idle' });
  }

  /**
   * When the central server serves the app, `./bootstrap.json` says where to sync: connect with
   * no set-up. `none` when there is no such file (the app is served some other way).
   */
  async bootstrap(): Promise<'none' | Result<void, SyncProblem>> {
    let body: unknown;
    try {
      body = await this.options.fetchBootstrap();
    } catch {
      return 'none';
    }
    const parsed = AppBootstrapSchema.safeParse(body);
    const url = ServerUrlSchema.safeParse(parsed.data?.serverUrl);
    if (!parsed.success || !url.success) return 'none';
    return this.connect(url.data, parsed.data.apiKey, parsed.data.workspace.name);
  }

  private initialState(): SyncState {
    const { preferences, network } = this.options;
    return {
      connection: preferences.connection(),
      online: network.isOnline(),
      reachable: true,
      workOffline: preferences.workOffline(),
      syncing: false,
      phase: 'idle',
      lastSyncAt: preferences.lastSyncAt(),
      problem: null,
    };
  }

  private auto(): Promise<void> {
    const { online, workOffline } = this.state.value;
    if (!online || workOffline) return Promise.resolve();
    return this.round('auto');
  }

  private round(reason: 'auto' | 'manual'): Promise<void> {
    const client = this.client;
    if (client === null) return Promise.resolve();
    if (this.running !== null) return this.running;
    const run = async () => {
      this.patch({ syncing: true, problem: null });
      try {
        await client.syncOnce();
        const lastSyncAt = this.options.now();
        this.options.preferences.setLastSyncAt(lastSyncAt);
        this.patch({ reachable: true, lastSyncAt });
      } catch (error) {
        const problem = problemFrom(error);
        const quiet = problem.kind === 'unreachable' && reason === 'auto';
        this.patch({ reachable: problem.kind !== 'unreachable', problem: quiet ? null : problem });
      } finally {
        this.patch({ syncing: false, phase: 'idle' });
      }
    };
    const { locks } = this.options;
    const guarded =
      locks === null
        ? run()
        : locks.request(LOCK, { ifAvailable: true }, (lock) => (lock === null ? undefined : run()));
    this.running = Promise.resolve(guarded).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private useClient(client: SyncClient): void {
    this.client = client;
    this.clientSubscriptions = [
      client.phase$.subscribe((phase) => this.patch({ phase })),
      client.notices$.subscribe((notice) => {
        this.noticeList.next([notice, ...this.noticeList.value].slice(0, MAX_NOTICES));
        this.noticeAdded.next(notice);
      }),
    ];
  }

  private async dropClient(): Promise<void> {
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.unsubscribe();
    const client = this.client;
    this.client = null;
    await client?.stop();
    await this.running;
  }

  private patch(change: Partial<SyncState>): void {
    this.state.next({ ...this.state.value, ...change });
  }
}
