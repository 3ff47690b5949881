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
 * The current user is derived too: the answer of the latest identify, login or logout, taken at
 * once from this page's own writes and from storage for other pages' writes (DE-10, DE-11).
 */
import {
  defer,
  distinctUntilChanged,
  filter,
  from,
  map,
  merge,
  of,
  shareReplay,
  switchMap,
  tap,
  type Observable,
} from 'rxjs';
import { getHeightOfRevision } from 'rxdb/plugins/core';
import { canonicalIdentityType, type IdentityType } from '../identity/identity-types.ts';
import { randomMpid } from '../identity/mpid.ts';
import { normaliseIdentityValue } from '../identity/normalise.ts';
import type { Environment, ScopeConfig } from '../identity/scope-config.ts';
import { apiError, type ApiError } from '../protocol/errors.ts';
import type { IdentityResponse } from '../protocol/idsync.ts';
import type { SyncedRequestKind, SyncRequest } from '../protocol/sync.ts';

export type { ActivityView, DecisionView, DeviceStatus, PersonState, PersonView } from './views.ts';
import { resolveOptions, type Clock } from '../resolver/context.ts';
import type { IdentityKind } from '../resolver/identify.ts';
import { programFor, type OutcomeOf } from '../resolver/program-for.ts';
import type { ProfileRecord } from '../resolver/records.ts';
import { randomUuid, type RandomSource } from '../util/random.ts';
import { err, ok, type Result } from '../util/result.ts';
import { readLocal, type DeviceDatabase, type GraphDoc } from './collections.ts';
import {
  DeviceViews,
  type CurrentSource,
  type ActivityView,
  type DecisionView,
  type DeviceStatus,
  type PersonView,
} from './views.ts';
import {
  HEAD_ID,
  identityKey,
  kindSelector,
  profileId,
  requestLogQuery,
  RxdbIdentityStore,
  type CommittedWrite,
  type DeviceLock,
  type Head,
  type RecordContext,
  type Recording,
  type RequestData,
  type SyncMeta,
} from './rxdb-store.ts';

export interface DeviceEngineOptions {
  readonly db: DeviceDatabase;
  /** The workspace config to resolve with until the server sends its own. */
  readonly config: ScopeConfig;
  readonly environment: Environment;
  readonly random: RandomSource;
  readonly clock: Clock;
  /** The device id to use the first time (later opens keep the stored one). */
  readonly deviceId?: string;
  /** Serialises the device's transactions across pages (`browserLock()` in browsers; DV-14). */
  readonly lock?: DeviceLock;
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
  /** The first device application stamp; the head keeps the one in use (DV-16). */
  readonly das: string;
}

const DEVICE_DOC = 'device';
const CONFIG_DOC = 'config';
const IDENTITY_KINDS: readonly SyncedRequestKind[] = ['identify', 'login', 'logout'];
const RECENT_EVENTS_DOC = 'recent-events';
const RECENT_EVENT_NAMES = 20;

/** The answer a request currently stands for: the server's once replayed, else the device's. */
export function answeredMpid(sync: SyncRequest): string | null {
  return sync.server === null ? sync.provisionalMpid : sync.server.mpid;
}

export class DeviceEngine {
  readonly store: RxdbIdentityStore;
  private configValue: ScopeConfig;
  private dasValue: string;
  private recentNames: readonly string[];
  /** The MPID this page's latest identity call answered (`null` after next person): a guess for DE-15. */
  private lastAnswered: string | null = null;
  readonly currentUser$: Observable<CurrentUser | null>;
  /** The current user with the write of this page it comes from, if it does (DE-10). */
  private readonly current$: Observable<CurrentSource>;
  private readonly views: DeviceViews;

  private constructor(
    readonly db: DeviceDatabase,
    private readonly state: DeviceState,
    store: RxdbIdentityStore,
    head: Head,
    config: ScopeConfig,
    recentNames: readonly string[],
    readonly environment: Environment,
    private readonly random: RandomSource,
    readonly clock: Clock,
  ) {
    this.store = store;
    this.dasValue = head.das;
    this.recentNames = recentNames;
    this.configValue = config;
    this.current$ = currentSources(db, store, () => this.currentUser());
    this.currentUser$ = this.current$.pipe(map((c) => c.user));
    this.views = new DeviceViews(db, this.current$, () => this.configValue.loginIdentities);
  }

  /** Everyone captured on this device, most recently seen first, with their sync state (DV-17). */
  get people$(): Observable<readonly PersonView[]> {
    return this.views.people$;
  }

  get currentPerson$(): Observable<PersonView | null> {
    return this.views.currentPerson$;
  }

  /** Identity requests not yet answered by the server, and events not yet sent. */
  get status$(): Observable<DeviceStatus> {
    return this.views.status$;
  }

  activity$(mpid: string): Observable<readonly ActivityView[]> {
    return this.views.activity$(mpid);
  }

  /** What the device and then the server decided for this person, newest first. */
  decisions$(mpid: string): Observable<readonly DecisionView[]> {
    return this.views.decisions$(mpid);
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
    const store = new RxdbIdentityStore(db.graph, options.lock);
    const head = await store.ensureHead(state.das);
    const config = (await readLocal<{ config: ScopeConfig }>(db, CONFIG_DOC))?.config ?? options.config;
    const recent = (await readLocal<{ names: string[] }>(db, RECENT_EVENTS_DOC))?.names ?? [];
    return new DeviceEngine(
      db,
      state,
      store,
      head,
      config,
      recent,
      options.environment,
      options.random,
      options.clock,
    );
  }

  get deviceId(): string {
    return this.state.deviceId;
  }

  /** The device application stamp sent with identity requests now (a new one for each new person, DV-16). */
  get das(): string {
    return this.dasValue;
  }

  get config(): ScopeConfig {
    return this.configValue;
  }

  /** Adopts the workspace config the server sent, for every later resolution. */
  async useConfig(config: ScopeConfig): Promise<void> {
    this.configValue = config;
    await this.db.upsertLocal(CONFIG_DOC, { config });
  }

  /** The current user as stored now: one read of the head and one of its request (DV-15). */
  currentUser(): Promise<CurrentUser | null> {
    return this.store.read((head, byId) => this.currentIn(head, byId));
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

  /**
   * The next person at a shared device (DV-16): nobody is current any more and the device
   * application stamp is renewed, in one local write and without a request. The next identity call
   * (or event) starts a new person, no lookup by stamp ever finds the people before them (nor makes
   * every identity call weigh all of them), and no empty anonymous profile is left behind.
   */
  async nextPerson(): Promise<void> {
    const das = randomUuid(this.random);
    await this.store.renewStamp(das, this.identityKeys({ device_application_stamp: das }));
    this.dasValue = das;
    this.lastAnswered = null;
  }

  /** Adds, changes or removes identities of the current user. */
  async modify(
    changes: readonly IdentityChangeInput[],
  ): Promise<Result<{ mpid: string; requestId: string }, ApiError>> {
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
    let target: string | null = null;
    const outcome = await this.store.record(async (ctx) => {
      const user = await this.currentIn(ctx.head, ctx.byId);
      if (user === null) return null;
      target = user.mpid;
      const mpid = user.mpid;
      return this.recording(ctx.head, 'modify', requestId, body, mpid);
    });
    if (outcome === null || target === null)
      return err(apiError('LOOKUP_ERROR', 'modify needs a current user; identify first'));
    return outcome.ok ? ok({ mpid: outcome.value.mpid, requestId }) : err(outcome.error.error);
  }

  /** Aliases a source profile into a destination profile (applied by the server, D6). */
  async alias(
    sourceMpid: string,
    destinationMpid: string,
    window: { startMs?: number; endMs?: number } = {},
  ): Promise<Result<{ requestId: string; aliasId: string }, ApiError>> {
    const requestId = randomUuid(this.random);
    const outcome = await this.store.record((ctx) => {
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
          device_application_stamp: ctx.head.das,
        },
      };
      return this.recording(ctx.head, 'alias', requestId, body, null);
    });
    if (outcome === null) throw new Error('an alias is always recorded');
    return outcome.ok ? ok({ requestId, aliasId: outcome.value.aliasId }) : err(outcome.error.error);
  }

  /** Records an event for the current user (identifying anonymously first if nobody is current). */
  async track(name: string, data: Record<string, unknown> = {}): Promise<string> {
    const id = await this.recordEvent('event', name, data);
    await this.rememberEventName(name);
    return id;
  }

  async setUserAttribute(key: string, value: unknown): Promise<string> {
    return this.recordEvent('attribute', key, { value });
  }

  /** The names of the latest events recorded in this page, newest first, without repeats (for suggestions). */
  recentEventNames(): Promise<string[]> {
    return Promise.resolve([...this.recentNames]);
  }

  /** Everyone this device has seen, most recent first. */
  async people(): Promise<Person[]> {
    const docs = await this.db.graph.find({ selector: kindSelector('profile') }).exec();
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
    const docs = await this.db.graph.find(requestLogQuery(0)).exec();
    return docs
      .map((d) => ((d.toJSON() as GraphDoc).data as unknown as RequestData).sync)
      .filter((s): s is SyncRequest => s !== null);
  }

  /** Waits for every transaction already asked for. */
  async close(): Promise<void> {
    await this.store.read(() => Promise.resolve()).catch(() => undefined);
  }

  private async identity(
    kind: IdentityKind,
    identities: Record<string, string | null>,
  ): Promise<Result<IdentityAnswer, ApiError>> {
    const requestId = randomUuid(this.random);
    const preferredMpid = randomMpid(this.random);
    const outcome = await this.store.record(
      async (ctx) => {
        const user = await this.currentIn(ctx.head, ctx.byId);
        const body = {
          environment: this.environment,
          request_id: requestId,
          previous_mpid: user?.mpid ?? null,
          known_identities: { device_application_stamp: ctx.head.das, ...identities },
        };
        return this.recording(ctx.head, kind, requestId, body, null, preferredMpid);
      },
      // Whether the MPID a new profile would get is taken is read with the head (DE-1), the
      // holders of the call's identity values are looked up beside it (DE-8), and so are the
      // identity documents the current user would get for them (DE-15).
      {
        prefetch: {
          ids: [profileId(preferredMpid)],
          identityKeys: this.identityKeys({ device_application_stamp: this.dasValue, ...identities }),
          likelyHolder: this.lastAnswered,
        },
      },
    );
    if (outcome === null) throw new Error('an identity request is always recorded');
    if (!outcome.ok) return err(outcome.error.error);
    const response: IdentityResponse = outcome.value.response;
    this.lastAnswered = response.mpid;
    return ok({
      mpid: response.mpid,
      requestId,
      isLoggedIn: response.is_logged_in,
      isEphemeral: response.is_ephemeral,
      created: outcome.value.created,
    });
  }

  /**
   * The identity keys (namespace, canonical type, normalised value) of a call's identities: those
   * its resolution looks up. A spelling the resolver refuses is left out.
   */
  private identityKeys(identities: Record<string, string | null>): string[] {
    const ns = { scopeId: this.configValue.scopeId, environment: this.environment };
    const keys: string[] = [];
    for (const [name, raw] of Object.entries(identities)) {
      const type = canonicalIdentityType(name);
      if (type === null || raw === null) continue;
      const value = normaliseIdentityValue(this.configValue.normalisation, type, raw);
      if (value !== '') keys.push(identityKey(ns, type, value));
    }
    return keys;
  }

  /**
   * The next request of the log and its program (SPEC SS-1): its sequence follows the head's, read
   * inside the lock (DV-14).
   */
  private recording<K extends SyncedRequestKind>(
    head: Head,
    kind: K,
    requestId: string,
    body: Record<string, unknown>,
    modifyMpid: string | null,
    preferredMpid: string = randomMpid(this.random),
  ): Recording<OutcomeOf[K]> {
    const now = this.clock.now();
    const meta: SyncMeta = {
      requestId,
      deviceId: this.deviceId,
      seq: head.seq + 1,
      kind,
      environment: this.environment,
      body,
      modifyMpid,
      createdAt: now,
    };
    return {
      meta,
      scopeId: this.configValue.scopeId,
      fresh: true,
      program: programFor(
        kind,
        { body, target: modifyMpid },
        resolveOptions({
          config: this.configValue,
          random: this.random,
          now,
          actor: { kind: 'device', id: this.deviceId },
          preferredMpid,
        }),
      ),
    };
  }

  /**
   * The current user: the answer of the request the head names, or, when the server failed that
   * request (it has no answer), of the newest earlier identity request that has one.
   */
  private async currentIn(head: Head, byId: RecordContext['byId']): Promise<CurrentUser | null> {
    if (head.currentRequestDoc === null) return null;
    const doc = await byId(head.currentRequestDoc);
    const user = doc === null ? null : currentFrom([doc]);
    if (user !== null) return user;
    const docs = await this.db.graph.find(requestLogQuery(0, head.seq)).exec();
    return currentFrom(docs.map((d) => d.toJSON() as GraphDoc).reverse());
  }

  /** Keeps the suggestions in memory and in a local document, written only when their order changes. */
  private async rememberEventName(name: string): Promise<void> {
    if (this.recentNames[0] === name) return;
    this.recentNames = [name, ...this.recentNames.filter((n) => n !== name)].slice(0, RECENT_EVENT_NAMES);
    await this.db.upsertLocal(RECENT_EVENTS_DOC, { names: this.recentNames });
  }

  private async recordEvent(
    type: 'event' | 'attribute',
    name: string,
    data: Record<string, unknown>,
  ): Promise<string> {
    let user = await this.currentUser();
    if (user === null) {
      const identified = await this.identifyIfNobody();
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

  /** An anonymous identify, unless another page made someone current meanwhile. */
  private async identifyIfNobody(): Promise<Result<null, ApiError>> {
    const requestId = randomUuid(this.random);
    const outcome = await this.store.record(async (ctx) => {
      if ((await this.currentIn(ctx.head, ctx.byId)) !== null) return null;
      const body = {
        environment: this.environment,
        request_id: requestId,
        previous_mpid: null,
        known_identities: { device_application_stamp: ctx.head.das },
      };
      return this.recording(ctx.head, 'identify', requestId, body, null);
    });
    return outcome === null || outcome.ok ? ok(null) : err(outcome.error.error);
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

function sameUser(a: CurrentUser | null, b: CurrentUser | null): boolean {
  return (
    a === b ||
    (a !== null &&
      b !== null &&
      a.mpid === b.mpid &&
      a.requestId === b.requestId &&
      a.provisional === b.provisional &&
      a.isLoggedIn === b.isLoggedIn)
  );
}

function currentRequestOf(write: CommittedWrite): string | null {
  const headDoc = write.docs.get(HEAD_ID);
  return headDoc === undefined || headDoc === null
    ? null
    : (headDoc.data as unknown as Head).currentRequestDoc;
}

/**
 * The current user after one of this page's writes, from the documents it held (DE-10):
 * `undefined` when the write does not tell (it did not hold the head or the request the head names,
 * or that request has no answer), and storage decides.
 */
function userAfter(write: CommittedWrite): CurrentUser | null | undefined {
  if (!write.docs.has(HEAD_ID)) return undefined;
  const id = currentRequestOf(write);
  if (id === null) return null;
  const request = write.docs.get(id);
  if (request === undefined || request === null) return undefined;
  return currentFrom([request]) ?? undefined;
}

/**
 * The current user as this page's writes make it, at once and with no read (DE-10), and as storage
 * shows it: the head and the request it names, followed without taking the lock (a screen showing
 * the current user never waits behind the next identity call), which brings other pages' writes
 * and the server's answers (DE-11). What storage shows is taken only once its head is at least as
 * new as this page's latest write, so an older state never replaces a newer one; equal users are
 * not emitted again.
 */
function currentSources(
  db: DeviceDatabase,
  store: RxdbIdentityStore,
  read: () => Promise<CurrentUser | null>,
): Observable<CurrentSource> {
  return defer(() => {
    let ownHeight = 0;
    let ownRequest: string | null = null;
    let storedHeight = 0;
    const own$ = store.committed$.pipe(
      map((write) => ({ write, user: userAfter(write) })),
      filter((c): c is CurrentSource & { write: CommittedWrite } => c.user !== undefined),
      tap((c) => {
        ownHeight = Math.max(ownHeight, c.write.height);
        ownRequest = currentRequestOf(c.write);
      }),
    );
    const stored$ = db.graph.findOne(HEAD_ID).$.pipe(
      tap((doc) => (storedHeight = doc === null ? 0 : getHeightOfRevision(doc.revision))),
      map((doc) => (doc === null ? null : (doc.toJSON().data as unknown as Head).currentRequestDoc)),
      distinctUntilChanged(),
      switchMap((id) =>
        id === null
          ? of({ id, user: null })
          : db.graph.findOne(id).$.pipe(
              switchMap((request) => {
                const user = request === null ? null : currentFrom([request.toJSON()]);
                return user === null ? from(read()) : of(user);
              }),
              map((user) => ({ id, user })),
            ),
      ),
      // A request this page's latest write no longer names, from a head older than that write: stale.
      filter(({ id }) => storedHeight >= ownHeight || id === ownRequest),
      map(({ user }): CurrentSource => ({ user, write: null })),
    );
    return merge(own$, stored$);
  }).pipe(
    distinctUntilChanged((a, b) => sameUser(a.user, b.user)),
    shareReplay({ bufferSize: 1, refCount: true }),
  );
}
