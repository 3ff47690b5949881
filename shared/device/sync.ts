/**
 * Device replication (SPEC SY-*, DV-7): RxDB replications against the server's `/sync/v1`
 * endpoints. Requests are pushed in order (the server replays them and answers each with its
 * result) and pulled back with checkpoints; profile projections are pulled; events are pushed.
 * A push never fails as a whole for one bad document: the server answers per-document errors,
 * which become notices; only a gap (an earlier request missing) makes the push retry.
 *
 * `syncOnce` runs one full round and reconciles (tests, the simulator, "sync now" buttons);
 * `goLive` keeps replicating and pulls whenever the server's stream says something changed.
 */
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import type { RxReplicationPullStreamItem } from 'rxdb/plugins/core';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { z } from 'zod';
import {
  apiError,
  ErrorCodeSchema,
  type ApiError,
  type ErrorBody,
  type ErrorCode,
} from '../protocol/errors.ts';
import { IdentityResponseSchema, type IdentityResponse } from '../protocol/idsync.ts';
import { err, ok, type Result } from '../util/result.ts';
import { serial } from '../util/serial.ts';
import { parseWith } from '../protocol/parse.ts';
import {
  DeviceConfigSchema,
  DeviceCredentialSchema,
  DeviceEventSchema,
  ProfileProjectionSchema,
  PullResponseSchema,
  PushErrorCodes,
  PushResponseSchema,
  SYNC_PROTOCOL_HEADER,
  SYNC_PROTOCOL_VERSION,
  SyncRequestDocSchema,
  type Checkpoint,
  type DeviceCredential,
  type PushError,
} from '../protocol/sync.ts';
import { readLocal, type EventDoc, type GraphDoc, type ProfileDoc } from './collections.ts';
import type { DeviceEngine } from './engine.ts';
import { reconcile, type Notice } from './reconcile.ts';
import { EVENTS_SYNCED_DOC } from './views.ts';

const SealedCredentialSchema = z.object({ sealed: z.string() });

export interface SyncEndpoint {
  /** The server's base URL, e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  /** The input (API) key of the app. */
  readonly apiKey: string;
  readonly fetch?: typeof fetch;
  /** A device name shown to admins. */
  readonly deviceName?: string;
  /**
   * Seals the device credential at rest where the platform can (Electron's safeStorage); without
   * it the credential is kept as it is in the device database, like any browser app's session.
   */
  readonly credentials?: CredentialSealer;
}

export interface CredentialSealer {
  seal(plain: string): Promise<string>;
  unseal(sealed: string): Promise<string>;
}

/** What a sync round is doing now, for progress displays. */
export type SyncPhase = 'idle' | 'connecting' | 'pushing' | 'pulling' | 'reconciling';

/** The server could not be reached, or answered with an error the device cannot fix by retrying now. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    message: string,
    readonly status: number | null,
    /** The server's precise error code, when it sent one. */
    readonly reason: ErrorCode | null = null,
  ) {
    super(message);
  }
}

const CREDENTIAL_DOC = 'credential';
const REGISTRATION_DOC = 'registration';
/** How often a batch that arrived before earlier requests is sent again within one round. */
const GAP_ATTEMPTS = 4;
const STREAM_RETRY_MS = 500;
const STREAM_RETRY_MAX_MS = 30_000;

export class DeviceSync {
  readonly notices$ = new Subject<Notice>();
  private readonly phase = new BehaviorSubject<SyncPhase>('idle');
  private credential: DeviceCredential | null = null;
  private live: RxReplicationState<unknown, Checkpoint>[] = [];
  private readonly fetcher: typeof fetch;

  constructor(
    readonly engine: DeviceEngine,
    readonly endpoint: SyncEndpoint,
  ) {
    this.fetcher = endpoint.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The last failure of this round: RxDB passes handler errors on as plain JSON, losing the class. */
  private lastFailure: SyncError | null = null;

  private failed(error: SyncError): SyncError {
    this.lastFailure = error;
    return error;
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = {
      'x-mp-key': this.endpoint.apiKey,
      [SYNC_PROTOCOL_HEADER]: String(SYNC_PROTOCOL_VERSION),
    };
    if (this.credential !== null)
      headers['authorization'] = `Device ${this.credential.device_id}:${this.credential.device_secret}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetcher(`${this.endpoint.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw this.failed(new SyncError(`the server is unreachable: ${(error as Error).message}`, null));
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw this.failed(
        new SyncError(`the server answered ${response.status} with a body that is not JSON`, response.status),
      );
    }
    if (!response.ok) {
      const first = (json as Partial<ErrorBody> | null)?.errors?.[0];
      const message = first?.message ?? text.slice(0, 200);
      const reason = ErrorCodeSchema.safeParse(first?.reason);
      throw this.failed(
        new SyncError(
          `${method} ${path} answered ${response.status}: ${message}`,
          response.status,
          reason.success ? reason.data : null,
        ),
      );
    }
    const parsed = parseWith(schema, json);
    if (!parsed.ok)
      throw this.failed(
        new SyncError(
          `${method} ${path} answered an unexpected body: ${parsed.error.message}`,
          response.status,
        ),
      );
    return parsed.value;
  }

  get phase$(): Observable<SyncPhase> {
    return this.phase.asObservable();
  }

  /** Registers the device once (the credential is kept in the device database) and adopts the server's config. */
  async connect(): Promise<void> {
    const stored = await this.storedCredential();
    if (stored !== null) {
      this.credential = stored;
    } else {
      const credential = await this.call('POST', '/sync/v1/devices', DeviceCredentialSchema, {
        device_id: this.engine.deviceId,
        name: this.endpoint.deviceName ?? 'device',
        device_application_stamp: this.engine.das,
        device_secret: await this.registrationSecret(),
      });
      await this.storeCredential(credential);
      this.credential = credential;
    }
    const { config } = await this.call('GET', '/sync/v1/config', DeviceConfigSchema);
    if (config.scopeId !== this.engine.config.scopeId && (await this.engine.requests()).length > 0) {
      // Profiles resolved offline are stored under the workspace the device was set up for.
      throw this.failed(
        new SyncError(
          `this device holds data of workspace ${this.engine.config.scopeId}, but its API key belongs to workspace ${config.scopeId}`,
          409,
        ),
      );
    }
    await this.engine.useConfig(config);
  }

  /** Moves the "events sent" mark on (live mode sends events as they are recorded, in order). */
  private async eventsSentThrough(times: readonly number[]): Promise<void> {
    const latest = times.reduce((max, at) => Math.max(max, at), -1);
    const mark = (await readLocal<{ at: number }>(this.engine.db, EVENTS_SYNCED_DOC))?.at ?? -1;
    if (latest > mark) await this.engine.db.upsertLocal(EVENTS_SYNCED_DOC, { at: latest });
  }

  private async storedCredential(): Promise<DeviceCredential | null> {
    const stored = await readLocal<unknown>(this.engine.db, CREDENTIAL_DOC);
    if (stored === null) return null;
    const sealed = SealedCredentialSchema.safeParse(stored);
    const plain =
      sealed.success && this.endpoint.credentials !== undefined
        ? (JSON.parse(await this.endpoint.credentials.unseal(sealed.data.sealed)) as unknown)
        : stored;
    const parsed = DeviceCredentialSchema.safeParse(plain);
    if (!parsed.success)
      throw this.failed(new SyncError('the stored device credential cannot be read', null));
    return parsed.data;
  }

  private async storeCredential(credential: DeviceCredential): Promise<void> {
    const sealer = this.endpoint.credentials;
    const stored =
      sealer === undefined ? credential : { sealed: await sealer.seal(JSON.stringify(credential)) };
    await this.engine.db.upsertLocal(CREDENTIAL_DOC, stored);
  }

  /**
   * The secret this device registers with, generated and stored before the first attempt so a
   * registration whose answer was lost can be repeated with the same secret.
   */
  private async registrationSecret(): Promise<string> {
    const stored = await readLocal<{ secret: string }>(this.engine.db, REGISTRATION_DOC);
    if (stored !== null) return stored.secret;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const secret = `dev_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    await this.engine.db.upsertLocal(REGISTRATION_DOC, { secret });
    return secret;
  }

  /**
   * IDSync search (online only): which profile these identities belong to on the server. Offline
   * it answers UNAVAILABLE at once instead of waiting.
   */
  async search(identities: Record<string, string | null>): Promise<Result<IdentityResponse, ApiError>> {
    try {
      if (this.credential === null) await this.connect();
      const response = await this.call('POST', '/sync/v1/search', IdentityResponseSchema, {
        environment: this.engine.environment,
        known_identities: identities,
      });
      return ok(response);
    } catch (error) {
      if (!(error instanceof SyncError)) throw error;
      if (error.status === null)
        return err(
          apiError('UNAVAILABLE', 'search needs the server, which this device cannot reach right now'),
        );
      return err(apiError(error.reason ?? 'INTERNAL_ERROR', error.message));
    }
  }

  /** Whether the workspace's sync policy lets this device replicate now. */
  async allowed(): Promise<boolean> {
    if (this.engine.config.deviceSync === 'always') return true;
    return (await this.engine.requests()).some((r) => r.kind === 'login');
  }

  /**
   * The replications: the request log (push, and pull of results), then the profiles (pull) and
   * events (push). A single round (`once`) also runs RxDB in live mode: a non-live replication
   * waits inside its start for the first sync, so one that keeps failing could never be paused or
   * cancelled.
   */
  private replications(
    mode: 'once' | 'live',
    which: readonly ('requests' | 'profiles' | 'events')[],
    stream$?: Subject<RxReplicationPullStreamItem<unknown, Checkpoint>>,
  ): RxReplicationState<unknown, Checkpoint>[] {
    const { db } = this.engine;
    const id = `${this.endpoint.baseUrl}#${this.engine.deviceId}`;
    const pull = <D>(path: string, schema: z.ZodType<D>) => ({
      batchSize: 100,
      handler: async (checkpoint: Checkpoint | undefined, batchSize: number) =>
        this.call(
          'GET',
          `${path}?seq=${checkpoint?.seq ?? 0}&limit=${batchSize}`,
          PullResponseSchema(schema),
        ),
      ...(stream$ === undefined ? {} : { stream$: stream$.asObservable() }),
    });
    const common = {
      live: true,
      retryTime: mode === 'live' ? 2000 : 5,
      waitForLeadership: false,
      autoStart: true,
    } as const;
    const requests = () =>
      replicateRxCollection<GraphDoc, Checkpoint>({
        ...common,
        collection: db.graph,
        replicationIdentifier: `requests@${id}`,
        push: {
          batchSize: 100,
          handler: async (rows) => {
            const pending = rows.filter((row) => {
              const doc = row.newDocumentState;
              const sync = (doc.data as { sync?: { server: unknown } | null }).sync;
              return doc.kind === 'request' && sync !== null && sync !== undefined && sync.server === null;
            });
            if (pending.length === 0) return [];
            const answer = await this.pushRequests(pending);
            return answer.conflicts.map((doc) => ({
              ...doc,
              _deleted: doc._deleted ?? false,
            }));
          },
        },
        pull: pull('/sync/v1/requests/pull', SyncRequestDocSchema) as never,
      });
    const profiles = () =>
      replicateRxCollection<ProfileDoc, Checkpoint>({
        ...common,
        collection: db.profiles,
        replicationIdentifier: `profiles@${id}`,
        pull: pull('/sync/v1/profiles/pull', ProfileProjectionSchema) as never,
      });
    const events = () =>
      replicateRxCollection<EventDoc, Checkpoint>({
        ...common,
        collection: db.events,
        replicationIdentifier: `events@${id}`,
        push: {
          batchSize: 200,
          handler: async (rows) => {
            const answer = await this.call(
              'POST',
              '/sync/v1/events/push',
              PushResponseSchema(DeviceEventSchema),
              { rows },
            );
            this.report(answer.errors);
            if (mode === 'live') await this.eventsSentThrough(rows.map((r) => r.newDocumentState.at));
            return [];
          },
        },
      });
    const build = { requests, profiles, events };
    return which.map((name) => build[name]() as RxReplicationState<unknown, Checkpoint>);
  }

  /**
   * Pushes requests one batch at a time. RxDB may hand over several batches at once, and the
   * server replays a device's requests strictly in sequence, so a batch can arrive before the one
   * holding earlier requests and come back with a gap. It then waits for the batches queued behind
   * it and is sent again (the server answers requests it already applied from its record).
   */
  private async pushRequests(rows: readonly unknown[]) {
    for (let attempt = 1; ; attempt += 1) {
      const answer = await this.serialPush(() =>
        this.call('POST', '/sync/v1/requests/push', PushResponseSchema(SyncRequestDocSchema), { rows }),
      );
      const gap = answer.errors.some((e) => e.code === PushErrorCodes.gap);
      if (!gap || attempt >= GAP_ATTEMPTS) {
        // A refused request the server answered (a `forbidden` modify or alias) is recorded as
        // failed: reconciliation gives its notice, so it is not reported twice.
        const answered = new Set(answer.conflicts.map((doc) => doc.id));
        this.report(answer.errors.filter((e) => !answered.has(e.id)));
        if (gap) throw this.failed(new SyncError('the server is missing an earlier request; retrying', 409));
        return answer;
      }
      await this.serialPush.idle();
    }
  }

  private readonly serialPush = serial();

  private report(errors: readonly PushError[]): void {
    for (const e of errors) {
      if (e.code === PushErrorCodes.gap) continue;
      this.notices$.next({ kind: 'rejected', id: e.id, code: e.code, message: e.message });
    }
  }

  /**
   * One full round: push requests and events, pull results and profiles, reconcile. Rejects with a
   * `SyncError` when the server cannot be reached (the device simply stays offline).
   */
  async syncOnce(): Promise<Notice[]> {
    try {
      if (this.credential === null) {
        this.phase.next('connecting');
        await this.connect();
      }
      if (!(await this.allowed())) return [];
      this.lastFailure = null;
      const cutoff = this.engine.clock.now();
      this.phase.next('pushing');
      await this.round(this.replications('once', ['requests', 'events']));
      await this.engine.db.upsertLocal(EVENTS_SYNCED_DOC, { at: cutoff });
      // Profiles are pulled after the requests were pushed, so they already show what those did.
      this.phase.next('pulling');
      await this.round(this.replications('once', ['profiles']));
      this.phase.next('reconciling');
      const notices = await reconcile(this.engine.db, this.engine.store, this.engine.config);
      for (const notice of notices) this.notices$.next(notice);
      return notices;
    } finally {
      this.phase.next('idle');
    }
  }

  /** Runs replications until each is in sync, or rejects at the first error. */
  private async round(states: readonly RxReplicationState<unknown, Checkpoint>[]): Promise<void> {
    try {
      await Promise.all(
        states.map(
          (state) =>
            new Promise<void>((resolve, reject) => {
              const failed = state.error$.subscribe((error) => reject(this.lastFailure ?? unwrap(error)));
              state
                .awaitInitialReplication()
                .then(() => state.awaitInSync())
                .then(() => {
                  failed.unsubscribe();
                  resolve();
                }, reject);
            }),
        ),
      );
    } finally {
      // Pausing first ends RxDB's retry loops, which a cancel alone waits on forever.
      for (const state of states) void state.pause();
      await Promise.all(states.map((s) => s.cancel()));
    }
  }

  /**
   * Replicates continuously: pushes what the device records as it is recorded, and pulls whenever
   * the server's event stream says something changed (and after every reconnect). The stream
   * reconnects with backoff while the server is unreachable; `stop()` ends both.
   */
  async goLive(): Promise<void> {
    if (this.credential === null) await this.connect();
    const stream = new Subject<RxReplicationPullStreamItem<unknown, Checkpoint>>();
    const abort = new AbortController();
    this.stopStream = () => abort.abort();
    void this.readStream(stream, abort.signal);
    this.live = this.replications('live', ['requests', 'profiles', 'events'], stream);
    for (const state of this.live) state.received$.subscribe(() => void this.reconcileNow());
  }

  private stopStream: () => void = () => undefined;
  private reconciling: Promise<unknown> = Promise.resolve();

  /** Reconciles after live pulls, one at a time. */
  private reconcileNow(): Promise<void> {
    const next = this.reconciling.then(async () => {
      const notices = await reconcile(this.engine.db, this.engine.store, this.engine.config);
      for (const notice of notices) this.notices$.next(notice);
    });
    this.reconciling = next.catch(() => undefined);
    return next;
  }

  /** Reads the server-sent event stream, turning each `RESYNC` into a pull. */
  private async readStream(
    stream: Subject<RxReplicationPullStreamItem<unknown, Checkpoint>>,
    signal: AbortSignal,
  ): Promise<void> {
    let delay = STREAM_RETRY_MS;
    while (!signal.aborted) {
      try {
        const credential = this.credential as DeviceCredential;
        const response = await this.fetcher(`${this.endpoint.baseUrl}/sync/v1/stream`, {
          headers: {
            'x-mp-key': this.endpoint.apiKey,
            [SYNC_PROTOCOL_HEADER]: String(SYNC_PROTOCOL_VERSION),
            authorization: `Device ${credential.device_id}:${credential.device_secret}`,
          },
          signal,
        });
        if (!response.ok || response.body === null)
          throw new SyncError(`stream answered ${response.status}`, response.status);
        delay = STREAM_RETRY_MS;
        stream.next('RESYNC');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (event.split('\n').includes('data: RESYNC')) stream.next('RESYNC');
          }
        }
      } catch {
        // Unreachable or cut off: try again after the backoff below.
      }
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, STREAM_RETRY_MAX_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopStream();
    for (const state of this.live) void state.pause();
    await Promise.all(this.live.map((s) => s.cancel()));
    this.live = [];
    await this.reconciling;
  }
}

/** RxDB wraps handler errors; report the cause (a `SyncError`) when there is one. */
function unwrap(error: unknown): Error {
  const parameters = (error as { parameters?: { errors?: unknown[] } }).parameters;
  const cause = parameters?.errors?.[0];
  if (cause instanceof SyncError) return cause;
  return error instanceof Error ? error : new SyncError(String(error), null);
}
