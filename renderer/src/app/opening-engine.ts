/**
 * The device engine as the screens use it, available before the device database is open (UP-6):
 * the Field screen renders at once, and its views fill in when the database has opened. Each view
 * follows the engine's own view once it is open (nothing emits before); each call waits for the
 * engine, then makes it. Once open, a call goes straight to the engine.
 */
import {
  BehaviorSubject,
  filter,
  firstValueFrom,
  from,
  map,
  shareReplay,
  switchMap,
  take,
  type Observable,
} from 'rxjs';
import type { DeviceEngine } from '../../../shared/device/engine.ts';
import type { SyncClient } from '../sync/sync-controller.ts';

/** What the screens read and call of the device engine (a `DeviceEngine` is one). */
export interface FieldEngine {
  readonly people$: DeviceEngine['people$'];
  readonly currentPerson$: DeviceEngine['currentPerson$'];
  readonly status$: DeviceEngine['status$'];
  activity$: DeviceEngine['activity$'];
  decisions$: DeviceEngine['decisions$'];
  identify: DeviceEngine['identify'];
  login: DeviceEngine['login'];
  logout: DeviceEngine['logout'];
  nextPerson: DeviceEngine['nextPerson'];
  track: DeviceEngine['track'];
  setUserAttribute: DeviceEngine['setUserAttribute'];
  recentEventNames: DeviceEngine['recentEventNames'];
  /** The workspace config the engine resolves with (until it is open: the one it opens with). */
  readonly config: DeviceEngine['config'];
  /** `null` until the engine is open. */
  readonly deviceId: string | null;
}

export class OpeningEngine implements FieldEngine {
  private readonly engine = new BehaviorSubject<DeviceEngine | null>(null);
  /** The engine, once open (a cold observable: nothing runs for a subscriber before it is). */
  private readonly engine$: Observable<DeviceEngine>;
  /** Whether the engine is open: false, then true once. */
  readonly open$: Observable<boolean>;
  readonly people$: FieldEngine['people$'];
  readonly currentPerson$: FieldEngine['currentPerson$'];
  readonly status$: FieldEngine['status$'];

  constructor(
    opening: Promise<DeviceEngine>,
    private readonly openingConfig: DeviceEngine['config'],
  ) {
    opening.then(
      (engine) => this.engine.next(engine),
      () => undefined,
    );
    this.engine$ = this.engine.pipe(
      filter((engine): engine is DeviceEngine => engine !== null),
      take(1),
    );
    this.open$ = this.engine.pipe(map((engine) => engine !== null));
    const follow = <T>(view: (engine: DeviceEngine) => Observable<T>) =>
      this.engine$.pipe(switchMap(view), shareReplay({ bufferSize: 1, refCount: true }));
    this.people$ = follow((engine) => engine.people$);
    this.currentPerson$ = follow((engine) => engine.currentPerson$);
    this.status$ = follow((engine) => engine.status$);
  }

  /** The engine, waiting for it to open if it is not yet. */
  opened(): Promise<DeviceEngine> {
    const engine = this.engine.value;
    return engine === null ? firstValueFrom(this.engine$) : Promise.resolve(engine);
  }

  get config(): DeviceEngine['config'] {
    return this.engine.value?.config ?? this.openingConfig;
  }

  get deviceId(): string | null {
    return this.engine.value?.deviceId ?? null;
  }

  activity$(mpid: string): ReturnType<DeviceEngine['activity$']> {
    return this.engine$.pipe(switchMap((engine) => engine.activity$(mpid)));
  }

  decisions$(mpid: string): ReturnType<DeviceEngine['decisions$']> {
    return this.engine$.pipe(switchMap((engine) => engine.decisions$(mpid)));
  }

  readonly identify: DeviceEngine['identify'] = async (identities) =>
    (await this.opened()).identify(identities);

  readonly login: DeviceEngine['login'] = async (identities) => (await this.opened()).login(identities);

  readonly logout: DeviceEngine['logout'] = async (identities) => (await this.opened()).logout(identities);

  readonly nextPerson: DeviceEngine['nextPerson'] = async () => (await this.opened()).nextPerson();

  readonly track: DeviceEngine['track'] = async (name, data) => (await this.opened()).track(name, data);

  readonly setUserAttribute: DeviceEngine['setUserAttribute'] = async (key, value) =>
    (await this.opened()).setUserAttribute(key, value);

  readonly recentEventNames: DeviceEngine['recentEventNames'] = async () =>
    (await this.opened()).recentEventNames();
}

/**
 * A sync client made once the engine is open: the sync controller can connect before it is (the
 * call waits), and its phases and notices follow the real client's.
 */
export class OpeningSyncClient implements SyncClient {
  readonly phase$: SyncClient['phase$'];
  readonly notices$: SyncClient['notices$'];

  constructor(private readonly client: Promise<SyncClient>) {
    this.phase$ = from(client).pipe(switchMap((c) => c.phase$));
    this.notices$ = from(client).pipe(switchMap((c) => c.notices$));
  }

  async connect(): Promise<void> {
    return (await this.client).connect();
  }

  async syncOnce(): ReturnType<SyncClient['syncOnce']> {
    return (await this.client).syncOnce();
  }

  async stop(): Promise<void> {
    return (await this.client).stop();
  }
}
