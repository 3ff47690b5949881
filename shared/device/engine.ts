/**
 * The device engine (SPEC DV-1..DV-12): identity calls that never wait for the network (D3).
 *
 * Each identify, login, logout, modify and alias is resolved at once by the shared resolver
 * against the device's own store and the cached workspace config, and the request is appended to
 * the device's durable, ordered log in the same atomic write. Events and attribute changes point at
 * the identity request that was current when they happened (identity epochs), so the profile they
 * belong to is derived from that request's answer: the provisional one until the server replays
 * the request, the server's afterwards. Nothing is rewritten when an answer changes.
 *
 * The current user is derived too: the answer of the latest identify, login or logout.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import type { IdentityType } from '../identity/identity-types.ts';
import { randomMpid } from '../identity/mpid.ts';
import type { Environment, ScopeConfig } from '../identity/scope-config.ts';
import { apiError, type ApiError } from '../protocol/errors.ts';
import type { IdentityResponse } from '../protocol/idsync.ts';
import type { SyncedRequestKind, SyncRequest } from '../protocol/sync.ts';
import { aliasProgram } from '../resolver/alias.ts';
import type { Clock } from '../resolver/context.ts';
import { identityProgram, type IdentityKind } from '../resolver/identify.ts';
import { modifyProgram } from '../resolver/modify.ts';
import type { ProfileRecord } from '../resolver/records.ts';
import type { Program } from '../resolver/store-port.ts';
import { randomUuid, type RandomSource } from '../util/random.ts';
import { err, ok, type Result } from '../util/result.ts';
import { readLocal, type DeviceDatabase, type GraphDoc } from './collections.ts';
import { RxdbIdentityStore, type RequestData, type SyncMeta } from './rxdb-store.ts';

export interface DeviceEngineOptions {
  readonly db: DeviceDatabase;
  /** The workspace config to resolve with until the server sends its own. */
  readonly config: ScopeConfig;
  readonly environment: Environment;
  readonly random: RandomSource;
  readonly clock: Clock;
  /** The device id to use the first time (later opens keep the stored one). */
  readonly deviceId?: string;
}

/** The person the device is currently acting as. */
export interface CurrentUser {
  readonly mpid: string;
  /** The identity request that established this user. */
  readonly requestId: string;
  /** True until the server has replayed that request. */
  readonly provisional: boolean;
  readonly isLoggedIn: boolean;
}

export interface IdentityAnswer {
  readonly mpid: string;
  readonly requestId: string;
  readonly isLoggedIn: boolean;
  readonly isEphemeral: boolean;
  /** The device created this profile itself (offline); the server may still resolve it elsewhere. */
  readonly created: boolean;
}

export interface Person {
  readonly mpid: string;
  readonly identities: Partial<Record<IdentityType, readonly string[]>>;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

export interface IdentityChangeInput {
  readonly identityType: string;
  readonly oldValue: string | null;
  readonly newValue: string | null;
}

interface DeviceState {
  readonly deviceId: string;
  readonly das: string;
}

const DEVICE_DOC = 'device';
const CONFIG_DOC = 'config';
const IDENTITY_KINDS: readonly SyncedRequestKind[] = ['identify', 'login', 'logout'];

/** The answer a request currently stands for: the server's once replayed, else the device's. */
export function answeredMpid(sync: SyncRequest): string | null {
  return sync.server === null ? sync.provisionalMpid : sync.server.mpid;
}

export class DeviceEngine {
  readonly store: RxdbIdentityStore;
  private configValue: ScopeConfig;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly current = new BehaviorSubject<CurrentUser | null>(null);
  private readonly unsubscribe: () => void;

  private constructor(
    readonly db: DeviceDatabase,
    private readonly state: DeviceState,
    config: ScopeConfig,
    readonly environment: Environment,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {
    this.store = new RxdbIdentityStore(db.graph);
    this.configValue = config;
    const subscription = db.graph
      .find({ selector: { kind: 'request' }, sort: [{ kind: 'desc' }, { seq: 'desc' }], limit: 50 })
      .$.subscribe((docs) => this.current.next(currentFrom(docs.map((d) => d.toJSON() as GraphDoc))));
    this.unsubscribe = () => subscription.unsubscribe();
  }

  static async open(options: DeviceEngineOptions): Promise<DeviceEngine> {
    const { db } = options;
    let state = await readLocal<DeviceState>(db, DEVICE_DOC);
    if (state === null) {
      state = {
        deviceId: options.deviceId ?? `dev-${randomUuid(options.random)}`,
        das: randomUuid(options.random),
      };
      await db.insertLocal<DeviceState>(DEVICE_DOC, state);
    }
    const config = (await readLocal<{ config: ScopeConfig }>(db, CONFIG_DOC))?.config ?? options.config;
    return new DeviceEngine(db, state, config, options.environment, options.random, options.clock);
  }

  get deviceId(): string {
    return this.state.deviceId;
  }

  /** The device application stamp: one per install, sent with every identity request. */
  get das(): string {
    return this.state.das;
  }

  get config(): ScopeConfig {
    return this.configValue;
  }

  /** Adopts the workspace config the server sent, for every later resolution. */
  async useConfig(config: ScopeConfig): Promise<void> {
    this.configValue = config;
    await this.db.upsertLocal(CONFIG_DOC, { config });
  }

  get currentUser$(): Observable<CurrentUser | null> {
    return this.current.asObservable();
  }

  /** The current user as stored now. */
  async currentUser(): Promise<CurrentUser | null> {
    const docs = await this.db.graph
      .find({ selector: { kind: 'request' }, sort: [{ kind: 'desc' }, { seq: 'desc' }], limit: 50 })
      .exec();
    return currentFrom(docs.map((d) => d.toJSON() as GraphDoc));
  }

  identify(identities: Record<string, string | null>): Promise<Result<IdentityAnswer, ApiError>> {
    return this.identity('identify', identities);
  }

  login(identities: Record<string, string | null>): Promise<Result<IdentityAnswer, ApiError>> {
    return this.identity('login', identities);
  }

  logout(identities: Record<string, string | null> = {}): Promise<Result<IdentityAnswer, ApiError>> {
    return this.identity('logout', identities);
  }

  /** Adds, changes or removes identities of the current user. */
  modify(
    changes: readonly IdentityChangeInput[],
  ): Promise<Result<{ mpid: string; requestId: string }, ApiError>> {
    return this.exclusive(async () => {
      const user = await this.currentUser();
      if (user === null) return err(apiError('LOOKUP_ERROR', 'modify needs a current user; identify first'));
      const requestId = randomUuid(this.random);
      const body = {
        environment: this.environment,
        request_id: requestId,
        identity_changes: changes.map((c) => ({
          identity_type: c.identityType,
          old_value: c.oldValue,
          new_value: c.newValue,
        })),
      };
      const outcome = await this.record('modify', requestId, body, user.mpid, (options) =>
        modifyProgram(user.mpid, body, options),
      );
      return outcome.ok ? ok({ mpid: outcome.value.mpid, requestId }) : err(outcome.error.error);
    });
  }

  /** Aliases a source profile into a destination profile (applied by the server, D6). */
  alias(
    sourceMpid: string,
    destinationMpid: string,
    window: { startMs?: number; endMs?: number } = {},
  ): Promise<Result<{ requestId: string; aliasId: string }, ApiError>> {
    return this.exclusive(async () => {
      const requestId = randomUuid(this.random);
      const body = {
        request_type: 'alias',
        environment: this.environment,
        request_id: requestId,
        data: {
          source_mpid: sourceMpid,
          destination_mpid: destinationMpid,
          ...(window.startMs === undefined ? {} : { start_unixtime_ms: window.startMs }),
          ...(window.endMs === undefined ? {} : { end_unixtime_ms: window.endMs }),
          scope: 'device',
          device_application_stamp: this.das,
        },
      };
      const outcome = await this.record('alias', requestId, body, null, (options) =>
        aliasProgram(body, options),
      );
      return outcome.ok ? ok({ requestId, aliasId: outcome.value.aliasId }) : err(outcome.error.error);
    });
  }

  /** Records an event for the current user (identifying anonymously first if nobody is current). */
  async track(name: string, data: Record<string, unknown> = {}): Promise<string> {
    return this.recordEvent('event', name, data);
  }

  async setUserAttribute(key: string, value: unknown): Promise<string> {
    return this.recordEvent('attribute', key, { value });
  }

  /** Everyone this device has seen, most recent first. */
  async people(): Promise<Person[]> {
    const docs = await this.db.graph.find({ selector: { kind: 'profile' } }).exec();
    return docs
      .map((d) => (d.toJSON() as GraphDoc).data as unknown as ProfileRecord)
      .filter((p) => p.orphanedAt === null)
      .map((p) => ({
        mpid: p.mpid,
        identities: p.identities,
        firstSeenAt: p.firstSeenAt,
        lastSeenAt: p.lastSeenAt,
      }))
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  }

  /** The device's request log, in order. */
  async requests(): Promise<SyncRequest[]> {
    const docs = await this.db.graph
      .find({ selector: { kind: 'request' }, sort: [{ kind: 'asc' }, { seq: 'asc' }] })
      .exec();
    return docs
      .map((d) => ((d.toJSON() as GraphDoc).data as unknown as RequestData).sync)
      .filter((s): s is SyncRequest => s !== null);
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.unsubscribe();
    this.current.complete();
  }

  /** Identity calls run one at a time, like the SDKs' (K3). */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private identity(
    kind: IdentityKind,
    identities: Record<string, string | null>,
  ): Promise<Result<IdentityAnswer, ApiError>> {
    return this.exclusive(() => this.identityNow(kind, identities));
  }

  private async identityNow(
    kind: IdentityKind,
    identities: Record<string, string | null>,
  ): Promise<Result<IdentityAnswer, ApiError>> {
    const user = await this.currentUser();
    const requestId = randomUuid(this.random);
    const body = {
      environment: this.environment,
      request_id: requestId,
      previous_mpid: user?.mpid ?? null,
      known_identities: { device_application_stamp: this.das, ...identities },
    };
    const outcome = await this.record(kind, requestId, body, null, (options) =>
      identityProgram(kind, body, options),
    );
    if (!outcome.ok) return err(outcome.error.error);
    const response: IdentityResponse = outcome.value.response;
    return ok({
      mpid: response.mpid,
      requestId,
      isLoggedIn: response.is_logged_in,
      isEphemeral: response.is_ephemeral,
      created: outcome.value.created,
    });
  }

  /** Resolves a request on the device and appends it to the log, in one atomic write. */
  private async record<R>(
    kind: SyncedRequestKind,
    requestId: string,
    body: Record<string, unknown>,
    modifyMpid: string | null,
    program: (options: Parameters<typeof identityProgram>[2]) => Program<R>,
  ): Promise<R> {
    const now = this.clock.now();
    const meta: SyncMeta = {
      requestId,
      deviceId: this.deviceId,
      seq: (await this.lastSeq()) + 1,
      kind,
      environment: this.environment,
      body,
      modifyMpid,
      createdAt: now,
    };
    return this.store.runWithSync(meta, () =>
      program({
        config: this.configValue,
        random: this.random,
        now,
        actor: { kind: 'device', id: this.deviceId },
        preferredMpid: randomMpid(this.random),
      }),
    );
  }

  private async lastSeq(): Promise<number> {
    const newest = await this.db.graph
      .findOne({ selector: { kind: 'request' }, sort: [{ kind: 'desc' }, { seq: 'desc' }] })
      .exec();
    return newest?.seq ?? 0;
  }

  private async recordEvent(
    type: 'event' | 'attribute',
    name: string,
    data: Record<string, unknown>,
  ): Promise<string> {
    let user = await this.currentUser();
    if (user === null) {
      const identified = await this.identify({});
      if (!identified.ok) throw new Error(`could not identify the device: ${identified.error.message}`);
      user = await this.currentUser();
    }
    const id = randomUuid(this.random);
    await this.db.events.insert({
      id,
      requestId: (user as CurrentUser).requestId,
      type,
      name,
      data,
      at: this.clock.now(),
    });
    return id;
  }
}

/** The current user from the newest requests (newest first). */
function currentFrom(docs: readonly GraphDoc[]): CurrentUser | null {
  for (const d of docs) {
    const sync = (d.data as unknown as RequestData).sync;
    if (sync === null || !IDENTITY_KINDS.includes(sync.kind)) continue;
    const mpid = answeredMpid(sync);
    if (mpid === null) continue;
    const response = (sync.server?.response ??
      (d.data as unknown as RequestData).stored.response) as Partial<IdentityResponse> | null;
    return {
      mpid,
      requestId: sync.requestId,
      provisional: sync.server === null,
      isLoggedIn: response?.is_logged_in === true,
    };
  }
  return null;
}
