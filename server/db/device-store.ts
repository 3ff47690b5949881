/**
 * Devices on the server (SPEC SY-*): registration and credentials, the replay of each device's
 * request log in sequence order, the per-device change feed the devices pull, the profiles each
 * device may see, and the events devices push.
 *
 * Replay rules: a request is applied once (a replayed sequence number answers the stored result);
 * a sequence number ahead of the next expected one is a gap, refused without side effects; a
 * request that fails still advances the sequence, with the error recorded, so one bad request
 * never wedges the queue. `previous_mpid` and the MPIDs a modify or alias names are translated
 * from the device's provisional MPIDs to canonical ones, and a profile the device created offline
 * keeps the device's MPID when the server also creates it and the MPID is free.
 *
 * Trust (SPEC HT-1): a device's modify and alias may name only profiles in its view (those its own
 * requests resolved to), after translation. Anything else is answered `FORBIDDEN` without running,
 * and whether the profile exists is not revealed.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import type { Environment, ScopeConfig } from '../../shared/identity/scope-config.ts';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import {
  PushErrorCodes,
  type DeviceEvent,
  type DeviceRegistration,
  type ProfileProjection,
  type PushError,
  type PushErrorCode,
  type PushedRequest,
  type RequestResult,
  type RoundCheckpoint,
  type ServerResult,
  type SyncedRequestKind,
  type SyncRequestDoc,
} from '../../shared/protocol/sync.ts';
import { resolveOptions } from '../../shared/resolver/context.ts';
import { failure } from '../../shared/resolver/outcome.ts';
import { programFor, responseOf, type OutcomeOf } from '../../shared/resolver/program-for.ts';
import type { AliasRecord } from '../../shared/resolver/records.ts';
import type { Program } from '../../shared/resolver/store-port.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import type { RandomSource } from '../../shared/util/random.ts';
import { err, ok, type Result } from '../../shared/util/result.ts';
import { randomToken, safeEqual, sha256Hex } from '../auth/secrets.ts';
import { translateDeviceRequest, type MpidMeaning } from '../device-translation.ts';
import type { DatabaseHandle } from './connect.ts';
import type { Database, DeviceRequestsTable, DevicesTable, ProfilesTable } from './schema.ts';
import { deviceLogObserver } from './device-observer.ts';
import type { IdentityStorePort } from './identity-store-port.ts';
import { rows, run, SqlTexts, writeRows, type SqlRun } from './sql-statements.ts';

/**
 * How long a device found by its credential is trusted without reading it again: revocation on
 * this server forgets it at once; another server on the same database sees it within this time.
 */
const CREDENTIAL_TTL_MS = 5_000;
const MAX_CACHED_CREDENTIALS = 50_000;

/**
 * A device found by its credential, trusted until `until` (S2-10), with the secret that last
 * matched its hash (`verified`; DR-6): kept in memory no longer than the entry.
 */
interface CachedCredential {
  readonly device: Device;
  readonly until: number;
  verified: string | null;
}

export interface Device {
  readonly id: string;
  readonly workspaceId: string;
  readonly inputKey: string;
  readonly name: string;
  readonly das: string;
  readonly secretHash: string;
  readonly nextSeq: number;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly revoked: boolean;
}

/** `doc`: the answer as the protocol version asks for it (v1 the RxDB row, v2 the result). */
export type ReplayOutcome<T = SyncRequestDoc> =
  | { readonly kind: 'applied' | 'replayed'; readonly doc: T }
  /** Answered (recorded as failed, so the log moves on) and reported as a per-document error. */
  | { readonly kind: 'refused'; readonly doc: T; readonly error: PushError }
  | { readonly kind: 'rejected'; readonly error: PushError; readonly gap: boolean };

type RequestRow = DeviceRequestsTable;

/** A stored request as read back, with the trace the identity store keeps for it (DR-8). */
type ReadRequestRow = RequestRow & { readonly kept_trace: string | null };

/** The device's answer and the server's to one of its identity requests. */
interface IdentityAnswer {
  readonly provisional_mpid: string | null;
  readonly canonical_mpid: string | null;
}

const IDENTITY_KINDS: ReadonlySet<PushedRequest['kind']> = new Set(['identify', 'login', 'logout']);

/**
 * What the replays of one run (a v2 round, or a v1 request) share (SPEC DR-3). Read once, then
 * kept as the replays change them: the device's next sequence number, its latest identity answer
 * and the workspace config (nothing else writes them while the run holds the device's lock and
 * the write transaction). Written once: a view or a supplied identity an earlier replay of the run
 * wrote. Left for `flush` at the end of the run: the device's position and the feed entries.
 */
class ReplayState {
  nextSeq: number | null = null;
  advancedAt: number | null = null;
  lastIdentity: IdentityAnswer | undefined = undefined;
  config: ScopeConfig | null | undefined = undefined;
  /** Profiles the replays resolved to, each once. */
  readonly views: string[] = [];
  /** Identities the replays carried, each once. */
  readonly supplied: SuppliedIdentity[] = [];
  private readonly suppliedKeys = new Set<string>();
  readonly feed: ['request' | 'profile', string][] = [];

  advanced(nextSeq: number, at: number): void {
    this.nextSeq = nextSeq;
    this.advancedAt = at;
  }

  view(mpid: string): void {
    if (!this.views.includes(mpid)) this.views.push(mpid);
  }

  supply(identity: SuppliedIdentity): void {
    const key = identity.join('\u0001');
    if (this.suppliedKeys.has(key)) return;
    this.suppliedKeys.add(key);
    this.supplied.push(identity);
  }
}

/** What a v2 round pushes (SPEC S2-9). */
export interface RoundPush {
  readonly requests: readonly PushedRequest[];
  readonly events: readonly DeviceEvent[];
  readonly checkpoint: RoundCheckpoint;
  readonly limit: number;
}

/** What changed for a device since its checkpoint. */
export interface DeviceChanges {
  readonly results: RequestResult[];
  readonly profiles: ProfileProjection[];
  readonly checkpoint: RoundCheckpoint;
  readonly more: boolean;
}

/** A round's answer, but for the errors of documents that did not parse. */
export interface RoundAnswer extends DeviceChanges {
  readonly requestErrors: PushError[];
  /** How many pushed requests the server answered (applied, refused or replayed). */
  readonly answered: number;
}

/** A pushed request as the replay reads it: its id, its fields, and the document stored for it. */
interface Pushed {
  readonly id: string;
  readonly sync: PushedRequest;
  readonly stored: string;
}

/** What lean storage asks of the device store (LS-3, LS-6). */
export interface DeviceStoreLean {
  /** Told of every request answered (applied or refused), after it committed: the request log. */
  readonly onAnswered?: (workspaceId: string, request: PushedRequest, server: ServerResult) => void;
  /** Coarse last-seen for the profiles device requests return. */
  readonly lastSeenResolutionMs?: number;
}

/** One applied device request, as a serial replay needs it. */
export interface ReplayEntry {
  readonly seq: number;
  readonly at: number;
  readonly deviceId: string;
  readonly requestId: string;
  readonly kind: SyncRequestDoc['data']['sync']['kind'];
  readonly body: Record<string, unknown>;
  /** The MPID the request created on the server, if it created one. */
  readonly createdMpid: string | null;
  /** The MPID it resolved to (modify target, alias destination). */
  readonly mpid: string | null;
  readonly response: unknown;
  readonly status: ServerResult['status'];
  readonly provisionalMpid: string | null;
  readonly createdProvisional: boolean;
}

/**
 * The request as the device pushed it: v1 pushed its RxDB row (stored as it came), v2 the request
 * alone (SPEC S2-8).
 */
function pushedRequestOf(stored: string): PushedRequest {
  const pushed = JSON.parse(stored) as SyncRequestDoc | PushedRequest;
  return 'data' in pushed ? pushed.data.sync : pushed;
}

/** A request pushed through v2, as a v1 pull shows it (a device moving back to v1 finds its log). */
function v1Row(request: PushedRequest): SyncRequestDoc {
  const { requestId } = request;
  return {
    id: `request|${requestId}`,
    kind: 'request',
    key: requestId,
    mpid: '',
    seq: request.seq,
    due: -1,
    source: '',
    destination: '',
    data: { stored: null, sync: { ...request, server: null } },
  };
}

/** A stored request and the server's result for it (parsed once, or as the replay built it). */
interface Answered {
  readonly row: RequestRow;
  readonly server: ServerResult;
}

/** A request the replay answered, with the request as pushed (for the request log). */
interface Replayed extends Answered {
  readonly sync: PushedRequest;
}

/** A stored result, its trace put back from the identity store's copy when it left it out (DR-8). */
function storedResult(result: string, keptTrace: string | null): ServerResult {
  const server = JSON.parse(result) as ServerResult;
  if (server.trace !== null || keptTrace === null) return server;
  return { ...server, trace: JSON.parse(keptTrace) as unknown };
}

function storedAnswer(row: ReadRequestRow): Answered {
  return { row, server: storedResult(row.result, row.kept_trace) };
}

/**
 * The program, watched for the request its commit stores: `kept` tells whether the identity store
 * keeps the request's trace (LS-1), so the device log need not store a second copy (DR-8).
 */
function* watchingCommit<R>(program: Program<R>, seen: { kept: boolean }): Program<R> {
  let step = program.next();
  while (step.done !== true) {
    const call = step.value;
    if (call.op === 'commit') seen.kept = (call.args[0].request?.trace ?? null) !== null;
    step = program.next(yield call);
  }
  return step.value;
}

/** The same outcome with its answer as the protocol version asks for it. */
function answerWith<T>(
  outcome: ReplayOutcome<Replayed>,
  answer: (answered: Answered) => T,
): ReplayOutcome<T> {
  return outcome.kind === 'rejected' ? outcome : { ...outcome, doc: answer(outcome.doc) };
}

/** A request pushed through v2, as the replay takes it: stored as the wire request itself. */
function pushedRequest(request: PushedRequest): Pushed {
  return { id: request.requestId, sync: request, stored: JSON.stringify(request) };
}

/** The server's answer to a stored request, as v2 sends it. */
function requestResult({ row, server }: Answered): RequestResult {
  return { requestId: row.request_id, seq: row.seq, server };
}

function masterDoc({ row, server }: Answered): SyncRequestDoc {
  const stored = JSON.parse(row.doc) as SyncRequestDoc | PushedRequest;
  const pushed = 'data' in stored ? stored : v1Row(stored);
  return {
    ...pushed,
    mpid: server.mpid ?? pushed.data.sync.provisionalMpid ?? '',
    data: { ...pushed.data, sync: { ...pushed.data.sync, server } },
    _deleted: false,
  };
}

/** An identity a device supplied: environment, type, value. */
type SuppliedIdentity = [string, IdentityType, string];

/** The identities a request carried, as the server normalised them, for the device's projections. */
function suppliedBy(trace: ExplainTrace | null, environment: Environment): SuppliedIdentity[] {
  if (trace === null) return [];
  const out: SuppliedIdentity[] = [];
  for (const i of trace.identities)
    if (i.use === 'lookup' || i.use === 'ignored_in_logout') out.push([environment, i.identityType, i.value]);
  for (const w of trace.writes)
    if (w.action === 'add_identity' && w.identityType !== null && w.value !== null)
      out.push([environment, w.identityType, w.value]);
  return out;
}

/** A stored event or attribute change, as admins read it. */
export interface DeviceEventRow {
  readonly deviceId: string;
  readonly id: string;
  readonly requestId: string;
  readonly type: string;
  readonly name: string;
  readonly data: unknown;
  readonly at: number;
}

/**
 * The device log (SPEC SS-6): it reaches the identity store only through `IdentityStorePort`, and
 * registers itself as the store's observer for change feeds and deletions (SS-7).
 */
export class DeviceStore {
  private readonly texts: SqlTexts;

  constructor(
    private readonly handle: DatabaseHandle,
    private readonly store: IdentityStorePort,
    private readonly now: () => number = Date.now,
    private readonly lean: DeviceStoreLean = {},
  ) {
    this.texts = new SqlTexts(handle.db, handle.dialect);
    store.observe(deviceLogObserver(this.texts));
  }

  /**
   * The last-seen resolution its requests resolve with (LS-3): a serial replay of `replayLog` must
   * use it too, since the A4 tie-break compares the coarse times it leaves.
   */
  get lastSeenResolutionMs(): number {
    return this.lean.lastSeenResolutionMs ?? 0;
  }

  private get db(): Kysely<Database> {
    return this.handle.db;
  }

  /** Registers a device; the secret is returned once and stored as a hash. */
  async register(
    workspaceId: string,
    inputKey: string,
    registration: DeviceRegistration,
  ): Promise<Result<{ device_id: string; device_secret: string }, ApiError>> {
    const existing = await this.db
      .selectFrom('devices')
      .select(['workspace_id', 'secret_hash', 'revoked_at'])
      .where('id', '=', registration.device_id)
      .executeTakeFirst();
    if (existing !== undefined) {
      const retried =
        registration.device_secret !== undefined &&
        existing.workspace_id === workspaceId &&
        existing.revoked_at === null &&
        safeEqual(existing.secret_hash, sha256Hex(registration.device_secret));
      return retried
        ? ok({ device_id: registration.device_id, device_secret: registration.device_secret as string })
        : err(
            apiError(
              'CONFLICT',
              `device ${registration.device_id} is already registered; use its credential`,
              'device_id',
            ),
          );
    }
    const secret = registration.device_secret ?? `dev_${randomToken(32)}`;
    const at = this.now();
    await this.db
      .insertInto('devices')
      .values({
        id: registration.device_id,
        workspace_id: workspaceId,
        input_key: inputKey,
        name: registration.name,
        das: registration.device_application_stamp,
        secret_hash: sha256Hex(secret),
        next_seq: 1,
        created_at: at,
        last_seen_at: at,
        revoked_at: null,
      })
      .execute();
    return ok({ device_id: registration.device_id, device_secret: secret });
  }

  /** The device with this id, read with a compiled statement (every credential check misses the cache once). */
  async find(id: string): Promise<Device | null> {
    const found = await this.db.executeQuery<DevicesTable>(
      CompiledQuery.raw(this.texts.device.deviceById, [id]),
    );
    const row = found.rows[0];
    if (row === undefined) return null;
    return {
      id: row.id,
      workspaceId: row.workspace_id,
      inputKey: row.input_key,
      name: row.name,
      das: row.das,
      secretHash: row.secret_hash,
      nextSeq: row.next_seq,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      revoked: row.revoked_at !== null,
    };
  }

  verify(device: Device, secret: string): boolean {
    return !device.revoked && safeEqual(sha256Hex(secret), device.secretHash);
  }

  async list(workspaceId: string): Promise<Omit<Device, 'secretHash'>[]> {
    const found = await this.db
      .selectFrom('devices')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at')
      .execute();
    const devices: Omit<Device, 'secretHash'>[] = [];
    for (const { id } of found) {
      const device = await this.find(id);
      if (device !== null) {
        devices.push({
          id: device.id,
          workspaceId: device.workspaceId,
          inputKey: device.inputKey,
          name: device.name,
          das: device.das,
          nextSeq: device.nextSeq,
          createdAt: device.createdAt,
          lastSeenAt: device.lastSeenAt,
          revoked: device.revoked,
        });
      }
    }
    return devices;
  }

  async revoke(workspaceId: string, id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('devices')
      .set({ revoked_at: this.now() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    this.credentials.delete(id);
    return Number(result.numUpdatedRows) > 0;
  }

  /** Replays one request pushed through v1 (see the module docblock), in its own transaction. */
  replay(device: Device, doc: SyncRequestDoc, random: RandomSource): Promise<ReplayOutcome> {
    const pushed = { id: doc.id, sync: doc.data.sync, stored: JSON.stringify(doc) };
    return this.replayOne(device, pushed, random, masterDoc);
  }

  /** Replays one request pushed through v2 (the wire request, not the device's row), in its own transaction. */
  replayRequest(
    device: Device,
    request: PushedRequest,
    random: RandomSource,
  ): Promise<ReplayOutcome<RequestResult>> {
    return this.replayOne(device, pushedRequest(request), random, requestResult);
  }

  /** One pushed request replayed in its own transaction, its answer told, then shaped by `answer`. */
  private async replayOne<T>(
    device: Device,
    pushed: Pushed,
    random: RandomSource,
    answer: (answered: Answered) => T,
  ): Promise<ReplayOutcome<T>> {
    const outcome = await this.store.runSql(() => this.replayAlone(device, pushed, random));
    this.tellAnswered(device, [outcome]);
    return answerWith(outcome, answer);
  }

  private *replayAlone(
    device: Device,
    pushed: Pushed,
    random: RandomSource,
  ): SqlRun<ReplayOutcome<Replayed>> {
    const state = new ReplayState();
    const outcome = yield* this.replayRun(device, pushed, random, state);
    yield* this.flush(device.id, state);
    return outcome;
  }

  /**
   * One v2 round (SPEC S2-9, DR-2): the pushed requests replayed in sequence order (after a gap,
   * every later one is a gap too), the events stored, then what changed for the device since its
   * checkpoint, all in one transaction; the request log is told after it committed. A round that
   * pushes nothing only reads, in a read-only transaction (`changesSince`).
   */
  async round(device: Device, push: RoundPush, random: RandomSource): Promise<RoundAnswer> {
    if (push.requests.length === 0 && push.events.length === 0) {
      const changes = await this.changesSince(device.id, push.checkpoint, push.limit);
      return { requestErrors: [], answered: 0, ...changes };
    }
    const requests = [...push.requests].sort((a, b) => a.seq - b.seq);
    const ran = await this.store.runSql(() => this.roundRun(device, requests, push, random));
    this.tellAnswered(device, ran.outcomes);
    return ran.answer;
  }

  private *roundRun(
    device: Device,
    requests: readonly PushedRequest[],
    push: RoundPush,
    random: RandomSource,
  ): SqlRun<{ outcomes: ReplayOutcome<Replayed>[]; answer: RoundAnswer }> {
    const state = new ReplayState();
    const outcomes: ReplayOutcome<Replayed>[] = [];
    const requestErrors: PushError[] = [];
    const answered = new Map<string, RequestResult>();
    let gap = false;
    for (const request of requests) {
      if (gap) {
        requestErrors.push({
          id: request.requestId,
          code: PushErrorCodes.gap,
          message: 'an earlier request of this device is missing',
        });
        continue;
      }
      const pushed = pushedRequest(request);
      const outcome = yield* this.replayRun(device, pushed, random, state);
      outcomes.push(outcome);
      if (outcome.kind === 'rejected') {
        requestErrors.push(outcome.error);
        gap = outcome.gap;
        continue;
      }
      answered.set(request.requestId, requestResult(outcome.doc));
      if (outcome.kind === 'refused') requestErrors.push(outcome.error);
    }
    yield* this.flush(device.id, state);
    yield* this.eventsRun(device.id, push.events);
    const changes = yield* this.changesRun(device.id, push.checkpoint, push.limit, answered);
    return { outcomes, answer: { requestErrors, answered: answered.size, ...changes } };
  }

  /** Tells the request log of every request answered (applied or refused), once it committed (LS-6). */
  private tellAnswered(device: Device, outcomes: readonly ReplayOutcome<Replayed>[]): void {
    const onAnswered = this.lean.onAnswered;
    if (onAnswered === undefined) return;
    for (const outcome of outcomes)
      if (outcome.kind === 'applied' || outcome.kind === 'refused')
        onAnswered(device.workspaceId, outcome.doc.sync, outcome.doc.server);
  }

  /**
   * Replays one request inside a run whose other replays share `state` (see `ReplayState`); the
   * run ends with `flush`.
   */
  private *replayRun(
    device: Device,
    pushed: Pushed,
    random: RandomSource,
    state: ReplayState,
  ): SqlRun<ReplayOutcome<Replayed>> {
    const texts = this.texts.device;
    const sync = pushed.sync;
    const reject = (code: PushErrorCode, message: string, gap = false): ReplayOutcome<Replayed> => ({
      kind: 'rejected',
      error: { id: pushed.id, code, message },
      gap,
    });
    if (sync.deviceId !== device.id)
      return reject(PushErrorCodes.forbidden, 'this request belongs to another device');
    yield* this.store.lock([`d\u0001${device.id}`]);
    if (state.nextSeq === null) {
      const [position] = yield* rows<{ next_seq: number }>(texts.deviceNextSeq, [device.id]);
      state.nextSeq = position?.next_seq ?? 1;
    }
    const expected = state.nextSeq;
    if (sync.seq < expected) {
      // Only a request the device already pushed can sit below its position.
      const [existing] = yield* rows<ReadRequestRow>(texts.deviceRequestAt, [device.id, sync.seq]);
      if (existing !== undefined)
        return existing.request_id === sync.requestId
          ? { kind: 'replayed', doc: { ...storedAnswer(existing), sync } }
          : reject(
              PushErrorCodes.seq_conflict,
              `sequence ${sync.seq} already holds request ${existing.request_id}`,
            );
    }
    if (sync.seq !== expected)
      return reject(
        PushErrorCodes.gap,
        `expected request ${expected} of this device before ${sync.seq}`,
        true,
      );

    /**
     * The server's MPID for one the device named. A profile the device created offline is the
     * profile the server resolved its creating request to (`profile`). The current user (previous
     * MPID, modify target) is, when it is the device's answer to its latest identity request, the
     * server's answer to that request (`current`): after an offline login the server sent
     * elsewhere, the device's later requests act for the customer the server found.
     */
    const translate = function* (mpid: string, meaning: MpidMeaning): SqlRun<string> {
      if (meaning === 'current') {
        const last =
          state.lastIdentity ??
          (yield* rows<IdentityAnswer>(texts.lastIdentityAnswer, [
            device.id,
            'identify',
            'login',
            'logout',
            1,
          ]))[0];
        if (last !== undefined && last.provisional_mpid === mpid && last.canonical_mpid !== null)
          return last.canonical_mpid;
      }
      const [first] = yield* rows<{ canonical_mpid: string | null }>(texts.firstAnswerWith, [
        device.id,
        mpid,
        1,
      ]);
      return first?.canonical_mpid ?? mpid;
    };
    const now = this.now();
    const call = yield* translateDeviceRequest(sync, translate);
    const refusal = (yield* this.viewsAll(device.id, call.named, state))
      ? null
      : apiError('FORBIDDEN', `this device may ${sync.kind} only profiles its own requests resolved to`);
    let outcome: OutcomeOf[SyncedRequestKind];
    const stored = { kept: false };
    if (refusal !== null) outcome = failure(refusal);
    else {
      if (state.config === undefined) state.config = yield* this.store.config(device.workspaceId);
      const config = state.config;
      if (config === null)
        return reject(PushErrorCodes.workspace_missing, 'the workspace of this device no longer exists');
      outcome = yield* this.store.drive(
        watchingCommit(
          programFor(
            call.kind,
            call.request,
            resolveOptions({
              config,
              random,
              now,
              actor: { kind: 'device', id: device.id },
              preferredMpid: sync.createdProvisional ? sync.provisionalMpid : null,
              lastSeenResolutionMs: this.lean.lastSeenResolutionMs,
            }),
          ),
          stored,
        ),
      );
    }

    const server: ServerResult = outcome.ok
      ? {
          status: 'applied',
          mpid: outcome.value.trace.result.mpid,
          response: responseOf(outcome.value),
          error: null,
          trace: outcome.value.trace,
          processedAt: now,
        }
      : {
          status: 'failed',
          mpid: null,
          response: null,
          error: { code: outcome.error.error.code, message: outcome.error.error.message },
          trace: outcome.error.trace,
          processedAt: now,
        };
    const row: RequestRow = {
      device_id: device.id,
      seq: sync.seq,
      request_id: sync.requestId,
      kind: sync.kind,
      doc: pushed.stored,
      resolved_body: JSON.stringify(call.request.body),
      provisional_mpid: sync.provisionalMpid,
      canonical_mpid: server.mpid,
      status: server.status,
      result: JSON.stringify(stored.kept ? { ...server, trace: null } : server),
      received_at: now,
    };
    yield* run(texts.insertDeviceRequest, [
      row.device_id,
      row.seq,
      row.request_id,
      row.kind,
      row.doc,
      row.resolved_body,
      row.provisional_mpid,
      row.canonical_mpid,
      row.status,
      row.result,
      row.received_at,
    ]);
    state.advanced(sync.seq + 1, now);
    state.feed.push(['request', sync.requestId]);
    if (IDENTITY_KINDS.has(sync.kind))
      state.lastIdentity = { provisional_mpid: row.provisional_mpid, canonical_mpid: row.canonical_mpid };
    if (server.mpid !== null) state.view(server.mpid);
    for (const identity of suppliedBy(outcome.ok ? outcome.value.trace : null, sync.environment))
      state.supply(identity);
    const answered = { row, server, sync };
    return refusal === null
      ? { kind: 'applied', doc: answered }
      : {
          kind: 'refused',
          doc: answered,
          error: { id: pushed.id, code: PushErrorCodes.forbidden, message: refusal.message },
        };
  }

  /**
   * The writes the replays of a run left for its end: the profiles the device now views and the
   * identities it supplied (each put on its profile feed when new to it: its projection changed),
   * the device's position and the feed entries.
   */
  private *flush(deviceId: string, state: ReplayState): SqlRun<void> {
    const texts = this.texts;
    if (state.views.length > 0) {
      const added = yield* writeRows<{ mpid: string }>(
        texts.insertViews(state.views.length),
        state.views.flatMap((mpid) => [deviceId, mpid]),
      );
      for (const { mpid } of added) state.feed.push(['profile', mpid]);
    }
    if (state.supplied.length > 0) {
      const added = yield* writeRows<{ environment: string; identity_type: string; value: string }>(
        texts.insertSupplied(state.supplied.length),
        state.supplied.flatMap((identity) => [deviceId, ...identity]),
      );
      if (added.length > 0)
        yield* run(texts.feedViewsHolding(added.length), [
          'profile',
          deviceId,
          ...added.flatMap((i) => [i.environment, i.identity_type, i.value]),
        ]);
    }
    if (state.advancedAt !== null)
      yield* run(texts.device.advanceDevice, [state.nextSeq, state.advancedAt, deviceId]);
    if (state.feed.length > 0)
      yield* run(
        this.texts.feedRows(state.feed.length),
        state.feed.flatMap(([kind, key]) => [deviceId, kind, key]),
      );
  }

  /** Whether every named profile (none named: trivially) is in the device's view, or will be at the end of this run. */
  private *viewsAll(deviceId: string, mpids: readonly string[], state: ReplayState): SqlRun<boolean> {
    for (const mpid of mpids) {
      if (state.views.includes(mpid)) continue;
      const [viewed] = yield* rows<{ mpid: string }>(this.texts.device.viewOf, [deviceId, mpid]);
      if (viewed === undefined) return false;
    }
    return true;
  }

  /** The device's replayed requests changed since the checkpoint. */
  pullRequests(
    deviceId: string,
    after: number,
    limit: number,
  ): Promise<{ documents: SyncRequestDoc[]; checkpoint: { seq: number } }> {
    return this.store.runSql(() => this.pullRequestsRun(deviceId, after, limit));
  }

  private *pullRequestsRun(
    deviceId: string,
    after: number,
    limit: number,
  ): SqlRun<{ documents: SyncRequestDoc[]; checkpoint: { seq: number } }> {
    const texts = this.texts;
    const feed = yield* rows<{ seq: number; key: string }>(texts.device.pullFeed, [
      deviceId,
      'request',
      after,
      limit,
    ]);
    const checkpoint = { seq: feed.at(-1)?.seq ?? after };
    const ids = [...new Set(feed.map((f) => f.key))];
    if (ids.length === 0) return { documents: [], checkpoint };
    const found = yield* rows<ReadRequestRow>(texts.deviceRequestsById(ids.length), [deviceId, ...ids]);
    return {
      documents: found.sort((a, b) => a.seq - b.seq).map((row) => masterDoc(storedAnswer(row))),
      checkpoint,
    };
  }

  /**
   * What changed for the device since its checkpoint (SPEC S2-9), read in one read-only
   * transaction: a round that pushes nothing.
   */
  changesSince(deviceId: string, after: RoundCheckpoint, limit: number): Promise<DeviceChanges> {
    return this.store.runRead(() => this.changesRun(deviceId, after, limit, new Map()));
  }

  /**
   * What changed for the device since its checkpoint: the results of its requests (those `known`,
   * answered in this run, and those on its feed) and the projections of its profiles, at most
   * `limit` feed entries of each kind.
   */
  private *changesRun(
    deviceId: string,
    after: RoundCheckpoint,
    limit: number,
    known: ReadonlyMap<string, RequestResult>,
  ): SqlRun<DeviceChanges> {
    const texts = this.texts;
    const feeds = yield* rows<{ kind: string; seq: number; key: string }>(texts.device.pullFeeds, [
      deviceId,
      'request',
      after.requests,
      limit,
      deviceId,
      'profile',
      after.profiles,
      limit,
    ]);
    // A union keeps no order: each feed is put back in seq order (its last entry is the checkpoint).
    const requestFeed = feeds.filter((f) => f.kind === 'request').sort((a, b) => a.seq - b.seq);
    const profileFeed = feeds.filter((f) => f.kind === 'profile').sort((a, b) => a.seq - b.seq);
    const ids = [...new Set(requestFeed.map((f) => f.key))].filter((id) => !known.has(id));
    const mpids = [...new Set(profileFeed.map((f) => f.key))];
    const found =
      ids.length === 0
        ? []
        : yield* rows<ReadRequestRow>(texts.deviceRequestsById(ids.length), [deviceId, ...ids]);
    return {
      results: [...known.values(), ...found.map((row) => requestResult(storedAnswer(row)))].sort(
        (a, b) => a.seq - b.seq,
      ),
      profiles: mpids.length === 0 ? [] : yield* this.projections(deviceId, mpids),
      checkpoint: {
        requests: requestFeed.at(-1)?.seq ?? after.requests,
        profiles: profileFeed.at(-1)?.seq ?? after.profiles,
      },
      more: requestFeed.length === limit || profileFeed.length === limit,
    };
  }

  /**
   * The device with this credential, or null (unknown, revoked, wrong secret). Devices found are
   * kept for `CREDENTIAL_TTL_MS`; revoking one here forgets it at once (SPEC S2-10).
   */
  async authenticate(id: string, secret: string): Promise<Device | null> {
    const now = this.now();
    const cached = this.credentials.get(id);
    const entry = cached !== undefined && cached.until > now ? cached : await this.findFresh(id, now);
    if (entry === null) return null;
    // A secret that already matched the hash of this entry's device is not hashed again (DR-6).
    if (entry.verified !== null && !entry.device.revoked && safeEqual(secret, entry.verified))
      return entry.device;
    if (!this.verify(entry.device, secret)) return null;
    entry.verified = secret;
    return entry.device;
  }

  private async findFresh(id: string, now: number): Promise<CachedCredential | null> {
    const device = await this.find(id);
    if (device === null) return null;
    this.credentials.delete(id);
    if (this.credentials.size >= MAX_CACHED_CREDENTIALS) {
      const oldest = this.credentials.keys().next();
      if (oldest.done !== true) this.credentials.delete(oldest.value);
    }
    const entry: CachedCredential = { device, until: now + CREDENTIAL_TTL_MS, verified: null };
    this.credentials.set(id, entry);
    return entry;
  }

  private readonly credentials = new Map<string, CachedCredential>();

  /** The projections of the device's profiles changed since the checkpoint. */
  pullProfiles(
    deviceId: string,
    after: number,
    limit: number,
  ): Promise<{ documents: ProfileProjection[]; checkpoint: { seq: number } }> {
    return this.store.runSql(() => this.pullProfilesRun(deviceId, after, limit));
  }

  private *pullProfilesRun(
    deviceId: string,
    after: number,
    limit: number,
  ): SqlRun<{ documents: ProfileProjection[]; checkpoint: { seq: number } }> {
    const texts = this.texts;
    const feed = yield* rows<{ seq: number; key: string }>(texts.device.pullFeed, [
      deviceId,
      'profile',
      after,
      limit,
    ]);
    const checkpoint = { seq: feed.at(-1)?.seq ?? after };
    const mpids = [...new Set(feed.map((f) => f.key))];
    if (mpids.length === 0) return { documents: [], checkpoint };
    return { documents: yield* this.projections(deviceId, mpids), checkpoint };
  }

  /** How these profiles look to the device: only the identity values it supplied itself. */
  *projections(deviceId: string, mpids: readonly string[]): SqlRun<ProfileProjection[]> {
    const texts = this.texts;
    const profiles = yield* rows<ProfilesTable>(texts.anyProfiles(mpids.length), mpids);
    const identities = yield* rows<{ mpid: string; identity_type: IdentityType; value: string }>(
      texts.suppliedIdentitiesOf(mpids.length),
      [deviceId, ...mpids],
    );
    return profiles.map((p) => {
      const own: Partial<Record<IdentityType, string[]>> = {};
      for (const i of identities) if (i.mpid === p.mpid) (own[i.identity_type] ??= []).push(i.value);
      return {
        id: p.mpid,
        scopeId: p.scope_id,
        environment: p.environment as Environment,
        identities: own,
        createdAt: p.created_at,
        firstSeenAt: p.first_seen_at,
        orphanedAt: p.orphaned_at,
        _deleted: p.deleted_at !== null,
      };
    });
  }

  /**
   * Projections of every profile the device views, for convergence checks and admins; `null` when
   * the workspace has no such device (HT-7).
   */
  async view(workspaceId: string, deviceId: string): Promise<ProfileProjection[] | null> {
    const device = await this.find(deviceId);
    if (device === null || device.workspaceId !== workspaceId) return null;
    const mpids = (
      await this.db.selectFrom('device_views').select('mpid').where('device_id', '=', deviceId).execute()
    ).map((r) => r.mpid);
    return mpids.length === 0 ? [] : this.store.runSql(() => this.projections(deviceId, mpids));
  }

  /** Stores pushed events (duplicates ignored), in their own transaction (v1). */
  pushEvents(deviceId: string, events: readonly DeviceEvent[]): Promise<void> {
    return this.store.runSql(() => this.eventsRun(deviceId, events));
  }

  /** Stores events (duplicates ignored) in one statement. */
  private *eventsRun(deviceId: string, events: readonly DeviceEvent[]): SqlRun<void> {
    if (events.length === 0) return;
    const now = this.now();
    const parameters: unknown[] = [];
    for (const e of events)
      parameters.push(deviceId, e.id, e.requestId, e.type, e.name, JSON.stringify(e.data), e.at, now);
    yield* run(this.texts.insertEvents(events.length), parameters);
  }

  /**
   * The workspace's applied device requests in the order the server committed them (the order of
   * `requests.seq`), with the bodies as resolved: what a serial replay needs.
   */
  async replayLog(workspaceId: string): Promise<ReplayEntry[]> {
    const found = await this.db
      .selectFrom('requests as q')
      .innerJoin('device_requests as r', 'r.request_id', 'q.request_id')
      .innerJoin('devices as d', (join) =>
        join.onRef('d.id', '=', 'r.device_id').on('d.workspace_id', '=', workspaceId),
      )
      .select([
        'q.seq',
        'q.at',
        'r.device_id',
        'r.request_id',
        'r.kind',
        'r.resolved_body',
        'r.result',
        'r.provisional_mpid',
        'r.doc',
        'q.trace as kept_trace',
      ])
      .where('q.scope_id', '=', workspaceId)
      .orderBy('q.seq')
      .execute();
    return found.map((row) => {
      const result = storedResult(row.result, row.kept_trace);
      return {
        seq: row.seq,
        at: row.at,
        deviceId: row.device_id,
        requestId: row.request_id,
        kind: row.kind as SyncRequestDoc['data']['sync']['kind'],
        body: JSON.parse(row.resolved_body) as Record<string, unknown>,
        createdMpid: (result.trace as ExplainTrace | null)?.result.created === true ? result.mpid : null,
        mpid: result.mpid,
        response: result.response,
        status: result.status,
        provisionalMpid: row.provisional_mpid,
        createdProvisional: pushedRequestOf(row.doc).createdProvisional,
      };
    });
  }

  /**
   * IDSync search for a device (read only): which profile the identities resolve to. It reveals
   * no more than an identify with the same identities would, and returns no profile data.
   */
  search(device: Device, body: unknown, random: RandomSource) {
    const now = this.now();
    return this.store.runProgram(device.workspaceId, (config) =>
      programFor(
        'search',
        { body },
        resolveOptions({ config, random, now, actor: { kind: 'device', id: device.id } }),
      ),
    );
  }

  /** How many events and attribute changes the server holds from each device of the workspace. */
  async eventCounts(workspaceId: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('events as e')
      .innerJoin('devices as d', 'd.id', 'e.device_id')
      .select(['e.device_id', (eb) => eb.fn.countAll<number | string>().as('count')])
      .where('d.workspace_id', '=', workspaceId)
      .groupBy('e.device_id')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.device_id, Number(r.count)]));
  }

  /**
   * Events an applied alias brings to the destination (spec §5.3): the source's events inside the
   * alias window, marked with the source. Read at query time, so undoing the alias takes them away;
   * attribute changes are not copied.
   */
  async aliasedEventsOf(
    mpid: string,
    aliases: readonly AliasRecord[],
  ): Promise<(DeviceEventRow & { aliasedFrom: string })[]> {
    const copied: (DeviceEventRow & { aliasedFrom: string })[] = [];
    for (const alias of aliases) {
      if (alias.status !== 'applied' || alias.destinationMpid !== mpid) continue;
      for (const e of await this.eventsOf(alias.sourceMpid)) {
        if (e.type === 'event' && e.at >= alias.startMs && e.at <= alias.endMs)
          copied.push({ ...e, aliasedFrom: alias.sourceMpid });
      }
    }
    return copied;
  }

  /** Every event and attribute change attributed (through its request) to the profile. */
  async eventsOf(mpid: string): Promise<DeviceEventRow[]> {
    const found = await this.db
      .selectFrom('events as e')
      .innerJoin('device_requests as r', (join) =>
        join.onRef('r.device_id', '=', 'e.device_id').onRef('r.request_id', '=', 'e.request_id'),
      )
      .select(['e.device_id', 'e.id', 'e.request_id', 'e.type', 'e.name', 'e.data', 'e.at'])
      .where('r.canonical_mpid', '=', mpid)
      .orderBy('e.at')
      .execute();
    return found.map((e) => ({
      deviceId: e.device_id,
      id: e.id,
      requestId: e.request_id,
      type: e.type,
      name: e.name,
      data: JSON.parse(e.data) as unknown,
      at: e.at,
    }));
  }
}
