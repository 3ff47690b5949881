/**
 * Device replication (SPEC SY-*, DV-7): RxDB replications against the server's `/sync/v1`
 * endpoints. Requests are pushed in order (the server replays them and answers each with its
 * result) and pulled back with checkpoints; profile projections are pulled; events are pushed.
 * A push never fails as a whole for one bad document: the server answers per-document errors,
 * which become notices; only a gap (an earlier request missing) makes the push retry.
 *
 * `syncOnce` runs one full round and reconciles (tests, the simulator, "sync now" buttons);
 * `startLive` keeps replicating and pulls whenever the server's stream says something changed.
 */
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import type { RxReplicationPullStreamItem } from 'rxdb/plugins/core';
import { Subject } from 'rxjs';
import type { z } from 'zod';
import type { ErrorBody } from '../protocol/errors.ts';
import { parseWith } from '../protocol/parse.ts';
import {
  DeviceConfigSchema,
  DeviceCredentialSchema,
  DeviceEventSchema,
  ProfileProjectionSchema,
  PullResponseSchema,
  PushResponseSchema,
  SyncRequestDocSchema,
  type Checkpoint,
  type DeviceCredential,
  type PushError,
} from '../protocol/sync.ts';
import { readLocal, type EventDoc, type GraphDoc, type ProfileDoc } from './collections.ts';
import type { DeviceEngine } from './engine.ts';
import { reconcile, type Notice } from './reconcile.ts';

export interface SyncEndpoint {
  /** The server's base URL, e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  /** The input (API) key of the app. */
  readonly apiKey: string;
  readonly fetch?: typeof fetch;
  /** A device name shown to admins. */
  readonly deviceName?: string;
}

/** The server could not be reached, or answered with an error the device cannot fix by retrying now. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

const CREDENTIAL_DOC = 'credential';

export class DeviceSync {
  readonly notices$ = new Subject<Notice>();
  private credential: DeviceCredential | null = null;
  private live: RxReplicationState<unknown, Checkpoint>[] = [];
  private readonly fetcher: typeof fetch;

  constructor(
    readonly engine: DeviceEngine,
    readonly endpoint: SyncEndpoint,
  ) {
    this.fetcher = endpoint.fetch ?? ((input, init) => fetch(input, init));
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = { 'x-mp-key': this.endpoint.apiKey };
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
      throw new SyncError(`the server is unreachable: ${(error as Error).message}`, null);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new SyncError(
        `the server answered ${response.status} with a body that is not JSON`,
        response.status,
      );
    }
    if (!response.ok) {
      const message = (json as Partial<ErrorBody> | null)?.errors?.[0]?.message ?? text.slice(0, 200);
      throw new SyncError(`${method} ${path} answered ${response.status}: ${message}`, response.status);
    }
    const parsed = parseWith(schema, json);
    if (!parsed.ok)
      throw new SyncError(
        `${method} ${path} answered an unexpected body: ${parsed.error.message}`,
        response.status,
      );
    return parsed.value;
  }

  /** Registers the device once (the credential is kept in the device database) and adopts the server's config. */
  async connect(): Promise<void> {
    const stored = await readLocal<DeviceCredential>(this.engine.db, CREDENTIAL_DOC);
    if (stored !== null) {
      this.credential = stored;
    } else {
      const credential = await this.call('POST', '/sync/v1/devices', DeviceCredentialSchema, {
        device_id: this.engine.deviceId,
        name: this.endpoint.deviceName ?? 'device',
        device_application_stamp: this.engine.das,
      });
      await this.engine.db.insertLocal(CREDENTIAL_DOC, credential);
      this.credential = credential;
    }
    const { config } = await this.call('GET', '/sync/v1/config', DeviceConfigSchema);
    await this.engine.useConfig(config);
  }

  /** Whether the workspace's sync policy lets this device replicate now. */
  async allowed(): Promise<boolean> {
    if (this.engine.config.deviceSync === 'always') return true;
    return (await this.engine.requests()).some((r) => r.kind === 'login');
  }

  private replications(live: boolean, stream$?: Subject<RxReplicationPullStreamItem<unknown, Checkpoint>>) {
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
    const common = { live, retryTime: live ? 2000 : 5, waitForLeadership: false, autoStart: true } as const;
    const requests = replicateRxCollection<GraphDoc, Checkpoint>({
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
          const answer = await this.call(
            'POST',
            '/sync/v1/requests/push',
            PushResponseSchema(SyncRequestDocSchema),
            { rows: pending },
          );
          this.report(answer.errors);
          if (answer.errors.some((e) => e.code === 'gap'))
            throw new SyncError('the server is missing an earlier request; retrying', 409);
          return answer.conflicts.map((doc) => ({
            ...doc,
            _deleted: doc._deleted ?? false,
          }));
        },
      },
      pull: pull('/sync/v1/requests/pull', SyncRequestDocSchema) as never,
    });
    const profiles = replicateRxCollection<ProfileDoc, Checkpoint>({
      ...common,
      collection: db.profiles,
      replicationIdentifier: `profiles@${id}`,
      pull: pull('/sync/v1/profiles/pull', ProfileProjectionSchema) as never,
    });
    const events = replicateRxCollection<EventDoc, Checkpoint>({
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
          return [];
        },
      },
    });
    return [requests, profiles, events] as RxReplicationState<unknown, Checkpoint>[];
  }

  private report(errors: readonly PushError[]): void {
    for (const e of errors) {
      if (e.code === 'gap') continue;
      this.notices$.next({ kind: 'rejected', id: e.id, code: e.code, message: e.message });
    }
  }

  /**
   * One full round: push requests and events, pull results and profiles, reconcile. Rejects with a
   * `SyncError` when the server cannot be reached (the device simply stays offline).
   */
  async syncOnce(): Promise<Notice[]> {
    if (this.credential === null) await this.connect();
    if (!(await this.allowed())) return [];
    const states = this.replications(false);
    try {
      await Promise.all(
        states.map(
          (state) =>
            new Promise<void>((resolve, reject) => {
              const failed = state.error$.subscribe((error) => reject(unwrap(error)));
              state.awaitInitialReplication().then(() => {
                failed.unsubscribe();
                resolve();
              }, reject);
            }),
        ),
      );
    } finally {
      await Promise.all(states.map((s) => s.cancel()));
    }
    const notices = await reconcile(this.engine.db, this.engine.store, this.engine.config);
    for (const notice of notices) this.notices$.next(notice);
    return notices;
  }

  /** Replicates continuously, pulling when `stream` (the server's event stream) says so. */
  async startLive(stream: Subject<RxReplicationPullStreamItem<unknown, Checkpoint>>): Promise<void> {
    if (this.credential === null) await this.connect();
    this.live = this.replications(true, stream);
    for (const state of this.live) {
      state.received$.subscribe(() => {
        void reconcile(this.engine.db, this.engine.store, this.engine.config).then((notices) => {
          for (const notice of notices) this.notices$.next(notice);
        });
      });
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.live.map((s) => s.cancel()));
    this.live = [];
  }
}

/** RxDB wraps handler errors; report the cause (a `SyncError`) when there is one. */
function unwrap(error: unknown): Error {
  const parameters = (error as { parameters?: { errors?: unknown[] } }).parameters;
  const cause = parameters?.errors?.[0];
  if (cause instanceof SyncError) return cause;
  return error instanceof Error ? error : new SyncError(String(error), null);
}
