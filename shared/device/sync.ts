/**
 * Device replication (SPEC SY-*, S2-*, DV-7): one `POST /sync/v2/round` per round, driven by an
 * RxDB replication whose pull handler is the round. It pushes the unanswered requests (in their
 * wire schema) and the unsent events, writes the server's results into the request log, and hands
 * the changed profile projections to RxDB. A push never fails as a whole for one bad document: the
 * server answers per-document errors, which become notices; only a gap (an earlier request
 * missing) makes the round fail and retry.
 *
 * `syncOnce` runs rounds until nothing is left and reconciles (tests, the simulator, "sync now"
 * buttons); `goLive` keeps replicating and runs a round whenever the server's stream says
 * something changed or the device records something.
 */
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import type { RxReplicationPullStreamItem } from 'rxdb/plugins/core';
import { BehaviorSubject, filter, merge, Subject, type Observable } from 'rxjs';
import { z } from 'zod';
import { apiError, ErrorCodeSchema, type ApiError, type ErrorBody } from '../protocol/errors.ts';
import { IdentityResponseSchema, type IdentityResponse } from '../protocol/idsync.ts';
import { err, ok, type Result } from '../util/result.ts';
import { serial } from '../util/serial.ts';
import { parseWith } from '../protocol/parse.ts';
import { SyncError } from './sync-error.ts';
import {
  DeviceConfigSchema,
  DeviceCredentialSchema,
  MAX_PUSH_BATCH,
  MAX_ROUND_EVENTS,
  PushErrorCodes,
  PushedRequestSchema,
  ROUND_PROTOCOL_VERSION,
  RoundResponseSchema,
  SYNC_PROTOCOL_HEADER,
  SYNC_PROTOCOL_VERSION,
  type DeviceCredential,
  type DeviceEvent,
  type PushedRequest,
  type PushError,
  type RequestResult,
  type RoundCheckpoint,
  type RoundResponse,
} from '../protocol/sync.ts';
import { readLocal, type EventDoc, type GraphDoc, type ProfileDoc } from './collections.ts';
import { requestDoc, requestDocId, requestLogQuery, type RequestData } from './rxdb-store.ts';
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

export { SyncError };

const CREDENTIAL_DOC = 'credential';
/** The highest sequence number up to which every request of the log has the server's answer. */
const ANSWERED_DOC = 'answered-through';
const NO_CHECKPOINT: RoundCheckpoint = { requests: 0, profiles: 0 };
/** Changes pulled per round and kind. */
const ROUND_LIMIT = 100;
/** Rounds one `syncOnce` runs at most while requests, events or changes are left for later. */
const MAX_ROUNDS = 50;
/** The body limit assumed until the server announces its own (the server's default). */
const DEFAULT_BODY_LIMIT = 64 * 1024;
const REGISTRATION_DOC = 'registration';
const STREAM_RETRY_MS = 500;
const STREAM_RETRY_MAX_MS = 30_000;

export class DeviceSync {
  readonly notices$ = new Subject<Notice>();
  private readonly phase = new BehaviorSubject<SyncPhase>('idle');
  private credential: DeviceCredential | null = null;
  private bodyLimit = DEFAULT_BODY_LIMIT;
  private live: RxReplicationState<ProfileDoc, RoundCheckpoint>[] = [];
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
    const { config, protocolVersion, bodyLimit } = await this.call(
      'GET',
      '/sync/v1/config',
      DeviceConfigSchema,
    );
    if (protocolVersion < ROUND_PROTOCOL_VERSION)
      throw this.failed(
        new SyncError(
          `the server speaks sync protocol ${protocolVersion}; this app needs ${ROUND_PROTOCOL_VERSION}: update the server`,
          400,
          'SYNC_PROTOCOL_UNSUPPORTED',
        ),
      );
    this.bodyLimit = bodyLimit ?? DEFAULT_BODY_LIMIT;
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
   * The device's replication (SPEC S2-9): RxDB replicates the `profiles` collection, and its pull
   * handler is the round: one call that pushes the unanswered requests and unsent events and
   * brings back the results and the changed projections. Results are written to the request log
   * here; projections go back to RxDB as the pulled documents. A single round (`once`) also runs
   * RxDB in live mode: a non-live replication waits inside its start for the first sync, so one
   * that keeps failing could never be paused or cancelled.
   */
  private replication(
    mode: 'once' | 'live',
    stream$?: Subject<RxReplicationPullStreamItem<ProfileDoc, RoundCheckpoint>>,
  ): RxReplicationState<ProfileDoc, RoundCheckpoint> {
    return replicateRxCollection<ProfileDoc, RoundCheckpoint>({
      collection: this.engine.db.profiles,
      replicationIdentifier: `round@${this.endpoint.baseUrl}#${this.engine.deviceId}`,
      live: true,
      retryTime: mode === 'live' ? 2000 : 5,
      waitForLeadership: false,
      autoStart: true,
      pull: {
        batchSize: ROUND_LIMIT,
        handler: async (checkpoint) => {
          const answer = await this.serialRound(() => this.roundTrip(checkpoint ?? NO_CHECKPOINT));
          return { documents: answer.profiles, checkpoint: answer.checkpoint };
        },
        ...(stream$ === undefined ? {} : { stream$: stream$.asObservable() }),
      },
    });
  }

  private readonly serialRound = serial();
  /** Whether the last round left requests or events behind (the body limit) or changes unpulled. */
  private unfinished = false;

  /** One `POST /sync/v2/round`, and its results written to the request log. */
  private async roundTrip(checkpoint: RoundCheckpoint): Promise<RoundResponse> {
    const { db } = this.engine;
    const through = (await readLocal<{ seq: number }>(db, ANSWERED_DOC))?.seq ?? 0;
    const rows = (await db.graph.find(requestLogQuery(through)).exec()).map(
      (doc) => doc.toJSON() as GraphDoc,
    );
    const unanswered = rows.filter((row) => (row.data as unknown as RequestData).sync?.server === null);
    const mark = (await readLocal<{ at: number }>(db, EVENTS_SYNCED_DOC))?.at ?? -1;
    const events = (
      await db.events.find({ selector: { at: { $gte: mark } }, sort: [{ at: 'asc' }] }).exec()
    ).map((doc) => eventOnWire(doc.toJSON() as EventDoc));
    const body = fitToLimit(
      unanswered.map((row) => pushedRequest(row)),
      events,
      checkpoint,
      this.bodyLimit,
    );
    const answer = await this.call('POST', '/sync/v2/round', RoundResponseSchema, body.round);
    await this.applyResults(rows, answer.results);
    // A refused request the server answered (a `forbidden` modify or alias) is recorded as
    // failed: reconciliation gives its notice, so it is not reported twice.
    const answered = new Set(answer.results.map((r) => r.requestId));
    this.report(answer.requestErrors.filter((e) => !answered.has(e.id)));
    this.report(answer.eventErrors);
    const sentThrough = body.round.events.at(-1)?.at;
    if (sentThrough !== undefined && sentThrough > mark)
      await db.upsertLocal(EVENTS_SYNCED_DOC, { at: sentThrough });
    if (answer.requestErrors.some((e) => e.code === PushErrorCodes.gap))
      throw this.failed(new SyncError('the server is missing an earlier request; retrying', 409));
    this.unfinished = body.leftBehind || answer.more;
    return answer;
  }

  /** Writes the server's results into the request rows, and moves the "all answered" mark on. */
  private async applyResults(rows: readonly GraphDoc[], results: readonly RequestResult[]): Promise<void> {
    const { db } = this.engine;
    const scopeId = this.engine.config.scopeId;
    const requestOf = (row: GraphDoc) => (row.data as unknown as RequestData).sync;
    /** The log's rows by request id (a row keeps its own id when its answer is written). */
    const local = new Map(rows.map((row) => [requestOf(row)?.requestId, row]));
    const missing = results
      .filter((r) => !local.has(r.requestId))
      .map((r) => requestDocId(scopeId, r.requestId));
    if (missing.length > 0)
      for (const doc of (await db.graph.findByIds(missing).exec()).values()) {
        const row = doc.toJSON() as GraphDoc;
        local.set(requestOf(row)?.requestId, row);
      }
    const answered: GraphDoc[] = [];
    for (const result of results) {
      const row = local.get(result.requestId);
      const data = row?.data as unknown as RequestData | undefined;
      if (row === undefined || data === undefined || data.sync === null) continue;
      const updated = {
        ...requestDoc(data.stored, { ...data.sync, server: result.server }, data.history),
        id: row.id,
        key: row.key,
      };
      local.set(result.requestId, updated);
      answered.push(updated);
    }
    // Through the store: under the device lock, and moving the head so that every page's cache
    // of the graph sees the answers (DE-2).
    if (answered.length > 0) await this.engine.store.write(answered.map((doc) => ({ id: doc.id, doc })));
    let through = (await readLocal<{ seq: number }>(db, ANSWERED_DOC))?.seq ?? 0;
    const bySeq = [...local.values()]
      .map((row) => row.data as unknown as RequestData)
      .filter((data) => data.sync !== null)
      .sort((a, b) => (a.sync?.seq ?? 0) - (b.sync?.seq ?? 0));
    for (const data of bySeq) {
      if (data.sync?.seq !== through + 1 || data.sync.server === null) break;
      through = data.sync.seq;
    }
    await db.upsertLocal(ANSWERED_DOC, { seq: through });
  }

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
      this.phase.next('pushing');
      for (let round = 0; round < MAX_ROUNDS; round += 1) {
        this.unfinished = false;
        await this.round([this.replication('once')]);
        if (!this.unfinished) break;
        this.phase.next('pulling');
      }
      this.phase.next('reconciling');
      const notices = await reconcile(this.engine.db, this.engine.store, this.engine.config);
      for (const notice of notices) this.notices$.next(notice);
      return notices;
    } finally {
      this.phase.next('idle');
    }
  }

  /** Runs replications until each is in sync, or rejects at the first error. */
  private async round(states: readonly RxReplicationState<ProfileDoc, RoundCheckpoint>[]): Promise<void> {
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
    const stream = new Subject<RxReplicationPullStreamItem<ProfileDoc, RoundCheckpoint>>();
    const abort = new AbortController();
    this.stopStream = () => abort.abort();
    void this.readStream(stream, abort.signal);
    this.live = [this.replication('live', stream)];
    for (const state of this.live) state.received$.subscribe(() => void this.reconcileNow());
    // What the device records goes out at once: each new request or event starts a round.
    const recorded = merge(this.engine.db.graph.insert$, this.engine.db.events.insert$)
      .pipe(
        filter(
          (change) =>
            change.collectionName === 'events' ||
            (change.documentData as Partial<GraphDoc>).kind === 'request',
        ),
      )
      .subscribe(() => stream.next('RESYNC'));
    this.stopRecording = () => recorded.unsubscribe();
  }

  private stopStream: () => void = () => undefined;
  private readonly serialReconcile = serial();

  /** Reconciles after live pulls, one at a time. */
  private reconcileNow(): Promise<void> {
    return this.serialReconcile(async () => {
      const notices = await reconcile(this.engine.db, this.engine.store, this.engine.config);
      for (const notice of notices) this.notices$.next(notice);
    });
  }

  /** Reads the server-sent event stream, turning each `RESYNC` into a pull. */
  private async readStream(
    stream: Subject<RxReplicationPullStreamItem<ProfileDoc, RoundCheckpoint>>,
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

  private stopRecording: () => void = () => undefined;

  async stop(): Promise<void> {
    this.stopStream();
    this.stopRecording();
    for (const state of this.live) void state.pause();
    await Promise.all(this.live.map((s) => s.cancel()));
    this.live = [];
    await this.serialReconcile.idle();
  }
}

/** RxDB wraps handler errors; report the cause (a `SyncError`) when there is one. */
function unwrap(error: unknown): Error {
  const parameters = (error as { parameters?: { errors?: unknown[] } }).parameters;
  const cause = parameters?.errors?.[0];
  if (cause instanceof SyncError) return cause;
  return error instanceof Error ? error : new SyncError(String(error), null);
}

/** A request row of the log as v2 pushes it: the request alone (S2-8). */
function pushedRequest(row: GraphDoc): PushedRequest {
  return PushedRequestSchema.parse((row.data as unknown as RequestData).sync);
}

function eventOnWire(event: EventDoc): DeviceEvent {
  return {
    id: event.id,
    requestId: event.requestId,
    type: event.type,
    name: event.name,
    data: event.data,
    at: event.at,
  };
}

/**
 * The round's body, within the server's body limit (S2-7): requests first, in order, then events,
 * each only while the body stays under the limit (one request at least, so a round always moves).
 */
function fitToLimit(
  requests: readonly PushedRequest[],
  events: readonly DeviceEvent[],
  checkpoint: RoundCheckpoint,
  limit: number,
): {
  round: { checkpoint: RoundCheckpoint; requests: PushedRequest[]; events: DeviceEvent[]; limit: number };
  leftBehind: boolean;
} {
  const round = {
    checkpoint,
    requests: [] as PushedRequest[],
    events: [] as DeviceEvent[],
    limit: ROUND_LIMIT,
  };
  // Room for the envelope and the separators.
  let size = JSON.stringify(round).length + 64;
  const budget = Math.floor(limit * 0.95);
  const take = <T>(items: readonly T[], into: T[], max: number): boolean => {
    for (const item of items) {
      const bytes = new TextEncoder().encode(JSON.stringify(item)).length + 1;
      const first = round.requests.length === 0 && round.events.length === 0;
      if (into.length >= max || (size + bytes > budget && !first)) return true;
      into.push(item);
      size += bytes;
    }
    return false;
  };
  const requestsLeft = take(requests, round.requests, MAX_PUSH_BATCH);
  const eventsLeft = requestsLeft || take(events, round.events, MAX_ROUND_EVENTS);
  return { round, leftBehind: requestsLeft || eventsLeft };
}
